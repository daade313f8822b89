"""Window/level of the image on screen: brightness and contrast for the eye, never for the analysis.

The player maps grey values through ``levels()`` (pyqtgraph ImageItem levels); the frames the
analysis reads, the overlay and the exported PNG are the loop's own pixels. Right-drag on the image
changes it as DICOM viewers do: horizontal = window width (right: wider, softer), vertical = level
(up: lower level, brighter). No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Grey levels per screen pixel of a right-drag.
DRAG_GAIN = 1.0
MIN_WIDTH, MAX_WIDTH = 8.0, 512.0
MIN_LEVEL, MAX_LEVEL = -128.0, 384.0


@dataclass(frozen=True)
class WindowLevel:
    """Grey values ``level ± width / 2`` span black to white (8-bit frames: 0-255 is the default)."""

    width: float = 255.0
    level: float = 127.5

    def levels(self) -> tuple[float, float]:
        return self.level - self.width / 2, self.level + self.width / 2

    @property
    def is_default(self) -> bool:
        return self == DEFAULT

    def dragged(self, dx: float, dy: float) -> WindowLevel:
        """After a right-drag of (dx, dy) screen pixels (y down)."""
        width = min(max(self.width + DRAG_GAIN * dx, MIN_WIDTH), MAX_WIDTH)
        level = min(max(self.level + DRAG_GAIN * dy, MIN_LEVEL), MAX_LEVEL)
        return WindowLevel(width, level)

    def label(self) -> str:
        return f"W {self.width:.0f} · L {self.level:.0f}"


DEFAULT = WindowLevel()

#: (name, setting) in menu order. Ultrasound loops are mostly dark: the presets brighten.
PRESETS: tuple[tuple[str, WindowLevel], ...] = (
    ("Default", DEFAULT),
    ("Brighter", WindowLevel(170.0, 85.0)),
    ("Much brighter", WindowLevel(110.0, 55.0)),
    ("High contrast", WindowLevel(150.0, 105.0)),
)
