"""Interactions that follow each customer's hidden relationship level.

- basic: nothing after the sale (at most a question before the first purchase);
- reactive: the customer reaches out through the hotline, a feedback card or the web form;
- accountable: the company also calls back within a few days after most purchases;
- proactive: it also gets in touch regularly with advice and offers;
- partnership: it also works with the customer — joint planning meetings and visits.

Prospects asked questions before buying, and sales reps approached the organisations they own.
"""

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from guanxi.demo import params, vocab
from guanxi.demo.catalogue import Catalogue
from guanxi.demo.columns import (
    CONSUMER_HOURS,
    OFFICE_HOURS,
    choose,
    external_ids,
    local_seconds,
    optional_ids,
    pick,
    segment_positions,
    timestamps,
)
from guanxi.demo.customers import Population
from guanxi.demo.purchases import CANCELLED, RETURNED, Purchases
from guanxi.engagement.choices import Direction, InteractionChannel, Purpose, ServicePhase

CHANNELS = tuple(c.value for c in InteractionChannel)
PHONE, VISIT, EMAIL, CHAT, HOTLINE, CARD, WEB_FORM, MEETING = (
    CHANNELS.index(c)
    for c in ("phone", "visit", "email", "chat", "hotline", "feedback_card", "web_form", "meeting")
)
DIRECTIONS = (Direction.INBOUND.value, Direction.OUTBOUND.value)
INBOUND, OUTBOUND = 0, 1
PHASES = tuple(p.value for p in ServicePhase)
PRE_SALE, AFTER_SALE = PHASES.index("pre_sale"), PHASES.index("after_sale")
PURPOSES = tuple(p.value for p in Purpose)
FOLLOW_UP, ADVICE, OFFER, JOINT_WORK, COMPLAINT, SURVEY, OTHER = (
    PURPOSES.index(p)
    for p in ("follow_up", "advice", "offer", "joint_work", "complaint", "survey", "other")
)
_NOTES = [note for purpose in PURPOSES for note in vocab.NOTES.get(purpose, ("",))]
_NOTE_COUNT = np.array([len(vocab.NOTES.get(p, ("",))) for p in PURPOSES])
_NOTE_FIRST = np.cumsum(_NOTE_COUNT) - _NOTE_COUNT


@dataclass(frozen=True)
class Feedback:
    """The inbound after-sale contacts, from which cases are opened."""

    customer: np.ndarray  # index into the chunk's Population
    seconds: np.ndarray
    purpose: np.ndarray  # index into PURPOSES: complaint, survey or other
    order: np.ndarray  # order id
    contact: np.ndarray  # contact id, 0 for none
    late: np.ndarray  # the order was delivered late
    returned: np.ndarray  # the order was returned


@dataclass(frozen=True)
class _Chunk:
    rng: np.random.Generator
    pop: Population
    purchases: Purchases
    window: params.Window
    catalogue: Catalogue

    def staff(self, customer: np.ndarray) -> np.ndarray:
        """The account owner where there is one, otherwise someone from customer service."""
        service = self.catalogue.staffing.service
        someone = service[self.rng.integers(0, len(service), len(customer))]
        return np.where(self.pop.owner[customer] > 0, self.pop.owner[customer], someone)

    def contact(self, customer: np.ndarray) -> np.ndarray:
        """One of the customer's contact people (0 for consumers and internal customers)."""
        count = self.pop.contact_count[customer]
        which = (self.rng.random(len(customer)) * count).astype(np.int64)
        return np.where(count > 0, self.pop.contact_first[customer] + which, 0)

    def seconds(self, day: np.ndarray, customer: np.ndarray, *, office: bool) -> np.ndarray:
        """A time on ``day``: office hours, or the customer's own hours (consumers call late)."""
        n = len(day)
        seconds = local_seconds(self.rng, n, OFFICE_HOURS)
        if not office:
            evening = local_seconds(self.rng, n, CONSUMER_HOURS)
            seconds = np.where(self.pop.kind[customer] == 0, evening, seconds)
        return self.window.utc_seconds(day, seconds)

    def among(self, options: tuple[int, ...], weights: tuple[float, ...], n: int) -> np.ndarray:
        return np.array(options)[choose(self.rng, n, weights)]


@dataclass
class _Rows:
    """Interaction rows collected piece by piece, one array per column."""

    columns: dict[str, list[np.ndarray]] = field(default_factory=dict)

    def add(self, **arrays: np.ndarray | int) -> None:
        size = len(arrays["customer"])  # type: ignore[arg-type]
        for name, values in arrays.items():
            self.columns.setdefault(name, []).append(np.broadcast_to(values, size))

    def collect(self) -> dict[str, np.ndarray]:
        return {name: np.concatenate(parts) for name, parts in self.columns.items()}


def interactions_draw(
    rng: np.random.Generator,
    pop: Population,
    purchases: Purchases,
    *,
    window: params.Window,
    catalogue: Catalogue,
    first_id: int,
) -> tuple[pa.Table, Feedback]:
    """One chunk's interactions (ordered by customer and time) and its inbound feedback."""
    chunk = _Chunk(rng, pop, purchases, window, catalogue)
    rows = _Rows()
    _pre_sale(chunk, rows)
    feedback = _inbound_feedback(chunk, rows)
    _follow_ups(chunk, rows)
    _regular_contact(chunk, rows)
    return _table(chunk, rows.collect(), first_id), feedback


def _pre_sale(c: _Chunk, rows: _Rows) -> None:
    """Questions before the first purchase, and sales reps approaching prospects."""
    pop, rng = c.pop, c.rng
    asked = np.flatnonzero(pop.buyer & (rng.random(len(pop.ids)) < params.PRE_SALE_SHARE))
    n = len(asked)
    span = np.floor(pop.first_purchase[asked]) - pop.acquired[asked]
    day = np.floor(pop.acquired[asked] + rng.random(n) * span)
    organisation = pop.kind[asked] != 0
    rows.add(
        customer=asked,
        seconds=np.minimum(
            c.seconds(day, asked, office=False), c.purchases.first_order_seconds[asked] - 300
        ),
        channel=np.where(
            organisation,
            c.among((PHONE, EMAIL, VISIT), (0.4, 0.4, 0.2), n),
            c.among((CHAT, PHONE, EMAIL), (0.5, 0.3, 0.2), n),
        ),
        direction=INBOUND,
        phase=PRE_SALE,
        purpose=OTHER,
        staff=c.staff(asked),
        contact=c.contact(asked),
        order=0,
    )
    prospect = np.flatnonzero(~pop.buyer & (rng.random(len(pop.ids)) < 0.6))
    owner, _ = segment_positions(1 + rng.poisson(0.6, len(prospect)))
    who = prospect[owner]
    n = len(who)
    day = np.floor(pop.acquired[who] + rng.random(n) * (c.window.days - pop.acquired[who]))
    day = np.minimum(day, c.window.days - 1)
    approached = (pop.owner[who] > 0) & (rng.random(n) < 0.6)
    rows.add(
        customer=who,
        seconds=c.seconds(day, who, office=True),
        channel=np.where(
            approached,
            c.among((PHONE, EMAIL, VISIT), (0.5, 0.3, 0.2), n),
            c.among((CHAT, PHONE, EMAIL), (0.5, 0.3, 0.2), n),
        ),
        direction=np.where(approached, OUTBOUND, INBOUND),
        phase=PRE_SALE,
        purpose=np.where(approached, OFFER, OTHER),
        staff=c.staff(who),
        contact=c.contact(who),
        order=0,
    )


def _inbound_feedback(c: _Chunk, rows: _Rows) -> Feedback:
    """From reactive level up, customers use the feedback channels after some purchases —
    more often after a late delivery, a return or a cancellation."""
    p, rng = c.purchases, c.rng
    level = c.pop.level[p.customer]
    returned = p.status == RETURNED
    cancelled = p.status == CANCELLED
    share = np.asarray(params.INBOUND_FEEDBACK_PER_ORDER)[level] + (level > params.BASIC) * (
        p.late * params.INBOUND_FEEDBACK_IF_LATE + returned * 0.5 + cancelled * 0.2
    )
    base = np.where(p.delivered_day >= 0, p.delivered_day, p.day)
    day = base + rng.integers(0, 6, len(base))
    chosen = np.flatnonzero((rng.random(len(base)) < share) & (day <= c.window.days - 1))
    who = p.customer[chosen]
    n = len(chosen)
    late, back = p.late[chosen], returned[chosen]
    complaint = late | back | cancelled[chosen] | (rng.random(n) < 0.3)
    purpose = np.where(complaint, COMPLAINT, np.where(rng.random(n) < 0.5, SURVEY, OTHER))
    channel = np.select(
        [purpose == COMPLAINT, purpose == SURVEY],
        [
            c.among((HOTLINE, WEB_FORM, CARD), (0.5, 0.3, 0.2), n),
            c.among((CARD, WEB_FORM), (0.6, 0.4), n),
        ],
        c.among((HOTLINE, WEB_FORM), (0.5, 0.5), n),
    )
    seconds = np.maximum(c.seconds(day[chosen], who, office=False), p.seconds[chosen] + 600)
    service = c.catalogue.staffing.service
    answered_by = service[rng.integers(0, len(service), n)]
    contact = c.contact(who)
    rows.add(
        customer=who,
        seconds=seconds,
        channel=channel,
        direction=INBOUND,
        phase=AFTER_SALE,
        purpose=purpose,
        staff=np.where(channel == HOTLINE, answered_by, 0),  # cards and forms arrive unattended
        contact=contact,
        order=p.ids[chosen],
    )
    return Feedback(who, seconds, purpose, p.ids[chosen], contact, late, back)


def _follow_ups(c: _Chunk, rows: _Rows) -> None:
    """From accountable level up: a call back within a few days of most purchases."""
    p, rng = c.purchases, c.rng
    share = np.asarray(params.FOLLOW_UP_PER_ORDER)[c.pop.level[p.customer]]
    lo, hi = params.FOLLOW_UP_DAYS
    day = p.day + rng.integers(lo, hi + 1, len(p.day))
    chosen = np.flatnonzero(
        (rng.random(len(p.day)) < share) & (p.status != CANCELLED) & (day <= c.window.days - 1)
    )
    who = p.customer[chosen]
    n = len(chosen)
    rows.add(
        customer=who,
        seconds=c.seconds(day[chosen], who, office=True),
        channel=np.where(
            c.pop.kind[who] != 0,
            c.among((PHONE, EMAIL, VISIT), (0.7, 0.2, 0.1), n),
            c.among((PHONE, CHAT), (0.6, 0.4), n),
        ),
        direction=OUTBOUND,
        phase=AFTER_SALE,
        purpose=FOLLOW_UP,
        staff=c.staff(who),
        contact=c.contact(who),
        order=p.ids[chosen],
    )


def _regular_contact(c: _Chunk, rows: _Rows) -> None:
    """Proactive and up: advice and offers on a rhythm; partners also plan and work together.

    Contact stops ``CONTACT_GIVE_UP_DAYS`` after the last purchase: the company notices silence,
    late.
    """
    pop, rng, window = c.pop, c.rng, c.window
    end = np.minimum(window.days - 1, c.purchases.last_day + params.CONTACT_GIVE_UP_DAYS)
    gaps = params.REGULAR_CONTACT_DAYS
    for minimum, purposes, start_after in (
        (params.PROACTIVE, (ADVICE, OFFER), 0),
        (params.PARTNERSHIP, (JOINT_WORK,), 30),
    ):
        chosen = np.flatnonzero(pop.buyer & (pop.level >= minimum))
        kind = pop.kind[chosen]
        if purposes == (JOINT_WORK,):
            lo, hi = params.JOINT_WORK_DAYS
            period = rng.uniform(lo, hi, len(chosen))
        else:
            lo = np.array([gaps[t][0] for t in params.TYPE_CODES])[kind]
            hi = np.array([gaps[t][1] for t in params.TYPE_CODES])[kind]
            period = rng.uniform(lo, hi)
        start = pop.first_purchase[chosen] + start_after
        count = np.maximum(np.floor((end[chosen] - start) / period), 0).astype(np.int64)
        owner, position = segment_positions(count)
        who = chosen[owner]
        n = len(who)
        day = start[owner] + period[owner] * (position + 1) + rng.integers(-3, 4, n)
        day = np.clip(np.floor(day), 0, window.days - 1)
        purpose = np.array(purposes)[rng.integers(0, len(purposes), n)]
        if purposes == (JOINT_WORK,):
            channel = c.among((MEETING, VISIT), (0.7, 0.3), n)
            phase: np.ndarray | int = PRE_SALE  # planning the next business together
        else:
            channel = np.where(
                pop.kind[who] != 0,
                c.among((EMAIL, PHONE, VISIT, CHAT), (0.35, 0.35, 0.2, 0.1), n),
                c.among((CHAT, EMAIL, PHONE), (0.45, 0.35, 0.2), n),
            )
            phase = np.where(purpose == OFFER, PRE_SALE, AFTER_SALE)
        rows.add(
            customer=who,
            seconds=c.seconds(day, who, office=True),
            channel=channel,
            direction=OUTBOUND,
            phase=phase,
            purpose=purpose,
            staff=c.staff(who),
            contact=c.contact(who),
            order=0,
        )


def _table(c: _Chunk, rows: dict[str, np.ndarray], first_id: int) -> pa.Table:
    order = np.lexsort((rows["seconds"], rows["customer"]))
    rows = {name: values[order] for name, values in rows.items()}
    n = len(order)
    ids = np.arange(n, dtype=np.int64) + first_id
    purpose = rows["purpose"]
    note = _NOTE_FIRST[purpose] + (c.rng.random(n) * _NOTE_COUNT[purpose]).astype(np.int64)
    occurred = timestamps(rows["seconds"])
    return pa.table(
        {
            "id": ids,
            "created_at": occurred,
            "updated_at": occurred,
            "external_id": external_ids(f"{params.DEMO_PREFIX}I", ids, 8),
            "customer_id": c.pop.ids[rows["customer"]],
            "contact_id": optional_ids(rows["contact"]),
            "order_id": optional_ids(rows["order"]),
            "occurred_at": occurred,
            "channel": pick(CHANNELS, rows["channel"]),
            "direction": pick(DIRECTIONS, rows["direction"]),
            "service_phase": pick(PHASES, rows["phase"]),
            "purpose": pick(PURPOSES, purpose),
            "staff_id": optional_ids(rows["staff"]),
            "notes": pick(_NOTES, note),
        }
    )
