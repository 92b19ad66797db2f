"""RFM: recency, frequency and monetary scores (1..bins, quantile bins) and named segments.

Scores are equal-count bins over every customer who has bought (prospects get none):

- ``recency_score``: ordered by ``last_purchase``; the most recent buyers get the top score.
- ``frequency_score``: ordered by ``n_orders`` (purchase days).
- ``monetary_score``: ordered by ``revenue_cents``.

Ties are broken by ``customer_id`` (ascending: of two customers with the same value, the one with
the larger id lands in the same or a higher bin), so the scores are a deterministic function of the
data on every engine. Bins follow SQL ``NTILE``: with n customers and b bins, the first
``n mod b`` bins hold one customer more.

Segments come from R and FM, where FM is the mean of F and M rounded half up
(``(F + M + 1) // 2``). With other than 5 bins, R and FM are first mapped linearly onto 1..5
(``1 + round((s - 1) * 4 / (bins - 1))``, halves up), so the lowest bin stays 1 and the highest
becomes 5. ``SEGMENT_GRID`` below is the mapping; rows are R = 5..1, columns FM = 1..5.
"""

from __future__ import annotations

from typing import Any

import ibis

SEGMENTS: tuple[str, ...] = (
    "champions",
    "loyal",
    "potential_loyalist",
    "new",
    "promising",
    "need_attention",
    "about_to_sleep",
    "at_risk",
    "cannot_lose",
    "hibernating",
    "lost",
)

# fmt: off
SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    # R:  FM=1              FM=2                  FM=3                  FM=4         FM=5
    5: ("new",            "potential_loyalist", "potential_loyalist", "champions", "champions"),
    4: ("promising",      "potential_loyalist", "potential_loyalist", "loyal",     "loyal"),
    3: ("about_to_sleep", "about_to_sleep",     "need_attention",     "loyal",     "loyal"),
    2: ("hibernating",    "hibernating",        "at_risk",            "at_risk",   "cannot_lose"),
    1: ("lost",           "hibernating",        "at_risk",            "at_risk",   "cannot_lose"),
}
# fmt: on


def segment_for(recency: int, frequency: int, monetary: int, *, bins: int = 5) -> str:
    """The segment of one (R, F, M) triple; the reference for ``rfm_scores``' vectorised version."""
    fm = (frequency + monetary + 1) // 2
    return SEGMENT_GRID[_to_five(recency, bins)][_to_five(fm, bins) - 1]


def _to_five(score: Any, bins: int) -> Any:
    """Map a 1..bins score onto 1..5 (identity for 5 bins); works on ints and Ibis integers."""
    if bins == 5:
        return score
    return ((score - 1) * 8 + (bins - 1)) // (2 * (bins - 1)) + 1


def rfm_scores(features: ibis.Table, *, bins: int = 5) -> ibis.Table:
    """``features`` plus the three scores (``recency_score`` …) and ``rfm_segment``.

    ``features`` needs ``customer_id``, ``last_purchase``, ``n_orders`` and ``revenue_cents``.
    """
    t = features
    # Ibis' ntile is 0-based; scores are 1-based.
    recency = ibis.ntile(bins).over(order_by=[t.last_purchase, t.customer_id]) + 1
    frequency = ibis.ntile(bins).over(order_by=[t.n_orders, t.customer_id]) + 1
    monetary = ibis.ntile(bins).over(order_by=[t.revenue_cents, t.customer_id]) + 1
    scored = t.mutate(
        recency_score=recency.cast("int64"),
        frequency_score=frequency.cast("int64"),
        monetary_score=monetary.cast("int64"),
    )
    # One CASE over the (R, FM) code: R * 10 + FM, both already on the 1..5 scale.
    fm = (scored.frequency_score + scored.monetary_score + 1) // 2
    code = _to_five(scored.recency_score, bins) * 10 + _to_five(fm, bins)
    mapping = {r * 10 + fm5: row[fm5 - 1] for r, row in SEGMENT_GRID.items() for fm5 in range(1, 6)}
    segment = code.cast("int64").substitute(mapping, else_=ibis.null().cast("string"))
    return scored.mutate(rfm_segment=segment)
