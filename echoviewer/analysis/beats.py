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
* Ties (``exact=False``): of equal minima closer than ``distance`` the earliest is the ES; the
  reference leaves it to find_peaks' unstable sort, so the choice depended on the curve's other
  minima (segmenting fewer frames, pipeline/sparse.py, must not change it).
* NaN (e.g. frames not segmented): ``echonet_es_frames`` is the literal rule and does not support
  NaN. ``es_frames`` ignores NaN frames: trims use the finite values only (n = their count), NaN
  gaps are linearly interpolated for the peak search, and no ES is ever placed on a NaN frame.
  Without NaN, ``es_frames(size, fps, exact=True)`` equals ``echonet_es_frames(size)`` exactly.

End-diastole (ED) is never detected by the reference. ``ed_frames`` (used with ``--echonet-exact``)
takes, for each ES, the frame of largest area since the previous ES (from frame 0 for the first
ES). ``late_ed_frames`` (the app's default) takes the top of the systolic descent that ends at the
ES: on real echo a mask that leaks into the atrium while the mitral valve is open peaks in early
diastole, right after the previous ES, and the largest-area rule then picks that frame.

``incomplete_beats`` marks beats that must not count in a loop's EF: the first beat when its ED is
the loop's first frame or the area still rises there (the true ED may lie before the loop starts),
and a beat whose systole (ED to ES) is shorter than half the loop's typical one.
"""

from __future__ import annotations

import math

import numpy as np

from echoviewer.analysis.peaks import find_peaks

__all__ = ["ECHONET_DISTANCE", "ECHONET_FPS", "echonet_es_frames", "ed_frames", "es_distance", "es_frames",
           "first_climb_open", "incomplete_beats", "late_ed_frames"]

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


def _rule(size: np.ndarray, distance: int, earliest_first: bool = False) -> np.ndarray:
    """The reference rule on a NaN-free 1-D array."""
    n = len(size)
    if n <= 5:
        return _EMPTY.copy()
    ordered = sorted(size)
    trim_min = ordered[round(n ** 0.05)]
    trim_max = ordered[round(n ** 0.95)]
    trim_range = trim_max - trim_min
    peaks = find_peaks(-size, distance=distance, prominence=(0.50 * trim_range),  # scipy.signal's, see peaks.py
                       earliest_first=earliest_first)
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
    if a.dtype.kind != "f" or np.isfinite(a).all():
        return _rule(a, distance, earliest_first=not exact)
    finite = np.isfinite(a)
    idx = np.flatnonzero(finite)
    if len(idx) <= 5:
        return _EMPTY.copy()
    vals = a[idx]
    n = len(vals)
    ordered = np.sort(vals)
    trim_range = ordered[round(n ** 0.95)] - ordered[round(n ** 0.05)]
    filled = np.interp(np.arange(len(a)), idx, vals)   # NaN gaps: linear; ends: nearest finite value
    peaks = find_peaks(-filled, distance=distance, prominence=(0.50 * trim_range), earliest_first=not exact)
    return np.asarray([p for p in peaks if finite[p]], dtype=np.int64)


def ed_frames(size, es) -> np.ndarray:
    """One ED frame per ES frame: the frame of largest area in ``[previous ES + 1, ES]``
    (``[0, ES]`` for the first).

    ``es`` must be strictly increasing frame indices within the curve. Ties go to the earliest
    frame; NaN frames are ignored (if a whole span is NaN, the ED is its first frame).
    Returns int64 indices aligned with ``es``.
    """
    a = np.asarray(_as_signal(size), dtype=np.float64)
    es = _check_es(a, es)
    out = np.empty(len(es), dtype=np.int64)
    start = 0
    for i, e in enumerate(es):
        seg = a[start:e + 1]
        seg = np.where(np.isnan(seg), -np.inf, seg)
        out[i] = start + int(np.argmax(seg))
        start = int(e) + 1
    return out


def _check_es(a: np.ndarray, es) -> np.ndarray:
    es = np.asarray(es, dtype=np.int64).reshape(-1)
    if len(es) and (es[0] < 0 or es[-1] >= len(a)):
        raise ValueError(f"ES frames must lie in 0..{len(a) - 1}, got {es.tolist()}")
    if np.any(np.diff(es) <= 0):
        raise ValueError(f"ES frames must be strictly increasing, got {es.tolist()}")
    return es


#: A dip of the area ends the climb back from an ES when it is larger than both this share of the
#: climb so far (the systolic descent's height) and NOISE_SHARE of the ES area (frame-to-frame
#: segmentation noise). Relative to the climb, not to the span: a leak into the atrium inflates the
#: span's range and would let the walk run on into early diastole.
LATE_ED_DIP = 0.1
NOISE_SHARE = 0.02
#: ... and only when it lasts this many frames: a one-frame pause of the systolic descent (3 % of
#: the area) must not end it. Without it, on bench_analysis.py's 200-frame phantom both float32
#: and int8 masks put EDs 1-4 frames before their ES in 3 of its 4 beats.
DIP_FRAMES = 2
#: Frames averaged when choosing the ED among the climb's frames: the end of diastole is flat, and
#: which of its frames is the largest by a few pixels is noise (on that loop the float32 and the
#: int8 masks' largest frames were 2 apart; their 3-frame means agree).
ED_SMOOTH = 3


def _climb(a: np.ndarray, start: int, e: int, dip: float, noise: float) -> tuple[int, bool]:
    """Walk back from ES ``e`` towards ``start``: (the climb's ED frame, whether a dip ended the
    climb before ``start``). The ED is the climb's frame of largest 3-frame mean area (ED_SMOOTH)."""
    floor = a[e] if np.isfinite(a[e]) else np.nanmin(a[start:e + 1], initial=np.inf)
    best, below, first = floor, 0, start
    for j in range(e - 1, start - 1, -1):
        v = a[j]
        if not np.isfinite(v):
            continue
        if v >= best:
            best, below = v, 0
        elif best - v > max(dip * (best - floor), noise * abs(floor)):
            below += 1
            if below == 1:
                first = j + 1  # the climb's first frame, if this dip lasts
            if below >= DIP_FRAMES:
                return _top(a, first, e), True
        else:
            below = 0
    # a dip still going at the loop's start ends the climb there as well
    return _top(a, first if below else start, e), below > 0


def _top(a: np.ndarray, lo: int, e: int) -> int:
    """The frame in [lo, e] of largest area averaged over it and its neighbours up to the ES ``e``
    (past it the next cycle begins; NaN skipped; ties: the earliest)."""
    k = ED_SMOOTH // 2
    x = a[max(lo - k, 0): e + 1]
    ok = np.isfinite(x)
    sums = np.convolve(np.where(ok, x, 0.0), np.ones(ED_SMOOTH), mode="same")
    counts = np.convolve(ok.astype(float), np.ones(ED_SMOOTH), mode="same")
    off = lo - max(lo - k, 0)
    mean = np.where(counts > 0, sums / np.maximum(counts, 1), -np.inf)[off: off + e - lo + 1]
    mean = np.where(np.isfinite(a[lo: e + 1]), mean, -np.inf)  # never a NaN frame
    return lo + int(np.argmax(mean))


def late_ed_frames(size, es, dip: float = LATE_ED_DIP, noise: float = NOISE_SHARE) -> np.ndarray:
    """One ED frame per ES frame: walking back from the ES while the area keeps rising (dips within
    the tolerance above, or shorter than DIP_FRAMES, ignored), the frame of that climb whose area
    averaged with its neighbours' is largest (ED_SMOOTH); the climb stops at the previous ES. Ties go
    to the earliest frame; NaN frames are skipped."""
    a = np.asarray(_as_signal(size), dtype=np.float64)
    es = _check_es(a, es)
    out = np.empty(len(es), dtype=np.int64)
    start = 0
    for i, e in enumerate(es):
        out[i] = _climb(a, start, int(e), dip, noise)[0]
        start = int(e) + 1
    return out


def first_climb_open(size, es, dip: float = LATE_ED_DIP, noise: float = NOISE_SHARE) -> bool:
    """Whether the area is still rising at the loop's first frame, walking back from the first ES:
    then the first beat's end-diastole may lie before the loop starts."""
    a = np.asarray(_as_signal(size), dtype=np.float64)
    es = _check_es(a, es)
    return bool(len(es)) and not _climb(a, 0, int(es[0]), dip, noise)[1]


def incomplete_beats(ed, es, first_open: bool = False, min_share: float = 0.5) -> list[str]:
    """For each beat (aligned ED/ES frames): '' when it is a whole beat, else why it is not.
    ``first_open``: the area still rises at the loop's first frame (``first_climb_open``)."""
    ed = np.asarray(ed, dtype=np.int64).reshape(-1)
    es = np.asarray(es, dtype=np.int64).reshape(-1)
    systole = es - ed
    why = ["" for _ in ed]
    if len(ed) and (ed[0] == 0 or first_open):
        why[0] = "incomplete beat: its end-diastole may be before the loop starts"
    for k in range(len(ed)):
        others = np.delete(systole, k)
        if why[k] or len(others) == 0:
            continue
        typical = float(np.median(others))
        if systole[k] < min_share * typical:
            why[k] = (f"incomplete beat: systole {int(systole[k])} frames, the loop's others "
                      f"{typical:g}")
    return why
