"""Closed-contour geometry of LV outlines: a mask's outline as a drawable path, and the handful of
editable points a sonographer drags (evenly spaced, keeping the mask's method-of-disks volume).

Coordinates are x = column, y = row; ``contour_path`` puts pixel i on [i, i+1) so its line runs
through pixel centres, the other functions work in whatever frame their points are given in.
"""

from __future__ import annotations

import cv2
import numpy as np

from echoviewer.analysis.tracing import polygon_mask, tracing_from_mask


def mask_contours(mask: np.ndarray) -> list[np.ndarray]:
    """Outer contours of a bool mask as (N,2) float arrays of x, y pixel centres."""
    m = np.ascontiguousarray(np.asarray(mask, dtype=np.uint8))
    if not m.any():
        return []
    found, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    return [c.reshape(-1, 2).astype(np.float64) for c in found if len(c) >= 2]


def contour_path(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Closed contours joined into x, y arrays separated by NaN, in image coordinates where pixel i
    spans [i, i+1) (so +0.5 puts the line through pixel centres)."""
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for c in mask_contours(mask):
        c = np.vstack([c, c[:1]]) + 0.5
        xs += [c[:, 0], np.array([np.nan])]
        ys += [c[:, 1], np.array([np.nan])]
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


def resample_closed(points: np.ndarray, n: int) -> np.ndarray:
    """``n`` points evenly spaced by arc length along a closed polygon (N,2), starting at its first point."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(p) < 2 or n < 1:
        return p.copy()
    closed = np.vstack([p, p[:1]])
    seg = np.hypot(*np.diff(closed, axis=0).T)
    cum = np.concatenate([[0.0], np.cumsum(seg)])
    total = cum[-1]
    if total <= 0:
        return np.repeat(p[:1], n, axis=0)
    s = np.arange(n) * (total / n)
    x = np.interp(s, cum, closed[:, 0])
    y = np.interp(s, cum, closed[:, 1])
    return np.stack([x, y], axis=1)


def polygon_area(points: np.ndarray) -> float:
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    x, y = p[:, 0], p[:, 1]
    return 0.5 * abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def editable_points(contour: np.ndarray, lo: int = 16, hi: int = 24, spacing: float = 6.0,
                    smooth: float = 1.0) -> np.ndarray:
    """A mask's staircase contour as a few handles for editing: smoothed (Gaussian, ``smooth`` units
    along the contour), one point every ~``spacing`` units of perimeter (``lo``..``hi`` points, evenly
    spaced), scaled about the centroid to the contour's area, so the editable polygon measures within
    about 1-2 % of the mask's method-of-disks volume."""
    c = np.asarray(contour, dtype=np.float64).reshape(-1, 2)
    if len(c) < 3:
        return c.copy()
    closed = np.vstack([c, c[:1]])
    perimeter = float(np.hypot(*np.diff(closed, axis=0).T).sum())
    n = int(min(max(round(perimeter / spacing), lo), hi))
    dense_n = 512
    d = resample_closed(c, dense_n)
    step = perimeter / dense_n
    if smooth > 0 and step > 0:
        k = int(4 * smooth / step) + 1
        k = min(k, dense_n // 2 - 1)
        w = np.exp(-0.5 * (np.arange(-k, k + 1) * step / smooth) ** 2)
        w /= w.sum()
        d = np.stack([np.convolve(np.concatenate([d[-k:, i], d[:, i], d[:k, i]]), w, "valid")
                      for i in range(2)], axis=1)
    r = resample_closed(d, n)
    a0, a1 = polygon_area(c), polygon_area(r)
    if a0 > 0 and a1 > 0:
        centre = r.mean(axis=0)
        r = centre + (r - centre) * np.sqrt(a0 / a1)
    return r


def nearest_edge(points: np.ndarray, p) -> tuple[int, float, np.ndarray]:
    """Edge i (points[i] -> points[i+1], closed) nearest to ``p``: (i, distance, closest point on it)."""
    a = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    b = np.roll(a, -1, axis=0)
    q = np.asarray(p, dtype=np.float64).reshape(2)
    d = b - a
    ll = np.maximum((d**2).sum(axis=1), 1e-12)
    t = np.clip(((q - a) * d).sum(axis=1) / ll, 0.0, 1.0)
    proj = a + t[:, None] * d
    dist = np.hypot(*(proj - q).T)
    i = int(np.argmin(dist))
    return i, float(dist[i]), proj[i]


def outline_axis(points: np.ndarray, shape: tuple[int, int] = (112, 112)) -> tuple[np.ndarray, np.ndarray] | None:
    """Apex and mitral-annulus midpoint of a freshly drawn outline (x, y on the model grid), found
    as the model's tracings find them; None for fewer than 3 points or no LV shape."""
    p = np.asarray(points, float).reshape(-1, 2)
    if len(p) < 3:
        return None
    t = tracing_from_mask(polygon_mask(np.rint(p[:, 0]).astype(int), np.rint(p[:, 1]).astype(int), shape))
    if t is None:
        return None
    return t.axis[:2].copy(), t.axis[2:].copy()
