"""The imports app's messages and allowed values come out in Chinese when asked (catalogue
completeness for every app is checked in tests/core/test_translations.py)."""

import pytest
from django.utils import translation

from guanxi.imports.parsing import EnumSpec, ParseError, parse_money_cents
from guanxi.parties.choices import CustomerType


def test_messages_and_allowed_values_in_chinese():
    with translation.override("zh-hans"):
        with pytest.raises(ParseError, match="金额最多保留 2 位小数"):
            parse_money_cents("1.234")
        with pytest.raises(ParseError, match="不是允许的取值：consumer \\(消费者\\)"):
            EnumSpec(CustomerType).parse("vip")
