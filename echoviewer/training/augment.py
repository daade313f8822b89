"""Appearance and geometry augmentation for training on phantoms and exported corrections.

Applied on uint8 frames (…,H,W,C) before normalisation, identically to every frame of a clip and
to the frame's mask, so what the model sees varies the way real echo machines and acquisitions
vary: gain, an intensity curve (gamma and a random monotone curve), system blur, speckle-like
multiplicative noise with its own grain size, dropout (random black pixels, the paper's robustness
test), a sector cut narrower than the phantom's, and a shift / rotation / scale of the sector
(zoomed out, a real loop's sector often fills only part of the 112 grid).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Augment:
    gain: tuple[float, float] = (0.6, 1.5)
    gamma: tuple[float, float] = (0.7, 1.4)
    curve_p: float = 0.5  # chance of a random monotone intensity curve (after gamma)
    curve_jitter: float = 0.12  # knots move by up to this fraction of the range
    blur_p: float = 0.4
    blur_sigma: tuple[float, float] = (0.3, 1.6)  # pixels, drawn per axis (anisotropic)
    noise_sd: tuple[float, float] = (0.0, 12.0)
    speckle_p: float = 0.4  # chance of multiplicative noise with a grain of grain_sigma pixels
    speckle_sd: tuple[float, float] = (0.1, 0.45)
    grain_sigma: tuple[float, float] = (0.5, 1.8)
    dropout: tuple[float, float] = (0.0, 0.3)
    dropout_p: float = 0.3  # chance that a sample gets dropout at all
    sector_p: float = 0.25  # chance of blacking out beyond a narrower sector / below a shallower depth
    shift: float = 0.1  # fraction of the frame
    rotate_deg: float = 12.0
    zoom: tuple[float, float] = (0.65, 1.2)
    geometry_p: float = 0.7

    def _matrix(self, rng: np.random.Generator, size: int) -> np.ndarray | None:
        if rng.random() > self.geometry_p:
            return None
        c = (size - 1) / 2
        zoom = rng.uniform(*self.zoom)
        m = cv2.getRotationMatrix2D((c, c), rng.uniform(-self.rotate_deg, self.rotate_deg), zoom)
        m[:, 2] += rng.uniform(-self.shift, self.shift, 2) * size
        if zoom < 1:  # a zoomed-out sector sits anywhere in the room it leaves, top-aligned or not
            m[:, 2] += rng.uniform(-(1 - zoom) / 2, (1 - zoom) / 2, 2) * size
        return m

    def _sector(self, rng: np.random.Generator, size: int) -> np.ndarray | None:
        """A mask (size,size) bool of what stays lit: a narrower or shallower sector from the top centre."""
        if rng.random() > self.sector_p:
            return None
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)
        ax, ay = (size - 1) / 2 + rng.uniform(-0.05, 0.05) * size, rng.uniform(-0.08, 0.02) * size
        ang = np.degrees(np.arctan2(xs - ax, ys - ay))
        half = rng.uniform(33, 45)
        depth = rng.uniform(0.8, 1.2) * size
        return (np.abs(ang) <= half) & (np.hypot(xs - ax, ys - ay) <= depth)

    def _curve(self, rng: np.random.Generator) -> np.ndarray:
        """A random monotone curve on [0,1] through 0 and 1 (lookup of 256 values)."""
        knots = np.linspace(0, 1, 5)
        vals = np.clip(knots + rng.uniform(-self.curve_jitter, self.curve_jitter, 5), 0, 1)
        vals[0], vals[-1] = 0.0, 1.0
        vals = np.maximum.accumulate(vals)
        return np.interp(np.linspace(0, 1, 256), knots, vals).astype(np.float32)

    def __call__(self, frames: np.ndarray, masks: np.ndarray | None, rng: np.random.Generator):
        """frames (T,H,W,C) or (H,W,C) uint8; masks (T,H,W) / (H,W) bool or None."""
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
        x = np.power(x, np.float32(rng.uniform(*self.gamma)))
        if rng.random() < self.curve_p:
            lut = self._curve(rng)
            x = lut[np.clip(x * 255.0 + 0.5, 0, 255).astype(np.int32)]
        x = x * np.float32(rng.uniform(*self.gain))
        if rng.random() < self.blur_p:
            sx, sy = rng.uniform(*self.blur_sigma, 2)
            x = np.stack([cv2.GaussianBlur(fr, (0, 0), sigmaX=float(sx), sigmaY=float(sy))
                          for fr in x]).reshape(x.shape)
        shape = x.shape[:-1] + (1,)
        if rng.random() < self.speckle_p:
            # multiplicative noise with a grain (one field per frame: speckle decorrelates in time)
            g = float(rng.uniform(*self.grain_sigma))
            z = rng.standard_normal(shape, dtype=np.float32)
            z = np.stack([cv2.GaussianBlur(fr, (0, 0), g) for fr in z]).reshape(shape)
            z /= z.std() + 1e-6
            x = x * np.clip(1 + float(rng.uniform(*self.speckle_sd)) * z, 0, None)
        sd = rng.uniform(*self.noise_sd) / 255.0
        if sd > 0:
            # Multiplicative (speckle-like) noise on tissue, a little additive everywhere.
            x = x * (1 + (sd * 2) * rng.standard_normal(shape, dtype=np.float32))
            x += (sd / 2) * rng.standard_normal(shape, dtype=np.float32)
        sector = self._sector(rng, size)
        if sector is not None:
            x = x * sector[None, :, :, None]
        if rng.random() < self.dropout_p:
            drop = rng.random(x.shape[:-1], dtype=np.float32) < rng.uniform(*self.dropout)
            x[drop] = 0
        out = np.clip(x * 255.0, 0, 255).astype(np.uint8)
        if single:
            return out[0], (None if m is None else m[0])
        return out, m

    def each(self, frames: np.ndarray, masks: np.ndarray | None, rng: np.random.Generator):
        """Augment every frame of a batch (N,H,W,C) on its own draw (frames of different loops)."""
        pairs = [self(f, None if masks is None else masks[i], rng) for i, f in enumerate(frames)]
        return np.stack([p[0] for p in pairs]), (None if masks is None else np.stack([p[1] for p in pairs]))
