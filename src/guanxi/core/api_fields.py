"""Fields and filters the apps' REST APIs share: ids, moments (a date and time), flags, usernames,
and the customer a record belongs to.

Only Django, DRF, django-filter and drf-spectacular are imported here, never an app: what needs an
app's models or selectors (looking customers up, who may be given work) stays in that app's
``api.py``. ``guanxi.core.api_base`` is a separate module because DRF imports it while being
imported itself; this one may import anything DRF offers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# The largest id a database row can have (PostgreSQL's bigint): a larger one is refused with 400,
# never sent to the database.
MAX_ID = 2**63 - 1
# An id as the schema documents it (query parameters and bodies alike).
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
# Free text: long enough for any note, short enough that nobody pastes a book into it.
MAX_TEXT = 10_000
# Moments the API accepts: anything else is a typo (and far years overflow time-zone arithmetic).
MOMENT_MIN = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
MOMENT_MAX = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)

OUT_OF_RANGE = _("Give a time between the years 1900 and 2999.")


# -- ids ---------------------------------------------------------------------------------------


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """A primary key sent by the client (bounded, so a huge number is a 400, not an overflow)."""
    return serializers.IntegerField(min_value=1, max_value=MAX_ID, **kwargs)


@extend_schema_field(OpenApiTypes.INT)
class IdRelatedField(serializers.PrimaryKeyRelatedField):
    """A record by its id among ``get_queryset()``; an id no database row can have reads as not
    existing (400) instead of reaching the database. Subclasses give the queryset and the
    messages."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, int) and not isinstance(data, bool) and not 1 <= data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class IdFormField(forms.IntegerField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


@extend_schema_field(ID_SCHEMA)
class IdFilter(django_filters.NumberFilter):
    """A record's id as a query parameter: a whole number from 1 to 2⁶³−1 (anything else is a
    400). Documented as ``ID_SCHEMA`` unless ``schema`` says otherwise."""

    field_class = IdFormField

    def __init__(self, *args: Any, schema: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if schema is not None:
            extend_schema_field(schema)(self)


# -- moments -----------------------------------------------------------------------------------


def check_moment(value: dt.datetime | None) -> None:
    """Refuse a moment outside the years 1900 to 2999."""
    if value is not None and not MOMENT_MIN <= value < MOMENT_MAX:
        raise DjangoValidationError(OUT_OF_RANGE, code="out_of_range")


class MomentField(serializers.DateTimeField):
    """An ISO 8601 date and time between 1900 and 2999 (no time zone: the server's); anything
    the database or the time-zone arithmetic could not hold is refused with 400."""

    default_error_messages = {"overflow": OUT_OF_RANGE}

    def to_internal_value(self, value: Any) -> dt.datetime:
        try:
            moment = super().to_internal_value(value)
            check_moment(moment)
        except OverflowError:  # the time-zone arithmetic on a year-1 or year-9999 value
            self.fail("overflow")
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return moment


class MomentFormField(forms.DateTimeField):
    def to_python(self, value: Any) -> dt.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, str):
            try:
                parsed = parse_datetime(value.strip())
            except ValueError:
                parsed = None
            if parsed is None:
                raise DjangoValidationError(
                    _("Give an ISO 8601 date and time, e.g. 2025-03-01T09:30:00+08:00."),
                    code="invalid",
                )
            value = parsed
        moment = super().to_python(value)
        check_moment(moment)
        return moment


class MomentFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 moment between 1900 and 2999 as a query parameter, compared in UTC (Python
    accepts UTC offsets up to a day, PostgreSQL only up to about 16 hours)."""

    field_class = MomentFormField

    def filter(self, qs: QuerySet, value: dt.datetime | None) -> QuerySet:
        return super().filter(qs, value.astimezone(dt.UTC) if value is not None else None)


# -- flags -------------------------------------------------------------------------------------


class FlagFormField(forms.Field):
    """``true``/``false`` (or ``1``/``0``); any other value is an error, not silently ignored."""

    widget = forms.TextInput
    default_error_messages = {"invalid": _("Use true or false.")}
    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value: Any) -> bool | None:
        if value in (None, ""):
            return None
        if isinstance(value, bool):
            return value
        try:
            return self.VALUES[str(value).strip().lower()]
        except KeyError:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None


class FlagFilter(django_filters.BooleanFilter):
    """A yes-or-no query parameter (``FlagFormField``)."""

    field_class = FlagFormField


# -- people and customers ----------------------------------------------------------------------


def username_field(source: str, **kwargs: Any) -> serializers.CharField:
    """A user's username beside their id (null: nobody)."""
    return serializers.CharField(
        source=f"{source}.username", read_only=True, allow_null=True, default=None, **kwargs
    )


class CustomerFieldsMixin(serializers.Serializer):
    """The customer a record belongs to, as the other endpoints show it: who, not how to reach
    them (no personal data)."""

    customer = serializers.IntegerField(source="customer_id", read_only=True)
    customer_external_id = serializers.CharField(source="customer.external_id", read_only=True)
    customer_name = serializers.CharField(source="customer.name", read_only=True)


class CustomerFilterMixin(django_filters.FilterSet):
    """``?customer=<id>`` and ``?customer_external_id=<external id>``."""

    customer = IdFilter(field_name="customer", label=_("Customer id"))
    customer_external_id = django_filters.CharFilter(
        field_name="customer__external_id", max_length=64, label=_("Customer external id")
    )
