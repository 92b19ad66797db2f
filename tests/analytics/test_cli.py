"""``guanxi analytics score``: Parquet out with the run metadata, a summary, clear errors."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from guanxi.analytics.cli import EXIT_MODEL, EXIT_OK, EXIT_USAGE, main
from guanxi.analytics.pipeline import SCORE_COLUMNS


@pytest.fixture(scope="module")
def tx_file(cdnow, tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "transactions.parquet"
    pq.write_table(cdnow.filter(pc.less_equal(cdnow["ts"], dt.date(1997, 9, 30))), path)
    return path


def test_score_writes_parquet_with_metadata_and_prints_a_summary(tx_file, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"time_unit": "week", "rfm_bins": 4}))
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id\n1\n2\n424242\n")
    out = tmp_path / "out" / "scores.parquet"
    argv = ["score", "--transactions", str(tx_file), "--as-of", "1997-09-30", "--out", str(out)]
    code = main([*argv, "--config", str(config), "--customers", str(customers), "--quiet"])
    assert code == EXIT_OK
    table = pq.read_table(out)
    assert tuple(table.column_names) == SCORE_COLUMNS
    assert table.num_rows == 2358
    metadata = json.loads(table.schema.metadata[b"guanxi"])
    assert metadata["config"]["time_unit"] == "week"
    assert metadata["config"]["rfm_bins"] == 4
    assert metadata["rows"]["prospects"] == 1
    assert metadata["models"]["bgnbd"]["params"]["r"] == pytest.approx(0.2426, abs=1e-4)
    printed = capsys.readouterr().out
    assert "Scored 2,358 customers" in printed
    assert "prospect" in printed and "exploration" in printed
    assert "bgnbd" in printed and "gamma_gamma" in printed
    assert "Timings (s)" in printed


def test_invalid_transactions_exit_2_with_the_problem(tx_file, tmp_path, capsys):
    out = tmp_path / "x.parquet"
    argv = ["score", "--transactions", str(tx_file), "--as-of", "1997-06-30", "--out", str(out)]
    code = main([*argv, "--quiet"])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "transactions.ts: is after as_of 1997-06-30" in err
    assert not (tmp_path / "x.parquet").exists()


def test_bad_config_and_missing_file_exit_2(tx_file, tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"abc_a_shar": 0.7}))
    base = ["score", "--as-of", "1997-09-30", "--out", str(tmp_path / "x.parquet"), "--quiet"]
    assert main([*base, "--transactions", str(tx_file), "--config", str(config)]) == EXIT_USAGE
    assert "unknown config key(s): abc_a_shar" in capsys.readouterr().err
    assert main([*base, "--transactions", str(tmp_path / "none.parquet")]) == EXIT_USAGE
    assert "no such file" in capsys.readouterr().err


def test_unfittable_data_exit_1(tmp_path, capsys):
    path = tmp_path / "one_time.parquet"
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array(range(30), pa.int64()),
                "ts": pa.array([dt.date(2024, 1, 1)] * 30, pa.date32()),
                "amount_cents": pa.array([100] * 30, pa.int64()),
                "profit_cents": pa.array([10] * 30, pa.int64()),
            }
        ),
        path,
    )
    out = tmp_path / "x.parquet"
    argv = ["score", "--transactions", str(path), "--as-of", "2024-02-01", "--out", str(out)]
    code = main([*argv, "--quiet"])
    assert code == EXIT_MODEL
    assert "no repeat buyers" in capsys.readouterr().err


def test_module_entry_point_runs_without_django(tx_file, tmp_path):
    out = tmp_path / "scores.parquet"
    args = ["score", "--transactions", str(tx_file), "--as-of", "1997-09-30", "--out", str(out)]
    # -X importtime logs every imported module to stderr: Django must not be among them.
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "guanxi.analytics.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert "ibis" in imported and "guanxi.analytics.pipeline" in imported
    assert not [name for name in imported if name.split(".")[0] == "django"]
    assert "Scored 2,357 customers" in done.stdout
    assert pq.read_metadata(out).num_rows == 2357
