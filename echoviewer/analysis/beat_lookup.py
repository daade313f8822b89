"""Where a frame stands among a loop's beats: its heart phase, the beat it belongs to, the ED/ES
markers around it, and a sensible ES frame for a beat that starts at a given ED.

Beats are anything with ``ed_frame`` and ``es_frame`` (pipeline ``Beat``s, corrected ``BeatValues``).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import numpy as np


def heart_phase(frame: int, ed_frames: Sequence[int], es_frames: Sequence[int]) -> str:
    """'ED', 'ES', 'systole' (ED -> ES), 'diastole' (ES -> ED), or '' when no markers are known."""
    if frame in set(ed_frames):
        return "ED"
    if frame in set(es_frames):
        return "ES"
    markers = sorted([(int(f), "ED") for f in ed_frames] + [(int(f), "ES") for f in es_frames])
    if not markers:
        return ""
    frames = [f for f, _ in markers]
    k = bisect.bisect_left(frames, frame)
    if k > 0:  # most recent marker before this frame decides
        return "systole" if markers[k - 1][1] == "ED" else "diastole"
    # before the first marker: the phase leading into it
    return "diastole" if markers[0][1] == "ED" else "systole"


def beat_frames(beats) -> list[int]:
    """Sorted unique ED and ES frames of all beats (targets of [ and ])."""
    out = set()
    for b in beats:
        out.add(int(b.ed_frame))
        out.add(int(b.es_frame))
    return sorted(out)


def next_marker(frame: int, markers: Sequence[int], direction: int) -> int | None:
    """The next marker after (direction > 0) or before (< 0) ``frame``; None at the end."""
    markers = sorted(markers)
    if direction > 0:
        k = bisect.bisect_right(markers, frame)
        return markers[k] if k < len(markers) else None
    k = bisect.bisect_left(markers, frame)
    return markers[k - 1] if k > 0 else None


def active_beat(beats, frame: int):
    """The beat a frame belongs to: the one whose ED..ES span holds it, else the nearest span
    (ties go to the later beat: a frame in diastole belongs to the beat that follows). None without beats."""
    best, best_key = None, (0, 0)
    for b in beats:
        lo, hi = sorted((int(b.ed_frame), int(b.es_frame)))
        d = 0 if lo <= frame <= hi else (lo - frame if frame < lo else frame - hi)
        key = (d, -lo)  # nearest first; on a tie, the later beat
        if best is None or key < best_key:
            best, best_key = b, key
    return best


def es_after(areas, ed: int, fps: float, max_s: float = 0.6) -> int | None:
    """A sensible ES frame for a beat starting (ED) at ``ed``: the smallest LV area within ``max_s``
    seconds after it; a third of a second later when no areas are known. None at the end of the loop."""
    n = len(areas) if areas is not None else 0
    fps = float(fps) if fps and fps > 0 else 30.0
    if areas is None or n == 0:
        return None
    last = min(n - 1, ed + max(2, int(round(max_s * fps))))
    if last <= ed:
        return None
    window = np.asarray(areas[ed + 1 : last + 1], dtype=np.float64)
    if not np.isfinite(window).any():
        return int(min(n - 1, ed + max(1, int(round(fps / 3)))))
    return int(ed + 1 + int(np.nanargmin(window)))
