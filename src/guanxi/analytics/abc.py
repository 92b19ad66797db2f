"""ABC value classes: a Pareto split of customers by cumulative profit.

Customers with positive profit are sorted by ``profit_cents`` descending, ties by ``customer_id``
ascending. For each, ``cum_profit_share`` is the share of the total positive profit made by the
customers up to *and including* them. The boundary rule looks at the share *before* the customer:

- **A** (special, 特别客户) while the share before the customer is below ``a_share`` (0.80): the
  customers that make the first 80 % of profit, including the one whose profit crosses 80 %. A
  customer who brings the cumulative share to exactly 80 % is A; the next one is not.
- **B** (key, 重点客户) while the share before the customer is below ``b_share`` (0.95).
- **C** (general, 一般客户) otherwise, and always when ``profit_cents <= 0``
  (``cum_profit_share`` is then null).

Profit sums are int64, so the running sum is exact and the class of a customer at a boundary does
not depend on the engine or on the order in which partial sums are added.
"""

from __future__ import annotations

import ibis

VALUE_CLASSES: tuple[str, ...] = ("A", "B", "C")


def abc_classes(
    features: ibis.Table, *, a_share: float = 0.80, b_share: float = 0.95
) -> ibis.Table:
    """``features`` plus ``cum_profit_share`` (float64) and ``abc_class`` ("A", "B" or "C").

    ``features`` needs ``customer_id`` and ``profit_cents`` (int64).
    """
    t = features.mutate(
        _positive=ibis.ifelse(features.profit_cents > 0, features.profit_cents, 0).cast("int64")
    )
    order = ibis.cumulative_window(order_by=[ibis.desc(t.profit_cents), t.customer_id])
    t = t.mutate(_running=t._positive.sum().over(order), _total=t._positive.sum().over())
    total = t._total.nullif(0).cast("float64")
    share = t._running.cast("float64") / total
    share_before = (t._running - t._positive).cast("float64") / total
    classified = t.mutate(
        cum_profit_share=ibis.ifelse(t._positive > 0, share, ibis.null().cast("float64")),
        abc_class=ibis.cases(
            (t._positive <= 0, "C"),
            (share_before < a_share, "A"),
            (share_before < b_share, "B"),
            else_="C",
        ),
    )
    return classified.drop("_positive", "_running", "_total")
