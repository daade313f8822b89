"""The paper's agreement figures as pure functions: Dice, MAE / RMSE / R² / bias, ROC and AUC, and
the bootstrap interval by patient.

Dice, MAE, RMSE, R² (squared Pearson r, as the paper reports it), bias and the coefficient of
determination are ``analysis.metrics``'s, re-exported so that the evaluation takes every metric
from one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from echoviewer.analysis.metrics import bias, coefficient_of_determination, dice, mae, r2, rmse

__all__ = [
    "dice", "mae", "rmse", "r2", "bias", "coefficient_of_determination", "pooled_dice",
    "roc_curve", "auc", "sensitivity_specificity", "bootstrap_ci", "quintiles",
]


def pooled_dice(intersection, pred_area, true_area) -> float:
    """Dice pooled over pixels of many masks from per-mask counts: 2 Σ|A∩B| / (Σ|A| + Σ|B|)
    (the same number as ``dice`` on the masks themselves; 1.0 when every mask is empty)."""
    s = float(np.sum(pred_area)) + float(np.sum(true_area))
    return 1.0 if s == 0 else 2.0 * float(np.sum(intersection)) / s


def roc_curve(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds): one point per distinct score, positive when score >= threshold,
    from (0, 0) (threshold +inf) to (1, 1). Tied scores move the curve diagonally, so the area under
    it counts a tie as half a correct ordering."""
    y = np.asarray(labels, dtype=bool).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"lengths differ: {y.shape} vs {s.shape}")
    order = np.argsort(-s, kind="stable")
    s, y = s[order], y[order]
    last = np.r_[np.nonzero(np.diff(s))[0], len(s) - 1] if len(s) else np.zeros(0, int)  # end of each tie group
    tp = np.cumsum(y)[last]
    fp = np.cumsum(~y)[last]
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    tpr = np.r_[0.0, tp / n_pos] if n_pos else np.full(len(last) + 1, np.nan)
    fpr = np.r_[0.0, fp / n_neg] if n_neg else np.full(len(last) + 1, np.nan)
    return fpr, tpr, np.r_[np.inf, s[last]]


def auc(labels, scores) -> float:
    """Area under the ROC curve = P(score of a positive > score of a negative) + ½ P(tie)
    (Mann-Whitney U from mid-ranks); NaN without both classes."""
    y = np.asarray(labels, dtype=bool).ravel()
    s = np.asarray(scores, dtype=np.float64).ravel()
    if y.shape != s.shape:
        raise ValueError(f"lengths differ: {y.shape} vs {s.shape}")
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if not n_pos or not n_neg:
        return float("nan")
    ranks = _midranks(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _midranks(x: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing their mean rank (scipy's rankdata, without importing scipy.stats)."""
    order = np.argsort(x, kind="stable")
    _, first, counts = np.unique(x[order], return_index=True, return_counts=True)
    ranks = np.empty(len(x), np.float64)
    ranks[order] = np.repeat(first + (counts + 1) / 2, counts)
    return ranks


def sensitivity_specificity(labels, called) -> tuple[float, float]:
    """(sensitivity, specificity) of a positive call; NaN for a class that is absent."""
    y = np.asarray(labels, dtype=bool).ravel()
    c = np.asarray(called, dtype=bool).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    sens = float((y & c).sum() / n_pos) if n_pos else float("nan")
    spec = float((~y & ~c).sum() / n_neg) if n_neg else float("nan")
    return sens, spec


def _resample_indices(groups: Sequence, n_boot: int, seed: int):
    """Item indices of ``n_boot`` resamples, each drawing as many groups as there are, with
    replacement, and taking every item of each drawn group."""
    _, inverse = np.unique(np.asarray(groups, dtype=object).astype(str), return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")  # items sorted by group
    counts = np.bincount(inverse)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, len(counts), size=(n_boot, len(counts)))
    for d in draws:
        lens = counts[d]
        # positions start[g] .. start[g] + count[g] - 1 of every drawn group g, in one array
        offsets = np.repeat(starts[d] - np.r_[0, np.cumsum(lens)[:-1]], lens)
        yield order[offsets + np.arange(int(lens.sum()))]


def bootstrap_ci(statistic: Callable[[np.ndarray], float], groups: Sequence, n_boot: int = 1000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic(idx)`` (idx: item indices, with repeats) when
    whole groups (patients) are resampled with replacement: ``groups[i]`` is item i's patient.
    Resamples where the statistic is undefined (NaN, e.g. an AUC without both classes) are left
    out; (NaN, NaN) when none is defined or there are no items. Same seed, same interval."""
    if len(groups) == 0 or n_boot < 1:
        return float("nan"), float("nan")
    values = np.array([statistic(idx) for idx in _resample_indices(groups, n_boot, seed)], dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return float("nan"), float("nan")
    tail = 100 * (1 - level) / 2
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def quintiles(values) -> np.ndarray:
    """Quintile (0-4) of each value by rank: five groups as equal as the count allows, ties
    broken by position so that equal values never make a group empty."""
    v = np.asarray(values, dtype=np.float64).ravel()
    ranks = np.argsort(np.argsort(v, kind="stable"), kind="stable")
    return (ranks * 5 // max(len(v), 1)).astype(int)
