"""Appearance and geometry augmentation for training on phantoms and exported corrections.

Applied on uint8 frames (…,H,W,3) before normalisation, identically to every frame of a clip and
to the frame's mask, so what the model sees varies the way real echo machines vary: gain, gamma,
speckle-like noise, dropout (random black pixels, the paper's robustness test), and a small
shift / rotation / zoom of the sector.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Augment:
    gain: tuple[float, float] = (0.6, 1.5)
    gamma: tuple[float, float] = (0.7, 1.4)
    noise_sd: tuple[float, float] = (0.0, 12.0)
    dropout: tuple[float, float] = (0.0, 0.3)
    dropout_p: float = 0.3  # chance that a sample gets dropout at all
    shift: float = 0.08  # fraction of the frame
    rotate_deg: float = 10.0
    zoom: tuple[float, float] = (0.85, 1.15)
    geometry_p: float = 0.7

    def _matrix(self, rng: np.random.Generator, size: int) -> np.ndarray | None:
        if rng.random() > self.geometry_p:
            return None
        c = (size - 1) / 2
        m = cv2.getRotationMatrix2D((c, c), rng.uniform(-self.rotate_deg, self.rotate_deg), rng.uniform(*self.zoom))
        m[:, 2] += rng.uniform(-self.shift, self.shift, 2) * size
        return m

    def __call__(self, frames: np.ndarray, masks: np.ndarray | None, rng: np.random.Generator):
        """frames (T,H,W,3) or (H,W,3) uint8; masks (T,H,W) / (H,W) bool or None."""
        single = frames.ndim == 3
        f = frames[None] if single else frames
        m = None if masks is None else (masks[None] if single else masks)
        size = f.shape[1]
        mat = self._matrix(rng, size)
        if mat is not None:
            # (warpAffine drops a trailing channel axis of 1: restore the shape)
            f = np.stack([cv2.warpAffine(x, mat, (size, size), flags=cv2.INTER_LINEAR) for x in f]).reshape(f.shape)
            if m is not None:
                m = np.stack([cv2.warpAffine(x.astype(np.uint8), mat, (size, size), flags=cv2.INTER_NEAREST)
                              for x in m]).astype(bool)
        x = f.astype(np.float32) / 255.0
        x = np.power(x, np.float32(rng.uniform(*self.gamma))) * np.float32(rng.uniform(*self.gain))
        sd = rng.uniform(*self.noise_sd) / 255.0
        if sd > 0:
            # Multiplicative (speckle-like) noise on tissue, a little additive everywhere.
            shape = x.shape[:-1] + (1,)
            x = x * (1 + (sd * 2) * rng.standard_normal(shape, dtype=np.float32))
            x += (sd / 2) * rng.standard_normal(shape, dtype=np.float32)
        if rng.random() < self.dropout_p:
            drop = rng.random(x.shape[:-1], dtype=np.float32) < rng.uniform(*self.dropout)
            x[drop] = 0
        out = np.clip(x * 255.0, 0, 255).astype(np.uint8)
        if single:
            return out[0], (None if m is None else m[0])
        return out, m
