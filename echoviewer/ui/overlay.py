"""The LV overlay as drawn over a frame: RGBA layers for the player, the composited frame the
window saves as PNG, and a small cache of masks mapped to native pixels (numpy and OpenCV, no Qt)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import numpy as np


def overlay_rgba(mask: np.ndarray, color: tuple[int, int, int], opacity: float) -> np.ndarray:
    """(H,W) bool mask -> (H,W,4) uint8: colour with alpha = opacity inside, fully transparent outside."""
    m = np.asarray(mask, dtype=bool)
    a = int(round(255 * min(max(float(opacity), 0.0), 1.0)))
    if a == 0:
        return np.zeros(m.shape + (4,), dtype=np.uint8)
    # one 32-bit select per pixel instead of a boolean scatter of 4 bytes: 0.3 vs 2 ms at 800x600,
    # on every frame drawn
    pixel = np.array([int(color[0]), int(color[1]), int(color[2]), a], np.uint8).view(np.uint32)[0]
    return np.where(m, pixel, np.uint32(0)).view(np.uint8).reshape(m.shape + (4,))


class NativeMaskCache:
    """Lazily maps 112-grid masks to native masks, keeping the last ``size`` frames."""

    def __init__(self, convert: Callable[[np.ndarray], np.ndarray], size: int = 64):
        self.convert = convert
        self.size = size
        self._d: OrderedDict[int, np.ndarray] = OrderedDict()

    def get(self, frame: int, grid_mask: np.ndarray) -> np.ndarray:
        m = self._d.get(frame)
        if m is not None:
            self._d.move_to_end(frame)
            return m
        m = self.convert(grid_mask)
        self._d[frame] = m
        if len(self._d) > self.size:
            self._d.popitem(last=False)
        return m

    def invalidate(self, frames=None) -> None:
        if frames is None:
            self._d.clear()
        else:
            for f in np.atleast_1d(frames):
                self._d.pop(int(f), None)

    def __len__(self) -> int:
        return len(self._d)
