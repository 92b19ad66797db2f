"""Reading what people type into spreadsheets: dates, times, money, numbers, yes/no, enums."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from guanxi.imports.parsing import (
    EnumSpec,
    ParseError,
    parse_bool,
    parse_date,
    parse_datetime,
    parse_int,
    parse_money_cents,
    parse_tags,
    parse_text,
)
from guanxi.parties.choices import CustomerType
from guanxi.sales.choices import OrderStatus

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-03-05", dt.datetime(2024, 3, 5, 0, 0)),
        ("2024/3/5", dt.datetime(2024, 3, 5, 0, 0)),
        ("2024-03-05 14:30", dt.datetime(2024, 3, 5, 14, 30)),
        ("2024-3-5 14:30:00", dt.datetime(2024, 3, 5, 14, 30)),
        ("2024/3/5 9:05:07", dt.datetime(2024, 3, 5, 9, 5, 7)),
        ("2024年3月5日", dt.datetime(2024, 3, 5, 0, 0)),
        ("2024年3月5日 14:30", dt.datetime(2024, 3, 5, 14, 30)),
        ("2024年3月5日14时30分", dt.datetime(2024, 3, 5, 14, 30)),
        ("2024年3月5日 14时30分05秒", dt.datetime(2024, 3, 5, 14, 30, 5)),
        ("2024-03-05T14:30:00", dt.datetime(2024, 3, 5, 14, 30)),
        ("2024-03-05 14:30:00.250000", dt.datetime(2024, 3, 5, 14, 30, 0, 250_000)),
        ("20240305", dt.datetime(2024, 3, 5, 0, 0)),
        ("45356", dt.datetime(2024, 3, 5, 0, 0)),  # Excel serial day number
        ("45356.604166666664", dt.datetime(2024, 3, 5, 14, 30)),
        ("  2024/3/5  ", dt.datetime(2024, 3, 5, 0, 0)),
    ],
)
def test_every_date_form_people_type_is_read_as_wall_clock_time_in_the_time_zone(text, expected):
    assert parse_datetime(text, tz=SHANGHAI) == expected.replace(tzinfo=SHANGHAI)


def test_an_explicit_offset_wins_over_the_time_zone():
    value = parse_datetime("2024-03-05T06:30:00Z", tz=SHANGHAI)
    assert value == dt.datetime(2024, 3, 5, 14, 30, tzinfo=SHANGHAI)
    assert parse_datetime("2024-03-05 14:30+08:00", tz=ZoneInfo("UTC")) == value


def test_xlsx_cells_are_read_as_they_are():
    assert parse_datetime(dt.datetime(2024, 3, 5, 14, 30), tz=SHANGHAI) == dt.datetime(
        2024, 3, 5, 14, 30, tzinfo=SHANGHAI
    )
    assert parse_datetime(45356.5, tz=SHANGHAI) == dt.datetime(2024, 3, 5, 12, tzinfo=SHANGHAI)
    assert parse_date(dt.datetime(2024, 3, 5)) == dt.date(2024, 3, 5)
    assert parse_date(45356) == dt.date(2024, 3, 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2024/13/5", "not a real date"),
        ("2024-02-30", "not a real date"),
        ("3/5/2024", "Write the year first"),
        ("05.03.2024", "Write the year first"),
        ("yesterday", "Expected a date"),
        ("99999999", "not a real date"),
        ("3000000", "out of range"),
    ],
)
def test_a_date_that_cannot_be_read_says_what_is_expected(text, message):
    with pytest.raises(ParseError, match=message):
        parse_datetime(text, tz=SHANGHAI)


def test_a_date_column_refuses_a_time_of_day():
    assert parse_date("2024年3月5日") == dt.date(2024, 3, 5)
    assert parse_date("2024-03-05 00:00:00") == dt.date(2024, 3, 5)
    with pytest.raises(ParseError, match="without a time of day"):
        parse_date("2024-03-05 14:30")
    with pytest.raises(ParseError, match="without a time of day"):
        parse_date(dt.datetime(2024, 3, 5, 14, 30))


@pytest.mark.parametrize(
    ("raw", "cents"),
    [
        ("120.50", 12_050),
        ("120.5", 12_050),
        ("120", 12_000),
        ("1,200.50", 120_050),
        ("¥1,200.50", 120_050),
        ("￥ 99", 9_900),
        ("1200元", 120_000),
        ("0.1", 10),
        (".5", 50),
        ("12,345,678.90", 1_234_567_890),
        (120.5, 12_050),
        (0.1 + 0.2 - 0.3 + 19.99, 1_999),  # a float that is not exactly 19.99 still has 2 decimals
        (7, 700),
    ],
)
def test_money_is_read_into_integer_cents_without_floats(raw, cents):
    assert parse_money_cents(raw) == cents


def test_float_noise_beyond_two_decimals_is_refused_not_rounded():
    with pytest.raises(ParseError, match="at most 2 decimal places"):
        parse_money_cents("12.345")
    with pytest.raises(ParseError, match="at most 2 decimal places"):
        parse_money_cents(0.001)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("-5", "cannot be negative"),
        ("(5.00)", "cannot be negative"),
        ("12.34.5", "Expected an amount"),
        ("1,20.00", "Expected an amount"),
        ("abc", "Expected an amount"),
        (True, "not TRUE/FALSE"),
    ],
)
def test_money_that_cannot_be_read_is_refused(raw, message):
    with pytest.raises(ParseError, match=message):
        parse_money_cents(raw)


def test_whole_numbers():
    assert parse_int("3") == 3
    assert parse_int("1,000") == 1000
    assert parse_int(4.0) == 4
    with pytest.raises(ParseError, match="positive whole number"):
        parse_int("0", min_value=1)
    with pytest.raises(ParseError, match="positive whole number"):
        parse_int("-2", min_value=1)
    with pytest.raises(ParseError, match="whole number"):
        parse_int("2.5")
    with pytest.raises(ParseError, match="too large"):
        parse_int("99999999999")


def test_yes_and_no_in_english_and_chinese():
    assert [parse_bool(v) for v in ("yes", "TRUE", "1", "是", "Y", True)] == [True] * 6
    assert [parse_bool(v) for v in ("no", "false", "0", "否", "N", False)] == [False] * 6
    with pytest.raises(ParseError, match="yes or no"):
        parse_bool("maybe")


def test_enum_values_are_read_from_identifier_english_or_chinese_label():
    spec = EnumSpec(CustomerType)
    assert spec.parse("consumer") == "consumer"
    assert spec.parse("Consumer") == "consumer"
    assert spec.parse("消费者") == "consumer"
    assert spec.parse("channel partner") == "channel"
    assert spec.parse("渠道客户") == "channel"
    assert EnumSpec(OrderStatus).parse("已送达") == "delivered"


def test_an_unknown_enum_value_lists_the_allowed_ones():
    with pytest.raises(ParseError) as error:
        EnumSpec(CustomerType).parse("vip")
    message = str(error.value)
    assert "'vip'" in message
    for allowed in ("consumer (消费者)", "business (企业客户)", "channel (渠道客户)", "internal"):
        assert allowed in message


def test_tags_split_on_english_and_chinese_separators_and_keep_order():
    assert parse_tags("vip, 华东，重点、vip;新", max_length=50) == ("vip", "华东", "重点", "新")
    with pytest.raises(ParseError, match="longer than 5"):
        parse_tags("abcdef", max_length=5)


def test_text_is_trimmed_and_numbers_typed_in_excel_become_their_digits():
    assert parse_text("  上海  ") == "上海"
    assert parse_text(13800138000.0) == "13800138000"
    with pytest.raises(ParseError, match="at most 3"):
        parse_text("abcd", max_length=3)
