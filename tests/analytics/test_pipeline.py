"""The whole pipeline: CDNOW's published estimates, the output contract, prospects, errors."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from guanxi.analytics.backends import duckdb_connect
from guanxi.analytics.clv import BetaGeo, GammaGamma, ModelFitError, customer_lifetime_value
from guanxi.analytics.config import ScoringConfig
from guanxi.analytics.inputs import TransactionsError
from guanxi.analytics.lifecycle import REASONS, STAGES
from guanxi.analytics.pipeline import SCORE_COLUMNS, STEPS, score, score_schema
from guanxi.analytics.rfm import SEGMENTS

CDNOW_AS_OF = dt.date(1997, 9, 30)
WEEKS = ScoringConfig(time_unit="week")


@pytest.fixture(scope="module")
def calibration(cdnow) -> pa.Table:
    """CDNOW's 39-week calibration period: purchases up to and including 1997-09-30."""
    return cdnow.filter(pc.less_equal(cdnow["ts"], CDNOW_AS_OF))


@pytest.fixture(scope="module")
def cdnow_result(calibration):
    return score(calibration, CDNOW_AS_OF, WEEKS)


def by_id(result) -> pa.Table:
    """The score table sorted by customer_id (the pipeline returns rows in no particular order)."""
    return result.table.sort_by("customer_id")


def assert_same_scores(left: pa.Table, right: pa.Table) -> None:
    """Equal tables, up to the last bits of the model estimates: a fit sums its terms in the
    order the rows arrive, which depends on how the input was read."""
    assert left.schema.equals(right.schema)
    left, right = left.sort_by("customer_id"), right.sort_by("customer_id")
    for name in left.column_names:
        if pa.types.is_floating(left.schema.field(name).type):
            assert left[name].null_count == right[name].null_count, name
            np.testing.assert_allclose(
                left[name].to_numpy(False), right[name].to_numpy(False), rtol=1e-9, err_msg=name
            )
        else:
            assert left[name].equals(right[name]), name


def test_cdnow_summary_matches_the_published_one(cdnow_result, cdnow_published):
    table = by_id(cdnow_result)
    assert table.num_rows == 2357
    assert table.column("customer_id").to_pylist() == cdnow_published["customer_id"].tolist()
    np.testing.assert_array_equal(table.column("x").to_numpy(), cdnow_published["x"])
    # The published t_x and T are rounded to two decimals.
    for column in ("t_x", "T"):
        np.testing.assert_allclose(
            table.column(column).to_numpy(), cdnow_published[column], atol=0.005
        )
    zbar = np.nan_to_num(pc.divide(table["mean_repeat_spend_cents"], 100.0).to_numpy(False))
    np.testing.assert_allclose(zbar, cdnow_published["zbar"], atol=0.00501)


def test_cdnow_models_match_the_published_estimates(cdnow_result):
    bg = cdnow_result.metadata["models"]["bgnbd"]
    published = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    for name, value in published.items():
        assert bg["params"][name] == pytest.approx(value, abs=0.0006), name
    assert bg["loglik"] == pytest.approx(-9582.4, abs=0.05)
    assert bg["converged"]
    gg = cdnow_result.metadata["models"]["gamma_gamma"]
    for name, value in {"p": 6.25, "q": 3.74, "v": 15.44}.items():
        assert gg["params"][name] == pytest.approx(value, abs=0.006), name
    assert gg["n_customers"] == 946


def test_output_contract(cdnow_result):
    table = cdnow_result.table
    assert tuple(table.column_names) == SCORE_COLUMNS
    assert table.schema.equals(score_schema())
    assert pc.count_distinct(table["customer_id"]).as_py() == table.num_rows
    assert set(pc.unique(table["abc_class"]).to_pylist()) == {"A", "B", "C"}
    assert set(pc.unique(table["lifecycle_stage"]).to_pylist()) <= set(STAGES)
    assert set(pc.unique(table["lifecycle_reason"]).to_pylist()) <= set(REASONS)
    assert set(pc.unique(table["rfm_segment"]).to_pylist()) <= set(SEGMENTS)
    for column in ("recency_score", "frequency_score", "monetary_score"):
        assert pc.min_max(table[column]).as_py() == {"min": 1, "max": 5}
    p_alive = table.column("p_alive").to_numpy()
    assert np.all((p_alive > 0) & (p_alive <= 1))
    assert pc.min(table["clv_cents"]).as_py() >= 0
    assert table.column("clv_cents").null_count == 0


def test_metadata(cdnow_result):
    meta = cdnow_result.metadata
    assert json.loads(cdnow_result.metadata_json()) == meta  # JSON-ready as is
    assert meta["as_of"] == "1997-09-30"
    assert meta["engine"] == "duckdb"
    assert ScoringConfig.from_dict(meta["config"]) == WEEKS
    assert meta["rows"] == {
        "transactions": 4960,
        "customers": 2357,
        "purchasers": 2357,
        "prospects": 0,
        "repeat_buyers": 946,
    }
    bg = meta["models"]["bgnbd"]
    assert set(bg) >= {"params", "loglik", "stderr", "n_iter", "converged"}
    assert set(bg["stderr"]) == {"r", "alpha", "a", "b"}
    steps = {name for name, _ in STEPS}
    assert set(meta["timings_s"]) == steps | {"fit_bgnbd", "fit_gamma_gamma", "total"}
    assert meta["timings_s"]["total"] > 0
    assert {"ibis", "duckdb", "numpy", "pyarrow", "guanxi"} <= set(meta["versions"])
    assert sum(meta["counts"]["lifecycle_stage"].values()) == 2357
    classes = pc.value_counts(cdnow_result.table["abc_class"]).to_pylist()
    assert meta["counts"]["abc_class"] == {c["values"]: c["counts"] for c in classes}


def test_clv_is_expected_spend_times_margin(cdnow_result):
    t = cdnow_result.table
    x, t_x, T = (t.column(c).to_numpy() for c in ("x", "t_x", "T"))
    spend = np.nan_to_num(pc.divide(t["mean_repeat_spend_cents"], 100.0).to_numpy(False))
    # The fits are deterministic: refitting gives the pipeline's models.
    bg = BetaGeo().fit(x, t_x, T)
    gg = GammaGamma().fit(x[x > 0], spend[x > 0])
    assert bg.params_ == pytest.approx(
        cdnow_result.metadata["models"]["bgnbd"]["params"], rel=1e-10
    )
    assert gg.params_ == pytest.approx(
        cdnow_result.metadata["models"]["gamma_gamma"]["params"], rel=1e-10
    )
    expected_spend = gg.expected_spend(x, spend)
    np.testing.assert_allclose(
        t.column("expected_spend_cents").to_numpy(), expected_spend * 100, rtol=1e-12
    )
    # CDNOW has no costs (profit = revenue): the margin is 1, or 0 for the few customers whose
    # every purchase was recorded at $0.00.
    margin = (t.column("revenue_cents").to_numpy() > 0).astype(float)
    assert 0 < np.count_nonzero(margin == 0) < 20
    clv = customer_lifetime_value(
        bg,
        expected_spend * margin,
        x,
        t_x,
        T,
        horizon_periods=12,
        period_length=30 / 7,
        discount_rate=0.01,
    )
    np.testing.assert_allclose(t.column("clv_cents").to_numpy(), clv * 100, rtol=1e-12)
    horizon = bg.expected_purchases(12 * 30 / 7, x, t_x, T)
    np.testing.assert_allclose(t.column("expected_purchases").to_numpy(), horizon, rtol=1e-12)


def test_margin_scales_clv(calibration):
    # Two extra customers with the same history; one earns half the margin, one loses money.
    extra = pa.table(
        {
            "customer_id": pa.array([90001, 90001, 90002, 90002, 90003, 90003], pa.int64()),
            "ts": pa.array([dt.date(1997, 2, 1), dt.date(1997, 8, 1)] * 3, pa.date32()),
            "amount_cents": pa.array([2000, 3000] * 3, pa.int64()),
            "profit_cents": pa.array([2000, 3000, 1000, 1500, -10, 0], pa.int64()),
        }
    )
    result = score(pa.concat_tables([calibration, extra]), CDNOW_AS_OF, WEEKS)
    rows = {r["customer_id"]: r for r in by_id(result).slice(result.table.num_rows - 3).to_pylist()}
    full, half, loss = rows[90001], rows[90002], rows[90003]
    assert full["expected_spend_cents"] == half["expected_spend_cents"]
    assert half["clv_cents"] == pytest.approx(full["clv_cents"] / 2, rel=1e-12)
    assert loss["clv_cents"] == 0.0
    assert loss["abc_class"] == "C"


def test_customers_without_purchases_are_prospects(calibration):
    customers = pa.table({"customer_id": pa.array([5, 1, 99999, 100000, 99999], pa.int64())})
    result = score(calibration, CDNOW_AS_OF, WEEKS, customers=customers)
    table = by_id(result)
    assert table.num_rows == 2359
    assert table.column("customer_id").to_pylist()[-2:] == [99999, 100000]
    prospect = table.slice(table.num_rows - 1).to_pylist()[0]
    assert prospect["lifecycle_stage"] == "prospect"
    assert prospect["lifecycle_reason"] == "prospect:no_purchase"
    assert (prospect["n_orders"], prospect["revenue_cents"], prospect["abc_class"]) == (0, 0, "C")
    for column in ("x", "T", "p_alive", "clv_cents", "recency_score", "rfm_segment"):
        assert prospect[column] is None
    assert result.metadata["rows"]["prospects"] == 2
    assert result.metadata["counts"]["lifecycle_stage"]["prospect"] == 2
    # Prospects do not change anyone else's scores.
    without = score(calibration, CDNOW_AS_OF, WEEKS).table
    assert_same_scores(table.slice(0, 2357), without)


def test_inputs_as_parquet_path_and_ibis_table(calibration, cdnow_result, tmp_path):
    path = tmp_path / "tx.parquet"
    pq.write_table(calibration, path)
    from_file = score(path, "1997-09-30", WEEKS)
    assert_same_scores(from_file.table, cdnow_result.table)
    con = duckdb_connect()
    con.create_table("tx", calibration)
    customers = pa.table({"customer_id": pa.array([1, 424242], pa.int64())})
    from_ibis = score(con.table("tx"), CDNOW_AS_OF, WEEKS, customers=customers)
    assert_same_scores(from_ibis.table.slice(0, 2357), cdnow_result.table)
    # The views and cached tables the run made on the caller's connection are gone.
    leftovers = con.con.sql(
        "select view_name from duckdb_views() where view_name like 'guanxi_%' union all "
        "select table_name from duckdb_tables() where table_name <> 'tx'"
    ).fetchall()
    assert leftovers == []
    with pytest.raises(ValueError, match="backend='spark'"):
        score(con.table("tx"), CDNOW_AS_OF, WEEKS, backend="spark")


def test_string_customer_ids(calibration):
    ids = pc.cast(calibration["customer_id"], pa.string())
    result = score(calibration.set_column(0, "customer_id", ids), CDNOW_AS_OF, WEEKS)
    assert result.table.schema.field("customer_id").type == pa.string()
    assert result.metadata["models"]["bgnbd"]["params"]["r"] == pytest.approx(0.2426, abs=1e-4)


def test_progress_reports_every_step_in_order(calibration):
    seen: list[tuple[str, float]] = []
    score(calibration, CDNOW_AS_OF, WEEKS, progress=lambda step, f: seen.append((step, f)))
    assert [step for step, _ in seen] == [name for name, _ in STEPS] + ["done"]
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0


def test_no_repeat_buyers_is_a_model_error(make_transactions):
    tx = make_transactions([(i, dt.date(2024, 1, 1 + i % 28), 100, 10) for i in range(50)])
    with pytest.raises(ModelFitError, match="no repeat buyers"):
        score(tx, "2024-06-30")


def test_bad_input_stops_before_any_model(calibration):
    with pytest.raises(TransactionsError, match="after as_of 1997-06-30"):
        score(calibration, "1997-06-30", WEEKS)


def test_the_package_exports_the_entry_points_lazily():
    import guanxi.analytics as analytics

    assert analytics.score is score
    assert analytics.ScoringConfig is ScoringConfig
    assert analytics.TransactionsError is TransactionsError
    with pytest.raises(AttributeError):
        analytics.no_such_name  # noqa: B018


def test_a_fit_that_does_not_converge_is_retried_with_the_fallback_penalizer(
    calibration, monkeypatch
):
    plain_fit = BetaGeo.fit

    def fails_unpenalised(self, *args, **kwargs):
        if self.penalizer == 0:
            raise ModelFitError("The BG/NBD fit did not converge (simulated)")
        return plain_fit(self, *args, **kwargs)

    monkeypatch.setattr(BetaGeo, "fit", fails_unpenalised)
    result = score(calibration, CDNOW_AS_OF, WEEKS)
    bgnbd = result.metadata["models"]["bgnbd"]
    assert bgnbd["fallback_penalizer_used"] and bgnbd["penalizer"] == 0.001
    assert not result.metadata["models"]["gamma_gamma"]["fallback_penalizer_used"]

    no_retry = ScoringConfig.from_dict(WEEKS.to_dict() | {"fallback_penalizer": 0.0})
    with pytest.raises(ModelFitError, match="simulated"):
        score(calibration, CDNOW_AS_OF, no_retry)
