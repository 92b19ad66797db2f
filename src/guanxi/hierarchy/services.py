"""Writes in the hierarchy app: bonds. Each writes an audit event in the same transaction."""

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from guanxi.core.errors import ErrorCode, GuanxiError
from guanxi.core.services import event_record
from guanxi.hierarchy.choices import BOND_KIND_OF, BondInstrument
from guanxi.hierarchy.models import Bond


@transaction.atomic
def bond_record(
    *,
    customer: Any,
    instrument: str,
    started_on: dt.date,
    ended_on: dt.date | None = None,
    note: str = "",
    actor: Any = None,
) -> Bond:
    """Record a financial, social or structural bond with a customer."""
    if instrument not in BondInstrument.values:
        raise GuanxiError(
            _("Unknown bond instrument %(value)s; use one of: %(allowed)s.")
            % {"value": instrument, "allowed": ", ".join(BondInstrument.values)},
            code=ErrorCode.INVALID,
            field="instrument",
        )
    if ended_on is not None and ended_on < started_on:
        raise GuanxiError(
            _("A bond cannot end before it starts; correct the end date."),
            code=ErrorCode.INVALID,
            field="ended_on",
        )
    bond = Bond(
        customer=customer,
        instrument=instrument,
        kind=BOND_KIND_OF[instrument],
        started_on=started_on,
        ended_on=ended_on,
        note=note,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    bond.save()
    event_record(
        kind="bond.recorded",
        actor=actor,
        customer=customer,
        subject=bond,
        data={"instrument": instrument, "kind": bond.kind, "started_on": started_on.isoformat()},
    )
    return bond


@transaction.atomic
def bond_end(*, bond: Bond, ended_on: dt.date, actor: Any = None) -> Bond:
    """End a bond (a membership lapsed, a support contract ran out)."""
    if ended_on < bond.started_on:
        raise GuanxiError(
            _("A bond cannot end before it starts; correct the end date."),
            code=ErrorCode.INVALID,
            field="ended_on",
        )
    bond.ended_on = ended_on
    bond.save(update_fields=["ended_on", "updated_at"])
    event_record(
        kind="bond.ended",
        actor=actor,
        customer=bond.customer,
        subject=bond,
        data={"ended_on": ended_on.isoformat()},
    )
    return bond
