"""Beat detection on the LV-area curve (EchoNet-Dynamic rule).

End-systole (ES) frames are the minima of the LV area found by the reference's rule::

    trim_min   = sorted(size)[round(n ** 0.05)]     # exponents, not percentiles (sic)
    trim_max   = sorted(size)[round(n ** 0.95)]
    trim_range = trim_max - trim_min
    es = scipy.signal.find_peaks(-size, distance=20, prominence=0.5 * trim_range)[0]

(``analysis.peaks.find_peaks`` is scipy's algorithm without importing scipy.signal.)

Deviations / edge cases, all deterministic:

* n <= 5 frames: the reference indexes past the end of the sorted list and raises IndexError;
  here the result is an empty array (no beat can be found in so few frames anyway).
* Flat curves (trim_range == 0): exactly what the reference does, i.e. ``find_peaks`` with
  ``prominence=0``: a perfectly flat curve has no peaks (empty result); on a curve flat apart
  from a few outliers every local minimum (subject to ``distance``) counts, including the middle
  of a plateau between two upward spikes (find_peaks' flat-peak rule).
* ``distance=20`` assumes ~50 fps (the dataset's mean rate). ``es_frames(..., exact=False)``
  scales it: ``distance = max(1, round(20 * fps / 50))``; ``exact=True`` keeps 20.
* NaN (e.g. frames not segmented): ``echonet_es_frames`` is the literal rule and does not support
  NaN. ``es_frames`` ignores NaN frames: trims use the finite values only (n = their count), NaN
  gaps are linearly interpolated for the peak search, and no ES is ever placed on a NaN frame.
  Without NaN, ``es_frames(size, fps, exact=True)`` equals ``echonet_es_frames(size)`` exactly.

End-diastole (ED) is never detected by the reference; here ``ed_frames`` takes, for each ES, the
frame of largest area since the previous ES (from frame 0 for the first ES).
"""

from __future__ import annotations

import math

import numpy as np

from echoviewer.analysis.peaks import find_peaks

__all__ = ["ECHONET_DISTANCE", "ECHONET_FPS", "echonet_es_frames", "es_distance", "es_frames", "ed_frames"]

#: find_peaks distance of the reference, in frames, and the frame rate it implicitly assumes.
ECHONET_DISTANCE = 20
ECHONET_FPS = 50.0

_EMPTY = np.zeros(0, dtype=np.int64)


def _as_signal(size) -> np.ndarray:
    a = np.asarray(size)
    if a.ndim != 1:
        raise ValueError(f"size must be a 1-D area curve, got shape {a.shape}")
    if a.dtype.kind in "biu":   # bools / unsigned would wrap under negation: use signed integers
        a = a.astype(np.int64)
    elif a.dtype.kind != "f":
        a = a.astype(np.float64)
    return a


def _rule(size: np.ndarray, distance: int) -> np.ndarray:
    """The reference rule on a NaN-free 1-D array."""
    n = len(size)
    if n <= 5:
        return _EMPTY.copy()
    ordered = sorted(size)
    trim_min = ordered[round(n ** 0.05)]
    trim_max = ordered[round(n ** 0.95)]
    trim_range = trim_max - trim_min
    peaks = find_peaks(-size, distance=distance, prominence=(0.50 * trim_range))  # scipy.signal's, see peaks.py
    return np.asarray(peaks, dtype=np.int64)


def echonet_es_frames(size) -> np.ndarray:
    """ES frame indices by the bit-exact EchoNet-Dynamic rule (distance 20 frames).

    Returns sorted int64 indices; empty for n <= 5 frames (where the reference raises).
    """
    return _rule(_as_signal(size), ECHONET_DISTANCE)


def es_distance(fps: float) -> int:
    """The reference's 20-frame minimum ES spacing rescaled from 50 fps to ``fps``."""
    try:
        fps = float(fps)
    except (TypeError, ValueError):
        fps = math.nan
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive number, got {fps!r}")
    return max(1, round(ECHONET_DISTANCE * fps / ECHONET_FPS))


def es_frames(size, fps: float, exact: bool = False) -> np.ndarray:
    """ES frame indices (sorted int64).

    exact=True: the reference rule (distance 20 frames whatever the frame rate).
    exact=False: the same rule with ``distance = max(1, round(20 * fps / 50))``.
    NaN frames are skipped (see module docstring); fewer than 6 finite frames -> empty.
    """
    a = _as_signal(size)
    distance = ECHONET_DISTANCE if exact else es_distance(fps)
    if a.dtype.kind != "f":
        return _rule(a, distance)
    finite = np.isfinite(a)
    if finite.all():
        return _rule(a, distance)
    idx = np.flatnonzero(finite)
    if len(idx) <= 5:
        return _EMPTY.copy()
    vals = a[idx]
    n = len(vals)
    ordered = np.sort(vals)
    trim_range = ordered[round(n ** 0.95)] - ordered[round(n ** 0.05)]
    filled = np.interp(np.arange(len(a)), idx, vals)   # NaN gaps: linear; ends: nearest finite value
    peaks = find_peaks(-filled, distance=distance, prominence=(0.50 * trim_range))
    return np.asarray([p for p in peaks if finite[p]], dtype=np.int64)


def ed_frames(size, es) -> np.ndarray:
    """One ED frame per ES frame: the frame of largest area in ``[previous ES + 1, ES]``
    (``[0, ES]`` for the first).

    ``es`` must be strictly increasing frame indices within the curve. Ties go to the earliest
    frame; NaN frames are ignored (if a whole span is NaN, the ED is its first frame).
    Returns int64 indices aligned with ``es``.
    """
    a = np.asarray(_as_signal(size), dtype=np.float64)
    es = np.asarray(es, dtype=np.int64).reshape(-1)
    if len(es) == 0:
        return _EMPTY.copy()
    if es[0] < 0 or es[-1] >= len(a):
        raise ValueError(f"ES frames must lie in 0..{len(a) - 1}, got {es.tolist()}")
    if np.any(np.diff(es) <= 0):
        raise ValueError(f"ES frames must be strictly increasing, got {es.tolist()}")
    out = np.empty(len(es), dtype=np.int64)
    start = 0
    for i, e in enumerate(es):
        seg = a[start:e + 1]
        seg = np.where(np.isnan(seg), -np.inf, seg)
        out[i] = start + int(np.argmax(seg))
        start = int(e) + 1
    return out
