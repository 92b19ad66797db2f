"""Formatting shared by every page: money in integer cents, shares, counts.

``{% load guanxi %}`` then ``{{ order.total_cents|money }}`` → ``¥1,234.50`` (the currency of
``settings.CURRENCY``, grouped for the active locale), ``{{ 0.8123|percent }}`` → ``81.2%``.
"""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.conf import settings
from django.utils.formats import number_format

register = template.Library()

_SYMBOLS = {"CNY": "¥", "USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "HKD": "HK$"}


def currency_symbol(code: str | None = None) -> str:
    code = code or settings.CURRENCY
    return _SYMBOLS.get(code, code + " ")


@register.filter
def money(cents, decimals: int = 2) -> str:
    """Integer cents as money in the configured currency; empty for None."""
    if cents is None or cents == "":
        return ""
    value = Decimal(int(cents)) / 100
    text = number_format(value, decimal_pos=int(decimals), use_l10n=True, force_grouping=True)
    if text.startswith("-"):
        return "-" + currency_symbol() + text[1:]
    return currency_symbol() + text


@register.filter
def percent(share, decimals: int = 1) -> str:
    """A share in [0, 1] as a percentage; empty for None."""
    if share is None or share == "":
        return ""
    value = Decimal(str(float(share) * 100))
    return number_format(value, decimal_pos=int(decimals), use_l10n=True) + "%"


@register.filter
def count(value) -> str:
    """An integer with the locale's thousands grouping."""
    if value is None or value == "":
        return ""
    return number_format(int(value), use_l10n=True, force_grouping=True)
