"""Score bands: which partnership stage a mean item score falls in, and whether bands are sound.

A questionnaire's bands split the score range 1–5 into consecutive half-open intervals, lowest stage
first: ``[min, max)`` each, the last one closed at 5. A mean exactly on a boundary belongs to the
higher band (reaching a stage's score reaches the stage).
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.utils.translation import gettext as _

from guanxi.assessments.choices import SCORE_MAX, SCORE_MIN
from guanxi.core.errors import GuanxiError
from guanxi.hierarchy.choices import PartnershipStage

STAGES: tuple[str, ...] = tuple(PartnershipStage.values)

# Means are ratios of small integers and boundaries have two decimals: a true mean is either on a
# boundary or at least 1e-5 away from it, so this tolerance only absorbs floating-point noise.
_EPS = 1e-9


@dataclass(frozen=True)
class Band:
    stage: str
    min_score: Decimal
    max_score: Decimal


def _label(stage: str) -> str:
    return str(PartnershipStage(stage).label) if stage in STAGES else stage


def _as_band(value: Band | Sequence | object) -> Band:
    if isinstance(value, Band):
        return value
    if isinstance(value, Sequence) and not isinstance(value, str):
        stage, low, high = value
    else:  # a ScoreBand row (current or historical model)
        stage, low, high = value.stage, value.min_score, value.max_score
    return Band(str(stage), Decimal(str(low)), Decimal(str(high)))


def bands_validate(bands: Iterable[Band | Sequence | object]) -> list[Band]:
    """The bands sorted by score, or a ``GuanxiError`` saying what to fix.

    They must cover 1 to 5 without gaps or overlaps, and name each stage at most once, the stages
    rising with the score.
    """
    items = sorted((_as_band(b) for b in bands), key=lambda b: (b.min_score, b.max_score))
    if not items:
        raise GuanxiError(
            _("The questionnaire has no score bands; add bands that cover scores 1 to 5."),
            field="bands",
        )
    for band in items:
        if band.stage not in STAGES:
            raise GuanxiError(
                _("Unknown stage %(stage)s in the score bands; use one of: %(allowed)s.")
                % {"stage": band.stage, "allowed": ", ".join(STAGES)},
                field="bands",
            )
        if not SCORE_MIN <= band.min_score < band.max_score <= SCORE_MAX:
            raise GuanxiError(
                _(
                    "The band for %(stage)s runs from %(low)s to %(high)s; a band must start "
                    "below where it ends, within 1 to 5."
                )
                % {"stage": _label(band.stage), "low": band.min_score, "high": band.max_score},
                field="bands",
            )
    if items[0].min_score != SCORE_MIN:
        raise GuanxiError(
            _("The lowest band starts at %(low)s; it must start at 1.")
            % {"low": items[0].min_score},
            field="bands",
        )
    if items[-1].max_score != SCORE_MAX:
        raise GuanxiError(
            _("The highest band ends at %(high)s; it must end at 5.")
            % {"high": items[-1].max_score},
            field="bands",
        )
    for lower, upper in itertools.pairwise(items):
        if upper.min_score != lower.max_score:
            word = _("a gap") if upper.min_score > lower.max_score else _("an overlap")
            raise GuanxiError(
                _(
                    "There is %(problem)s between the bands for %(a)s (to %(a_high)s) and "
                    "%(b)s (from %(b_low)s); make each band start where the one below ends."
                )
                % {
                    "problem": word,
                    "a": _label(lower.stage),
                    "a_high": lower.max_score,
                    "b": _label(upper.stage),
                    "b_low": upper.min_score,
                },
                field="bands",
            )
        if STAGES.index(upper.stage) <= STAGES.index(lower.stage):
            raise GuanxiError(
                _(
                    "The band for %(b)s lies above the band for %(a)s; list each stage once, "
                    "the higher stages on the higher scores."
                )
                % {"a": _label(lower.stage), "b": _label(upper.stage)},
                field="bands",
            )
    return items


class BandSet:
    """A questionnaire's bands, ready to place many scores (sorted by score on construction)."""

    def __init__(self, bands: Iterable[Band | Sequence | object]):
        self.bands: tuple[Band, ...] = tuple(
            sorted((_as_band(b) for b in bands), key=lambda b: (b.min_score, b.max_score))
        )
        if not self.bands:
            raise ValueError("a band set needs at least one band")
        self._inner = [float(b.min_score) for b in self.bands[1:]]

    def stage(self, score: float) -> str:
        """The stage whose band holds ``score``; a score on a boundary takes the higher band."""
        return self.bands[bisect.bisect_right(self._inner, score + _EPS)].stage

    def indexes(self, scores: np.ndarray) -> np.ndarray:
        """For each score, the index of its band in ``self.bands`` (vectorised)."""
        return np.searchsorted(np.asarray(self._inner, dtype=np.float64), scores + _EPS, "right")

    def stages(self, scores: np.ndarray) -> np.ndarray:
        """The stage of each score (vectorised), as an array of strings."""
        return np.asarray([b.stage for b in self.bands], dtype=object)[self.indexes(scores)]


def band_stage(score: float, bands: Iterable[Band | Sequence | object]) -> str:
    """The stage whose band holds ``score`` (see ``BandSet``)."""
    return BandSet(bands).stage(score)


def stage_rank(stage: str) -> int:
    """0 for basic … 3 for integrated."""
    return STAGES.index(stage)
