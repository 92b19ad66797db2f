"""The BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005).

Reference: P. S. Fader, B. G. S. Hardie and K. L. Lee (2005), "'Counting Your Customers' the Easy
Way: An Alternative to the Pareto/NBD Model", Marketing Science 24(2), 275-284 ("FHL 2005").

Each customer's summary is ``x`` (repeat purchases), ``t_x`` (time of the last purchase) and ``T``
(age), all measured from the customer's first purchase in one time unit. While active, a customer
buys at Poisson rate lambda ~ Gamma(r, alpha); after each purchase they drop out with probability
p ~ Beta(a, b). ``alpha`` carries the time unit; r, a and b are unit-free.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import digamma, expit, gammaln, hyp2f1, polygamma

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

PARAM_NAMES = ("r", "alpha", "a", "b")
Vector = NDArray[np.float64]


def check_summary(
    x: ArrayLike, t_x: ArrayLike, T: ArrayLike, error: type[Exception] = ValueError
) -> tuple[Vector, Vector, Vector]:
    """Validate a ``(x, t_x, T)`` summary; ``error`` names how many rows break each rule."""
    xs, ts, Ts = as_vector("x", x), as_vector("t_x", t_x), as_vector("T", T)
    check_same_length(x=xs, t_x=ts, T=Ts)
    bad = ~(np.isfinite(xs) & np.isfinite(ts) & np.isfinite(Ts))
    require_no_bad_rows(bad, "NaN or infinite values in x, t_x or T", error)
    require_no_bad_rows(xs < 0, "a negative repeat-purchase count x", error)
    require_no_bad_rows(xs != np.floor(xs), "a non-integer repeat-purchase count x", error)
    require_no_bad_rows((ts < 0) | (Ts < 0), "a negative recency t_x or age T", error)
    require_no_bad_rows(ts > Ts, "a recency t_x greater than the age T", error)
    require_no_bad_rows(
        (xs == 0) & (ts != 0), "t_x != 0 although x = 0 (no repeat purchase means t_x = 0)", error
    )
    return xs, ts, Ts


@dataclass(frozen=True)
class _Summary:
    """The likelihood's sufficient data: distinct rows, their total weights, and value tables.

    A per-row function of T, of t_x or of x alone (a log, a reciprocal) is evaluated once per
    distinct value and gathered through the codes: on a day grid there are a few hundred distinct
    ages but hundreds of thousands of distinct rows.
    """

    T0: Vector  # distinct ages of customers without repeat purchases (only T enters their term)
    w0: Vector
    x: Vector  # the repeat buyers' distinct (x, t_x, T) rows and their weights
    w: Vector
    x_table: Vector
    x_code: NDArray[np.int64]
    t_table: Vector
    t_code: NDArray[np.int64]
    T_table: Vector
    T_code: NDArray[np.int64]
    x_values: Vector  # x_table again, with the weight of each x, for the terms in x alone
    x_weights: Vector
    total_weight: float

    @property
    def n_unique(self) -> int:
        return len(self.T0) + len(self.x)


def _summarise(x: Vector, t_x: Vector, T: Vector, w: Vector, *, compress: bool) -> _Summary:
    zero = x == 0
    pos = ~zero
    if compress:
        weighted = not np.all(w == 1)
        zero_rows = unique_rows(T[zero], weights=w[zero] if weighted else None)
        T0, w0 = zero_rows.columns[0], zero_rows.weights
        rows = unique_rows(x[pos], t_x[pos], T[pos], weights=w[pos] if weighted else None)
        (x_table, t_table, T_table), (x_code, t_code, T_code) = rows.values, rows.codes
        wp = rows.weights
    else:
        T0, w0, wp = T[zero], w[zero], w[pos]
        x_table, x_code = np.unique(x[pos], return_inverse=True)
        t_table, t_code = np.unique(t_x[pos], return_inverse=True)
        T_table, T_code = np.unique(T[pos], return_inverse=True)
    # The terms in x alone vanish at x = 0, so the x table of the repeat buyers is all they need.
    x_weights = np.bincount(x_code, weights=wp, minlength=len(x_table)).astype(np.float64)
    return _Summary(
        T0=T0,
        w0=w0,
        x=x_table[x_code],
        w=wp,
        x_table=x_table,
        x_code=x_code,
        t_table=t_table,
        t_code=t_code,
        T_table=T_table,
        T_code=T_code,
        x_values=x_table,
        x_weights=x_weights,
        total_weight=float(w.sum()),
    )


def _loglik(theta: Vector, s: _Summary) -> tuple[float, Vector, Vector]:
    """Total weighted log-likelihood, its gradient and Hessian in (r, alpha, a, b).

    FHL 2005 eq. 6, in the log form of its appendix:
    ln L = A1 + A2 + ln(exp(A3) + [x > 0] exp(A4)) with
    A1 = ln G(r+x) - ln G(r) + r ln(alpha),
    A2 = ln G(a+b) + ln G(b+x) - ln G(b) - ln G(a+b+x),
    A3 = -(r+x) ln(alpha+T),  A4 = ln(a) - ln(b+x-1) - (r+x) ln(alpha+t_x).
    The two-term sum is A3 + softplus(d), d = A4 - A3, whose derivatives are the mixture weights
    expit(d) ("dropped out after the last purchase") and expit(-d) ("alive at T"); A1 and A2
    depend on x alone and are summed over distinct x.
    """
    r, alpha, a, b = theta
    g = np.zeros(4)
    h = np.zeros((4, 4))

    # Terms in x alone, weighted by how many customers have each x.
    xv, wx = s.x_values, s.x_weights
    W = s.total_weight
    ab = a + b
    ll = wx @ (gammaln(r + xv) - gammaln(r) + gammaln(ab) + gammaln(b + xv) - gammaln(b))
    ll += -(wx @ gammaln(ab + xv)) + W * r * np.log(alpha)
    g[0] = wx @ (digamma(r + xv) - digamma(r)) + W * np.log(alpha)
    g[1] = W * r / alpha
    psi_ab = digamma(ab) - digamma(ab + xv)
    g[2] = wx @ psi_ab
    g[3] = wx @ (psi_ab + digamma(b + xv) - digamma(b))
    h[0, 0] = wx @ (polygamma(1, r + xv) - polygamma(1, r))
    h[0, 1] = W / alpha
    h[1, 1] = -W * r / alpha**2
    tri_ab = polygamma(1, ab) - polygamma(1, ab + xv)
    h[2, 2] = h[2, 3] = wx @ tri_ab
    h[3, 3] = wx @ (tri_ab + polygamma(1, b + xv) - polygamma(1, b))

    # Customers without repeat purchases: ln L = A1 + A3 with x = 0.
    log0 = np.log(alpha + s.T0)
    inv0 = 1.0 / (alpha + s.T0)
    w_inv0 = dot(s.w0, inv0)
    ll -= r * dot(s.w0, log0)
    g[0] -= dot(s.w0, log0)
    g[1] -= r * w_inv0
    h[0, 1] -= w_inv0
    h[1, 1] += r * dot(s.w0, inv0 * inv0)

    # Repeat buyers: the mixture of "alive at T" and "dropped out after the last purchase".
    w = s.w
    rx = r + s.x
    log_T = np.log(alpha + s.T_table)[s.T_code]
    inv_T = (1.0 / (alpha + s.T_table))[s.T_code]
    log_t = np.log(alpha + s.t_table)[s.t_code]
    inv_t = (1.0 / (alpha + s.t_table))[s.t_code]
    # The x table may start at 0 (it is indexed by x); no repeat buyer uses that entry, but
    # b - 1 < 0 there would put a NaN in the table.
    bx = b + np.maximum(s.x_table, 1.0) - 1.0
    d_b = (-1.0 / bx)[s.x_code]
    d_r = log_T - log_t
    d = (np.log(a) - np.log(bx))[s.x_code] + rx * d_r
    # softplus(d) and expit(+-d) from one exponential: e = exp(-|d|) never overflows.
    e = np.exp(-np.abs(d))
    q = 1.0 / (1.0 + e)
    dead = np.where(d >= 0, q, e * q)
    w_dead = w * dead
    w_mix = w * (e * q * q)  # weight times expit(d) * expit(-d), the mixture variance
    softplus = np.maximum(d, 0.0) + np.log1p(e)
    d_alpha = rx * (inv_T - inv_t)
    ll += dot(w, softplus - rx * log_T)
    g[0] += dot(w_dead, d_r) - dot(w, log_T)
    g[1] += dot(w_dead, d_alpha) - dot(w, rx * inv_T)
    g[2] += w_dead.sum() / a
    g[3] += dot(w_dead, d_b)
    mix_r = w_mix * d_r
    mix_alpha = w_mix * d_alpha
    h[0, 0] += dot(mix_r, d_r)
    h[0, 1] += dot(w_dead, inv_T - inv_t) - dot(w, inv_T) + dot(mix_r, d_alpha)
    h[1, 1] += dot(w, rx * inv_T**2) - dot(w_dead, d_alpha * (inv_T + inv_t))
    h[1, 1] += dot(mix_alpha, d_alpha)
    h[0, 2] = mix_r.sum() / a
    h[0, 3] = dot(mix_r, d_b)
    h[1, 2] = mix_alpha.sum() / a
    h[1, 3] = dot(mix_alpha, d_b)
    h[2, 2] += (w_mix.sum() - w_dead.sum()) / a**2
    h[2, 3] += dot(w_mix, d_b) / a
    h[3, 3] += dot(w_dead + w_mix, d_b * d_b)
    h = np.triu(h) + np.triu(h, 1).T
    return float(ll), g, h


def _penalty(penalizer: float, alpha_scale: float) -> Vector:
    return penalizer * np.array([1.0, alpha_scale**2, 1.0, 1.0])


def _objective(
    phi: Vector, s: _Summary, penalizer: float, alpha_scale: float
) -> tuple[float, Vector, Vector]:
    """Mean negative log-likelihood plus ``penalizer * (r^2 + (alpha*scale)^2 + a^2 + b^2)``, with
    gradient and Hessian in phi = log(theta)."""
    return penalised_objective(
        lambda theta: _loglik(theta, s), phi, s.total_weight, _penalty(penalizer, alpha_scale)
    )


def _start(s: _Summary) -> Vector:
    """r = 1, a = 1, b = 3 and alpha matching the observed purchase rate r/alpha."""
    purchases = s.x_weights @ s.x_values
    exposure = np.bincount(s.T_code, s.w, len(s.T_table)) @ s.T_table + s.w0 @ s.T0
    alpha = exposure / max(purchases, 1.0)
    return np.log(np.array([1.0, alpha, 1.0, 3.0]))


def survival_term(params: dict[str, float], t: ArrayLike, x: Vector, T: Vector) -> Vector:
    """The factor ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z), z = t/(alpha+T+t),
    of FHL 2005 eq. 10, so that E[X(T, T+t)] = scale * (1 - term).

    Evaluated after Euler's transformation 2F1(A, B; C; z) = (1-z)^(C-A-B) 2F1(C-A, C-B; C; z),
    which turns it into (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z): the published form's series
    and power both overflow for large x, the transformed one stays bounded.
    """
    r, alpha, a, b = (params[k] for k in PARAM_NAMES)
    horizon = np.asarray(t, dtype=np.float64)
    z = horizon / (alpha + T + horizon)
    return np.exp((a - 1.0) * np.log1p(-z)) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)


def purchase_scale(params: dict[str, float], x: Vector, t_x: Vector, T: Vector) -> Vector:
    """P(alive | x, t_x, T) * (a+b+x-1)/(a-1): the factor in front of eq. 10's bracket."""
    a, b = params["a"], params["b"]
    return p_alive_from_params(params, x, t_x, T) * (a + b + x - 1.0) / (a - 1.0)


def p_alive_from_params(params: dict[str, float], x: Vector, t_x: Vector, T: Vector) -> Vector:
    """P(alive | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

    Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model", brucehardie.com
    note 021; it is also the reciprocal of eq. 10's denominator. Evaluated as expit of minus the
    log-odds, which neither overflows for large x nor loses the small probabilities.
    """
    r, alpha, a, b = (params[k] for k in PARAM_NAMES)
    out = np.ones(len(x))
    pos = x > 0
    xp = x[pos]
    log_odds = np.log(a) - np.log(b + xp - 1.0)
    log_odds += (r + xp) * np.log1p((T[pos] - t_x[pos]) / (alpha + t_x[pos]))
    out[pos] = expit(-log_odds)
    return out


class BetaGeo:
    """BG/NBD model fitted by maximum likelihood (FHL 2005 eq. 6).

    ``penalizer`` adds ``penalizer * (r^2 + (alpha/max T)^2 + a^2 + b^2)`` to the mean negative
    log-likelihood, as lifetimes 0.11 does (it fits with time rescaled so that max T = 1), which
    keeps the penalty independent of the time unit. ``tol`` bounds the gradient norm of the mean
    objective in log-parameters.

    Learned attributes: ``params_`` (dict r, alpha, a, b), ``loglik_`` (weighted total log-
    likelihood, without the penalty), ``stderr_`` (dict; from the inverse observed information
    of the penalised objective, delta method from log-parameters; NaN if it is singular),
    ``n_iter_``, ``converged_`` (always True: a fit that does not converge raises
    :class:`ModelFitError`), ``n_customers_`` (total weight) and ``n_unique_`` (distinct rows
    the likelihood was evaluated on).
    """

    def __init__(self, penalizer: float = 0.0, max_iter: int = 200, tol: float = 1e-10) -> None:
        self.penalizer = penalizer
        self.max_iter = max_iter
        self.tol = tol

    def fit(
        self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike, weights: ArrayLike | None = None
    ) -> Self:
        """Fit to repeat-purchase counts ``x``, recencies ``t_x`` and ages ``T`` (one time unit).

        ``weights`` are frequency weights: the number of customers each row stands for.
        """
        xs, ts, Ts = check_summary(x, t_x, T, ModelFitError)
        w = prepare_weights(weights, len(xs))
        self._check_identifiable(xs, Ts, w)
        s = _summarise(xs, ts, Ts, w, compress=True)
        alpha_scale = 1.0 / float(Ts.max())
        optimum = minimize_log_params(
            lambda phi: _objective(phi, s, self.penalizer, alpha_scale),
            _start(s),
            max_iter=self.max_iter,
            tol=self.tol,
            model="BG/NBD",
        )
        theta = np.exp(optimum.log_params)
        self.params_ = dict(zip(PARAM_NAMES, map(float, theta), strict=True))
        # The optimum's objective is the penalised mean; undo both rather than pay another pass.
        penalty = _penalty(self.penalizer, alpha_scale) @ theta**2
        self.loglik_ = -s.total_weight * (optimum.objective - penalty)
        stderr = natural_stderr(theta, optimum.hessian, s.total_weight)
        self.stderr_ = dict(zip(PARAM_NAMES, map(float, stderr), strict=True))
        self.n_iter_ = optimum.n_iter
        self.converged_ = True
        self.n_customers_ = s.total_weight
        self.n_unique_ = s.n_unique
        return self

    @staticmethod
    def _check_identifiable(x: Vector, T: Vector, w: Vector) -> None:
        total = float(w.sum())
        if total < MIN_CUSTOMERS:
            raise ModelFitError(
                f"BG/NBD needs at least {MIN_CUSTOMERS} customers to estimate four parameters; "
                f"got {total:g}."
            )
        if not np.any((x > 0) & (w > 0)):
            raise ModelFitError(
                "No customer has a repeat purchase (x > 0 for none), so the purchase rate and "
                "dropout cannot be estimated."
            )
        if not np.any((T > 0) & (w > 0)):
            raise ModelFitError(
                "Every customer's age T is zero: the observation period ends on the day of their "
                "first purchase, so nothing about repeat buying has been observed."
            )

    def p_alive(self, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Vector:
        """P(alive | x, t_x, T); 1 for x = 0, as in BG/NBD a customer can only drop out right
        after a repeat purchase."""
        check_fitted(self)
        xs, ts, Ts = check_summary(x, t_x, T)
        return p_alive_from_params(self.params_, xs, ts, Ts)

    def expected_purchases(
        self, t: ArrayLike, x: ArrayLike, t_x: ArrayLike, T: ArrayLike
    ) -> Vector:
        """E[X(T, T+t) | x, t_x, T], the expected purchases in the next ``t`` (FHL 2005 eq. 10):

        (a+b+x-1)/(a-1) * [1 - ((alpha+T)/(alpha+T+t))^(r+x) 2F1(r+x, b+x; a+b+x-1; z)]
        / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)),  z = t/(alpha+T+t).

        ``t`` is one horizon for everyone or one per customer. For one horizon the hypergeometric
        factor, which depends on (x, T) alone, is evaluated once per distinct pair: scipy's hyp2f1
        costs ~0.6 us a call, and a million customers have a few thousand distinct pairs on a day
        grid. The formula has a removable singularity at a = 1, which a fit never lands on exactly.
        """
        check_fitted(self)
        xs, ts, Ts = check_summary(x, t_x, T)
        horizon = np.asarray(t, dtype=np.float64)
        if not np.all(np.isfinite(horizon) & (horizon >= 0)):
            raise ValueError("t must be a finite, non-negative horizon.")
        if horizon.ndim == 0:
            pairs = unique_rows(xs, Ts, return_inverse=True)
            term = survival_term(self.params_, horizon, *pairs.columns)[pairs.inverse]
        else:
            if horizon.shape != xs.shape:
                raise ValueError(f"t has shape {horizon.shape}; expected a scalar or {xs.shape}.")
            term = survival_term(self.params_, horizon, xs, Ts)
        return purchase_scale(self.params_, xs, ts, Ts) * (1.0 - term)

    def expected_purchases_new(self, t: ArrayLike) -> float | Vector:
        """E[X(t)] for a customer just acquired (FHL 2005 eq. 9, the unconditional expectation):

        (a+b-1)/(a-1) * [1 - (alpha/(alpha+t))^r 2F1(r, b; a+b-1; t/(alpha+t))],
        which is eq. 10 at x = t_x = T = 0.
        """
        check_fitted(self)
        ts = np.asarray(t, dtype=np.float64)
        flat = ts.reshape(-1)
        if not np.all(flat >= 0):
            raise ValueError("t must be non-negative.")
        zeros = np.zeros(len(flat))
        a, b = self.params_["a"], self.params_["b"]
        value = (a + b - 1.0) / (a - 1.0) * (1.0 - survival_term(self.params_, flat, zeros, zeros))
        return float(value[0]) if ts.ndim == 0 else value.reshape(ts.shape)
