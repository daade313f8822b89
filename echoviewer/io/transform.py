"""The invertible map between a loop's native pixels and the 112x112 model grid.

A square window of the native frame (integer origin and side, zero-filled where it leaves the
frame) is resized to the grid. Keeping the map a pure scale + offset makes it exactly invertible,
so masks and tracings found on the grid map back to native pixels and centimetres.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

GRID = 112


@dataclass(frozen=True)
class GridTransform:
    x0: int  # native column of the window's left edge
    y0: int  # native row of the window's top edge
    side: int  # native pixels covered by the window (square)
    size: int = GRID

    @property
    def scale(self) -> float:
        """Grid pixels per native pixel."""
        return self.size / self.side

    @classmethod
    def identity(cls, size: int = GRID) -> GridTransform:
        return cls(0, 0, size, size)

    @classmethod
    def from_region(cls, region: tuple[int, int, int, int], size: int = GRID) -> GridTransform:
        """Square window on an ultrasound image region (x0, y0, x1, y1 exclusive).

        The side is the region's smaller dimension; the window is centred across the larger one
        and top-aligned vertically, because the sector apex (and the LV apex) sits at the top of
        an apical view while the lateral fan edges carry little of the LV.
        """
        x0, y0, x1, y1 = (int(v) for v in region)
        w, h = x1 - x0, y1 - y0
        if w <= 0 or h <= 0:
            raise ValueError(f"empty image region {region}")
        side = min(w, h)
        return cls(x0 + (w - side) // 2, y0, side, size)

    def is_identity(self) -> bool:
        return self.x0 == 0 and self.y0 == 0 and self.side == self.size

    # -- points -------------------------------------------------------------------------------
    # Pixel centres: native pixel i covers [i, i+1); its centre i+0.5 maps to grid (i+0.5-x0)*s.
    def to_grid_points(self, pts: np.ndarray) -> np.ndarray:
        p = np.asarray(pts, dtype=np.float64)
        off = np.array([self.x0, self.y0], dtype=np.float64)
        return (p + 0.5 - off) * self.scale - 0.5

    def to_native_points(self, pts: np.ndarray) -> np.ndarray:
        p = np.asarray(pts, dtype=np.float64)
        off = np.array([self.x0, self.y0], dtype=np.float64)
        return (p + 0.5) / self.scale + off - 0.5

    def grid_cm_per_pixel(self, native_cm_per_pixel: float | None) -> float | None:
        return None if native_cm_per_pixel is None else native_cm_per_pixel / self.scale

    # -- images -------------------------------------------------------------------------------
    def _window(self, frame: np.ndarray) -> np.ndarray:
        """The square window of a native frame, zero-filled outside the frame."""
        h, w = frame.shape[:2]
        if self.x0 >= 0 and self.y0 >= 0 and self.x0 + self.side <= w and self.y0 + self.side <= h:
            return frame[self.y0 : self.y0 + self.side, self.x0 : self.x0 + self.side]
        out = np.zeros((self.side, self.side) + frame.shape[2:], dtype=frame.dtype)
        sx0, sy0 = max(self.x0, 0), max(self.y0, 0)
        sx1, sy1 = min(self.x0 + self.side, w), min(self.y0 + self.side, h)
        if sx1 > sx0 and sy1 > sy0:
            out[sy0 - self.y0 : sy1 - self.y0, sx0 - self.x0 : sx1 - self.x0] = frame[sy0:sy1, sx0:sx1]
        return out

    def warp_to_grid(self, frame: np.ndarray) -> np.ndarray:
        """Native frame (H,W) or (H,W,C) -> (size,size[,C]) of the same dtype."""
        if self.is_identity() and frame.shape[:2] == (self.size, self.size):
            return frame
        win = self._window(frame)
        interp = cv2.INTER_AREA if self.side > self.size else cv2.INTER_CUBIC
        return cv2.resize(win, (self.size, self.size), interpolation=interp)

    def mask_to_native(self, mask: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """Grid mask (size,size) -> bool mask of the native frame shape (H,W)."""
        m = np.asarray(mask, dtype=np.float32)
        up = cv2.resize(m, (self.side, self.side), interpolation=cv2.INTER_LINEAR) >= 0.5
        out = np.zeros(shape[:2], dtype=bool)
        h, w = shape[:2]
        sx0, sy0 = max(self.x0, 0), max(self.y0, 0)
        sx1, sy1 = min(self.x0 + self.side, w), min(self.y0 + self.side, h)
        if sx1 > sx0 and sy1 > sy0:
            out[sy0:sy1, sx0:sx1] = up[sy0 - self.y0 : sy1 - self.y0, sx0 - self.x0 : sx1 - self.x0]
        return out
