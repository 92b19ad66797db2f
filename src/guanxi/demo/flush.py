"""Removing a previous demo company: only what the demo made, following each ``on_delete``.

Demo rows are recognised by their ``DEMO-`` external ids and SKUs; the demo's staff by their
user names and example.com addresses. Django's own ``delete()`` would load every related object
into memory to cascade (millions of order lines); here each relation becomes one SQL statement
that follows the model's ``on_delete`` rule, recursively.
"""

from collections import Counter

from django.contrib.auth import get_user_model
from django.db import models
from django.utils.translation import gettext as _

from guanxi.assessments.models import Assessment, AssessmentAnswer
from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.models import Team
from guanxi.demo import vocab
from guanxi.demo.params import DEMO_PREFIX
from guanxi.engagement.models import Case, Interaction, SurveyResponse
from guanxi.hierarchy.models import Bond
from guanxi.parties.models import Contact, Customer, Tag
from guanxi.sales.models import Order, OrderLine, Product

_MAX_DEPTH = 8


def demo_customers(using: str) -> models.QuerySet:
    return Customer.objects.using(using).filter(external_id__startswith=DEMO_PREFIX)


def demo_users(using: str) -> models.QuerySet:
    return (
        get_user_model()
        ._default_manager.using(using)
        .filter(
            username__in=[m.username for m in vocab.STAFF],
            email__endswith=f"@{vocab.STAFF_EMAIL_DOMAIN}",
        )
    )


def demo_flush(*, using: str = "default") -> dict[str, int]:
    """Delete the demo company; return the rows deleted per model. Call inside a transaction."""
    deleted: Counter[str] = Counter()
    customers = demo_customers(using)
    orders = Order.objects.using(using).filter(customer__in=customers)
    # Children first, so the big tables go in one statement each instead of row by row SET NULL.
    for queryset in (
        # The answers, then the assessments; the questionnaire they answered stays.
        AssessmentAnswer.objects.using(using).filter(assessment__customer__in=customers),
        Assessment.objects.using(using).filter(customer__in=customers),
        Bond.objects.using(using).filter(customer__in=customers),
        SurveyResponse.objects.using(using).filter(customer__in=customers),
        Case.objects.using(using).filter(customer__in=customers),
        Interaction.objects.using(using).filter(customer__in=customers),
        OrderLine.objects.using(using).filter(order__in=orders),
        orders,
        Contact.objects.using(using).filter(customer__in=customers),
        customers,
        Product.objects.using(using).filter(sku__startswith=DEMO_PREFIX),
        demo_users(using),
        Team.objects.using(using).filter(name__in=vocab.TEAMS),
        # Tags the demo made that no remaining customer uses.
        Tag.objects.using(using).filter(
            name__in=[tag[0] for tag in vocab.TAGS], customers__isnull=True
        ),
    ):
        _delete(queryset, using, deleted, depth=0)
    return {label: count for label, count in deleted.items() if count}


def _delete(queryset: models.QuerySet, using: str, deleted: Counter[str], depth: int) -> None:
    """Delete ``queryset`` after applying each reverse relation's ``on_delete`` as one statement."""
    model = queryset.model
    if depth > _MAX_DEPTH:
        raise RuntimeError(f"relations nest deeper than {_MAX_DEPTH} levels at {model.__name__}")
    # Every foreign key pointing here, hidden ones too (many-to-many tables, related_name="+").
    relations = [
        f
        for f in model._meta.get_fields(include_hidden=True)
        if f.auto_created and not f.concrete and (f.one_to_one or f.one_to_many)
    ]
    for relation in relations:
        related = relation.related_model._base_manager.using(using).filter(
            **{f"{relation.field.name}__in": queryset.values("pk")}
        )
        handler = relation.on_delete
        if handler is models.CASCADE:
            _delete(related, using, deleted, depth + 1)
        elif handler is models.SET_NULL:
            related.update(**{relation.field.name: None})
        elif handler is models.DO_NOTHING:
            continue
        elif related.exists():  # PROTECT, RESTRICT, SET_DEFAULT, SET(...)
            raise GuanxiError(
                _(
                    "Cannot remove the demo data: %(count)s %(model)s rows that the demo did not "
                    "make still refer to it. Remove them first, or use a fresh database."
                )
                % {"count": related.count(), "model": relation.related_model._meta.verbose_name},
                code=ErrorCode.CONFLICT,
            )
    deleted[model._meta.label] += queryset._raw_delete(using)
