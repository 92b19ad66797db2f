"""The customer filters shared by the customer list, its export and the REST API.

``?customer_type=business&actual_level=basic&sort=-clv`` means the same on every one of them.
The measures filter on the relation ``standing`` (a customer's score in the latest scoring run), so
the queryset must come from ``parties.selectors.customers_with_standing``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from guanxi.hierarchy.choices import LevelGap, PartnershipStage, RelationshipLevel
from guanxi.parties.choices import CustomerType
from guanxi.parties.forms import CustomerFilterForm
from guanxi.parties.models import Customer, Tag
from guanxi.parties.selectors import personal_data_visible
from guanxi.scoring.choices import LifecycleStage, ValueClass


def _label(model: Any, field: str) -> Any:
    """The field's (translated) verbose name, capitalised: one msgid for model, form and table."""
    return capfirst(model._meta.get_field(field).verbose_name)


def _choices(choices: Any) -> list[tuple[str, Any]]:
    return [(value, capfirst(label)) for value, label in choices.choices]


def _level_rank(path: str) -> Case:
    """The actual level at ``path`` as its height in the hierarchy (basic 0 … partnership 4)."""
    return Case(
        *(
            When(**{path: value}, then=Value(rank))
            for rank, value in enumerate(RelationshipLevel.values)
        ),
        default=None,
        output_field=IntegerField(),
    )


# Sort keys (``?sort=clv``, ``?sort=-clv``) and what they order customers by. Missing values (no
# owner, not scored) sort last either way, and the customer id breaks ties so pages never overlap.
SORTS: dict[str, Callable[[], Any]] = {
    "name": lambda: F("name"),
    "type": lambda: F("customer_type"),
    "owner": lambda: F("owner__username"),
    "level": lambda: _level_rank("standing__actual_level"),
    "class": lambda: F("standing__abc_class"),
    "clv": lambda: F("standing__clv_cents"),
    "last_purchase": lambda: F("standing__last_purchase"),
}
# The sorts by a measure of the scoring run, as expressions over ``scoring.CustomerScore``: the
# customer list pages these from the score table (see ``parties.views.ScoredFirstIds``).
SCORE_SORTS: dict[str, Callable[[], Any]] = {
    "level": lambda: _level_rank("actual_level"),
    "class": lambda: F("abc_class"),
    "clv": lambda: F("clv_cents"),
    "last_purchase": lambda: F("last_purchase"),
}
SORT_LABELS: dict[str, Any] = {
    "name": _label(Customer, "name"),
    "type": _label(Customer, "customer_type"),
    "owner": _label(Customer, "owner"),
    "level": capfirst(_("actual level")),
    "class": capfirst(_("value class")),
    "clv": _("CLV"),
    "last_purchase": capfirst(_("last purchase")),
}
DEFAULT_SORT = "name"

# The filters on a measure of the scoring run (through the relation ``standing``).
STANDING_FILTERS = (
    "actual_level",
    "level_gap",
    "partnership_stage",
    "abc_class",
    "lifecycle_stage",
)

_PHONE_RE = re.compile(r"^\+?[\d\s\-()]{3,}$")


class SortFilter(django_filters.ChoiceFilter):
    """``sort=<key>`` ascending, ``sort=-<key>`` descending, over ``SORTS``; by name when empty
    (a bound filterset calls every filter, empty or not)."""

    def __init__(self, **kwargs: Any) -> None:
        choices = []
        for key, label in SORT_LABELS.items():
            choices += [(key, label), (f"-{key}", label)]
        super().__init__(choices=choices, **kwargs)

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        return sort_customers(qs, value or DEFAULT_SORT)


def ordering(sort: str, sorts: dict[str, Callable[[], Any]]) -> Any:
    """The ``order_by`` term of ``sort`` (``clv`` or ``-clv``) in ``sorts``, missing values last."""
    expression = sorts[sort.removeprefix("-")]()
    if sort.startswith("-"):
        return expression.desc(nulls_last=True)
    return expression.asc(nulls_last=True)


def sort_customers(qs: QuerySet, sort: str) -> QuerySet:
    return qs.order_by(ordering(sort, SORTS), "pk")


class TagFilter(django_filters.ModelMultipleChoiceFilter):
    """Customers carrying any of the tags, without the duplicate rows a join would give."""

    def filter(self, qs: QuerySet, value: Any) -> QuerySet:
        if not value:
            return qs
        links = Customer.tags.through.objects.filter(customer_id=OuterRef("pk"), tag__in=value)
        return qs.filter(Exists(links))


def _standing_filter(measure: str, choices: Any, label: Any) -> django_filters.ChoiceFilter:
    """A filter on one measure of the latest scoring run (the ``standing__`` annotation)."""
    return django_filters.ChoiceFilter(
        field_name=f"standing__{measure}",
        choices=_choices(choices),
        label=capfirst(label),
        empty_label=_("Any"),
    )


class CustomerFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        label=_("Search"),
        help_text=_("Name, phone, email or external id"),
    )
    customer_type = django_filters.ChoiceFilter(
        choices=_choices(CustomerType),
        label=_label(Customer, "customer_type"),
        empty_label=_("Any"),
    )
    owner = django_filters.ModelChoiceFilter(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        label=_label(Customer, "owner"),
        empty_label=_("Any"),
        null_label=_("Unassigned"),
    )
    region = django_filters.ChoiceFilter(
        choices=[], label=_label(Customer, "region"), empty_label=_("Any")
    )
    tag = TagFilter(
        # ``field_name`` only names the relation for the API schema; ``TagFilter.filter`` decides.
        field_name="tags",
        queryset=Tag.objects.order_by("name"),
        to_field_name="name",
        label=_label(Customer, "tags"),
        widget=forms.CheckboxSelectMultiple,
    )
    actual_level = _standing_filter("actual_level", RelationshipLevel, _("actual level"))
    partnership_stage = _standing_filter(
        "partnership_stage", PartnershipStage, _("partnership stage")
    )
    abc_class = _standing_filter("abc_class", ValueClass, _("value class"))
    lifecycle_stage = _standing_filter("lifecycle_stage", LifecycleStage, _("lifecycle stage"))
    level_gap = _standing_filter("level_gap", LevelGap, _("level gap"))
    sort = SortFilter(label=_("Sort by"), empty_label=None)

    class Meta:
        model = Customer
        fields: list[str] = []
        form = CustomerFilterForm

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Region names are not personal data: offer every region in use.
        regions = (
            Customer.objects.exclude(region="")
            .order_by("region")
            .values_list("region", flat=True)
            .distinct()
        )
        region = self.filters["region"]
        region.extra["choices"] = [(r, r) for r in regions]
        # A filter builds its form field once and keeps it; if anything built the class-level
        # filter's field (the API schema does), the copy here holds that stale field: drop it.
        if hasattr(region, "_field"):
            del region._field
        owner_field = self.form.fields["owner"]
        owner_field.label_from_instance = lambda u: u.get_full_name() or u.get_username()

    def standing_conditions(self) -> dict[str, Any]:
        """The measures chosen, as conditions on a score (``{"actual_level": "basic"}``)."""
        data = self.form.cleaned_data
        return {
            self.filters[name].field_name.removeprefix("standing__"): data[name]
            for name in STANDING_FILTERS
            if data.get(name)
        }

    def customer_qs(self) -> QuerySet:
        """The queryset narrowed by every filter except the measures, unsorted: what a query
        that starts from the scores needs to know about the customers."""
        qs = self.queryset.all()
        for name, value in self.form.cleaned_data.items():
            if name not in STANDING_FILTERS and name != "sort":
                qs = self.filters[name].filter(qs, value)
        return qs

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        """Name and external id by substring; phone and email by substring for users who see
        personal data, and only whole for those who do not, so a search cannot reveal the hidden
        digits one guess at a time."""
        text = value.strip()
        if not text:
            return queryset
        user = getattr(self.request, "user", None)
        full = personal_data_visible(user=user)
        rule = Q(name__icontains=text) | Q(external_id__icontains=text)
        if "@" in text or full:
            rule |= Q(email__icontains=text) if full else Q(email__iexact=text)
        if _PHONE_RE.match(text):
            digits = re.sub(r"[\s\-()]", "", text)
            rule |= Q(phone__contains=digits) if full else Q(phone=digits)
        return queryset.filter(rule)
