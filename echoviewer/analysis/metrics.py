"""Agreement metrics as reported by EchoNet-Dynamic (Dice pooled over pixels, MAE, RMSE, R^2, bias)."""

from __future__ import annotations

import numpy as np

__all__ = ["dice", "mae", "rmse", "r2", "bias", "coefficient_of_determination"]


def _stack(masks) -> np.ndarray:
    if isinstance(masks, np.ndarray):
        return masks.astype(bool)
    return np.concatenate([np.asarray(m, dtype=bool).ravel() for m in masks]) if len(masks) else np.zeros(0, bool)


def dice(a, b) -> float:
    """Dice 2|A and B| / (|A| + |B|) pooled over all pixels of all given masks.

    a, b: one mask each, arrays of masks (T,H,W), or equally long lists of masks. Two empty
    inputs agree perfectly (1.0)."""
    A = _stack(a).ravel()
    B = _stack(b).ravel()
    if A.shape != B.shape:
        raise ValueError(f"mask sets differ in size: {A.shape} vs {B.shape}")
    s = int(A.sum()) + int(B.sum())
    if s == 0:
        return 1.0
    return 2.0 * int(np.logical_and(A, B).sum()) / s


def _pair(pred, true) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"lengths differ: {p.shape} vs {t.shape}")
    return p, t


def mae(pred, true) -> float:
    """Mean absolute error (NaN for empty input)."""
    p, t = _pair(pred, true)
    return float(np.mean(np.abs(p - t))) if len(p) else float("nan")


def rmse(pred, true) -> float:
    """Root-mean-square error (NaN for empty input)."""
    p, t = _pair(pred, true)
    return float(np.sqrt(np.mean((p - t) ** 2))) if len(p) else float("nan")


def r2(pred, true) -> float:
    """Squared Pearson correlation, as the paper reports R^2 (NaN when undefined)."""
    p, t = _pair(pred, true)
    if len(p) < 2 or np.std(p) == 0 or np.std(t) == 0:
        return float("nan")
    return float(np.corrcoef(p, t)[0, 1] ** 2)


def bias(pred, true) -> float:
    """Mean of pred - true (positive: over-estimation); NaN for empty input."""
    p, t = _pair(pred, true)
    return float(np.mean(p - t)) if len(p) else float("nan")


def coefficient_of_determination(pred, true) -> float:
    """1 - SS_res / SS_tot (scikit-learn's r2_score): unlike squared Pearson r it drops with bias
    (NaN when undefined)."""
    p, t = _pair(pred, true)
    if len(p) < 2 or np.std(t) == 0:
        return float("nan")
    return 1.0 - float(np.sum((t - p) ** 2)) / float(np.sum((t - t.mean()) ** 2))
