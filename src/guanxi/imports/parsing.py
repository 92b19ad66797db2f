"""Read what people type into spreadsheets: dates, times, money, whole numbers, yes/no, enums, tags.

Every parser takes one non-empty cell — a ``str`` from a CSV file; ``str``, ``int``, ``float``,
``bool`` or ``datetime`` from an XLSX file — and returns the typed value, or raises ``ParseError``
with a message that says what was expected. Parsers of text are cached: an order file repeats the
same timestamps, prices and codes on many lines, and parsing each once is most of the speed.
"""

import datetime as dt
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl.utils.datetime import from_excel

# Excel's serial day numbers for 1900-01-01 … 9999-12-31.
EXCEL_SERIAL_MAX = 2_958_465
BIGINT_MAX = 2**63 - 1
INTEGER_MAX = 2**31 - 1

_DATE = r"(?P<y>\d{4})(?:\s*[-/.]\s*|\s*年\s*)(?P<m>\d{1,2})(?:\s*[-/.]\s*|\s*月\s*)(?P<d>\d{1,2})"
_TIME = (
    r"(?P<H>\d{1,2})(?:\s*[:：]\s*|\s*[时時点點]\s*)(?P<M>\d{1,2})"
    r"(?:(?:\s*[:：]\s*|\s*分\s*)(?P<S>\d{1,2})(?:[.,](?P<f>\d{1,6}))?(?:\s*秒)?|\s*分)?"
)
_DATETIME_RE = re.compile(
    rf"{_DATE}(?:\s*日)?(?:(?:\s*T\s*|\s+|(?<=日))\s*{_TIME})?\s*(?P<tz>Z|[+-]\d{{2}}(?::?\d{{2}})?)?"
)
_COMPACT_DATE_RE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL_RE = re.compile(r"\d{1,7}(?:\.\d+)?")
_MONEY_RE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+")
_INT_RE = re.compile(r"[+]?(?:\d{1,3}(?:,\d{3})+|\d+)")
_TAG_SPLIT_RE = re.compile(r"[,，、;；|\n]")

TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y", "是", "对", "√", "✓"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n", "否", "不", "×", "✗"})


class ParseError(ValueError):
    """A cell that cannot be read; ``str(error)`` says what was expected."""


def is_blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and (raw == "" or raw.isspace()))


def parse_text(raw: Any, *, max_length: int | None = None) -> str:
    """Text with surrounding spaces removed; numbers typed into an XLSX text column become text."""
    if isinstance(raw, str):
        text = raw.strip()
    elif isinstance(raw, bool):
        text = "TRUE" if raw else "FALSE"
    elif isinstance(raw, float) and raw.is_integer():
        # Excel keeps 13800138000 typed into a cell as a number; the id is the digits.
        text = str(int(raw))
    elif isinstance(raw, dt.datetime):
        text = raw.isoformat(sep=" ")
    else:
        text = str(raw)
    if max_length is not None and len(text) > max_length:
        raise ParseError(
            _("This is %(length)s characters long; this column takes at most %(max)s. Shorten it.")
            % {"length": len(text), "max": max_length}
        )
    return text


def parse_email(raw: Any, *, max_length: int | None = None) -> str:
    text = parse_text(raw, max_length=max_length)
    try:
        validate_email(text)
    except ValidationError:
        raise ParseError(
            _("This is not an email address; write it like name@example.com.")
        ) from None
    return text


def parse_int(raw: Any, *, min_value: int | None = None, max_value: int = INTEGER_MAX) -> int:
    """A whole number; thousands separators are allowed (``1,000``)."""
    if isinstance(raw, bool):
        raise ParseError(_("Expected a whole number, not TRUE/FALSE."))
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise ParseError(_("Expected a whole number without decimals."))
        value = int(raw)
    else:
        value = _int_from_text(str(raw).strip())
    if min_value is not None and value < min_value:
        raise ParseError(
            _("This must be at least %(min)s.") % {"min": min_value}
            if min_value != 1
            else _("This must be a positive whole number (1 or more).")
        )
    if value > max_value:
        raise ParseError(_("This number is too large (at most %(max)s).") % {"max": max_value})
    return value


@lru_cache(maxsize=4096)
def _int_from_text(text: str) -> int:
    if text.startswith("-") and _INT_RE.fullmatch(text[1:]):
        return -int(text[1:].replace(",", ""))
    if not _INT_RE.fullmatch(text):
        raise ParseError(_("Expected a whole number such as 3 or 1,000."))
    return int(text.replace(",", ""))


def parse_money_cents(raw: Any) -> int:
    """An amount in currency units with at most 2 decimals → integer cents, without floats.

    Accepts ``120.5``, ``120.50``, ``1,200.50``, ``¥1,200.50`` and ``1200元``; XLSX numbers are read
    through their shortest decimal representation, so a cell showing 120.5 is exactly 12050 cents.
    """
    if isinstance(raw, bool):
        raise ParseError(_("Expected an amount of money such as 120.50, not TRUE/FALSE."))
    if isinstance(raw, int):
        amount = Decimal(raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise ParseError(_("Expected an amount of money such as 120.50."))
        amount = Decimal(repr(raw))
    else:
        return _money_from_text(str(raw).strip())
    return _cents(amount)


@lru_cache(maxsize=16384)
def _money_from_text(text: str) -> int:
    text = text.removeprefix("¥").removeprefix("￥").removesuffix("元").strip()
    if text.startswith(("-", "(", "−")):
        raise ParseError(_("An amount of money cannot be negative here."))
    if not _MONEY_RE.fullmatch(text):
        raise ParseError(
            _("Expected an amount of money such as 120.50 or 1,200.50 (digits, one decimal point).")
        )
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern above only lets numbers through
        raise ParseError(_("Expected an amount of money such as 120.50.")) from None
    return _cents(amount)


def _cents(amount: Decimal) -> int:
    if amount < 0:
        raise ParseError(_("An amount of money cannot be negative here."))
    cents = amount.scaleb(2)
    if cents != cents.to_integral_value():
        raise ParseError(_("An amount of money has at most 2 decimal places (fen), e.g. 120.50."))
    if cents > BIGINT_MAX:
        raise ParseError(_("This amount is too large."))
    return int(cents)


def parse_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    word = str(raw).strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ParseError(_("Expected yes or no (also accepted: true/false, 1/0, 是/否)."))


def parse_datetime(raw: Any, *, tz: ZoneInfo) -> dt.datetime:
    """A point in time; a time without an offset is wall-clock time in ``tz``.

    Accepts ISO 8601 (``2024-03-05T14:30:00+08:00``), ``2024/3/5``, ``2024-3-5 14:30:00``,
    ``2024年3月5日 14:30``, ``2024年3月5日14时30分``, ``20240305``, Excel serial day numbers and
    XLSX date cells. A date alone means midnight.
    """
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        value = dt.datetime.combine(raw, dt.time())
    elif isinstance(raw, bool):
        raise ParseError(_("Expected a date and time such as 2024-03-05 14:30."))
    elif isinstance(raw, int | float):
        value = _from_serial(raw)
    else:
        return _datetime_from_text(str(raw).strip(), tz)
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


@lru_cache(maxsize=65536)
def _datetime_from_text(text: str, tz: ZoneInfo) -> dt.datetime:
    value = _naive_or_aware_from_text(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def parse_date(raw: Any) -> dt.date:
    """A calendar date: the forms ``parse_datetime`` accepts, without a time of day."""
    if isinstance(raw, dt.datetime):
        value = raw
    elif isinstance(raw, dt.date):
        return raw
    elif isinstance(raw, bool):
        raise ParseError(_("Expected a date such as 2024-03-05."))
    elif isinstance(raw, int | float):
        value = _from_serial(raw)
    else:
        return _date_from_text(str(raw).strip())
    if value.time() != dt.time():
        raise ParseError(_("This column takes a date without a time of day, e.g. 2024-03-05."))
    return value.date()


@lru_cache(maxsize=16384)
def _date_from_text(text: str) -> dt.date:
    value = _naive_or_aware_from_text(text)
    if value.tzinfo is not None or value.time() != dt.time():
        raise ParseError(_("This column takes a date without a time of day, e.g. 2024-03-05."))
    return value.date()


def _naive_or_aware_from_text(text: str) -> dt.datetime:
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass  # 2024-3-5 and other forms ISO does not cover: try the patterns below
    if match := _DATETIME_RE.fullmatch(text):
        return _from_match(match)
    if match := _COMPACT_DATE_RE.fullmatch(text):
        return _checked_datetime(*(int(g) for g in match.groups()))
    if _SERIAL_RE.fullmatch(text):
        return _from_serial(float(text))
    if re.fullmatch(r"\d{1,2}[-/.]\d{1,2}[-/.]\d{4}.*", text):
        raise ParseError(
            _(
                "Write the year first (2024/3/5 or 2024-03-05): day/month/year and month/day/year "
                "cannot be told apart."
            )
        )
    raise ParseError(
        _(
            "Expected a date such as 2024-03-05, 2024/3/5 or 2024年3月5日, with an optional time "
            "such as 14:30."
        )
    )


def _from_match(match: re.Match[str]) -> dt.datetime:
    g = match.groupdict()
    fraction = (g["f"] or "").ljust(6, "0")
    value = _checked_datetime(
        int(g["y"]),
        int(g["m"]),
        int(g["d"]),
        int(g["H"] or 0),
        int(g["M"] or 0),
        int(g["S"] or 0),
        int(fraction or 0),
    )
    if tz := g["tz"]:
        if tz == "Z":
            return value.replace(tzinfo=dt.UTC)
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + int(digits[2:] or 0)
        return value.replace(tzinfo=dt.timezone(sign * dt.timedelta(minutes=minutes)))
    return value


def _checked_datetime(*parts: int) -> dt.datetime:
    try:
        return dt.datetime(*parts)
    except ValueError:
        raise ParseError(
            _("This is not a real date or time (check the month, day and hour).")
        ) from None


def _from_serial(number: float) -> dt.datetime:
    if not 0 < number <= EXCEL_SERIAL_MAX + 1:
        raise ParseError(
            _(
                "A number in a date column is read as an Excel day number (1 = 1900-01-01); "
                "%(number)s is out of range. Write the date as 2024-03-05."
            )
            % {"number": number}
        )
    return from_excel(number)


@dataclass(frozen=True)
class EnumSpec:
    """The values of one ``TextChoices`` and every spelling accepted for each."""

    choices: type[models.TextChoices]
    allow_blank: bool = False

    def parse(self, raw: Any) -> str:
        key = _enum_key(str(raw))
        value = _enum_lookup(self.choices).get(key)
        if value is None:
            raise ParseError(
                _("'%(value)s' is not one of the allowed values: %(allowed)s.")
                % {"value": str(raw).strip(), "allowed": self.allowed()}
            )
        return value

    def allowed(self) -> str:
        return ", ".join(f"{value} ({zh})" for value, _en, zh in enum_spellings(self.choices))


def _enum_key(text: str) -> str:
    return re.sub(r"[\s\-_]+", "_", text.strip().casefold())


def enum_spellings(choices: type[models.TextChoices]) -> list[tuple[str, str, str]]:
    """(identifier, English label, Chinese label) for each value, labels from the catalogues."""
    rows = []
    for value, label in zip(choices.values, choices.labels, strict=True):
        with translation.override("en"):
            english = str(label)
        with translation.override("zh-hans"):
            chinese = str(label)
        rows.append((value, english, chinese))
    return rows


@lru_cache(maxsize=64)
def _enum_lookup(choices: type[models.TextChoices]) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for value, english, chinese in enum_spellings(choices):
        for spelling in (value, english, chinese):
            lookup.setdefault(_enum_key(spelling), value)
    return lookup


def parse_tags(raw: Any, *, max_length: int) -> tuple[str, ...]:
    """Tag names split at commas (also ，、;；| and new lines); duplicates dropped, order kept."""
    names: dict[str, None] = {}
    for part in _TAG_SPLIT_RE.split(parse_text(raw)):
        name = part.strip()
        if not name:
            continue
        if len(name) > max_length:
            raise ParseError(
                _("The tag '%(tag)s' is longer than %(max)s characters.")
                % {"tag": name, "max": max_length}
            )
        names[name] = None
    return tuple(names)


def join_tags(names: Iterable[str]) -> str:
    return ", ".join(names)
