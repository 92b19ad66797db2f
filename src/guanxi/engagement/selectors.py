"""Reads for interactions, cases and survey answers: every list starts from the customers the user
may see (``parties.selectors.visible_through_customer``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from guanxi.engagement.choices import OPEN_CASE_STATUSES
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.parties.models import Contact
from guanxi.parties.selectors import visible_through_customer
from guanxi.sales.models import Order


def interactions_visible(*, user: Any) -> QuerySet[Interaction]:
    """The interactions with customers ``user`` may see."""
    return visible_through_customer(Interaction.objects.all(), user=user)


def cases_visible(*, user: Any) -> QuerySet[Case]:
    """The cases of customers ``user`` may see (service staff: every customer's)."""
    return visible_through_customer(Case.objects.all(), user=user)


def survey_responses_visible(*, user: Any) -> QuerySet[SurveyResponse]:
    return visible_through_customer(SurveyResponse.objects.all(), user=user)


def cases_overdue_q(*, now: Any = None) -> Q:
    """Open or in-progress cases whose deadline has passed."""
    return Q(status__in=OPEN_CASE_STATUSES, due_at__lt=now or timezone.now())


def _by_reference(queryset: QuerySet, refs: Iterable[int | str]) -> dict[int | str, Any]:
    ids = {r for r in refs if isinstance(r, int)}
    external_ids = {r for r in refs if isinstance(r, str)}
    if not ids and not external_ids:
        return {}
    found: dict[int | str, Any] = {}
    for row in queryset.filter(Q(pk__in=sorted(ids)) | Q(external_id__in=sorted(external_ids))):
        if row.pk in ids:
            found[row.pk] = row
        if row.external_id in external_ids:
            found[row.external_id] = row
    return found


def contacts_by_reference(refs: Iterable[int | str]) -> dict[int | str, Contact]:
    """The contact people among ``refs`` — ids (int) and external ids (str) — keyed by the
    reference, in one query (like ``parties.selectors.customers_by_reference``). Whether a contact
    belongs to the customer at hand, and so may be named, is the caller's check."""
    return _by_reference(Contact.objects.all(), refs)


def orders_by_reference(refs: Iterable[int | str]) -> dict[int | str, Order]:
    """Like ``contacts_by_reference``, for orders."""
    return _by_reference(Order.objects.all(), refs)


def interactions_by_external_id(external_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
    """``{external_id: (id, customer_id)}`` of the stored interactions among ``external_ids``."""
    return {
        ext: (pk, customer_id)
        for ext, pk, customer_id in Interaction.objects.filter(
            external_id__in=set(external_ids)
        ).values_list("external_id", "pk", "customer_id")
    }
