from decimal import Decimal

import numpy as np
import pytest

from guanxi.assessments.banding import BandSet, band_stage, bands_validate
from guanxi.assessments.choices import DEFAULT_BANDS
from guanxi.core.errors import GuanxiError


def test_the_default_bands_are_sound():
    bands = bands_validate(reversed(DEFAULT_BANDS))
    assert [b.stage for b in bands] == ["basic", "cooperative", "interdependent", "integrated"]


@pytest.mark.parametrize(
    ("score", "stage"),
    [
        (1.0, "basic"),
        (1.99, "basic"),
        (2.0, "cooperative"),
        (2.0 - 1e-12, "cooperative"),  # floating-point noise on a boundary
        (2.999, "cooperative"),
        (3.0, "interdependent"),
        (4.0, "integrated"),
        (5.0, "integrated"),
    ],
)
def test_a_score_falls_in_one_band(score, stage):
    assert band_stage(score, DEFAULT_BANDS) == stage


def test_stages_vectorised_match_the_scalar_rule():
    scores = np.linspace(1, 5, 81)
    band_set = BandSet(DEFAULT_BANDS)
    assert list(band_set.stages(scores)) == [band_set.stage(float(s)) for s in scores]


@pytest.mark.parametrize(
    ("bands", "words"),
    [
        ([], "no score bands"),
        ([("basic", 1, 2), ("cooperative", "2.5", 5)], "a gap"),
        ([("basic", 1, 3), ("cooperative", 2, 5)], "an overlap"),
        ([("basic", "1.5", 3), ("cooperative", 3, 5)], "start at 1"),
        ([("basic", 1, 3), ("cooperative", 3, "4.5")], "end at 5"),
        ([("cooperative", 1, 3), ("basic", 3, 5)], "higher stages"),
        ([("basic", 1, 3), ("basic", 3, 5)], "each stage once"),
        ([("basic", 1, 3), ("golden", 3, 5)], "Unknown stage"),
        ([("basic", 1, 1), ("cooperative", 1, 5)], "start below where it ends"),
        ([("basic", 0, 3), ("cooperative", 3, 5)], "within 1 to 5"),
    ],
)
def test_unsound_bands_are_refused_with_the_fix(bands, words):
    with pytest.raises(GuanxiError) as err:
        bands_validate(bands)
    assert err.value.field == "bands"
    assert words in err.value.message


def test_three_bands_are_allowed():
    bands = bands_validate([("basic", 1, "2.5"), ("cooperative", "2.5", 4), ("integrated", 4, 5)])
    assert bands[1].min_score == Decimal("2.5")
