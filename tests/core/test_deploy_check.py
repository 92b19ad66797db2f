"""Production mode passes Django's deployment checks without a single warning."""

import os
import secrets
import string
import subprocess
import sys


def _production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUANXI_")}
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    env.update(
        {
            "GUANXI_MODE": "production",
            "GUANXI_SECRET_KEY": "".join(secrets.choice(alphabet) for _ in range(50)),
            "GUANXI_ALLOWED_HOSTS": "crm.example.com",
            "GUANXI_DATABASE_URL": "sqlite:///:memory:",
        }
    )
    env.update(overrides)
    return env


def _check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "guanxi", "check", "--deploy", "--fail-level", "WARNING", *args],
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_in_production_mode():
    result = _check()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNING" not in output and "security.W" not in output, output
    assert "System check identified no issues" in output


def test_the_security_checks_alone_pass_in_production_mode():
    """The deployment security checks by themselves (``--tag security``)."""
    result = _check("--tag", "security")
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output


def test_production_settings_protect_cookies_and_frames():
    code = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY, s.CSRF_COOKIE_SECURE, "
        "s.CSRF_COOKIE_HTTPONLY, s.LANGUAGE_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS, s.X_FRAME_OPTIONS, s.SECURE_CONTENT_TYPE_NOSNIFF, "
        "s.SECURE_REFERRER_POLICY, s.DEBUG)"
    )
    result = subprocess.run(
        [sys.executable, "-m", "guanxi", "shell", "--no-imports", "-c", code],
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "True",
        "True",
        "True",
        "True",
        "True",
        "True",
        "31536000",
        "DENY",
        "True",
        "same-origin",
        "False",
    ]


def test_lockout_thresholds_come_from_the_environment():
    code = (
        "from django.conf import settings as s; "
        "print(s.SIGN_IN_LOCKOUT_FAILURES, s.SIGN_IN_LOCKOUT_MINUTES)"
    )
    env = _production_env(GUANXI_SIGN_IN_LOCKOUT_FAILURES="8", GUANXI_SIGN_IN_LOCKOUT_MINUTES="30")
    result = subprocess.run(
        [sys.executable, "-m", "guanxi", "shell", "--no-imports", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["8", "30"]
    env["GUANXI_SIGN_IN_LOCKOUT_MINUTES"] = "soon"
    result = subprocess.run(
        [sys.executable, "-m", "guanxi", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "GUANXI_SIGN_IN_LOCKOUT_MINUTES" in result.stderr
