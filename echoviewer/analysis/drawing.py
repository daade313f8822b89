"""The LV overlay composited onto a native frame (numpy and OpenCV): what the window saves as PNG
and what the reports' key images show, drawn by one function so they cannot differ."""

from __future__ import annotations

import cv2
import numpy as np

#: The LV overlay's default colour (RGB, amber: visible on grey ultrasound and unlike the red/blue
#: of the ED/ES markers) and fill opacity: the window's setting defaults, and the reports' tracings.
OVERLAY_COLOR: tuple[int, int, int] = (255, 196, 0)
OVERLAY_OPACITY = 0.30


def to_rgb(frame: np.ndarray) -> np.ndarray:
    """Any frame (grey, RGB, RGBA, any dtype) as contiguous (H,W,3) uint8."""
    f = np.asarray(frame)
    if f.ndim == 2:
        f = np.repeat(f[:, :, None], 3, axis=2)
    elif f.shape[2] == 4:
        f = f[:, :, :3]
    if f.dtype != np.uint8:
        f = np.clip(f, 0, 255).astype(np.uint8)
    return np.ascontiguousarray(f)


def composite_overlay(
    frame: np.ndarray,
    mask: np.ndarray | None,
    color: tuple[int, int, int],
    opacity: float,
    contour: bool = True,
    thickness: int = 1,
) -> np.ndarray:
    """Native frame with the LV mask blended in (alpha ``opacity``) and its outline: (H,W,3) uint8."""
    rgb = to_rgb(frame)
    if mask is None:
        return rgb.copy()
    m = np.asarray(mask, dtype=bool)
    out = rgb.astype(np.float32)
    col = np.asarray(color, dtype=np.float32)
    a = min(max(float(opacity), 0.0), 1.0)
    out[m] = out[m] * (1 - a) + col * a
    out = np.clip(out + 0.5, 0, 255).astype(np.uint8)
    if contour and m.any():
        cs, _ = cv2.findContours(m.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, cs, -1, tuple(int(c) for c in color), thickness)
    return out
