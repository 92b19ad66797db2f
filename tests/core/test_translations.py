"""English and Simplified Chinese ship complete: every message has a translation."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import guanxi

PACKAGE = Path(guanxi.__file__).parent
# The project catalogue plus any app's own (makemessages files a string under the nearest locale/).
CATALOGUES = sorted(PACKAGE.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))


def _entries(po_text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for each entry; plural forms count as translated if all are."""
    entries = []
    for block in po_text.split("\n\n"):
        fuzzy = "#, fuzzy" in block or re.search(r"#,.*\bfuzzy\b", block) is not None
        ids = re.findall(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if not ids:
            continue
        msgid = "".join(re.findall(r'"(.*)"', ids[0]))
        strs = re.findall(r'^msgstr(?:\[\d\])? ((?:".*"\n?)+)', block, re.M)
        translated = all("".join(re.findall(r'"(.*)"', s)) for s in strs)
        if msgid:
            entries.append((msgid, "x" if translated else "", fuzzy))
    return entries


def _union(paths) -> set[str]:
    return {m for path in paths for m, _, _ in _entries(path.read_text(encoding="utf-8"))}


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_message_in_the_catalogue_is_translated_and_not_fuzzy(po):
    entries = _entries(po.read_text(encoding="utf-8"))
    assert entries
    missing = [m for m, s, _ in entries if not s]
    fuzzy = [m for m, _, f in entries if f]
    assert not missing, f"untranslated: {missing[:20]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:20]}"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="GNU gettext is not installed")
def test_the_catalogue_covers_every_string_in_the_code(tmp_path):
    """Extract the strings afresh; any msgid missing from the committed catalogue fails."""
    work = tmp_path / "guanxi"
    shutil.copytree(PACKAGE, work, ignore=shutil.ignore_patterns("__pycache__"))
    # Run makemessages on a copy, imported ahead of the installed package, so the committed
    # catalogue is only read.
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "guanxi.settings",
        "GUANXI_VAR_DIR": str(tmp_path / "var"),
    }
    subprocess.run(
        # The Django-free engine has no user-facing strings (its messages are for analysts).
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "--locale",
            "zh_Hans",
            "--no-obsolete",
            "--ignore",
            "analytics/*",
        ],
        cwd=work,
        check=True,
        capture_output=True,
        env=env,
    )
    fresh = _union(work.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
    committed = _union(CATALOGUES)
    assert not fresh - committed, f"not in the catalogue: {sorted(fresh - committed)[:20]}"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_compiled_catalogue_is_up_to_date(tmp_path, po):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(po)], check=True)
    assert compiled.read_bytes() == po.with_suffix(".mo").read_bytes(), (
        "run `make messages` and commit the .mo"
    )
