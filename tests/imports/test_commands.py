"""The ``guanxi import`` and ``guanxi export`` commands: thin, but what the user sees."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from guanxi.core.models import Event
from guanxi.parties.models import Customer

from .conftest import SAMPLES

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, "--quiet", stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_import_prints_what_it_did(user):
    out = run("import", "customers", str(SAMPLES / "customers.csv"), "--user", "mei")
    assert "customers: 5 rows in customers.csv" in out
    assert "│ customers │       5 │       0 │         0 │" in out
    assert Event.objects.get(kind="import.completed").actor == user


def test_a_bad_file_exits_non_zero_lists_the_errors_and_saves_them_next_to_it(write_csv):
    path = write_csv(
        "客户.csv",
        [["客户编号", "客户名称", "类型"], ["C-1", "王", "消费者"], ["C-2", "", "vip"]],
    )
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import", "customers", str(path), "--quiet", stdout=out)
    assert error.value.returncode == 1
    assert "2 errors in 2 rows; nothing was imported" in str(error.value)
    assert "客户.errors.csv" in str(error.value)
    assert "│   3 │ 客户名称 │" in out.getvalue()
    with (path.parent / "客户.errors.csv").open(encoding="utf-8-sig", newline="") as file:
        report = list(csv.reader(file))
    assert report[0] == ["row", "column", "value", "message"]
    assert report[1][:3] == ["3", "客户名称", ""]
    assert report[2][:3] == ["3", "类型", "vip"]
    assert not Customer.objects.exists()


def test_errors_can_be_written_elsewhere_and_in_chinese(write_csv, tmp_path):
    path = write_csv("c.csv", [["客户编号", "客户名称", "类型"], ["C-2", "王", "vip"]])
    report = tmp_path / "report.csv"
    with pytest.raises(CommandError):
        call_command(
            "import",
            "customers",
            str(path),
            "--quiet",
            "--errors-out",
            str(report),
            "--language",
            "zh-hans",
            stdout=io.StringIO(),
        )
    rows = list(csv.reader(report.open(encoding="utf-8-sig")))
    assert rows[1][:3] == ["2", "类型", "vip"]


def test_a_problem_with_the_file_is_a_command_error(write_csv):
    path = write_csv("c.csv", [["external_id"], ["C-1"]])
    with pytest.raises(CommandError, match="no column for: name"):
        run("import", "customers", str(path))
    with pytest.raises(CommandError, match="invalid choice: 'suppliers'"):
        run("import", "suppliers", str(path))
    with pytest.raises(CommandError, match="no user called 'nobody'"):
        run("import", "customers", str(path), "--user", "nobody")


def test_dry_run_says_so_and_writes_nothing():
    out = run("import", "customers", str(SAMPLES / "customers.csv"), "--dry-run")
    assert "Dry run (nothing written)" in out
    assert "every row is valid; nothing was written" in out
    assert not Customer.objects.exists()


def test_export_writes_the_file_and_an_audit_event(tmp_path, samples_imported, user):
    path = tmp_path / "orders.xlsx"
    out = run("export", "orders", str(path), "--user", "mei")
    assert "Exported 5 orders rows" in out
    assert path.stat().st_size > 0
    event = Event.objects.get(kind="export.completed")
    assert event.actor == user
    assert event.data == {"entity": "orders", "file": "orders.xlsx", "format": "xlsx", "rows": 5}
