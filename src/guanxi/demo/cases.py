"""Cases opened from inbound feedback, and survey answers (CSAT, NPS).

A case's first response and resolution take a random share of its deadline, scaled by how slow
its owner is; its status is whatever stage it had reached by the end of ``as_of``, except for a
few forgotten cases that never moved on. CSAT follows the case's satisfaction classification
(lower when it was resolved late) and NPS follows CSAT.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from guanxi.demo import params, vocab
from guanxi.demo.catalogue import Catalogue
from guanxi.demo.columns import (
    CONSUMER_HOURS,
    choose,
    concat,
    external_ids,
    local_seconds,
    optional_ids,
    optional_timestamps,
    pick,
    timestamps,
    where,
)
from guanxi.demo.customers import Population
from guanxi.demo.interactions import COMPLAINT, SURVEY, Feedback
from guanxi.demo.purchases import Purchases
from guanxi.engagement.choices import CaseKind, CaseStatus, Satisfaction, Severity

KINDS = (CaseKind.COMPLAINT.value, CaseKind.FEEDBACK.value, CaseKind.QUESTION.value)
SEVERITIES = tuple(s.value for s in Severity)  # low, medium, high, critical
STATUSES = tuple(s.value for s in CaseStatus)
OPEN, IN_PROGRESS, RESOLVED, CLOSED = range(4)
SATISFACTIONS = ("", *(s.value for s in Satisfaction))  # "", dissatisfied, satisfied, very
DISSATISFIED = 1
_CATEGORIES = vocab.CASE_CATEGORIES
_CODES = [c.code for c in _CATEGORIES]
# By kind (complaint, feedback, question): severity and satisfaction shares.
_SEVERITY_SHARES = ((0.1, 0.45, 0.35, 0.1), (0.7, 0.3, 0, 0), (0.5, 0.5, 0, 0))
_SATISFACTION_SHARES = ((0, 0.85, 0.15, 0), (0, 0.15, 0.5, 0.35), (0.6, 0, 0.3, 0.1))
# CSAT scores and their shares, by satisfaction classification.
_CSAT = (
    ((3, 4, 5), (0.2, 0.5, 0.3)),
    ((1, 2, 3), (0.45, 0.45, 0.1)),
    ((3, 4, 5), (0.2, 0.6, 0.2)),
    ((4, 5), (0.2, 0.8)),
)
_DAY = 86_400
_HOUR = 3_600


@dataclass(frozen=True)
class _Cases:
    ids: np.ndarray
    customer: np.ndarray
    satisfaction: np.ndarray
    resolved: np.ndarray  # seconds; meaningful where ``has_resolution``
    has_resolution: np.ndarray
    late: np.ndarray


def cases_draw(
    rng: np.random.Generator,
    pop: Population,
    purchases: Purchases,
    feedback: Feedback,
    *,
    window: params.Window,
    catalogue: Catalogue,
    deadlines: dict[str, int],
    first_case_id: int,
    first_survey_id: int,
) -> dict[str, pa.Table]:
    """One chunk's ``case`` and ``survey`` tables; ``deadlines``: seconds allowed by severity."""
    table, cases = _cases(rng, pop, feedback, window, catalogue, deadlines, first_case_id)
    return {"case": table, "survey": _surveys(rng, pop, purchases, cases, window, first_survey_id)}


def _pick_by_kind(rng: np.random.Generator, kind: np.ndarray, shares: tuple) -> np.ndarray:
    out = np.zeros(len(kind), dtype=np.int64)
    for k, weights in enumerate(shares):
        chosen = kind == k
        out[chosen] = choose(rng, int(chosen.sum()), weights)
    return out


def _cases(
    rng: np.random.Generator,
    pop: Population,
    fb: Feedback,
    window: params.Window,
    catalogue: Catalogue,
    deadlines: dict[str, int],
    first_id: int,
) -> tuple[pa.Table, _Cases]:
    complaint = fb.purpose == COMPLAINT
    opens = rng.random(len(complaint)) < np.where(
        complaint, params.CASE_FROM_COMPLAINT, params.CASE_FROM_OTHER_FEEDBACK
    )
    sel = np.flatnonzero(opens)
    sel = sel[np.lexsort((fb.seconds[sel], fb.customer[sel]))]
    m = len(sel)
    kind = np.select([fb.purpose[sel] == COMPLAINT, fb.purpose[sel] == SURVEY], [0, 1], 2)

    category = np.zeros(m, dtype=np.int64)
    for k, name in enumerate(KINDS):
        idx = [i for i, c in enumerate(_CATEGORIES) if c.kind == name]
        chosen = kind == k
        category[chosen] = np.array(idx)[
            choose(rng, int(chosen.sum()), [_CATEGORIES[i].weight for i in idx])
        ]
    # Complaints about late or returned orders are about delivery, quality or damage.
    category = np.where((kind == 0) & fb.late[sel], _CODES.index("delivery"), category)
    broken = np.where(rng.random(m) < 0.5, _CODES.index("quality"), _CODES.index("damaged"))
    category = np.where((kind == 0) & fb.returned[sel] & ~fb.late[sel], broken, category)
    severity = _pick_by_kind(rng, kind, _SEVERITY_SHARES)
    satisfaction = _pick_by_kind(rng, kind, _SATISFACTION_SHARES)

    service = catalogue.staffing
    who = rng.integers(0, len(service.service), m)
    slowness = service.service_slowness[who]
    opened = fb.seconds[sel] + rng.integers(0, 600, m)
    deadline = np.array([deadlines[s] for s in SEVERITIES])[severity]
    response_hours = np.array([params.FIRST_RESPONSE_HOURS[s] for s in SEVERITIES])[severity]
    responded = opened + np.round(rng.exponential(response_hours) * slowness * _HOUR)
    work = deadline * params.RESOLUTION_SHARE_OF_DEADLINE * rng.gamma(2.0, 0.5, m) * slowness
    resolved = responded + np.round(work)
    closes = rng.random(m) < 0.85
    closed = resolved + rng.integers(1, 8, m) * _DAY

    end = window.end_seconds
    status = np.select(
        [responded > end, resolved > end, closes & (closed <= end)],
        [OPEN, IN_PROGRESS, CLOSED],
        RESOLVED,
    )
    stuck = (rng.random(m) < params.STUCK_CASE_SHARE) & (status != OPEN)
    status[stuck] = np.where(rng.random(int(stuck.sum())) < 0.35, OPEN, IN_PROGRESS)
    has_response = status != OPEN
    has_resolution = (status == RESOLVED) | (status == CLOSED)
    is_closed = status == CLOSED
    late = has_resolution & (resolved > opened + deadline)
    satisfaction = np.where((kind == 0) & late, DISSATISFIED, satisfaction)
    updated = np.select(
        [is_closed, has_resolution, has_response], [closed, resolved, responded], opened
    )

    ids = np.arange(m, dtype=np.int64) + first_id
    order = fb.order[sel]
    table = pa.table(
        {
            "id": ids,
            "created_at": timestamps(opened),
            "updated_at": timestamps(updated),
            "external_id": external_ids(f"{params.DEMO_PREFIX}K", ids, 7),
            "customer_id": pop.ids[fb.customer[sel]],
            "contact_id": optional_ids(fb.contact[sel]),
            "order_id": optional_ids(order),
            "kind": pick(KINDS, kind),
            "category": pick(_CODES, category),
            "subject": pick([c.subject for c in _CATEGORIES], category),
            "description": concat("订单 Order ", external_ids(f"{params.DEMO_PREFIX}O", order, 8)),
            "satisfaction": pick(SATISFACTIONS, satisfaction),
            "severity": pick(SEVERITIES, severity),
            "status": pick(STATUSES, status),
            "opened_at": timestamps(opened),
            "first_response_at": optional_timestamps(responded, has_response),
            "resolved_at": optional_timestamps(resolved, has_resolution),
            "closed_at": optional_timestamps(closed, is_closed),
            "due_at": timestamps(opened + deadline),
            "owner_id": service.service[who],
            "resolution": where(
                has_resolution, pick([c.resolution for c in _CATEGORIES], category), ""
            ),
        }
    )
    return table, _Cases(ids, fb.customer[sel], satisfaction, resolved, has_resolution, late)


def _surveys(
    rng: np.random.Generator,
    pop: Population,
    purchases: Purchases,
    cases: _Cases,
    window: params.Window,
    first_id: int,
) -> pa.Table:
    """CSAT after some resolved cases and some deliveries; NPS follows CSAT with noise."""
    answered = cases.resolved + rng.integers(600, 3 * _DAY, len(cases.ids))
    asked = cases.has_resolution & (rng.random(len(cases.ids)) < params.CASE_SURVEY_SHARE)
    sel = np.flatnonzero(asked & (answered <= window.end_seconds))
    csat = np.zeros(len(sel), dtype=np.int64)
    for level, (scores, weights) in enumerate(_CSAT):
        chosen = cases.satisfaction[sel] == level
        csat[chosen] = np.array(scores)[choose(rng, int(chosen.sum()), weights)]
    csat = np.maximum(csat - cases.late[sel], 1)
    after_cases = (cases.customer[sel], answered[sel], csat, cases.ids[sel])

    delivered = purchases.delivered_day >= 0
    day = purchases.delivered_day + rng.integers(1, 11, len(delivered))
    took = np.flatnonzero(
        delivered
        & (day <= window.days - 1)
        & (rng.random(len(delivered)) < params.PURCHASE_SURVEY_SHARE)
    )
    k = len(took)
    delivery_csat = np.where(
        purchases.late[took],
        np.array([1, 2, 3, 4])[choose(rng, k, (0.2, 0.3, 0.3, 0.2))],
        np.array([3, 4, 5])[choose(rng, k, (0.15, 0.45, 0.4))],
    )
    seconds = window.utc_seconds(day[took], local_seconds(rng, k, CONSUMER_HOURS))
    after_deliveries = (purchases.customer[took], seconds, delivery_csat, np.zeros(k, np.int64))

    customer, answered_at, csat, case_id = (
        np.concatenate(parts) for parts in zip(after_cases, after_deliveries, strict=True)
    )
    order = np.lexsort((answered_at, customer))
    customer, answered_at, csat, case_id = (
        a[order] for a in (customer, answered_at, csat, case_id)
    )
    n = len(order)
    nps = np.clip(np.round(2 * csat - 1 + rng.normal(0, 1.2, n)), 0, 10).astype(np.int64)
    has_nps = rng.random(n) < 0.6
    has_csat = ~has_nps | (rng.random(n) < 0.8)
    answered_ts = timestamps(answered_at)
    return pa.table(
        {
            "id": np.arange(n, dtype=np.int64) + first_id,
            "created_at": answered_ts,
            "updated_at": answered_ts,
            "customer_id": pop.ids[customer],
            "case_id": optional_ids(case_id),
            "answered_at": answered_ts,
            "csat": pa.array(csat, pa.int16(), mask=~has_csat),
            "nps": pa.array(nps, pa.int16(), mask=~has_nps),
            "comment": pa.array([""] * n, pa.string()),
        }
    )
