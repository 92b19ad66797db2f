"""Bonds that tie customers to the company — financial, social, structural — by hidden level.

The higher a customer's relationship level, the more ties they hold (``params.BOND_SHARES``):
consumers join the loyalty programme and collect points, a few the tea club; businesses and
distributors from the accountable level up get a named contact and a place in the community, and
at proactive and partnership level support contracts, shared systems and custom solutions. Only
buyers have bonds: each starts on or after the first purchase, and many end before the reference
date — memberships lapse and contracts expire once the customer stops buying
(``params.BOND_TERMS``).

Rows are bulk-inserted, so ``Bond.save()`` never runs: the kind is set here from
``BOND_KIND_OF``.
"""

import numpy as np
import pyarrow as pa

from guanxi.demo import params, vocab
from guanxi.demo.columns import OFFICE_HOURS, dates, local_seconds, optional_ids, pick, timestamps
from guanxi.demo.customers import Population
from guanxi.demo.purchases import Purchases
from guanxi.hierarchy.choices import BOND_KIND_OF, BondInstrument

INSTRUMENTS: tuple[str, ...] = tuple(i.value for i in BondInstrument)
KINDS: tuple[str, ...] = tuple(str(BOND_KIND_OF[i]) for i in INSTRUMENTS)
_NOTES = [note for i in INSTRUMENTS for note in vocab.BOND_NOTES.get(i, ("",))]
_NOTE_COUNT = np.array([len(vocab.BOND_NOTES.get(i, ("",))) for i in INSTRUMENTS])
_NOTE_FIRST = np.cumsum(_NOTE_COUNT) - _NOTE_COUNT


def bond_shares() -> np.ndarray:
    """``params.BOND_SHARES`` as an array: (customer type, instrument, level)."""
    unknown = {i for shares in params.BOND_SHARES.values() for i in shares} - set(INSTRUMENTS)
    if unknown or set(params.BOND_TERMS) != set(INSTRUMENTS):
        raise ValueError(f"demo bond parameters do not match BondInstrument: {sorted(unknown)}")
    shares = np.zeros((len(params.TYPE_CODES), len(INSTRUMENTS), len(params.LEVEL_CODES)))
    for t, code in enumerate(params.TYPE_CODES):
        for instrument, by_level in params.BOND_SHARES.get(code, {}).items():
            shares[t, INSTRUMENTS.index(instrument)] = by_level
    return shares


def _terms(field: str) -> np.ndarray:
    return np.array([getattr(params.BOND_TERMS[i], field) for i in INSTRUMENTS])


def bonds_draw(
    rng: np.random.Generator,
    population: Population,
    purchases: Purchases,
    *,
    window: params.Window,
    first_id: int,
) -> pa.Table:
    """One chunk's bonds, ordered by customer, start and instrument."""
    pop = population
    shares = bond_shares()[pop.kind, :, :]  # (customers, instruments, levels)
    p = np.take_along_axis(shares, pop.level[:, None, None], axis=2)[:, :, 0]
    held = (rng.random(p.shape) < p) & pop.buyer[:, None]
    customer, instrument = np.nonzero(held)  # by customer, then instrument
    m = len(customer)

    # Start: after the first purchase, at most a grace period after the last one (exponential
    # delay, truncated to that span); some start at the till, on the day of the first purchase.
    last = window.days - 1
    first_day = np.floor(pop.first_purchase[customer]).astype(np.int64)
    last_day = purchases.last_day[customer]
    span = np.minimum(last, last_day + params.BOND_START_GRACE_DAYS) - first_day
    mean = _terms("start_days")[instrument]
    bound = -np.expm1(-(span + 1) / mean)  # the exponential's mass within the span
    delay = np.floor(-mean * np.log1p(-rng.random(m) * bound)).astype(np.int64)
    at_till = rng.random(m) < _terms("at_first_purchase")[instrument]
    start = first_day + np.where(at_till, 0, np.minimum(delay, span))

    # End: terms run out (not renewed, or the customer bought nothing during one); open-ended
    # bonds fade after the last purchase.
    term = _terms("term_days")[instrument]
    renewal = _terms("renewal")[instrument]
    terms_renewed = rng.geometric(1.0 - renewal)
    terms_active = np.maximum(1, -(-(last_day - start + 1) // np.maximum(term, 1)))
    term_end = start + term * np.minimum(terms_renewed, terms_active)
    lapse = np.array([params.BOND_TERMS[i].lapse_days for i in INSTRUMENTS])[instrument]
    fade_end = last_day + rng.integers(lapse[:, 0], lapse[:, 1] + 1)
    end = np.maximum(np.where(term > 0, term_end, fade_end), start)
    ended = end <= last

    # Account owners record their customers' ties; customers without one signed up themselves
    # (at the till, online, in the community), so nobody is named.
    recorder = pop.owner[customer]

    created = window.utc_seconds(start, local_seconds(rng, m, OFFICE_HOURS))
    same_day = start == first_day
    after_order = purchases.first_order_seconds[customer] + rng.integers(60, 1800, m)
    day_end = window.utc_seconds(start, np.full(m, 86_399))
    created = np.where(same_day, np.minimum(np.maximum(created, after_order), day_end), created)
    updated = np.where(ended, window.utc_seconds(end, local_seconds(rng, m, OFFICE_HOURS)), created)
    updated = np.maximum(updated, created)
    note = _NOTE_FIRST[instrument] + (rng.random(m) * _NOTE_COUNT[instrument]).astype(np.int64)

    order = np.lexsort((instrument, start, customer))
    customer, instrument, start, end, ended, recorder, created, updated, note = (
        a[order]
        for a in (customer, instrument, start, end, ended, recorder, created, updated, note)
    )
    epoch_day = window.start_epoch_day
    return pa.table(
        {
            "id": np.arange(m, dtype=np.int64) + first_id,
            "created_at": timestamps(created),
            "updated_at": timestamps(updated),
            "customer_id": pop.ids[customer],
            "instrument": pick(INSTRUMENTS, instrument),
            "kind": pick(KINDS, instrument),
            "started_on": dates(epoch_day + start),
            "ended_on": dates(epoch_day + end, ended),
            "note": pick(_NOTES, note),
            "recorded_by_id": optional_ids(recorder),
        }
    )
