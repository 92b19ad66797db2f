"""The imports app ships its own Simplified Chinese catalogue (``guanxi/imports/locale``): every
message is translated, the compiled file is current, and the CLI speaks Chinese when asked."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.utils import translation

import guanxi.imports
from guanxi.imports.parsing import EnumSpec, ParseError, parse_money_cents
from guanxi.parties.choices import CustomerType

PO = Path(guanxi.imports.__file__).parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_is_translated():
    blocks = PO.read_text("utf-8").split("\n\n")[1:]
    assert len(blocks) > 50
    for block in blocks:
        assert "fuzzy" not in block, block
        assert re.search(r'^msgstr "(.+)"', block, re.M), block


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_the_compiled_catalogue_is_up_to_date(tmp_path):
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check", "-o", str(compiled), str(PO)], check=True)
    assert compiled.read_bytes() == PO.with_suffix(".mo").read_bytes()


def test_messages_and_allowed_values_in_chinese():
    with translation.override("zh-hans"):
        with pytest.raises(ParseError, match="金额最多保留 2 位小数"):
            parse_money_cents("1.234")
        with pytest.raises(ParseError, match="不是允许的取值：consumer \\(消费者\\)"):
            EnumSpec(CustomerType).parse("vip")
