"""Which frames feed the EF model for each beat (EchoNet-Dynamic clip sampling)."""

from __future__ import annotations

import numpy as np


def clip_span(frames: int, period: int) -> int:
    """Frames a clip covers from its first to its last sampled frame, inclusive (63 for 32x2)."""
    return (frames - 1) * period + 1


def beat_clip(es_frame: int, n_frames: int, frames: int, period: int, exact: bool) -> tuple[int | None, str]:
    """Start frame and mode of the clip for the beat whose end-systole is ``es_frame``.

    The reference starts each beat's clip at max(ES - 32, 0) and drops the beat if the clip runs
    past the end. Outside EchoNet-exact mode such a beat keeps a clip shifted back to end on the
    last frame ("shifted"), or, when the whole loop is shorter than one clip, one zero-padded at the
    end like the reference pads short videos ("padded").
    """
    start = max(es_frame - 32, 0)
    span = clip_span(frames, period)
    if start + span <= n_frames:
        return start, "full"
    if n_frames < span:
        # The reference zero-pads videos shorter than frames*period before sampling, so clip 0 exists.
        return 0, "padded"
    if exact:
        return None, "dropped"
    return n_frames - span, "shifted"


def clip_indices(start: int, frames: int, period: int) -> np.ndarray:
    return start + period * np.arange(frames)


def gather_clip(video: np.ndarray, start: int, frames: int, period: int) -> np.ndarray:
    """(T, ...) normalised frames -> (frames, ...) clip; indices past the end read as zeros."""
    idx = clip_indices(start, frames, period)
    out = np.zeros((frames,) + video.shape[1:], dtype=video.dtype)
    ok = idx < len(video)
    out[ok] = video[idx[ok]]
    return out
