"""BG/NBD: the published CDNOW estimates, parameter recovery, the likelihood's derivatives,
compression, numerics at the extremes, and the errors a user sees."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.integrate import quad
from scipy.optimize import approx_fprime
from scipy.special import betaln, hyp2f1

from guanxi.analytics.clv import BetaGeo, ModelFitError, NotFittedError
from guanxi.analytics.clv import bgnbd as bgnbd_module
from guanxi.analytics.clv._compress import unique_rows
from tests.analytics.cdnow import calibration_summary, published_summary

TRUE = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5}


def simulate_bgnbd(
    rng: np.random.Generator, n: int, params: dict[str, float], T: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw (x, t_x, T) from the BG/NBD process in continuous time.

    With N(T) ~ Poisson(lambda T) purchases offered by the process and K ~ Geometric(p) the
    purchase after which the customer drops out: x = min(N, K); t_x is the last of N uniform
    points on (0, T) if N < K (alive), else the K-th of them.
    """
    T = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    lam = rng.gamma(params["r"], 1.0 / params["alpha"], n)
    p = rng.beta(params["a"], params["b"], n)
    k = rng.geometric(p)
    offered = rng.poisson(lam * T)
    alive = offered < k
    x = np.where(alive, offered, k).astype(np.float64)
    t_x = np.zeros(n)
    last = alive & (offered > 0)
    t_x[last] = T[last] * rng.beta(offered[last], 1)
    dead = ~alive
    t_x[dead] = T[dead] * rng.beta(k[dead], offered[dead] - k[dead] + 1)
    return x, t_x, T


@pytest.fixture(scope="module")
def cdnow():
    return calibration_summary()


@pytest.fixture(scope="module")
def cdnow_fit(cdnow):
    return BetaGeo().fit(cdnow.x, cdnow.t_x, cdnow.T)


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(20240601)
    return simulate_bgnbd(rng, 20_000, TRUE, rng.uniform(26.0, 104.0, 20_000))


def test_cdnow_summary_matches_the_published_summary(cdnow):
    published = published_summary()
    np.testing.assert_array_equal(cdnow.customer_id, published["customer_id"])
    np.testing.assert_array_equal(cdnow.x, published["x"])
    np.testing.assert_array_equal(published["plain_x"], published["x"])
    # Both published files round weeks to two decimals.
    for column in ("t_x", "plain_t_x"):
        np.testing.assert_allclose(cdnow.t_x, published[column], rtol=0, atol=0.005 + 1e-12)
    for column in ("T", "plain_T"):
        np.testing.assert_allclose(cdnow.T, published[column], rtol=0, atol=0.005 + 1e-12)
    assert len(cdnow.x) == 2357
    assert np.count_nonzero(cdnow.x > 0) == 946


def test_cdnow_reproduces_fhl_2005_estimates(cdnow_fit):
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert cdnow_fit.params_[name] == pytest.approx(value, abs=5e-4), name
    assert cdnow_fit.loglik_ == pytest.approx(-9582.4, abs=0.05)
    assert cdnow_fit.converged_
    assert cdnow_fit.n_customers_ == 2357
    assert cdnow_fit.n_unique_ < 2357


def test_cdnow_conditional_expectation_for_the_papers_example_customer(cdnow_fit):
    expected = cdnow_fit.expected_purchases(39.0, [2], [30.43], [38.86])
    assert expected[0] == pytest.approx(1.226, abs=5e-4)


def test_cdnow_standard_errors_are_positive_and_small(cdnow_fit):
    for name, se in cdnow_fit.stderr_.items():
        assert 0 < se < cdnow_fit.params_[name], name


def test_parameters_are_recovered_within_their_standard_errors(simulated):
    bg = BetaGeo().fit(*simulated)
    for name, true in TRUE.items():
        assert abs(bg.params_[name] - true) < 4 * bg.stderr_[name], name


def test_standard_errors_match_the_spread_of_estimates_across_samples():
    rng = np.random.default_rng(7)
    estimates, errors = [], []
    for _ in range(12):
        bg = BetaGeo().fit(*simulate_bgnbd(rng, 3000, TRUE, 52.0))
        estimates.append(bg.params_["r"])
        errors.append(bg.stderr_["r"])
    spread = np.std(estimates, ddof=1)
    assert 0.5 < spread / np.mean(errors) < 2.0


def test_compressed_likelihood_gives_the_uncompressed_estimates(simulated):
    x, t_x, T = simulated
    # Put the times on a day grid so that rows repeat and compression has something to do.
    t_x, T = np.ceil(t_x * 7) / 7, np.ceil(T * 7) / 7
    w = np.ones(len(x))
    fits = []
    for compress in (True, False):
        s = bgnbd_module._summarise(x, t_x, T, w, compress=compress)
        theta = _fit_summary(s)
        fits.append((theta, bgnbd_module._loglik(theta, s)[0], s.n_unique))
    (theta_c, ll_c, rows_c), (theta_u, ll_u, rows_u) = fits
    assert rows_c < rows_u == len(x)
    np.testing.assert_allclose(theta_c, theta_u, rtol=1e-8)
    assert ll_c == pytest.approx(ll_u, rel=1e-12)


def test_weights_are_frequency_weights(simulated):
    x, t_x, T = (np.round(v, 1) for v in simulated)
    rows = unique_rows(x, t_x, T)
    by_row = BetaGeo().fit(x, t_x, T)
    weighted = BetaGeo().fit(*rows.columns, weights=rows.weights)
    for name in TRUE:
        assert weighted.params_[name] == pytest.approx(by_row.params_[name], rel=1e-8)
    assert weighted.loglik_ == pytest.approx(by_row.loglik_, rel=1e-12)
    assert weighted.n_customers_ == len(x)


def _fit_summary(s):
    optimum = bgnbd_module.minimize_log_params(
        lambda phi: bgnbd_module._objective(phi, s, 0.0, 1.0),
        bgnbd_module._start(s),
        max_iter=200,
        tol=1e-10,
        model="BG/NBD",
    )
    return np.exp(optimum.log_params)


def central_difference(f, theta: np.ndarray, rel_step: float = 1e-5) -> np.ndarray:
    """Jacobian of ``f`` at ``theta`` by central differences (rows: outputs of f)."""
    columns = []
    for i in range(len(theta)):
        h = rel_step * theta[i]
        up, down = theta.copy(), theta.copy()
        up[i] += h
        down[i] -= h
        columns.append((np.asarray(f(up)) - np.asarray(f(down))) / (2 * h))
    return np.array(columns).T


@pytest.mark.parametrize(
    "theta",
    [[0.243, 4.414, 0.793, 2.426], [1.5, 20.0, 2.0, 0.7], [0.05, 0.5, 0.2, 9.0]],
)
def test_analytic_gradient_and_hessian_match_finite_differences(cdnow, theta):
    s = bgnbd_module._summarise(cdnow.x, cdnow.t_x, cdnow.T, np.ones(len(cdnow.x)), compress=True)
    theta = np.array(theta)
    _, gradient, hessian = bgnbd_module._loglik(theta, s)
    numeric = central_difference(lambda t: bgnbd_module._loglik(t, s)[0], theta)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-7, atol=1e-6)
    numeric_h = central_difference(lambda t: bgnbd_module._loglik(t, s)[1], theta)
    np.testing.assert_allclose(hessian, numeric_h, rtol=1e-6, atol=1e-5)


def test_objective_gradient_in_log_parameters_with_penalty(cdnow):
    s = bgnbd_module._summarise(cdnow.x, cdnow.t_x, cdnow.T, np.ones(len(cdnow.x)), compress=True)
    phi = np.log([0.3, 5.0, 0.9, 2.0])
    _, gradient, hessian = bgnbd_module._objective(phi, s, 0.1, 1 / 39)
    f = lambda p: bgnbd_module._objective(p, s, 0.1, 1 / 39)[0]  # noqa: E731
    np.testing.assert_allclose(gradient, approx_fprime(phi, f, 1e-7), rtol=1e-5, atol=1e-8)
    g = lambda p, i: bgnbd_module._objective(p, s, 0.1, 1 / 39)[1][i]  # noqa: E731
    numeric_h = np.array([approx_fprime(phi, g, 1e-7, i) for i in range(4)])
    np.testing.assert_allclose(hessian, numeric_h, rtol=1e-5, atol=1e-7)


def test_the_time_unit_only_rescales_alpha(simulated):
    x, t_x, T = simulated
    weeks = BetaGeo().fit(x, t_x, T)
    days = BetaGeo().fit(x, t_x * 7, T * 7)
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-7)
    for name in ("r", "a", "b"):
        assert days.params_[name] == pytest.approx(weeks.params_[name], rel=1e-7)
    # t_x is a density in time, so the log-likelihood shifts by -sum(x) ln 7.
    assert days.loglik_ == pytest.approx(weeks.loglik_ - x.sum() * np.log(7), rel=1e-10)
    pred_w = weeks.expected_purchases(13.0, x[:50], t_x[:50], T[:50])
    pred_d = days.expected_purchases(91.0, x[:50], t_x[:50] * 7, T[:50] * 7)
    np.testing.assert_allclose(pred_w, pred_d, rtol=1e-6)


def test_penalizer_shrinks_towards_zero_the_same_way_in_any_time_unit(simulated):
    x, t_x, T = simulated
    plain = BetaGeo().fit(x, t_x, T)
    weeks = BetaGeo(penalizer=0.05).fit(x, t_x, T)
    days = BetaGeo(penalizer=0.05).fit(x, t_x * 7, T * 7)
    assert weeks.params_["b"] < plain.params_["b"]
    assert days.params_["alpha"] == pytest.approx(7 * weeks.params_["alpha"], rel=1e-7)
    assert days.params_["b"] == pytest.approx(weeks.params_["b"], rel=1e-7)


def test_p_alive_is_one_without_repeat_purchases_and_falls_with_inactivity(cdnow_fit):
    p = cdnow_fit.p_alive([0, 3, 3, 3], [0, 30.0, 20.0, 5.0], [38.0, 38.0, 38.0, 38.0])
    assert p[0] == 1.0
    assert 1 > p[1] > p[2] > p[3] > 0


def test_expected_purchases_of_a_new_customer_is_eq_10_at_zero_history(cdnow_fit):
    t = np.array([0.0, 1.0, 39.0, 78.0, 520.0])
    new = cdnow_fit.expected_purchases_new(t)
    at_zero = np.array([cdnow_fit.expected_purchases(ti, [0], [0], [0])[0] for ti in t])
    np.testing.assert_allclose(new, at_zero, rtol=1e-12)
    assert new[0] == 0 and np.all(np.diff(new) > 0)
    assert isinstance(cdnow_fit.expected_purchases_new(39.0), float)


def test_expected_purchases_of_a_new_customer_matches_simulation():
    # E[X(t)] (eq. 9) at the true parameters against the mean of 200,000 simulated customers.
    x, _, _ = simulate_bgnbd(np.random.default_rng(11), 200_000, TRUE, 52.0)
    a, b = TRUE["a"], TRUE["b"]
    bracket = bgnbd_module.survival_term(TRUE, 52.0, np.zeros(1), np.zeros(1))[0]
    expected = (a + b - 1) / (a - 1) * (1 - bracket)
    assert abs(x.mean() - expected) < 4 * x.std() / np.sqrt(len(x))


def test_per_customer_horizons_match_one_horizon_at_a_time(cdnow, cdnow_fit):
    horizons = np.where(cdnow.x > 2, 52.0, 13.0)
    together = cdnow_fit.expected_purchases(horizons, cdnow.x, cdnow.t_x, cdnow.T)
    for h in (13.0, 52.0):
        rows = horizons == h
        alone = cdnow_fit.expected_purchases(h, cdnow.x[rows], cdnow.t_x[rows], cdnow.T[rows])
        np.testing.assert_allclose(together[rows], alone, rtol=1e-13)
    with pytest.raises(ValueError, match="non-negative"):
        cdnow_fit.expected_purchases(-1.0, [1], [1], [2])


def _published_bracket(params, t, x, T):
    """The bracket factor of eq. 10 as published (lifetimes' primary form)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    z = t / (alpha + T + t)
    return hyp2f1(r + x, b + x, a + b + x - 1, z) * (1 - z) ** (r + x)


def test_transformed_hypergeometric_term_equals_the_published_form():
    params = {"r": 0.5, "alpha": 42.0, "a": 1.8, "b": 2.5}
    rng = np.random.default_rng(3)
    x = rng.integers(0, 60, 2000).astype(float)
    T = rng.uniform(0, 730, 2000)
    t = rng.uniform(0, 730, 2000)
    ours = bgnbd_module.survival_term(params, t, x, T)
    with np.errstate(all="ignore"):
        published = _published_bracket(params, t, x, T)
    finite = np.isfinite(published)
    assert finite.mean() > 0.5
    np.testing.assert_allclose(ours[finite], published[finite], rtol=1e-11)


def test_transformed_hypergeometric_term_equals_eulers_integral():
    params = {"r": 0.05, "alpha": 200.0, "a": 5.0, "b": 50.0}
    for x, T, t in [(0, 10.0, 30.0), (3, 100.0, 360.0), (200, 700.0, 2000.0)]:
        r, alpha, a, b = params.values()
        big_a, big_b, big_c = r + x, b + x, a + b + x - 1
        z = t / (alpha + T + t)

        def integrand(u, big_a=big_a, big_b=big_b, big_c=big_c, z=z):
            return np.exp(
                (big_b - 1) * np.log(u)
                + (big_c - big_b - 1) * np.log1p(-u)
                - big_a * np.log1p(-z * u)
                - betaln(big_b, big_c - big_b)
            )

        expected = quad(integrand, 0, 1, epsabs=0, epsrel=1e-12, limit=200)[0] * (1 - z) ** big_a
        ours = bgnbd_module.survival_term(params, t, np.array([x], float), np.array([T]))[0]
        assert ours == pytest.approx(expected, rel=1e-11)


def test_predictions_stay_finite_for_heavy_buyers(cdnow_fit):
    # The published forms overflow here: ((alpha+T)/(alpha+t_x))^(r+x) and 2F1 with x = 20,000.
    x = np.array([1000.0, 20000.0, 20000.0])
    t_x = np.array([519.5, 5199.9, 100.0])
    T = np.array([520.0, 5200.0, 5200.0])
    p = cdnow_fit.p_alive(x, t_x, T)
    e = cdnow_fit.expected_purchases(52.0, x, t_x, T)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(e))
    assert p[0] > 0.9 and p[1] > 0.9 and p[2] == 0.0
    # Recently active heavy buyers keep their observed rate: ~1000/520 and ~20000/5200 a week.
    assert e[0] == pytest.approx(52 * 1000 / 520, rel=0.1)
    assert e[1] == pytest.approx(52 * 20000 / 5200, rel=0.1)
    assert e[2] == 0.0


def test_fit_leaves_only_parameters_and_learned_values_on_the_estimator(cdnow):
    bg = BetaGeo(penalizer=0.01, max_iter=50, tol=1e-9)
    assert vars(bg) == {"penalizer": 0.01, "max_iter": 50, "tol": 1e-9}
    assert bg.fit(cdnow.x, cdnow.t_x, cdnow.T) is bg
    learned = {k for k in vars(bg) if k.endswith("_")}
    assert learned == {
        "params_",
        "loglik_",
        "stderr_",
        "n_iter_",
        "converged_",
        "n_customers_",
        "n_unique_",
    }
    assert set(vars(bg)) - learned == {"penalizer", "max_iter", "tol"}


def test_predicting_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError, match="not fitted"):
        BetaGeo().p_alive([1], [1], [2])
    with pytest.raises(NotFittedError):
        BetaGeo().expected_purchases_new(1.0)
    assert issubclass(NotFittedError, AttributeError)


def test_no_repeat_buyers_is_reported():
    with pytest.raises(ModelFitError, match="repeat purchase"):
        BetaGeo().fit(np.zeros(50), np.zeros(50), np.full(50, 10.0))


def test_recency_beyond_age_names_the_number_of_rows(simulated):
    x, t_x, T = (v.copy() for v in simulated)
    bad = np.flatnonzero(x > 0)[:3]
    t_x[bad] = T[bad] + 1
    with pytest.raises(ModelFitError, match=r"^3 rows have a recency t_x greater than the age T"):
        BetaGeo().fit(x, t_x, T)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda x, t, T: x.__setitem__(0, np.nan), "1 row has NaN or infinite"),
        (lambda x, t, T: x.__setitem__(slice(0, 2), -1), "2 rows have a negative repeat-purchase"),
        (lambda x, t, T: x.__setitem__(0, 1.5), "non-integer"),
        (lambda x, t, T: T.__setitem__(slice(0, 4), -1), "4 rows have a negative recency"),
    ],
)
def test_invalid_input_names_the_offending_rows(simulated, change, message):
    x, t_x, T = (v.copy() for v in simulated)
    change(x, t_x, T)
    with pytest.raises(ModelFitError, match=message):
        BetaGeo().fit(x, t_x, T)


def test_too_few_customers_or_no_elapsed_time_is_reported():
    with pytest.raises(ModelFitError, match="at least 10 customers"):
        BetaGeo().fit([1, 0, 2], [1, 0, 2], [3, 3, 3])
    with pytest.raises(ModelFitError, match="age T is zero"):
        BetaGeo().fit(np.r_[np.ones(5), np.zeros(10)], np.zeros(15), np.zeros(15))


def test_optimizer_that_runs_out_of_iterations_says_so(simulated):
    with pytest.raises(ModelFitError, match="did not converge after"):
        BetaGeo(max_iter=1).fit(*simulated)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from([0.0, 0.5, 1.0, 2.5]), st.integers(1, 4)),
        min_size=1,
        max_size=60,
    )
)
def test_unique_rows_round_trips(rows):
    x = np.array([r[0] for r in rows], dtype=float)
    t = np.array([r[1] for r in rows])
    T = np.array([r[2] for r in rows], dtype=float)
    for weights in (None, np.arange(1.0, len(x) + 1)):
        fast = unique_rows(x, t, T, weights=weights)
        full = unique_rows(x, t, T, weights=weights, return_inverse=True)
        for a, b, original in zip(fast.columns, full.columns, (x, t, T), strict=True):
            np.testing.assert_array_equal(a, b)
            np.testing.assert_array_equal(b[full.inverse], original)
        np.testing.assert_allclose(fast.weights, full.weights)
        expected = len(x) if weights is None else weights.sum()
        assert fast.weights.sum() == pytest.approx(expected)
        keys = list(zip(*fast.columns, strict=True))
        assert keys == sorted(set(zip(x, t, T, strict=True)))
