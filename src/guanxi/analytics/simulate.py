"""Simulated purchase histories from the BG/NBD story, for tests, benchmarks and notebooks."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def purchase_days(
    rng: np.random.Generator,
    *,
    birth: NDArray[np.float64],
    rate: NDArray[np.float64],
    dropout: NDArray[np.float64],
    horizon: float,
    max_repeats: ArrayLike,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """(customer index, day) of every purchase, first purchases first.

    Customer i buys at ``birth[i]``, then as a Poisson process with ``rate[i]`` per day, and after
    each purchase drops out with probability ``dropout[i]`` (Fader, Hardie & Lee 2005). Repeat
    purchases are capped by ``max_repeats`` (a scalar or one cap per customer) and purchases after
    ``horizon`` are not observed. Draws ``rng.geometric`` then ``rng.standard_exponential``.
    """
    n_customers = birth.size
    repeats = np.minimum(rng.geometric(dropout) - 1, max_repeats)
    owner = np.repeat(np.arange(n_customers), repeats)
    gaps = rng.standard_exponential(owner.size) / rate[owner]
    cumulative = np.cumsum(gaps)
    ends = np.cumsum(repeats)
    # Each customer's gaps restart at their birth: subtract the running total before them.
    offset = np.where(ends - repeats > 0, cumulative[np.maximum(ends - repeats - 1, 0)], 0.0)
    when = birth[owner] + cumulative - offset[owner]
    keep = when < horizon
    customer = np.concatenate([np.arange(n_customers), owner[keep]])
    day = np.concatenate([birth, when[keep]])
    return customer, day
