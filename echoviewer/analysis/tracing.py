"""LV tracings in the EchoNet-Dynamic layout: long axis + method-of-disks chords.

Coordinates are x = column, y = row (downwards), with pixel centres at integer coordinates
(the convention of VolumeTracings.csv and of the reference loader). A `Tracing` holds the long
axis (apex -> mitral-annulus midpoint) and n chords perpendicular to it; `rows()` is what goes
into VolumeTracings.csv, `polygon()` / `rasterize()` rebuild the mask exactly as the reference
loader does (`skimage.draw.polygon` on the rounded chord ends) without depending on skimage.

Volumes (single-plane method of disks): V = sum(pi/4 * d_i**2 * L/n), in px^3 without a pixel
spacing, else in mL (cm^3).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "Tracing",
    "polygon_mask",
    "mask_contour",
    "tracing_from_contour",
    "tracing_from_mask",
    "area_length_volume",
    "ef_from_volumes",
]


@dataclass
class Tracing:
    """One traced frame: `axis` (4,) x1,y1,x2,y2 from apex to annulus midpoint, `chords` (n,4)
    x1,y1,x2,y2 perpendicular to the axis, all (x1,y1) ends on the same wall."""

    axis: np.ndarray
    chords: np.ndarray

    def __post_init__(self) -> None:
        self.axis = np.asarray(self.axis, dtype=np.float64).reshape(4)
        self.chords = np.asarray(self.chords, dtype=np.float64).reshape(-1, 4)

    @classmethod
    def from_rows(cls, rows: np.ndarray) -> Tracing:
        """Inverse of rows(): first row the axis, the rest chords."""
        r = np.asarray(rows, dtype=np.float64).reshape(-1, 4)
        if len(r) < 2:
            raise ValueError("a tracing needs the axis row and at least one chord")
        return cls(r[0], r[1:])

    @property
    def n(self) -> int:
        return int(len(self.chords))

    def rows(self) -> np.ndarray:
        """(n+1,4): the axis row, then the chords, as written to VolumeTracings.csv."""
        return np.vstack([self.axis[None, :], self.chords])

    @property
    def length(self) -> float:
        """Long-axis length in pixels."""
        return float(math.hypot(self.axis[2] - self.axis[0], self.axis[3] - self.axis[1]))

    def diameters(self) -> np.ndarray:
        c = self.chords
        return np.hypot(c[:, 2] - c[:, 0], c[:, 3] - c[:, 1])

    def volume(self, cm_per_pixel: float | None = None) -> float:
        """Method of disks: sum(pi/4 d_i^2 L/n); px^3, or mL when cm_per_pixel is given."""
        n = self.n
        if n == 0:
            return 0.0
        d = self.diameters()
        v = float(np.sum(np.pi / 4.0 * d**2) * self.length / n)
        if cm_per_pixel is not None:
            v *= float(cm_per_pixel) ** 3
        return v

    def polygon(self) -> np.ndarray:
        """(2n,2) x,y: X1,Y1 of chords 1..n then X2,Y2 of chords n..1 (the reference loader's)."""
        c = self.chords
        x = np.concatenate([c[:, 0], c[::-1, 2]])
        y = np.concatenate([c[:, 1], c[::-1, 3]])
        return np.stack([x, y], axis=1)

    def rasterize(self, shape: tuple[int, int] = (112, 112)) -> np.ndarray:
        """Bool mask with the pixels of the reference loader:
        skimage.draw.polygon(np.rint(y).astype(int), np.rint(x).astype(int), shape)."""
        p = self.polygon()
        return polygon_mask(np.rint(p[:, 0]).astype(int), np.rint(p[:, 1]).astype(int), shape)

    def scaled(self, factor: float) -> Tracing:
        return Tracing(self.axis * factor, self.chords * factor)


# --------------------------------------------------------------------------------------------
# Rasterisation
# --------------------------------------------------------------------------------------------


def polygon_mask(x: np.ndarray, y: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Pixels (centres at integer coordinates) inside or on the boundary of a polygon.

    Same rule as skimage.draw.polygon (its O'Rourke crossing test: inside by even-odd, points on
    an edge or a vertex included), computed by scanlines: for each row, an edge straddling the
    row "to the right" of a pixel toggles its right-ray parity, one "to the left" its left-ray
    parity; the pixel is drawn when either parity is odd. Exact for integer vertices.
    """
    h, w = int(shape[0]), int(shape[1])
    out = np.zeros((h, w), dtype=bool)
    xp = np.asarray(x, dtype=np.float64).ravel()
    yp = np.asarray(y, dtype=np.float64).ravel()
    if len(xp) == 0 or h <= 0 or w <= 0:
        return out
    x0, y0 = xp, yp
    x1, y1 = np.roll(xp, 1), np.roll(yp, 1)  # edge (i-1, i)
    rows = np.arange(h, dtype=np.float64)[:, None]  # (h,1)
    dy = y1 - y0
    with np.errstate(divide="ignore", invalid="ignore"):
        # x of the edge's line at each row (only used where the edge straddles the row)
        xint = x0 + (rows - y0) * (x1 - x0) / dy
    # right ray: straddle test with the "> y" convention; pixel x counted when x < xint
    rs = (y0 > rows) != (y1 > rows)
    # left ray: "< y" convention; pixel x counted when x > xint
    ls = (y0 < rows) != (y1 < rows)
    stride = w + 1
    r_idx = np.clip(np.ceil(xint), 0, w)  # pixels 0..k-1 satisfy x < xint
    l_idx = np.clip(np.floor(xint) + 1, 0, w)  # pixels m..w-1 satisfy x > xint
    rr, ee = np.nonzero(rs)
    hist_r = np.bincount((rr * stride + r_idx[rr, ee].astype(np.int64)), minlength=h * stride).reshape(h, stride)
    rr, ee = np.nonzero(ls)
    hist_l = np.bincount((rr * stride + l_idx[rr, ee].astype(np.int64)), minlength=h * stride).reshape(h, stride)
    # count_r[x] = #edges with k > x ; count_l[x] = #edges with m <= x
    count_r = np.cumsum(hist_r[:, ::-1], axis=1)[:, ::-1][:, 1:]
    count_l = np.cumsum(hist_l, axis=1)[:, :w]
    out = ((count_r & 1) | (count_l & 1)).astype(bool)
    # vertices are drawn as well (skimage: VERTEX)
    xi, yi = np.rint(xp), np.rint(yp)
    exact = (np.abs(xi - xp) < 1e-12) & (np.abs(yi - yp) < 1e-12)
    inb = exact & (xi >= 0) & (xi < w) & (yi >= 0) & (yi < h)
    out[yi[inb].astype(int), xi[inb].astype(int)] = True
    return out


def mask_contour(mask: np.ndarray, upsample: int = 4) -> np.ndarray | None:
    """Outer boundary (N,2) x,y of the largest blob of a binary mask, traced just inside the
    pixel edges (1/(2*upsample) px inside), so chord lengths measure the pixel extent and the
    polygon rasterises back to the same pixels. None for an empty mask."""
    m = np.asarray(mask).astype(np.uint8)
    if m.ndim != 2 or not m.any():
        return None
    k = int(upsample)
    big = np.repeat(np.repeat(m, k, axis=0), k, axis=1) if k > 1 else m
    contours, _ = cv2.findContours(big, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=lambda cc: (cv2.contourArea(cc), len(cc)))
    pts = c.reshape(-1, 2).astype(np.float64)
    return (pts + 0.5) / k - 0.5


# --------------------------------------------------------------------------------------------
# Tracing construction
# --------------------------------------------------------------------------------------------


def _chord_at(p: np.ndarray, u: np.ndarray, v: np.ndarray, P: np.ndarray, Q: np.ndarray) -> tuple[float, float]:
    """Interval (s_lo, s_hi) of the line p + s v inside the closed polygon with edges P->Q."""
    fp = (P - p) @ u
    fq = (Q - p) @ u
    cross = (fp > 0) != (fq > 0)
    if not np.any(cross):
        return 0.0, 0.0
    lam = fp[cross] / (fp[cross] - fq[cross])
    X = P[cross] + lam[:, None] * (Q[cross] - P[cross])
    s = np.sort((X - p) @ v)
    if len(s) % 2:  # numerically odd: keep the outermost extent
        return float(s[0]), float(s[-1])
    lo, hi = s[0::2], s[1::2]
    inside = (lo <= 0) & (hi >= 0)
    if np.any(inside):
        i = int(np.argmax(inside))
        return float(lo[i]), float(hi[i])
    # the axis point lies outside the contour (near a concave or tilted base): the disk spans the
    # contour's whole width there, and at least to the axis, so its (x1,y1) end never lies on the
    # (x2,y2) wall (the EchoNet loader's polygon would cross itself)
    return min(float(s[0]), 0.0), max(float(s[-1]), 0.0)


def tracing_from_contour(contour: np.ndarray, apex, base_mid, n_chords: int = 20) -> Tracing:
    """Method-of-disks tracing of a closed contour (N,2) x,y for a given long axis.

    Chords are perpendicular to apex -> base_mid at the n slab mid-points t = (i + 0.5)/n
    (apex first); each spans the contour interval around the axis point. (x1,y1) ends are on
    the left of the apex->base direction in image coordinates (the septum in a standard A4C),
    (x2,y2) on the right.
    """
    c = np.asarray(contour, dtype=np.float64).reshape(-1, 2)
    a = np.asarray(apex, dtype=np.float64).reshape(2)
    b = np.asarray(base_mid, dtype=np.float64).reshape(2)
    L = float(np.hypot(*(b - a)))
    axis = np.array([a[0], a[1], b[0], b[1]])
    n = int(n_chords)
    if L <= 1e-9 or len(c) < 3 or n <= 0:
        return Tracing(axis, np.tile(np.array([a[0], a[1], a[0], a[1]]), (max(n, 0), 1)))
    u = (b - a) / L
    v = np.array([u[1], -u[0]])  # u pointing down -> v pointing right
    # v: with u = (0,1) (apex at top), v = (1,0): x2 ends on the viewer's right.
    P = c
    Q = np.roll(c, -1, axis=0)
    chords = np.empty((n, 4))
    for i in range(n):
        p = a + (i + 0.5) / n * L * u
        lo, hi = _chord_at(p, u, v, P, Q)
        e1 = p + lo * v
        e2 = p + hi * v
        chords[i] = (e1[0], e1[1], e2[0], e2[1])
    return Tracing(axis, chords)


def _largest_component_filled(mask: np.ndarray) -> np.ndarray | None:
    m = (np.asarray(mask) > 0).astype(np.uint8)
    if m.ndim != 2 or not m.any():
        return None
    n, lab, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    if n <= 1:
        return None
    i = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    m = (lab == i).astype(np.uint8)
    # fill holes: flood the background from a padded border
    pad = np.pad(m, 1)
    ff = pad.copy()
    cv2.floodFill(ff, None, (0, 0), 1)
    holes = (ff == 0)
    pad[holes] = 1
    return pad[1:-1, 1:-1].astype(bool)


def tracing_from_mask(mask: np.ndarray, n_chords: int = 20) -> Tracing | None:
    """Tracing of a binary LV mask (apical view, apex towards the top of the image).

    Keeps the largest blob (holes filled, small spurs opened away), takes its principal axis as the
    long-axis direction oriented towards the bottom of the image (the atria), finds the two basal
    corners (mitral annulus) as the contour's extreme points in the two basal diagonal directions,
    and the apex where the axis through their midpoint leaves the contour at the far end.
    None for empty or degenerate masks.
    """
    m = _largest_component_filled(mask)
    if m is None or m.sum() < 12:
        return None
    # remove thin spurs (e.g. leaks through the valve) when that keeps most of the blob
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    opened = cv2.morphologyEx(m.astype(np.uint8), cv2.MORPH_OPEN, k).astype(bool)
    if opened.sum() >= 0.85 * m.sum():
        om = _largest_component_filled(opened)
        if om is not None:
            m = om
    contour = mask_contour(m)
    if contour is None or len(contour) < 4:
        return None
    ys, xs = np.nonzero(m)
    pts = np.stack([xs, ys], axis=1).astype(np.float64)
    centre = pts.mean(axis=0)
    cov = np.cov((pts - centre).T) if len(pts) > 2 else np.eye(2)
    evals, evecs = np.linalg.eigh(cov)
    u = evecs[:, int(np.argmax(evals))]
    if u[1] < 0 or (u[1] == 0 and u[0] < 0):
        u = -u
    v = np.array([u[1], -u[0]])
    pa = contour @ u
    pv = contour @ v
    # basal corners: extreme along the two basal diagonals (45 deg between axis and lateral)
    c_left = contour[int(np.argmax(pa - pv))]
    c_right = contour[int(np.argmax(pa + pv))]
    base = 0.5 * (c_left + c_right)
    # apex: where the long axis (through the annulus midpoint, along the principal axis) leaves
    # the contour at the far end; a line crossing is well conditioned even for a blunt apex
    P, Q = contour, np.roll(contour, -1, axis=0)
    f = (P - base) @ v
    g = (Q - base) @ v
    cross = (f > 0) != (g > 0)
    if not np.any(cross):
        return None
    lam = f[cross] / (f[cross] - g[cross])
    X = P[cross] + lam[:, None] * (Q[cross] - P[cross])
    sdist = (base - X) @ u
    apex = X[int(np.argmax(sdist))]
    if float(np.max(sdist)) < 2.0:
        return None
    t = tracing_from_contour(contour, apex, base, n_chords)
    if t.volume() <= 0:
        return None
    return t


# --------------------------------------------------------------------------------------------
# Volumes
# --------------------------------------------------------------------------------------------


def area_length_volume(mask_or_area, length: float, cm_per_pixel: float | None = None) -> float:
    """Single-plane area-length volume V = 8 A^2 / (3 pi L). A mask (array) gives its pixel count
    as A; px^3, or mL with cm_per_pixel."""
    a = np.asarray(mask_or_area)
    area = float(np.count_nonzero(a)) if a.ndim >= 1 else float(a)
    L = float(length)
    if L <= 0:
        return float("nan")
    if cm_per_pixel is not None:
        area *= float(cm_per_pixel) ** 2
        L *= float(cm_per_pixel)
    return 8.0 * area**2 / (3.0 * math.pi * L)


def ef_from_volumes(edv: float, esv: float) -> float:
    """EF in percent: (EDV - ESV) / EDV * 100 (NaN when EDV is not positive)."""
    edv = float(edv)
    if not edv > 0:
        return float("nan")
    return (edv - float(esv)) / edv * 100.0
