"""Settings come from GUANXI_* variables; production mode refuses unsafe defaults."""

import os
import subprocess
import sys

import pytest


def _django_check(env_overrides: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    env.update(env_overrides)
    env["GUANXI_DATABASE_URL"] = "sqlite:///:memory:"
    return subprocess.run(
        [sys.executable, "-m", "guanxi", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_mode_refuses_the_default_secret_key():
    result = _django_check({"GUANXI_MODE": "production"})
    assert result.returncode != 0
    assert "GUANXI_SECRET_KEY" in result.stderr


def test_production_mode_starts_with_a_real_secret_key():
    result = _django_check(
        {
            "GUANXI_MODE": "production",
            "GUANXI_SECRET_KEY": "k" * 20 + "-a-long-random-production-value",
            "GUANXI_ALLOWED_HOSTS": "crm.example.com",
        }
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("GUANXI_DEBUG", "maybe", "not a boolean"),
        ("GUANXI_MODE", "staging", "not known"),
        ("GUANXI_CURRENCY", "yuan", "ISO 4217"),
    ],
)
def test_bad_settings_are_named_with_the_fix(name, value, message):
    result = _django_check({name: value})
    assert result.returncode != 0
    assert name in result.stderr
    assert message in result.stderr


def test_defaults_are_shanghai_time_and_cny(settings):
    assert os.environ.get("GUANXI_TIME_ZONE", "Asia/Shanghai") == settings.TIME_ZONE
    assert os.environ.get("GUANXI_CURRENCY", "CNY") == settings.CURRENCY


def test_default_database_is_sqlite_in_wal_mode_under_var(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    env["GUANXI_VAR_DIR"] = str(tmp_path)
    code = (
        "from django.db import connection; c = connection.cursor(); "
        "c.execute('PRAGMA journal_mode'); print(connection.settings_dict['NAME'], c.fetchone()[0])"
    )
    result = subprocess.run(
        [sys.executable, "-m", "guanxi", "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    name, mode = result.stdout.strip().splitlines()[-1].split()
    assert name == str(tmp_path / "guanxi.sqlite3")
    assert mode == "wal"
