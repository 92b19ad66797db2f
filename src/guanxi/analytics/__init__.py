"""The analytics engine: a Django-free library that scores customers from a transactions table.

    from guanxi.analytics import ScoringConfig, score

    result = score("orders.parquet", "2024-06-30", ScoringConfig(time_unit="week"))

The names below are imported on first use, so ``import guanxi.analytics.clv`` (or the CLI's
``--help``) does not pay for Ibis and DuckDB.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "score": "guanxi.analytics.pipeline",
    "ScoreResult": "guanxi.analytics.pipeline",
    "SCORE_COLUMNS": "guanxi.analytics.pipeline",
    "score_schema": "guanxi.analytics.pipeline",
    "ScoringConfig": "guanxi.analytics.config",
    "ConfigError": "guanxi.analytics.config",
    "TransactionsError": "guanxi.analytics.inputs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'guanxi.analytics' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
