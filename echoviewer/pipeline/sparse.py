"""Segmenting only the frames the beats need (``AnalysisSettings.all_frames=False``: `analyze` and
`batch` when no per-frame output is asked for; the window shows every frame's mask, so it never does).

Every 2nd frame first; the beats are found on that area trace with the frames in between
interpolated; then every frame near each ED and ES (their area within VALLEY_SHARE of the beat's,
and REFINE_RADIUS more either side) and the loop's first frames is segmented and the beats found
again, until no beat needs another frame. The ES and ED frames, the masks there and every EF are
then those of segmenting every frame: checked on the phantom test set by
``benchmarks/sparse_agreement.py`` (60 of 60 loops) and in the tests.
"""

from __future__ import annotations

import numpy as np

#: Frames segmented either side of each ED's and ES's valley: the ES minimum and the ED's 3-frame
#: mean look at their neighbours (an ED or ES on an interpolated frame is refined the next round).
REFINE_RADIUS = 2
#: Frames whose area lies within this share of the beat's amplitude (ED area - ES area) of an ES's
#: or ED's are segmented: noise decides which of them is the extremum. 60 of 60 test loops were
#: identical with 10 % and 2 frames' radius (76 % of the frames segmented) and with 6 % and 1 (68 %),
#: but the narrower one missed a one-frame dip 3 frames from a noisy ES on bench_analysis.py's
#: 80-frame loop (tests/pipeline/test_sparse.py).
VALLEY_SHARE = 0.1
#: Whether every frame of each systole is segmented as well: not needed on the test set (60 of 60
#: loops identical either way; with a 10 % valley and 2 frames' radius 75 % of the frames were
#: segmented without it, 80 % with it). What it would guard: a two-frame dip of the descent whose
#: second frame was interpolated ends the ED walk-back when every frame is segmented but not here
#: (analysis/beats.DIP_FRAMES).
SYSTOLE = False
#: Shorter loops are segmented whole: the saving would be a few frames.
MIN_FRAMES = 24


def coarse(n: int) -> np.ndarray:
    """(n,) bool: every 2nd frame and the last one (all frames below MIN_FRAMES)."""
    have = np.zeros(n, dtype=bool)
    if n < MIN_FRAMES:
        have[:] = True
        return have
    have[::2] = True
    have[-1] = True
    return have


def filled(areas: np.ndarray, have: np.ndarray) -> np.ndarray:
    """The area trace with the frames not segmented interpolated linearly from their neighbours
    (float64: an interpolated frame never ties a segmented extremum it lies beside)."""
    areas = np.asarray(areas, dtype=np.float64)
    idx = np.flatnonzero(have)
    if len(idx) == len(areas):
        return areas
    return np.interp(np.arange(len(areas)), idx, areas[idx])


def needed(areas: np.ndarray, ed, es, radius: int = REFINE_RADIUS, share: float = VALLEY_SHARE) -> np.ndarray:
    """(n,) bool: the frames the beats (aligned ED/ES frames) are read from: around each ES the
    frames whose area lies within ``share`` of the beat's amplitude of the ES area (a flat-bottomed
    systole's true minimum may be any of them), around each ED likewise near its area, each widened
    by ``radius``; with SYSTOLE, every frame from ED to ES; and the loop's first frames."""
    a = np.asarray(areas, dtype=np.float64)
    n = len(a)
    need = np.zeros(n, dtype=bool)
    need[: radius + 1] = True  # whether the first beat is whole looks at the loop's start
    for d, e in zip(np.asarray(ed, dtype=np.int64).reshape(-1), np.asarray(es, dtype=np.int64).reshape(-1)):
        amp = max(float(a[d] - a[e]), 0.0)
        for f, near in ((e, a <= a[e] + share * amp), (d, a >= a[d] - share * amp)):
            lo, hi = _run(near, int(f))
            need[max(lo - radius, 0): hi + radius + 1] = True
        if SYSTOLE:
            need[min(d, e): max(d, e) + 1] = True
    return need


def _run(mask: np.ndarray, i: int) -> tuple[int, int]:
    """The contiguous run of True in ``mask`` around index ``i`` (i itself counts)."""
    lo = hi = i
    while lo > 0 and mask[lo - 1]:
        lo -= 1
    while hi < len(mask) - 1 and mask[hi + 1]:
        hi += 1
    return lo, hi
