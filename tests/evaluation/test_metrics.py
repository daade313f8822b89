"""The evaluation's metric functions against small cases computed by hand."""

import math

import numpy as np
import pytest

from echoviewer.evaluation.metrics import (
    auc,
    bias,
    bootstrap_ci,
    coefficient_of_determination,
    dice,
    mae,
    pooled_dice,
    quintiles,
    r2,
    rmse,
    roc_curve,
    sensitivity_specificity,
)


def test_dice_on_crafted_masks_and_pooled_from_counts():
    a = np.zeros((4, 4), bool)
    b = np.zeros((4, 4), bool)
    a[0:2, 0:2] = True          # 4 pixels
    b[1:3, 0:2] = True          # 4 pixels, 2 shared
    assert dice(a, b) == pytest.approx(2 * 2 / 8)
    c = np.zeros((4, 4), bool)
    c[0, 0] = True              # 1 pixel, against an empty mask
    d = np.zeros((4, 4), bool)
    # pooled over both frames: 2*(2+0) / (4+4+1+0), not the mean of per-frame Dice
    assert dice(np.stack([a, c]), np.stack([b, d])) == pytest.approx(4 / 9)
    assert pooled_dice([2, 0], [4, 1], [4, 0]) == pytest.approx(4 / 9)
    assert pooled_dice([0], [0], [0]) == 1.0 == dice(d, d)


def test_regression_figures_by_hand():
    pred, true = [52, 48, 61, 30], [50, 50, 60, 35]   # errors +2 -2 +1 -5
    assert mae(pred, true) == pytest.approx(10 / 4)
    assert rmse(pred, true) == pytest.approx(math.sqrt((4 + 4 + 1 + 25) / 4))
    assert bias(pred, true) == pytest.approx(-4 / 4)
    t = np.array(true, float)
    assert coefficient_of_determination(pred, true) == pytest.approx(1 - 34 / np.sum((t - t.mean()) ** 2))
    # R² is squared Pearson r: a constant offset leaves it at 1, the coefficient of determination drops
    assert r2(t + 10, t) == pytest.approx(1.0)
    assert coefficient_of_determination(t + 10, t) < 0
    assert math.isnan(bias([], []))


def test_auc_counts_ties_as_half():
    # positives score 3, 2; negatives 2, 1: pairs (3>2)(3>1)(2=2)(2>1) -> (1 + 1 + 0.5 + 1) / 4
    labels, scores = [1, 1, 0, 0], [3, 2, 2, 1]
    assert auc(labels, scores) == pytest.approx(3.5 / 4)
    fpr, tpr, thr = roc_curve(labels, scores)
    assert thr.tolist() == [np.inf, 3, 2, 1]
    assert fpr.tolist() == [0, 0, 0.5, 1] and tpr.tolist() == [0, 0.5, 1, 1]  # the tie moves diagonally
    assert np.trapezoid(tpr, fpr) == pytest.approx(auc(labels, scores))
    assert auc([1, 0, 1, 0], [5, 5, 5, 5]) == 0.5
    assert auc([1, 1, 0], [0.1, 0.2, 0.9]) == 0.0
    assert math.isnan(auc([1, 1], [0.3, 0.4]))


def test_sensitivity_and_specificity():
    labels = [1, 1, 1, 0, 0]
    called = [1, 0, 1, 0, 1]
    assert sensitivity_specificity(labels, called) == pytest.approx((2 / 3, 1 / 2))
    sens, spec = sensitivity_specificity([0, 0], [0, 1])
    assert math.isnan(sens) and spec == 0.5


def test_bootstrap_is_reproducible_with_a_seed_and_resamples_whole_patients():
    rng = np.random.default_rng(3)
    values = rng.normal(size=40)
    groups = [f"p{i}" for i in range(40)]

    def stat(idx):
        return float(values[idx].mean())

    first = bootstrap_ci(stat, groups, n_boot=300, seed=7)
    assert bootstrap_ci(stat, groups, n_boot=300, seed=7) == first
    assert bootstrap_ci(stat, groups, n_boot=300, seed=8) != first
    lo, hi = first
    assert lo < values.mean() < hi
    # ~ mean ± 1.96 standard errors for a mean
    se = values.std(ddof=1) / math.sqrt(len(values))
    assert hi - lo == pytest.approx(2 * 1.96 * se, rel=0.25)

    # two items per patient that always travel together: a resample holds each patient's both
    seen = []
    bootstrap_ci(lambda idx: seen.append(np.sort(idx)) or 0.0, ["a", "a", "b", "b", "c"], n_boot=50, seed=1)
    for idx in seen:
        assert len(idx) >= 3 and np.count_nonzero(idx == 0) == np.count_nonzero(idx == 1)
        assert np.count_nonzero(idx == 2) == np.count_nonzero(idx == 3)
    # identical values: a zero-width interval; no items or no defined resample: NaN
    assert bootstrap_ci(lambda idx: 4.0, ["x", "y"], n_boot=20) == (4.0, 4.0)
    assert all(math.isnan(v) for v in bootstrap_ci(lambda idx: 1.0, [], n_boot=20))
    assert all(math.isnan(v) for v in bootstrap_ci(lambda idx: math.nan, ["x"], n_boot=20))


def test_quintiles_are_equal_groups_by_rank():
    q = quintiles([5, 1, 4, 2, 3, 10, 9, 8, 7, 6])
    assert q.tolist() == [2, 0, 1, 0, 1, 4, 4, 3, 3, 2]
    assert np.bincount(quintiles(np.zeros(10)), minlength=5).tolist() == [2] * 5  # ties never empty a group
