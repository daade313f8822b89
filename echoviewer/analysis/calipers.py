"""Calipers: distances, areas and LV volumes a person measures by hand on one frame.

Points are x = column, y = row in the loop's *native* pixels, pixel centres at integer coordinates
(the convention of `analysis.tracing`). With a pixel spacing (cm per native pixel, square pixels)
values are in cm, cm² and mL (= cm³); without one in px, px² and px³.

Three kinds:
  distance  two points; their Euclidean distance
  area      a closed polygon (three points or more); its area by the shoelace formula
  volume    an LV trace clicked from one mitral-annulus hinge, round the apex, to the other hinge;
            single-plane method of disks (20 disks, `tracing_from_contour`) on the long axis from
            the midpoint of the first and last points (the annulus) to the trace's point farthest
            from it (the apex)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from echoviewer.analysis.tracing import tracing_from_contour

KINDS = ("distance", "area", "volume")
#: The fewest points each kind needs.
MIN_POINTS = {"distance": 2, "area": 3, "volume": 3}
#: What each kind is called in the window and in reports.
NAMES = {"distance": "Distance", "area": "Area", "volume": "LV volume (disks)"}
_UNITS = {"distance": ("cm", "px"), "area": ("cm²", "px²"), "volume": ("mL", "px³")}
_DECIMALS = {"distance": (2, 1), "area": (2, 0), "volume": (1, 0)}


@dataclass(frozen=True)
class Measured:
    """A measurement's value with its unit."""

    kind: str
    value: float
    unit: str

    @property
    def calibrated(self) -> bool:
        return self.unit in ("cm", "cm²", "mL")

    def text(self) -> str:
        """The value as shown and reported, e.g. "4.25 cm", "12.30 cm²", "85.1 mL", "52.0 px"."""
        d = _DECIMALS[self.kind][0 if self.calibrated else 1]
        return f"{self.value:.{d}f} {self.unit}"


def _points(points) -> np.ndarray:
    return np.asarray(points, dtype=np.float64).reshape(-1, 2)


def check_points(kind: str, points) -> np.ndarray:
    """The points as an (N,2) array; ValueError for an unknown kind or too few points."""
    if kind not in KINDS:
        raise ValueError(f"unknown measurement {kind!r} (one of {', '.join(KINDS)})")
    p = _points(points)
    if kind == "distance" and len(p) != 2:
        raise ValueError("a distance needs exactly 2 points")
    if len(p) < MIN_POINTS[kind]:
        raise ValueError(f"{NAMES[kind].lower()} needs at least {MIN_POINTS[kind]} points")
    if not np.all(np.isfinite(p)):
        raise ValueError("measurement points must be finite")
    return p


def distance(points, cm_per_pixel: float | None = None) -> float:
    """Length of the segment between two points: px, or cm."""
    a, b = _points(points)[:2]
    d = float(math.hypot(*(b - a)))
    return d * float(cm_per_pixel) if cm_per_pixel else d


def polygon_area(points, cm_per_pixel: float | None = None) -> float:
    """Area of the closed polygon through the points (shoelace): px², or cm²."""
    p = _points(points)
    x, y = p[:, 0], p[:, 1]
    a = 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))
    return a * float(cm_per_pixel) ** 2 if cm_per_pixel else a


def lv_axis(points) -> tuple[np.ndarray, np.ndarray]:
    """(apex, base_mid) of an LV trace: the annulus midpoint is halfway between the first and last
    points (the hinges the trace starts and ends on); the apex is the trace point farthest from it."""
    p = _points(points)
    base = 0.5 * (p[0] + p[-1])
    apex = p[int(np.argmax(np.hypot(*(p - base).T)))]
    return apex.copy(), base


def trace_volume(points, cm_per_pixel: float | None = None) -> float:
    """Method-of-disks volume of an LV trace (see `lv_axis`): px³, or mL."""
    apex, base = lv_axis(points)
    return tracing_from_contour(_points(points), apex, base).volume(cm_per_pixel or None)


def unit(kind: str, calibrated: bool) -> str:
    return _UNITS[kind][0 if calibrated else 1]


def measure(kind: str, points, cm_per_pixel: float | None = None) -> Measured:
    """The value of a measurement of ``kind`` through ``points``."""
    p = check_points(kind, points)
    fn = {"distance": distance, "area": polygon_area, "volume": trace_volume}[kind]
    return Measured(kind, fn(p, cm_per_pixel), unit(kind, bool(cm_per_pixel)))
