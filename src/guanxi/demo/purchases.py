"""Orders and order lines from a buy-till-you-die process (the BG/NBD story).

For each customer with a first purchase at day ``t0`` and ``T = window - t0`` days left:

- while alive, repeat purchases arrive as a Poisson process with rate λ ~ Gamma(r, α);
- after each repeat purchase the customer leaves for good with probability p ~ Beta(a, b),
  so the number of repeat purchases before leaving is J ~ Geometric(p) (1, 2, …).

If the Poisson process would bring ``n`` arrivals in ``(0, T]``, the customer makes the first
``k = min(J, n)`` of them. Given ``n``, Poisson arrival times are ``n`` sorted uniforms, and the
first ``k`` order statistics are drawn directly (no wasted draws for long-lived customers):
``1 - U(j) = Π_{m ≤ j} V_m^{1 / (n - m + 1)}`` with ``V_m`` uniform — a segmented cumulative
sum of logs across the whole chunk.
"""

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from guanxi.demo import params
from guanxi.demo.catalogue import Catalogue, category_mix, category_quantity
from guanxi.demo.columns import (
    CONSUMER_HOURS,
    OFFICE_HOURS,
    choose,
    dates,
    external_ids,
    local_seconds,
    pick,
    segment_positions,
    timestamps,
)
from guanxi.demo.customers import Population
from guanxi.sales.choices import OrderChannel, OrderStatus

ORDER_STATUSES: tuple[str, ...] = (
    OrderStatus.PLACED,
    OrderStatus.SHIPPED,
    OrderStatus.DELIVERED,
    OrderStatus.CANCELLED,
    OrderStatus.RETURNED,
)
PLACED, SHIPPED, DELIVERED, CANCELLED, RETURNED = range(5)


@dataclass(frozen=True)
class Purchases:
    """One chunk's orders, as arrays the interactions and cases are built from."""

    ids: np.ndarray
    customer: np.ndarray  # index into the chunk's Population
    day: np.ndarray  # day of the window the order was placed
    seconds: np.ndarray  # placed_at, seconds since the Unix epoch
    status: np.ndarray  # index into ORDER_STATUSES
    delivered_day: np.ndarray  # -1 when not delivered
    late: np.ndarray  # delivered (or still due) after the promised date
    first_order_seconds: np.ndarray  # per customer; 0 for prospects
    last_day: np.ndarray  # per customer: day of the last order; -1 for prospects
    tables: dict[str, pa.Table]


def purchases_draw(
    rng: np.random.Generator,
    pop: Population,
    *,
    window: params.Window,
    catalogue: Catalogue,
    first_order_id: int,
    first_line_id: int,
) -> Purchases:
    buyers = np.flatnonzero(pop.buyer)
    t0 = pop.first_purchase[buyers]
    span = window.days - t0
    arrivals = rng.poisson(pop.rate[buyers] * span)
    lifetime = rng.geometric(pop.dropout[buyers])  # repeat purchases before leaving
    repeats = np.minimum(lifetime, arrivals)

    owner, j = segment_positions(repeats)
    log_v = np.log1p(-rng.random(len(owner)))  # log of a uniform on (0, 1]
    cum = np.concatenate(([0.0], np.cumsum(log_v / (arrivals[owner] - j))))
    starts = np.cumsum(repeats) - repeats
    log_survival = cum[1:] - np.repeat(cum[starts], repeats)
    repeat_time = t0[owner] - np.expm1(log_survival) * span[owner]

    buyer_of_order, position = segment_positions(repeats + 1)
    repeat_index = starts[buyer_of_order] + position - 1
    time = np.where(position == 0, t0[buyer_of_order], repeat_time[np.maximum(repeat_index, 0)])
    customer = buyers[buyer_of_order]
    day = np.minimum(np.floor(time).astype(np.int64), window.days - 1)

    # Customers heading for the exit buy less on their last purchases before they leave.
    remaining = lifetime[buyer_of_order] - position
    shrink = params.DECLINE_FLOOR + (1 - params.DECLINE_FLOOR) * (
        remaining / params.DECLINE_PURCHASES
    )
    multiplier = np.where(
        pop.decliner[customer] & (remaining < params.DECLINE_PURCHASES), shrink, 1.0
    )
    n = len(customer)
    ids = np.arange(n, dtype=np.int64) + first_order_id
    kind = pop.kind[customer]
    office = kind != 0
    seconds_of_day = np.where(
        office, local_seconds(rng, n, OFFICE_HOURS), local_seconds(rng, n, CONSUMER_HOURS)
    )
    seconds = window.utc_seconds(day, seconds_of_day)

    online = rng.random(n) < pop.online_share[customer]
    lead_online = np.array([p.lead_days[0] for p in params.PROFILES])[kind]
    lead_offline = np.array([p.lead_days[1] for p in params.PROFILES])[kind]
    # Consumers buying in a store take the goods home (lead 0); everything else is shipped.
    spread = np.where(office, rng.integers(0, 4, n), np.where(online, rng.integers(0, 2, n), 0))
    lead = np.where(online, lead_online, lead_offline) + spread
    late = (lead > 0) & (rng.random(n) < pop.late_share[customer])
    early = ~late & (lead >= 2) & (rng.random(n) < 0.2)
    delay = np.where(late, 1 + rng.poisson(1.5, n), -early.astype(np.int64))
    due_day = day + lead + delay

    cancelled = rng.random(n) < params.CANCEL_SHARE
    pending = ~cancelled & (due_day > window.days - 1)
    status = np.where(
        cancelled,
        CANCELLED,
        np.where(pending, np.where(day >= window.days - 1, PLACED, SHIPPED), DELIVERED),
    )
    return_share = np.where(late, params.RETURN_SHARE_IF_LATE, params.RETURN_SHARE)
    returned = (status == DELIVERED) & (due_day <= window.days - 2) & (rng.random(n) < return_share)
    status[returned] = RETURNED
    delivered = (status == DELIVERED) | (status == RETURNED)
    delivered_day = np.where(delivered, due_day, -1)

    first_order_seconds = np.zeros(len(pop.ids), dtype=np.int64)
    last_day = np.full(len(pop.ids), -1, dtype=np.int64)
    first_order_seconds[customer[::-1]] = seconds[::-1]  # the first row of each customer wins
    last_day[customer] = day  # the last row of each customer wins

    placed = timestamps(seconds)
    updated = np.where(
        delivered, np.maximum(seconds, window.utc_seconds(delivered_day, 18 * 3600)), seconds
    )
    epoch_day = window.start_epoch_day
    orders = pa.table(
        {
            "id": ids,
            "created_at": placed,
            "updated_at": timestamps(updated),
            "external_id": external_ids(f"{params.DEMO_PREFIX}O", ids, 8),
            "customer_id": pop.ids[customer],
            "placed_at": placed,
            "promised_delivery_on": dates(epoch_day + day + lead),
            "delivered_on": dates(epoch_day + delivered_day, delivered),
            "channel": pick(
                (OrderChannel.ONLINE.value, OrderChannel.OFFLINE.value), (~online).astype(int)
            ),
            "status": pick([s.value for s in ORDER_STATUSES], status),
        }
    )
    lines = _lines(
        rng,
        pop,
        catalogue=catalogue,
        window=window,
        order_ids=ids,
        customer=customer,
        day=day,
        multiplier=multiplier,
        first_id=first_line_id,
    )
    return Purchases(
        ids=ids,
        customer=customer,
        day=day,
        seconds=seconds,
        status=status,
        delivered_day=delivered_day,
        late=late & ~cancelled,
        first_order_seconds=first_order_seconds,
        last_day=last_day,
        tables={"order": orders, "order_line": lines},
    )


def _lines(
    rng: np.random.Generator,
    pop: Population,
    *,
    catalogue: Catalogue,
    window: params.Window,
    order_ids: np.ndarray,
    customer: np.ndarray,
    day: np.ndarray,
    multiplier: np.ndarray,
    first_id: int,
) -> pa.Table:
    extra = np.array([p.extra_lines for p in params.PROFILES])[pop.kind[customer]]
    count = 1 + rng.poisson(extra * multiplier)
    order, position = segment_positions(count)
    m = len(order)
    cust = customer[order]
    kind = pop.kind[cust]

    category = pop.favourite[cust].copy()
    other = rng.random(m) >= 0.5
    mix = category_mix()
    for k in range(len(params.PROFILES)):
        sel = other & (kind == k)
        category[sel] = choose(rng, int(sel.sum()), mix[k])
    products = catalogue.products
    u = np.clip(rng.random(m), 1e-12, 1 - 1e-9)
    product = np.searchsorted(products.draw_key, category + u, side="left")
    category = products.category[product]

    extra_units = category_quantity()[kind, category] * pop.spend[cust] * multiplier[order]
    quantity = 1 + rng.poisson(extra_units)

    # List prices rose by PRICE_INFLATION a year, so older lines carry lower prices.
    years_back = (window.days - 1 - day[order]) / 365.25
    index = (1 + params.PRICE_INFLATION) ** -years_back
    discount = pop.discount[cust] + np.where(
        (kind == 0) & _promotion(window.start_epoch_day + day[order]), 0.15, 0.0
    )
    cost = np.round(products.cost_cents[product] * index).astype(np.int64)
    price = products.price_cents[product] * index * (1 - discount)
    price = np.maximum(np.round(price / 10) * 10, np.ceil(cost * 1.02)).astype(np.int64)
    return pa.table(
        {
            "id": np.arange(m, dtype=np.int64) + first_id,
            "order_id": order_ids[order],
            "line_no": position + 1,
            "product_id": products.ids[product],
            "quantity": quantity,
            "unit_price_cents": price,
            "unit_cost_cents": cost,
        }
    )


def _promotion(epoch_days: np.ndarray) -> np.ndarray:
    """The shopping festivals: 1–11 November (Double 11) and 1–18 June (618)."""
    dates64 = epoch_days.astype("datetime64[D]")
    months = dates64.astype("datetime64[M]")
    month = months.astype(np.int64) % 12 + 1
    day_of_month = (dates64 - months).astype(np.int64) + 1
    return ((month == 11) & (day_of_month <= 11)) | ((month == 6) & (day_of_month <= 18))
