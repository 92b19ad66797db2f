"""Customer lifetime value: lifetimes 0.11.3's formulation, its documented CDNOW numbers, and
argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from guanxi.analytics.clv import (
    BetaGeo,
    GammaGamma,
    NotFittedError,
    customer_lifetime_value,
)
from tests.analytics.cdnow import published_summary
from tests.analytics.test_bgnbd import TRUE, simulate_bgnbd


@pytest.fixture(scope="module")
def cdnow_models():
    data = published_summary()
    bg = BetaGeo().fit(data["x"], data["t_x"], data["T"])
    gg = GammaGamma().fit(data["x"], data["zbar"])
    return data, bg, gg


@pytest.fixture(scope="module")
def simulated_fit():
    rng = np.random.default_rng(42)
    x, t_x, T = simulate_bgnbd(rng, 5000, TRUE, rng.uniform(1, 104, 5000))
    return BetaGeo().fit(x, t_x, T), x, t_x, T, rng.uniform(5, 50, 5000)


def lifetimes_clv(bg, spend, x, t_x, T, time, discount_rate, factor):
    """lifetimes 0.11.3 ``utils._customer_lifetime_value``, transcribed loop for loop."""
    clv = np.zeros(len(x))
    for i in np.arange(1, time + 1) * factor:
        expected = bg.expected_purchases(i, x, t_x, T) - bg.expected_purchases(
            i - factor, x, t_x, T
        )
        clv += spend * expected / (1 + discount_rate) ** (i / factor)
    return clv


def test_matches_lifetimes_documented_cdnow_values(cdnow_models):
    # lifetimes' docs fit BetaGeoFitter and GammaGammaFitter to this file (its
    # load_cdnow_summary_data_with_monetary_value) and print, for time=12, discount_rate=0.01
    # and the default freq "D" (30 units a period): 140.096218, 18.943466, 38.180575 (x3).
    data, bg, gg = cdnow_models
    spend = gg.expected_spend(data["x"], data["zbar"])
    clv = customer_lifetime_value(
        bg,
        spend,
        data["x"],
        data["t_x"],
        data["T"],
        horizon_periods=12,
        period_length=30.0,
        discount_rate=0.01,
    )
    documented = [140.096218, 18.943466, 38.180575, 38.180575, 38.180575]
    np.testing.assert_allclose(clv[:5], documented, rtol=1e-6)


@pytest.mark.parametrize(
    ("horizon", "period", "rate"), [(12, 30 / 7, 0.01), (6, 4.345, 0.0), (24, 1.0, 0.2)]
)
def test_equals_the_lifetimes_loop(simulated_fit, horizon, period, rate):
    bg, x, t_x, T, spend = simulated_fit
    ours = customer_lifetime_value(
        bg, spend, x, t_x, T, horizon_periods=horizon, period_length=period, discount_rate=rate
    )
    reference = lifetimes_clv(bg, spend, x, t_x, T, horizon, rate, period)
    np.testing.assert_allclose(ours, reference, rtol=1e-11, atol=1e-12)


def test_undiscounted_value_is_expected_purchases_times_spend(simulated_fit):
    bg, x, t_x, T, spend = simulated_fit
    clv = customer_lifetime_value(
        bg, spend, x, t_x, T, horizon_periods=10, period_length=5.2, discount_rate=0.0
    )
    np.testing.assert_allclose(clv, bg.expected_purchases(52.0, x, t_x, T) * spend, rtol=1e-11)


def test_value_grows_with_the_horizon_and_is_zero_without_one(simulated_fit):
    bg, x, t_x, T, spend = simulated_fit

    def clv(h: int) -> np.ndarray:
        return customer_lifetime_value(
            bg, spend, x, t_x, T, horizon_periods=h, period_length=4.0, discount_rate=0.01
        )

    np.testing.assert_array_equal(clv(0), np.zeros(len(x)))
    assert np.all(clv(6) > 0) and np.all(clv(12) > clv(6))


def test_requires_a_fitted_model_and_matching_lengths(simulated_fit):
    bg, x, t_x, T, spend = simulated_fit
    with pytest.raises(NotFittedError):
        customer_lifetime_value(
            BetaGeo(), spend, x, t_x, T, horizon_periods=1, period_length=1, discount_rate=0
        )
    with pytest.raises(ValueError, match="gg_spend has length 10"):
        customer_lifetime_value(
            bg, spend[:10], x, t_x, T, horizon_periods=1, period_length=1, discount_rate=0
        )
    with pytest.raises(TypeError, match="horizon_periods"):
        customer_lifetime_value(
            bg, spend, x, t_x, T, horizon_periods=1.5, period_length=1, discount_rate=0
        )
    with pytest.raises(ValueError, match="period_length"):
        customer_lifetime_value(
            bg, spend, x, t_x, T, horizon_periods=1, period_length=0, discount_rate=0
        )
