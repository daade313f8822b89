"""``scipy.signal.find_peaks(x, distance=..., prominence=...)``, the reference's ES rule, without scipy.

Importing ``scipy.signal`` takes 0.6-1.3 s (it loads scipy.stats, optimize and interpolate) and
every process that analyses a loop needs the rule once, so the start-up paid for it. The three
steps below are scipy's own, in its order and with its tie rules (flat peaks at the middle of the
plateau; the distance rule keeps peaks in ``np.argsort`` order of height); a property test checks
the result against scipy on random, plateau-rich and tied curves.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["find_peaks"]


def _local_maxima(x: np.ndarray) -> np.ndarray:
    """Indices of local maxima; the middle (rounded down) of a plateau; never the first or last sample."""
    peaks = []
    i, i_max = 1, len(x) - 1
    while i < i_max:
        if x[i - 1] < x[i]:
            ahead = i + 1
            while ahead < i_max and x[ahead] == x[i]:
                ahead += 1
            if x[ahead] < x[i]:
                peaks.append((i + ahead - 1) // 2)
                i = ahead
        i += 1
    return np.asarray(peaks, dtype=np.intp)


def _keep_by_distance(peaks: np.ndarray, height: np.ndarray, distance: float, earliest_first: bool) -> np.ndarray:
    """Highest peaks first; each removes the lower peaks closer than ``distance``."""
    d = math.ceil(distance)
    keep = np.ones(len(peaks), dtype=bool)
    # scipy's order, ties included (an unstable sort: which of equal peaks wins depends on the others);
    # earliest_first: of equal peaks the earliest goes first
    order = np.lexsort((-peaks, height)) if earliest_first else np.argsort(height)
    for j in order[::-1]:
        if not keep[j]:
            continue
        k = j - 1
        while k >= 0 and peaks[j] - peaks[k] < d:
            keep[k] = False
            k -= 1
        k = j + 1
        while k < len(peaks) and peaks[k] - peaks[j] < d:
            keep[k] = False
            k += 1
    return keep


def _prominences(x: np.ndarray, peaks: np.ndarray) -> np.ndarray:
    """Height of each peak above the higher of its two bases (no window)."""
    out = np.empty(len(peaks), dtype=np.float64)
    n = len(x)
    for m, p in enumerate(peaks):
        top = x[p]
        left_min = top
        i = p
        while i >= 0 and x[i] <= top:
            left_min = min(left_min, x[i])
            i -= 1
        right_min = top
        i = p
        while i < n and x[i] <= top:
            right_min = min(right_min, x[i])
            i += 1
        out[m] = top - max(left_min, right_min)
    return out


def find_peaks(x, distance: float | None = None, prominence: float | None = None,
               earliest_first: bool = False) -> np.ndarray:
    """Peak indices of a 1-D signal, as ``scipy.signal.find_peaks(x, distance=, prominence=)[0]``;
    ``earliest_first``: of equal peaks closer than ``distance`` the earliest is kept (scipy: any)."""
    x = np.asarray(x, dtype=np.float64, order="C")
    if x.ndim != 1:
        raise ValueError("`x` must be a 1-D array")
    if distance is not None and distance < 1:
        raise ValueError("`distance` must be greater or equal to 1")
    peaks = _local_maxima(x)
    if distance is not None and len(peaks):
        peaks = peaks[_keep_by_distance(peaks, x[peaks], distance, earliest_first)]
    if prominence is not None and len(peaks):
        peaks = peaks[prominence <= _prominences(x, peaks)]
    return peaks
