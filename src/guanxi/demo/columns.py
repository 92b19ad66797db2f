"""Small vectorised helpers that turn numpy draws into Arrow columns (strings, times, ids).

String work happens in Arrow compute kernels, so a chunk of tens of thousands of names, phone
numbers and addresses is built without a Python loop over rows.
"""

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIMESTAMP = pa.timestamp("s", tz="UTC")


def pick(values: Sequence[str], index: np.ndarray) -> pa.Array:
    """The strings ``values[index]``."""
    return pa.array(list(values), pa.string()).take(pa.array(index, pa.int64()))


def choose(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    """``n`` indexes drawn with the given (not necessarily normalised) weights."""
    w = np.asarray(weights, dtype=np.float64)
    return np.searchsorted(np.cumsum(w / w.sum()), rng.random(n), side="right").clip(0, len(w) - 1)


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and constant strings."""
    return pc.binary_join_element_wise(*parts, "")


def digits(values: np.ndarray, width: int = 0) -> pa.Array:
    """Integers as decimal strings, left-padded with zeros to ``width``."""
    text = pc.cast(pa.array(values, pa.int64()), pa.string())
    return pc.utf8_lpad(text, width, padding="0") if width else text


def external_ids(prefix: str, ids: np.ndarray, width: int) -> pa.Array:
    """``DEMO-C0000042``-style ids: a prefix and the zero-padded row id."""
    return concat(prefix, digits(ids, width))


def where(mask: np.ndarray, then: pa.Array | str, otherwise: pa.Array | str) -> pa.Array:
    return pc.if_else(pa.array(mask, pa.bool_()), then, otherwise)


def blank_unless(mask: np.ndarray, values: pa.Array) -> pa.Array:
    """``values`` where ``mask`` holds, the empty string elsewhere (Django's blank text)."""
    return where(mask, values, "")


def timestamps(seconds: np.ndarray) -> pa.Array:
    """UTC timestamps from seconds since the Unix epoch."""
    return pa.array(np.asarray(seconds, dtype=np.int64), TIMESTAMP)


def optional_timestamps(seconds: np.ndarray, present: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64), TIMESTAMP, mask=~present)


def dates(epoch_days: np.ndarray, present: np.ndarray | None = None) -> pa.Array:
    """Dates from days since 1970-01-01; null where ``present`` is false."""
    mask = None if present is None else ~present
    return pa.array(np.asarray(epoch_days, dtype=np.int32), pa.date32(), mask=mask)


def optional_ids(ids: np.ndarray) -> pa.Array:
    """Foreign keys where 0 means "none" (null)."""
    ids = np.asarray(ids, dtype=np.int64)
    return pa.array(ids, pa.int64(), mask=ids == 0)


def segment_positions(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows exploded from ``counts`` per owner: each row's owner and its 0-based position."""
    counts = np.asarray(counts, dtype=np.int64)
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - np.repeat(starts, counts)


def local_seconds(rng: np.random.Generator, n: int, hour_weights: Sequence[float]) -> np.ndarray:
    """Seconds after local midnight: the hour from ``hour_weights`` (24 of them), then uniform."""
    hour = choose(rng, n, hour_weights)
    return hour * 3600 + rng.integers(0, 3600, n)


# When people do things, by hour of the local day.
CONSUMER_HOURS = (
    (0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 4, 5, 4, 3, 3, 4, 5, 6, 8, 10, 9, 6, 2)
)  # fmt: skip
OFFICE_HOURS = (
    (0, 0, 0, 0, 0, 0, 0, 0, 1, 6, 8, 8, 3, 5, 8, 8, 7, 5, 1, 0, 0, 0, 0, 0)
)  # fmt: skip
