"""Errors, input checks and the fitted-state check shared by the CLV models."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Below this many customers four (BG/NBD) or three (Gamma-Gamma) parameters are not identified in
# any useful sense: the optimum sits on a boundary or the information matrix is singular.
MIN_CUSTOMERS = 10


class ModelFitError(ValueError):
    """The data cannot give a model: invalid input, too little information, or no convergence."""


class NotFittedError(ValueError, AttributeError):
    """A prediction was asked of a model whose ``fit`` has not run (as in scikit-learn)."""


def check_fitted(model: Any) -> None:
    """Raise :class:`NotFittedError` unless ``model.fit`` has completed."""
    if getattr(model, "params_", None) is None:
        raise NotFittedError(
            f"This {type(model).__name__} is not fitted yet; call fit() before predicting."
        )


def as_vector(name: str, values: ArrayLike) -> NDArray[np.float64]:
    """``values`` as a 1-D float64 array (a scalar becomes length 1)."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = array.reshape(1)
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}.")
    return array


def check_same_length(**arrays: NDArray[np.float64]) -> int:
    """The common length of ``arrays``; a ValueError naming the lengths if they differ."""
    lengths = {name: len(array) for name, array in arrays.items()}
    if len(set(lengths.values())) > 1:
        shown = ", ".join(f"{name}={n}" for name, n in lengths.items())
        raise ValueError(f"Input arrays must have the same length ({shown}).")
    return next(iter(lengths.values()))


def rows_phrase(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def require_no_bad_rows(mask: NDArray[np.bool_], what: str, error: type[Exception]) -> None:
    """Raise ``error`` naming how many rows ``mask`` flags, e.g. "3 rows have t_x > T"."""
    count = int(np.count_nonzero(mask))
    if count:
        verb = "has" if count == 1 else "have"
        raise error(f"{rows_phrase(count)} {verb} {what}.")


def prepare_weights(weights: ArrayLike | None, n: int) -> NDArray[np.float64]:
    """Frequency weights (how many customers each row stands for), validated."""
    if weights is None:
        return np.ones(n)
    w = as_vector("weights", weights)
    if len(w) != n:
        raise ValueError(f"weights has length {len(w)}, expected {n}.")
    require_no_bad_rows(~np.isfinite(w) | (w < 0), "a negative or non-finite weight", ModelFitError)
    return w


def dot(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Inner product over customer rows, without BLAS.

    OpenBLAS's ddot splits long vectors across threads: when the cores are busy (a web server,
    another job) the threads wait on each other, and a 1M-customer fit measured here ran 4x
    slower; the thread count also changes the summation order, hence the last bits of the
    estimates. einsum's own loop is single-threaded and deterministic.
    """
    return float(np.einsum("i,i->", a, b))


@contextlib.contextmanager
def single_blas_thread() -> Iterator[None]:
    """Pin BLAS to one thread during a fit when threadpoolctl is installed (it is optional, and
    without it this does nothing). The likelihood itself avoids BLAS (see :func:`dot`); what is
    left are 3x3 and 4x4 solves, for which threads only add overhead."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
