"""Factories for playbook tests: scoring runs and score snapshots built directly (no analytics),
customers, orders and interactions."""

import datetime as dt
import itertools

from django.db import models
from django.utils import timezone

from guanxi.engagement.services import interaction_log
from guanxi.parties.models import Customer
from guanxi.sales.models import Order
from guanxi.scoring.models import CustomerScore, ScoringRun

TODAY = timezone.localdate()

# A standing that no default playbook acts on.
NEUTRAL = {
    "lifecycle_stage": "formation",
    "abc_class": "C",
    "actual_level": "reactive",
    "recommended_level": "reactive",
    "level_gap": "on_target",
    "partnership_stage": "",
    "foundation_health": "ok",
    "health_alert": False,
}

# The rest of a snapshot: plausible values for every required measure.
FILLER = {
    "n_orders": 3,
    "revenue_cents": 90_000,
    "profit_cents": 30_000,
    "spend_recent_cents": 30_000,
    "spend_previous_cents": 30_000,
    "lifecycle_reason": "test",
    "level_reason": "test",
    "level_inbound": 0,
    "level_purchases_judged": 0,
    "level_purchases_followed": 0,
    "level_proactive_periods": 0,
    "level_joint_work": 0,
    "segment": "business|C",
    "segment_size": "medium",
    "segment_margin": "medium",
    "deliveries": 0,
    "complaints_late": 0,
    "bonds_financial": 0,
    "bonds_social": 0,
    "bonds_structural": 0,
}

_ids = itertools.count(1)


def _score_values(**measures) -> dict:
    values = {**FILLER, **NEUTRAL, **measures}
    # Whatever required column the scoring app grows later gets an empty value.
    for f in CustomerScore._meta.concrete_fields:
        if f.name in values or f.primary_key or f.is_relation or f.null or f.has_default():
            continue
        if isinstance(f, models.BooleanField):
            values[f.name] = False
        elif isinstance(f, models.CharField | models.TextField):
            values[f.name] = f.choices[0][0] if f.choices else ""
        elif isinstance(f, models.DateField):
            values[f.name] = TODAY
        else:
            values[f.name] = 0
    return values


def run_create(*, as_of: dt.date = TODAY, status: str = "succeeded") -> ScoringRun:
    return ScoringRun.objects.create(
        as_of=as_of, status=status, error="failed" if status == "failed" else ""
    )


def score_create(run: ScoringRun, customer: Customer, **measures) -> CustomerScore:
    return CustomerScore.objects.create(run=run, customer=customer, **_score_values(**measures))


def scores_bulk(run: ScoringRun, customers, **measures) -> list[CustomerScore]:
    values = _score_values(**measures)
    return CustomerScore.objects.bulk_create(
        CustomerScore(run=run, customer=c, **values) for c in customers
    )


def customer_new(*, owner=None, customer_type: str = "business", **fields) -> Customer:
    n = next(_ids)
    return Customer.objects.create(
        external_id=f"PB-{n}",
        name=f"Customer {n}",
        customer_type=customer_type,
        owner=owner,
        **fields,
    )


def customers_bulk(n: int, *, owner=None) -> list[Customer]:
    return Customer.objects.bulk_create(
        Customer(
            external_id=f"PB-{next(_ids)}",
            name=f"Bulk customer {i}",
            customer_type="business",
            owner=owner,
        )
        for i in range(n)
    )


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """``hour`` o'clock on ``day``, local time."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def order_place(customer: Customer, day: dt.date, *, status: str = "placed", hour: int = 10):
    return Order.objects.create(
        customer=customer,
        external_id=f"PB-O-{next(_ids)}",
        placed_at=at(day, hour),
        status=status,
        delivered_on=day if status == "delivered" else None,
    )


def log(customer: Customer, purpose: str, *, when: dt.datetime | None = None, **fields):
    """An interaction logged through the engagement service (which completes tasks)."""
    fields.setdefault("direction", "outbound")
    fields.setdefault("channel", "phone")
    fields.setdefault("service_phase", "after_sale")
    return interaction_log(
        customer=customer,
        external_id=f"PB-I-{next(_ids)}",
        occurred_at=when or timezone.now(),
        purpose=purpose,
        **fields,
    )
