"""Model inputs, built one way for inference and training: frame normalisation and EF clips.

The pipeline (``pipeline/analyzer.py``) and the training code (``training/``) both build what a
model reads here, so what a model is trained on and what it is run on cannot drift apart.

* Frames: (..., H, W, 3) uint8 RGB, or (..., H, W, 1) grey (the model's three identical
  channels), become (..., 3, H, W) float32, ``(x - mean) / std`` per channel on the 0-255 scale.
* EF clips (EchoNet-Dynamic): for a beat whose end-systole is frame ES, the clip starts at
  max(ES - frames, 0) and takes ``frames`` frames every ``period``-th (32 frames every 2nd, so
  ES - 32, for the released weights). ``frames`` and ``period`` come with the EF weights
  (``WeightsInfo.frames/period``). A clip that would run past the end of a video shorter than one
  clip is zero-padded at the end after normalisation, as the reference pads short videos.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: EchoNet-Dynamic's clip (``r2plus1d_18_32_2``): weights that do not say otherwise were trained on it.
DEFAULT_FRAMES, DEFAULT_PERIOD = 32, 2


def normalise(frames_u8: np.ndarray, mean, std) -> np.ndarray:
    """(..., H, W, 3) RGB or (..., H, W, 1) grey uint8 -> (..., 3, H, W) float32, (x - mean) / std."""
    mean = np.asarray(mean, np.float32)
    std = np.asarray(std, np.float32)
    x = frames_u8.astype(np.float32)
    # grey broadcasts to the three channels; RGB is normalised in place (a whole loop: no second copy)
    x = x - mean if x.shape[-1] == 1 else np.subtract(x, mean, out=x)
    x /= std
    return np.ascontiguousarray(np.moveaxis(x, -1, -3))


#: A beat's flag about its EF clip, in words a sonographer reads (the CSV's clip_mode keeps the mode).
CLIP_NOTES = {
    "shifted": "EF clip moved to fit inside the loop (its end-systole is near the end of the loop)",
    "padded": "loop shorter than one EF clip (the clip is filled out with blank frames)",
    "dropped": "EF clip would run past the end of the loop (beat left out, as the reference does)",
}


@dataclass(frozen=True)
class ClipSpec:
    """Which frames of a video make the EF model's clip for a beat."""

    frames: int = DEFAULT_FRAMES
    period: int = DEFAULT_PERIOD

    @classmethod
    def of(cls, info) -> ClipSpec:
        """The clip the EF weights were trained on (``WeightsInfo.frames`` / ``.period``)."""
        return cls(int(getattr(info, "frames", None) or DEFAULT_FRAMES),
                   int(getattr(info, "period", None) or DEFAULT_PERIOD))

    @property
    def span(self) -> int:
        """Frames from a clip's first to its last sampled frame, inclusive (63 for 32 x 2)."""
        return (self.frames - 1) * self.period + 1

    def start(self, es_frame: int, n_frames: int, offset: int = 0) -> int:
        """First frame of the clip of the beat whose end-systole is ``es_frame``: max(ES - frames, 0),
        moved by ``offset`` (training's jitter), then kept inside the video: shifted back to end on
        its last frame where it would run past it, 0 where the video is shorter than one clip."""
        if n_frames < self.span:
            return 0
        return min(max(int(es_frame) - self.frames + int(offset), 0), n_frames - self.span)

    def beat_clip(self, es_frame: int, n_frames: int, exact: bool) -> tuple[int | None, str]:
        """Start frame and mode of a beat's clip: "full", "padded" (video shorter than a clip),
        "shifted" (it would run past the end), or, in EchoNet-exact mode, "dropped" with no start
        instead of "shifted", as the reference drops such beats."""
        if max(int(es_frame) - self.frames, 0) + self.span <= n_frames:
            mode = "full"
        elif n_frames < self.span:
            mode = "padded"
        elif exact:
            return None, "dropped"
        else:
            mode = "shifted"
        return self.start(es_frame, n_frames), mode

    def indices(self, start: int) -> np.ndarray:
        """The clip's frame indices, ``frames`` of them (some may lie past the end of a short video)."""
        return int(start) + self.period * np.arange(self.frames)

    def frame_indices(self, start: int, n_frames: int) -> np.ndarray:
        """The clip's indices that exist in a video of ``n_frames``; the clip's remaining
        positions, at its end, are padding."""
        idx = self.indices(start)
        return idx[idx < n_frames]


def pad_clip(clip: np.ndarray, spec: ClipSpec) -> np.ndarray:
    """(k, ...) normalised frames, k <= spec.frames -> (spec.frames, ...), zeros at the end."""
    out = np.zeros((spec.frames,) + clip.shape[1:], clip.dtype)
    out[: len(clip)] = clip
    return out


def gather_clip(video: np.ndarray, start: int, spec: ClipSpec) -> np.ndarray:
    """(T, ...) normalised video -> the (spec.frames, ...) clip at ``start``, zero-padded at the end."""
    return pad_clip(video[spec.frame_indices(start, len(video))], spec)


def clip_batch(clips: Sequence[np.ndarray]) -> np.ndarray:
    """Normalised clips (F, 3, H, W) -> the EF model's input (N, 3, F, H, W)."""
    return np.ascontiguousarray(np.stack(clips).transpose(0, 2, 1, 3, 4))
