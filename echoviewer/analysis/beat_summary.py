"""A loop's beats summarised: mean ± s.d. EF, mean volumes, heart rate.

One rule for the analysis (model EF) and for the sonographer's corrections (EF of the corrected
tracings), so the window, the CSV report and the exports summarise beats alike: a beat is *used*
when it is included and has a finite EF; every mean is over the used beats that have the value;
the heart rate comes from the intervals between all beats' end-systoles.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BeatFigures:
    """One beat's numbers, as a summary reads them."""

    es_frame: int
    included: bool
    ef: float | None  # the EF the summary is of: the model's, or the (corrected) tracings'
    ef_seg: float | None = None  # method of disks on the tracings (the same as ``ef`` after corrections)
    edv: float | None = None
    esv: float | None = None


@dataclass(frozen=True)
class BeatSummary:
    n_beats: int  # all beats, included or not
    n_used: int  # beats whose EF is in ef_mean
    ef_mean: float | None = None
    ef_sd: float | None = None  # sample s.d. (ddof 1); None for fewer than 2 beats
    ef_seg_mean: float | None = None
    edv_mean: float | None = None  # in the loop's volume unit
    esv_mean: float | None = None
    hr_bpm: float | None = None  # None without a frame rate or 2 beats
    corrected_beats: tuple[int, ...] = ()  # numbers of the beats a sonographer changed (corrections only)


def _mean(values: list) -> float | None:
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None


def summarise_beats(beats: Iterable[BeatFigures], fps: float | None = None) -> BeatSummary:
    beats = list(beats)
    used = [b for b in beats if b.included and b.ef is not None and math.isfinite(b.ef)]
    efs = np.array([b.ef for b in used], dtype=float)
    es = np.sort([b.es_frame for b in beats])
    hr = None
    if fps and len(es) >= 2:
        interval = float(np.median(np.diff(es)))
        hr = 60.0 * float(fps) / interval if interval > 0 else None
    return BeatSummary(
        n_beats=len(beats),
        n_used=len(used),
        ef_mean=float(efs.mean()) if len(efs) else None,
        ef_sd=float(efs.std(ddof=1)) if len(efs) > 1 else None,
        ef_seg_mean=_mean([b.ef_seg for b in used]),
        edv_mean=_mean([b.edv for b in used]),
        esv_mean=_mean([b.esv for b in used]),
        hr_bpm=hr,
    )
