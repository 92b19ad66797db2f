"""The knobs of a scoring run, as one frozen, JSON-serialisable value.

The Django side stores a run's configuration as JSON (``ScoringConfig.to_dict()``) and rebuilds
it with ``ScoringConfig.from_dict()``; the CLI reads the same JSON from ``--config``. Every
threshold the pipeline uses lives here, so equal configs and equal data give equal scores.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Self

TimeUnit = Literal["day", "week"]

_UNIT_DAYS: dict[str, int] = {"day": 1, "week": 7}


class ConfigError(ValueError):
    """A scoring configuration is invalid; the message names the offending field."""


class JsonConfig:
    """Shared by the frozen config dataclasses: JSON round trip and field type checks.

    Field annotations must be ``int``, ``float`` or a string type (``str`` or a ``Literal``).
    """

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Rebuild a config from ``to_dict()`` output; missing keys take their defaults.

        Unknown keys are an error, so a typo in a stored config does not silently fall back to a
        default.
        """
        if not isinstance(data, Mapping):
            raise ConfigError(f"a config must be a JSON object, not {type(data).__name__}")
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        unknown = sorted(set(data) - {f.name for f in fields})
        if unknown:
            raise ConfigError(f"unknown config key(s): {', '.join(unknown)}")
        values: dict[str, Any] = {}
        for f in fields:
            if f.name in data:
                value = data[f.name]
                # JSON has one number type: accept 4 for 4.0, never 4.5 for an int.
                if f.type == "float" and isinstance(value, int) and not isinstance(value, bool):
                    value = float(value)
                values[f.name] = value
        return cls(**values)

    def _check_types(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if f.type == "int":
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif f.type == "float":
                ok = (
                    isinstance(value, int | float)
                    and not isinstance(value, bool)
                    and math.isfinite(value)
                )
            else:
                ok = isinstance(value, str)
            if not ok:
                expected = {"int": "an integer", "float": "a finite number"}.get(f.type, "a string")
                raise ConfigError(f"{f.name} must be {expected}, not {value!r}")


@dataclass(frozen=True, kw_only=True)
class ScoringConfig(JsonConfig):
    """Parameters of one scoring run.

    Time unit and CLV
        ``time_unit`` is the unit of ``t_x`` and ``T`` and therefore of the fitted BG/NBD rates.
        CLV is discounted over ``clv_horizon_periods`` periods of ``clv_period_days`` days each, at
        ``discount_rate`` per period (the defaults, 12 periods of 30 days at 1 %, are lifetimes'
        "12 months at 1 % a month").
    ABC
        A customer is A while the cumulative share of positive profit *before* them is below
        ``abc_a_share``, B while it is below ``abc_b_share``, C otherwise (see ``abc.py``).
    RFM
        ``rfm_bins`` equal-count bins per score (5 = quintiles).
    Spend trend
        The recent window is the last ``spend_trend_window_days`` days up to ``as_of``; the
        previous window is the same length just before it.
    Model fits
        Both models are fitted with ``penalizer`` (0: plain maximum likelihood); a fit that does
        not converge is retried once with ``fallback_penalizer`` (0 disables the retry), and the
        run's metadata records which was used.
    Lifecycle
        The ``churn_*``, ``decline_*`` and ``stability_*`` thresholds of the ordered rules in
        ``lifecycle.py``; ``docs/analytics.md`` lists each rule with its knob.
    """

    time_unit: TimeUnit = "day"
    clv_horizon_periods: int = 12
    clv_period_days: float = 30.0
    discount_rate: float = 0.01
    abc_a_share: float = 0.80
    abc_b_share: float = 0.95
    rfm_bins: int = 5
    spend_trend_window_days: int = 180
    churn_p_alive: float = 0.10
    churn_single_purchase_days: int = 365
    churn_overdue_ratio: float = 4.0
    decline_overdue_ratio: float = 2.0
    decline_spend_trend: float = -0.5
    decline_p_alive: float = 0.50
    stability_min_orders: int = 4
    stability_max_interval_cv: float = 1.0
    penalizer: float = 0.0
    fallback_penalizer: float = 0.001

    def __post_init__(self) -> None:
        self._check_types()
        if self.time_unit not in _UNIT_DAYS:
            raise ConfigError(f"time_unit must be 'day' or 'week', not {self.time_unit!r}")
        _require(self.clv_horizon_periods >= 1, "clv_horizon_periods must be at least 1")
        _require(self.clv_period_days > 0, "clv_period_days must be positive")
        _require(0 <= self.discount_rate < 1, "discount_rate must be in [0, 1)")
        _require(
            0 < self.abc_a_share < self.abc_b_share <= 1,
            "ABC shares must satisfy 0 < abc_a_share < abc_b_share <= 1",
        )
        _require(2 <= self.rfm_bins <= 10, "rfm_bins must be between 2 and 10")
        _require(self.spend_trend_window_days >= 1, "spend_trend_window_days must be at least 1")
        _require(0 <= self.churn_p_alive <= 1, "churn_p_alive must be in [0, 1]")
        _require(0 <= self.decline_p_alive <= 1, "decline_p_alive must be in [0, 1]")
        _require(
            self.churn_p_alive <= self.decline_p_alive,
            "churn_p_alive must not exceed decline_p_alive",
        )
        _require(self.churn_single_purchase_days >= 1, "churn_single_purchase_days must be >= 1")
        _require(self.decline_overdue_ratio > 0, "decline_overdue_ratio must be positive")
        _require(
            self.churn_overdue_ratio >= self.decline_overdue_ratio,
            "churn_overdue_ratio must not be below decline_overdue_ratio",
        )
        _require(-1 <= self.decline_spend_trend <= 1, "decline_spend_trend must be in [-1, 1]")
        _require(self.stability_min_orders >= 2, "stability_min_orders must be at least 2")
        _require(self.stability_max_interval_cv >= 0, "stability_max_interval_cv must be >= 0")
        _require(self.penalizer >= 0, "penalizer must not be negative")
        _require(self.fallback_penalizer >= 0, "fallback_penalizer must not be negative")

    @property
    def unit_days(self) -> int:
        """Days in one ``time_unit``."""
        return _UNIT_DAYS[self.time_unit]

    @property
    def clv_period_length(self) -> float:
        """One discount period expressed in ``time_unit``s (what the CLV model calls L)."""
        return self.clv_period_days / self.unit_days

    @property
    def horizon(self) -> float:
        """The CLV horizon in ``time_unit``s (the t of expected purchases)."""
        return self.clv_horizon_periods * self.clv_period_length


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)
