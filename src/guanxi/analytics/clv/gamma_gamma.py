"""The Gamma-Gamma model of spend per transaction.

References: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "RFM and CLV: Using Iso-Value
Curves for Customer Base Analysis", Journal of Marketing Research 42(4), 415-430 ("FHL 2005b");
P. S. Fader and B. G. S. Hardie (2013), "The Gamma-Gamma Model of Monetary Value" (note).

A customer's transaction values are Gamma(p, nu) with nu ~ Gamma(q, v) across customers (v is
gamma in Fader and Hardie's notation). The model sees a repeat buyer through ``x`` (repeat
transactions) and ``m`` (their mean value); customers with x = 0 carry no information on spend.
On the CDNOW sample, ``m`` is the mean value of the repeat transactions in the calibration period
(the first purchase excluded), which reproduces the published p = 6.25, q = 3.74, v = 15.44.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, gammaln, polygamma

from guanxi.analytics.clv._base import (
    MIN_CUSTOMERS,
    ModelFitError,
    as_vector,
    check_fitted,
    check_same_length,
    dot,
    prepare_weights,
    require_no_bad_rows,
)
from guanxi.analytics.clv._compress import unique_rows
from guanxi.analytics.clv._optim import (
    minimize_log_params,
    natural_stderr,
    penalised_objective,
)

PARAM_NAMES = ("p", "q", "v")
Vector = NDArray[np.float64]


def check_spend(
    frequency: ArrayLike,
    monetary_value: ArrayLike,
    error: type[Exception] = ValueError,
    *,
    allow_zero: bool = False,
) -> tuple[Vector, Vector]:
    """Validate ``(x, m)``; ``m`` is only checked where x > 0: finite and positive (or zero when
    ``allow_zero``, which predictions accept but the likelihood, with its ln m, cannot)."""
    x, m = as_vector("frequency", frequency), as_vector("monetary_value", monetary_value)
    check_same_length(frequency=x, monetary_value=m)
    require_no_bad_rows(~np.isfinite(x), "a NaN or infinite frequency", error)
    require_no_bad_rows(x < 0, "a negative frequency", error)
    require_no_bad_rows(x != np.floor(x), "a non-integer frequency", error)
    valid = np.isfinite(m) & ((m >= 0) if allow_zero else (m > 0))
    sign = "negative" if allow_zero else "non-positive"
    require_no_bad_rows(
        (x > 0) & ~valid,
        f"a missing, infinite or {sign} monetary value although frequency > 0",
        error,
    )
    return x, m


@dataclass(frozen=True)
class _Spend:
    """Distinct repeat-buyer rows (x, m) with their weights, and constants of the likelihood."""

    w: Vector
    wx: Vector  # w * x
    inv_y: Vector  # 1 / (x m): the reciprocal of the customer's total repeat spend
    sum_log_y: float  # sum of w ln(x m)
    sum_log_m: float  # sum of w ln(m): the Jacobian term, independent of the parameters
    x_values: Vector
    x_weights: Vector
    total_weight: float


def _prepare(x: Vector, m: Vector, w: Vector, *, compress: bool) -> _Spend:
    if compress:
        rows = unique_rows(x, m, weights=None if np.all(w == 1) else w)
        (x, m), w = rows.columns, rows.weights
    y = x * m
    x_values, codes = np.unique(x, return_inverse=True)
    return _Spend(
        w=w,
        wx=w * x,
        inv_y=1.0 / y,
        sum_log_y=dot(w, np.log(y)),
        sum_log_m=dot(w, np.log(m)),
        x_values=x_values,
        x_weights=np.bincount(codes, weights=w, minlength=len(x_values)),
        total_weight=float(w.sum()),
    )


def _loglik(theta: Vector, s: _Spend) -> tuple[float, Vector, Vector]:
    """Total weighted log-likelihood, gradient and Hessian in (p, q, v).

    The density of the mean m of x transactions (FHL 2005b; Fader & Hardie 2013):
    ln f(m | x) = ln G(px+q) - ln G(px) - ln G(q) + q ln v + (px-1) ln m + px ln x
                  - (px+q) ln(v + mx),
    rewritten with y = mx as  [ln G terms] - px ln(1 + v/y) - q ln(1 + y/v) - ln m, which is
    free of the currency unit apart from the Jacobian -ln m. The Gamma-function terms depend on
    x alone and are summed over distinct x.
    """
    p, q, v = theta
    xv, w_by_x = s.x_values, s.x_weights
    W = s.total_weight
    px = p * xv
    ll = w_by_x @ (gammaln(px + q) - gammaln(px) - gammaln(q))
    psi = digamma(px + q)
    tri = polygamma(1, px + q)
    g = np.array(
        [
            w_by_x @ (xv * (psi - digamma(px))),
            w_by_x @ (psi - digamma(q)),
            0.0,
        ]
    )
    h = np.zeros((3, 3))
    h[0, 0] = w_by_x @ (xv * xv * (tri - polygamma(1, px)))
    h[0, 1] = w_by_x @ (xv * tri)
    h[1, 1] = w_by_x @ (tri - polygamma(1, q))

    ratio = v * s.inv_y  # v / y
    log_ratio = np.log1p(ratio)  # ln(1 + v/y); ln(1 + y/v) = this + ln y - ln v
    inv_vy = s.inv_y / (1.0 + ratio)  # 1 / (v + y)
    sum_wx_log = dot(s.wx, log_ratio)
    sum_w_log = dot(s.w, log_ratio)
    sum_wx_inv = dot(s.wx, inv_vy)
    sum_w_inv = dot(s.w, inv_vy)
    log_v = np.log(v)
    ll += -p * sum_wx_log - q * (sum_w_log + s.sum_log_y - W * log_v) - s.sum_log_m
    g[0] -= sum_wx_log
    g[1] -= sum_w_log + s.sum_log_y - W * log_v
    g[2] = q * W / v - p * sum_wx_inv - q * sum_w_inv
    inv_vy2 = inv_vy * inv_vy
    h[0, 2] = -sum_wx_inv
    h[1, 2] = W / v - sum_w_inv
    h[2, 2] = -q * W / v**2 + p * dot(s.wx, inv_vy2) + q * dot(s.w, inv_vy2)
    h = np.triu(h) + np.triu(h, 1).T
    return float(ll), g, h


def _penalty(penalizer: float, v_scale: float) -> Vector:
    return penalizer * np.array([1.0, 1.0, 1.0 / v_scale**2])


def _objective(
    phi: Vector, s: _Spend, penalizer: float, v_scale: float
) -> tuple[float, Vector, Vector]:
    """Mean negative log-likelihood plus ``penalizer * (p^2 + q^2 + (v/scale)^2)``, with
    gradient and Hessian in phi = log(theta)."""
    return penalised_objective(
        lambda theta: _loglik(theta, s), phi, s.total_weight, _penalty(penalizer, v_scale)
    )


class GammaGamma:
    """Gamma-Gamma spend model fitted by maximum likelihood on the repeat buyers.

    ``fit`` ignores customers with frequency 0. ``penalizer`` adds
    ``penalizer * (p^2 + q^2 + (v/mean m)^2)`` to the mean negative log-likelihood; dividing v by
    the mean spend keeps the penalty the same whether money is in cents or in yuan (lifetimes
    penalises v itself). The fit is invariant to the currency unit: v scales with it, p and q do
    not, and ``loglik_`` shifts by the Jacobian.

    Learned attributes: ``params_`` (dict p, q, v), ``loglik_`` (without the penalty),
    ``stderr_`` (as for :class:`~guanxi.analytics.clv.BetaGeo`), ``n_iter_``, ``converged_``
    (always True: non-convergence raises :class:`ModelFitError`), ``n_customers_`` (total weight
    of the repeat buyers) and ``n_unique_`` (distinct (x, m) rows).
    """

    def __init__(self, penalizer: float = 0.0, max_iter: int = 200, tol: float = 1e-10) -> None:
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol

    def fit(
        self, frequency: ArrayLike, monetary_value: ArrayLike, weights: ArrayLike | None = None
    ) -> Self:
        """Fit to repeat-transaction counts and the mean value of those transactions."""
        x, m = check_spend(frequency, monetary_value, ModelFitError)
        w = prepare_weights(weights, len(x))
        repeat = (x > 0) & (w > 0)
        total = float(w[repeat].sum())
        if not np.any(repeat):
            raise ModelFitError(
                "No customer has a repeat purchase (frequency > 0), so spend per transaction "
                "cannot be estimated."
            )
        if total < MIN_CUSTOMERS:
            raise ModelFitError(
                f"Gamma-Gamma needs at least {MIN_CUSTOMERS} repeat buyers to estimate three "
                f"parameters; got {total:g}."
            )
        s = _prepare(x[repeat], m[repeat], w[repeat], compress=True)
        v_scale = dot(w[repeat], m[repeat]) / total
        # p = 1 and q = 2 put the start's population mean spend p v / (q - 1) at the sample's.
        start = np.log(np.array([1.0, 2.0, v_scale]))
        optimum = minimize_log_params(
            lambda phi: _objective(phi, s, self.penalizer, v_scale),
            start,
            max_iter=self.max_iter,
            tol=self.tol,
            model="Gamma-Gamma",
        )
        theta = np.exp(optimum.log_params)
        if theta[1] <= 1.0:
            raise ModelFitError(
                f"The Gamma-Gamma fit gives q = {theta[1]:.3g} <= 1: spend is so heavy-tailed "
                "that the model's mean spend is infinite. Check for outliers (refunds, bulk or "
                "test orders) or cap extreme monetary values before fitting."
            )
        self.params_ = dict(zip(PARAM_NAMES, map(float, theta), strict=True))
        penalty = _penalty(self.penalizer, v_scale) @ theta**2
        self.loglik_ = -s.total_weight * (optimum.objective - penalty)
        stderr = natural_stderr(theta, optimum.hessian, s.total_weight)
        self.stderr_ = dict(zip(PARAM_NAMES, map(float, stderr), strict=True))
        self.n_iter_ = optimum.n_iter
        self.converged_ = True
        self.n_customers_ = s.total_weight
        self.n_unique_ = len(s.w)
        return self

    def expected_spend(self, frequency: ArrayLike, monetary_value: ArrayLike) -> Vector:
        """E[Z | x, m], the expected value of a customer's future transactions (FHL 2005b eq. 5):

        p (v + x m) / (p x + q - 1)
          = (q-1)/(px+q-1) * p v/(q-1) + px/(px+q-1) * m,

        a weighted mean of the population mean p v/(q-1) and the customer's own mean m. For
        x = 0 it is the population mean (``monetary_value`` is then ignored, NaN allowed).
        """
        check_fitted(self)
        x, m = check_spend(frequency, monetary_value, allow_zero=True)
        p, q, v = (self.params_[k] for k in PARAM_NAMES)
        spend = np.where(x > 0, m, 0.0)
        return p * (v + x * spend) / (p * x + q - 1.0)
