"""Gamma-Gamma: the published CDNOW estimates, recovery, derivatives, compression, currency
units, expected spend and errors."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import gammaln

from guanxi.analytics.clv import GammaGamma, ModelFitError, NotFittedError
from guanxi.analytics.clv import gamma_gamma as gg_module
from tests.analytics.cdnow import calibration_summary, published_summary
from tests.analytics.test_bgnbd import central_difference

TRUE = {"p": 6.0, "q": 4.0, "v": 15.0}


def simulate_spend(rng: np.random.Generator, x: np.ndarray, params: dict[str, float]) -> np.ndarray:
    """Mean of x transaction values, each Gamma(p, nu), nu ~ Gamma(q, v): the mean of x such
    values is Gamma(p x, x nu)."""
    nu = rng.gamma(params["q"], 1.0 / params["v"], len(x))
    return rng.gamma(params["p"] * x, 1.0 / (x * nu))


@pytest.fixture(scope="module")
def cdnow():
    return calibration_summary()


@pytest.fixture(scope="module")
def cdnow_fit(cdnow):
    return GammaGamma().fit(cdnow.x, cdnow.monetary)


@pytest.fixture(scope="module")
def simulated():
    rng = np.random.default_rng(99)
    x = rng.geometric(0.3, 20_000).astype(float)
    return x, simulate_spend(rng, x, TRUE)


def test_cdnow_monetary_value_is_the_mean_of_the_repeat_transactions(cdnow):
    # The published summary's zbar (rounded to cents) is the mean over repeat transactions in
    # calibration, same-day records added: the first purchase is not part of it.
    zbar = published_summary()["zbar"]
    assert np.max(np.abs(cdnow.monetary - zbar)) <= 0.005 + 1e-9
    assert np.all(cdnow.monetary[cdnow.x == 0] == 0)


def test_cdnow_reproduces_the_published_estimates(cdnow_fit):
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert cdnow_fit.params_[name] == pytest.approx(value, abs=0.005), name
    assert cdnow_fit.n_customers_ == 946
    assert cdnow_fit.converged_
    for name, se in cdnow_fit.stderr_.items():
        assert 0 < se < cdnow_fit.params_[name], name


def test_customers_without_repeat_purchases_are_ignored(cdnow, cdnow_fit):
    repeat = cdnow.x > 0
    only_repeat = GammaGamma().fit(cdnow.x[repeat], cdnow.monetary[repeat])
    assert only_repeat.params_ == cdnow_fit.params_
    assert only_repeat.loglik_ == cdnow_fit.loglik_


def test_currency_unit_does_not_change_the_fit(cdnow, cdnow_fit):
    cents = GammaGamma().fit(cdnow.x, cdnow.monetary * 100)
    assert cents.params_["p"] == pytest.approx(cdnow_fit.params_["p"], rel=1e-8)
    assert cents.params_["q"] == pytest.approx(cdnow_fit.params_["q"], rel=1e-8)
    assert cents.params_["v"] == pytest.approx(100 * cdnow_fit.params_["v"], rel=1e-8)
    # m is a density variable: the log-likelihood shifts by the Jacobian, -n ln 100.
    assert cents.loglik_ == pytest.approx(cdnow_fit.loglik_ - 946 * np.log(100), rel=1e-12)
    penalised = [
        GammaGamma(penalizer=0.1).fit(cdnow.x, cdnow.monetary * scale) for scale in (1, 100)
    ]
    assert penalised[1].params_["q"] == pytest.approx(penalised[0].params_["q"], rel=1e-8)


def test_parameters_are_recovered_within_their_standard_errors(simulated):
    gg = GammaGamma().fit(*simulated)
    for name, true in TRUE.items():
        assert abs(gg.params_[name] - true) < 4 * gg.stderr_[name], name


def test_compressed_likelihood_gives_the_uncompressed_estimates(simulated):
    x, m = simulated
    m = np.round(m, 0)  # whole yuan, so that (x, m) rows repeat
    w = np.ones(len(x))
    thetas = []
    for compress in (True, False):
        s = gg_module._prepare(x, m, w, compress=compress)
        optimum = gg_module.minimize_log_params(
            lambda phi, s=s: gg_module._objective(phi, s, 0.0, 20.0),
            np.log([1.0, 2.0, 20.0]),
            max_iter=200,
            tol=1e-10,
            model="Gamma-Gamma",
        )
        thetas.append((np.exp(optimum.log_params), len(s.w)))
    (theta_c, rows_c), (theta_u, rows_u) = thetas
    assert rows_c < rows_u == len(x)
    np.testing.assert_allclose(theta_c, theta_u, rtol=1e-8)


@pytest.mark.parametrize("theta", [[6.25, 3.74, 15.44], [0.8, 1.3, 2.0], [30.0, 12.0, 400.0]])
def test_analytic_gradient_and_hessian_match_finite_differences(cdnow, theta):
    repeat = cdnow.x > 0
    s = gg_module._prepare(cdnow.x[repeat], cdnow.monetary[repeat], np.ones(946), compress=True)
    theta = np.array(theta)
    _, gradient, hessian = gg_module._loglik(theta, s)
    numeric = central_difference(lambda t: gg_module._loglik(t, s)[0], theta)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-7, atol=1e-6)
    numeric_h = central_difference(lambda t: gg_module._loglik(t, s)[1], theta)
    np.testing.assert_allclose(hessian, numeric_h, rtol=1e-6, atol=1e-5)


def test_loglik_equals_the_published_density(cdnow):
    repeat = cdnow.x > 0
    x, m = cdnow.x[repeat], cdnow.monetary[repeat]
    p, q, v = 6.25, 3.74, 15.44
    published = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + p * x * np.log(x)
        - (p * x + q) * np.log(v + m * x)
    ).sum()
    s = gg_module._prepare(x, m, np.ones(len(x)), compress=True)
    assert gg_module._loglik(np.array([p, q, v]), s)[0] == pytest.approx(published, rel=1e-12)


def test_expected_spend_shrinks_towards_the_population_mean(cdnow_fit):
    p, q, v = (cdnow_fit.params_[k] for k in ("p", "q", "v"))
    population = p * v / (q - 1)
    spend = cdnow_fit.expected_spend([0, 0, 1, 10, 10], [np.nan, 0.0, 50.0, 50.0, 5.0])
    assert spend[0] == pytest.approx(population) and spend[1] == pytest.approx(population)
    weight = p * 1 / (p * 1 + q - 1)
    assert spend[2] == pytest.approx((1 - weight) * population + weight * 50.0)
    assert population < spend[2] < spend[3] < 50.0
    assert spend[4] < population


def test_predicting_before_fit_raises_not_fitted():
    with pytest.raises(NotFittedError):
        GammaGamma().expected_spend([1], [10.0])


def test_no_repeat_buyers_is_reported():
    with pytest.raises(ModelFitError, match="No customer has a repeat purchase"):
        GammaGamma().fit(np.zeros(20), np.zeros(20))


def test_non_positive_spend_of_repeat_buyers_names_the_rows(simulated):
    x, m = (v.copy() for v in simulated)
    m[:2] = 0.0
    m[2] = np.nan
    with pytest.raises(ModelFitError, match=r"^3 rows have a missing, infinite or non-positive"):
        GammaGamma().fit(x, m)


def test_too_few_repeat_buyers_is_reported():
    with pytest.raises(ModelFitError, match="at least 10 repeat buyers"):
        GammaGamma().fit([1, 2, 3, 0], [10.0, 12.0, 9.0, 0.0])


def test_heavy_tailed_spend_with_infinite_mean_is_reported():
    rng = np.random.default_rng(5)
    x = rng.geometric(0.3, 5000).astype(float)
    m = simulate_spend(rng, x, {"p": 2.0, "q": 0.6, "v": 10.0})
    with pytest.raises(ModelFitError, match=r"q = .* <= 1"):
        GammaGamma().fit(x, m)


def test_fit_keeps_no_training_data(cdnow):
    gg = GammaGamma().fit(cdnow.x, cdnow.monetary)
    assert {k for k in vars(gg) if not k.endswith("_")} == {"penalizer", "max_iter", "tol"}
    assert all(not isinstance(value, np.ndarray) for value in vars(gg).values())
