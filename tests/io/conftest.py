"""Fixtures for the io tests: a deterministic fan-shaped test pattern and writers for it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

H, W = 96, 128


def fan_mask(h: int = H, w: int = W, top: int = 14) -> np.ndarray:
    """A 90-degree sector with its apex at the top centre (rows >= top)."""
    yy, xx = np.mgrid[:h, :w]
    ang = np.arctan2(xx - (w - 1) / 2, yy - top + 0.5)
    rad = np.hypot(xx - (w - 1) / 2, yy - top)
    return (np.abs(ang) < np.pi / 4) & (rad < h - top - 12) & (yy >= top)


def fan_frames(n: int = 8, h: int = H, w: int = W, colour: bool = False, text: bool = True,
               seed: int = 0) -> np.ndarray:
    """(n,h,w) uint8 grey, or (n,h,w,3) RGB with a coloured ECG trace: blurred speckle inside a
    sector that drifts sideways each frame, a dark cavity that breathes, static burned-in text."""
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.integers(30, 230, (h, w + n * 3)).astype(np.float32), (0, 0), 1.2)
    fan = fan_mask(h, w)
    yy, xx = np.mgrid[:h, :w]
    out = []
    for t in range(n):
        f = tex[:, 3 * t : 3 * t + w].copy()
        r = 0.16 * h * (1 + 0.3 * np.sin(2 * np.pi * t / max(n, 2)))
        f[np.hypot(xx - w / 2, (yy - 0.55 * h) * 0.8) < r] = 15
        f = np.where(fan, f, 0).clip(0, 255).astype(np.uint8)
        if text:
            f[2:9, 2:26] = 235  # static label in the corner, outside the sector
            f[2:9, 4:24:4] = 40
        if colour:
            f = np.repeat(f[..., None], 3, axis=2)
            xs = np.arange(w)
            ys = (h - 4 - 2 * np.sin(xs / 5 + t)).astype(int)
            f[ys, xs] = (40, 220, 60)  # green ECG trace
            f[3:7, w - 10 : w - 4] = (230, 40, 40)  # red marker
        out.append(f)
    return np.stack(out)


def fan_bbox(h: int = H, w: int = W) -> tuple[int, int, int, int]:
    ys, xs = np.nonzero(fan_mask(h, w))
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def write_video(path: Path, frames: np.ndarray, fps: float = 30.0, fourcc: str = "MJPG") -> Path:
    h, w = frames.shape[1:3]
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert vw.isOpened(), f"OpenCV cannot write {fourcc}"
    for f in frames:
        bgr = cv2.cvtColor(f, cv2.COLOR_GRAY2BGR) if f.ndim == 2 else cv2.cvtColor(f, cv2.COLOR_RGB2BGR)
        vw.write(bgr)
    vw.release()
    return path


@pytest.fixture(scope="session")
def grey_frames() -> np.ndarray:
    return fan_frames(8)


@pytest.fixture(scope="session")
def colour_frames() -> np.ndarray:
    return fan_frames(8, colour=True)
