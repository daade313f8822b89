"""EF vocabulary: guideline categories and the paper's threshold."""

from __future__ import annotations

import pytest

from echoviewer.analysis.ef_categories import (
    DEFAULT_CATEGORIES,
    PAPER_THRESHOLD,
    categories_from_json,
    categories_to_json,
    describe_categories,
    ef_category,
    paper_threshold_flag,
    validate_categories,
)


@pytest.mark.parametrize(
    "ef, label",
    [(12, "reduced"), (40, "reduced"), (40.4, "reduced"), (40.5, "mildly reduced"), (45, "mildly reduced"),
     (49.4, "mildly reduced"), (49.5, "preserved"), (50, "preserved"), (75, "preserved")],
)
def test_default_categories(ef, label):
    assert ef_category(ef) == label


def test_category_unknown_and_custom_table():
    assert ef_category(None) == ""
    assert ef_category(float("nan")) == ""
    table = [(29, "severe"), (39, "moderate"), (51, "mild"), (None, "normal")]
    assert [ef_category(v, table) for v in (20, 35, 51, 52)] == ["severe", "moderate", "mild", "normal"]


def test_category_table_validation_and_json_round_trip():
    table = validate_categories([(40, "reduced"), (49, "mildly reduced"), (100, "preserved")])
    assert table[-1] == (None, "preserved")  # last row becomes open-ended
    assert categories_from_json(categories_to_json(table)) == table
    assert categories_from_json("not json") == DEFAULT_CATEGORIES
    assert categories_from_json("") == DEFAULT_CATEGORIES
    with pytest.raises(ValueError):
        validate_categories([(49, "a"), (40, "b"), (None, "c")])
    with pytest.raises(ValueError):
        validate_categories([(40, ""), (None, "b")])
    with pytest.raises(ValueError):
        validate_categories([(None, "a"), (None, "b")])
    assert describe_categories(DEFAULT_CATEGORIES) == "≤40 reduced · 41–49 mildly reduced · ≥50 preserved"


def test_paper_flag_never_names_a_guideline_category():
    """At EF 45 the guideline says 'mildly reduced' and the paper's threshold is crossed: the flag
    must name the paper's threshold, not claim a category ('HFrEF' is EF <= 40 in the guidelines)."""
    flag = paper_threshold_flag()
    assert PAPER_THRESHOLD == 50.0 and "50 %" in flag and "EchoNet-Dynamic" in flag
    assert "HFrEF" not in flag
    assert all(label not in flag for _, label in DEFAULT_CATEGORIES)
