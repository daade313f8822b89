"""Tracings: reference-loader rasterisation, method of disks, tracings from contours and masks."""

from fractions import Fraction

import cv2
import numpy as np
import pytest

from echoviewer.analysis.tracing import (
    Tracing,
    area_length_volume,
    ef_from_volumes,
    mask_contour,
    polygon_mask,
    tracing_from_contour,
    tracing_from_mask,
)


def _brute_inside(xs, ys, px, py) -> bool:
    """Closed polygon membership, brute force: on an edge / vertex, or inside by even-odd
    (horizontal ray to the right, exact rational arithmetic, half-open vertex rule)."""
    n = len(xs)
    for i in range(n):
        x0, y0, x1, y1 = xs[i - 1], ys[i - 1], xs[i], ys[i]
        cross = (x1 - x0) * (py - y0) - (y1 - y0) * (px - x0)
        if cross == 0 and min(x0, x1) <= px <= max(x0, x1) and min(y0, y1) <= py <= max(y0, y1):
            return True
    inside = False
    for i in range(n):
        x0, y0, x1, y1 = xs[i - 1], ys[i - 1], xs[i], ys[i]
        if (y0 > py) != (y1 > py):
            xint = Fraction(x0) + Fraction((py - y0) * (x1 - x0), (y1 - y0))
            if px < xint:
                inside = not inside
    return inside


def _skimage_port(xs, ys, x, y) -> int:
    """Line-by-line port of skimage's point_in_polygon (O'Rourke), as skimage.draw.polygon uses."""
    eps = 1e-12
    x1, y1 = xs[-1] - x, ys[-1] - y
    lc = rc = 0
    for i in range(len(xs)):
        x0, y0 = xs[i] - x, ys[i] - y
        if -eps < x0 < eps and -eps < y0 < eps:
            return 2
        if (y0 > 0) != (y1 > 0) and (x0 * y1 - x1 * y0) / (y1 - y0) > 0:
            rc += 1
        if (y0 < 0) != (y1 < 0) and (x0 * y1 - x1 * y0) / (y1 - y0) < 0:
            lc += 1
        x1, y1 = x0, y0
    if (rc & 1) != (lc & 1):
        return 3
    return 1 if rc & 1 else 0


def _simple_polygon(rng, n, lo, hi):
    """Star-shaped (hence simple) polygon with integer vertices."""
    cx, cy = rng.uniform(lo + 4, hi - 4, 2)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(1, (hi - lo) / 2, n)
    xs = np.rint(cx + r * np.cos(ang)).astype(int)
    ys = np.rint(cy + r * np.sin(ang)).astype(int)
    return xs, ys


def test_polygon_mask_matches_brute_force_even_odd_on_random_simple_polygons():
    rng = np.random.default_rng(1)
    shape = (20, 22)
    for _ in range(60):
        xs, ys = _simple_polygon(rng, int(rng.integers(3, 14)), -3, 24)
        m = polygon_mask(xs, ys, shape)
        ref = np.array([[_brute_inside(list(xs), list(ys), c, r) for c in range(shape[1])] for r in range(shape[0])])
        assert np.array_equal(m, ref), (xs.tolist(), ys.tolist())


def test_polygon_mask_matches_skimage_rule_on_random_self_intersecting_polygons():
    rng = np.random.default_rng(2)
    shape = (16, 18)
    for _ in range(80):
        n = int(rng.integers(3, 12))
        xs = rng.integers(-3, 21, n).astype(float)
        ys = rng.integers(-3, 19, n).astype(float)
        m = polygon_mask(xs, ys, shape)
        ref = np.array([[_skimage_port(xs, ys, float(c), float(r)) > 0 for c in range(shape[1])]
                        for r in range(shape[0])])
        assert np.array_equal(m, ref), (xs.tolist(), ys.tolist())


def test_polygon_mask_includes_boundary_and_clips_to_shape():
    m = polygon_mask([2, 6, 6, 2], [1, 1, 4, 4], (10, 10))
    expect = np.zeros((10, 10), bool)
    expect[1:5, 2:7] = True  # closed rectangle: edges included
    assert np.array_equal(m, expect)
    big = polygon_mask([-5, 20, 20, -5], [-5, -5, 20, 20], (8, 9))
    assert big.all()


def _square_tracing(d=10.0, L=20.0, n=20):
    stations = (np.arange(n) + 0.5) / n * L
    chords = np.stack([np.full(n, 50 - d / 2), 10 + stations, np.full(n, 50 + d / 2), 10 + stations], 1)
    return Tracing(np.array([50.0, 10.0, 50.0, 10.0 + L]), chords)


def test_volume_method_of_disks_and_units():
    t = _square_tracing(d=10, L=20)
    assert t.volume() == pytest.approx(np.pi / 4 * 100 * 20)
    assert t.volume(cm_per_pixel=0.1) == pytest.approx(np.pi / 4 * 100 * 20 * 1e-3)
    assert t.rows().shape == (21, 4)
    assert np.allclose(Tracing.from_rows(t.rows()).rows(), t.rows())


def test_polygon_is_x1_forward_then_x2_backward():
    t = _square_tracing(n=3)
    poly = t.polygon()
    assert np.allclose(poly[:3], t.chords[:, :2])
    assert np.allclose(poly[3:], t.chords[::-1, 2:])


def test_rasterize_rounds_vertices_like_the_reference_loader():
    # chord ends at x = 44.6 / 55.4 round to 45 / 55 (np.rint): 11 columns
    n = 4
    ys = np.array([20.0, 21.0, 22.0, 23.0])
    chords = np.stack([np.full(n, 44.6), ys, np.full(n, 55.4), ys], 1)
    t = Tracing(np.array([50, 19.5, 50, 23.5]), chords)
    m = t.rasterize((112, 112))
    assert m.sum() == 11 * 4
    assert m[20, 45] and m[20, 55] and not m[20, 44] and not m[20, 56]


def _ellipse_contour(cx, cy, a, b, ang_deg, n=400):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    ang = np.radians(ang_deg)
    # a along the long axis, which points from the apex (top) down, rotated by ang
    u = np.array([np.sin(ang), np.cos(ang)])
    v = np.array([u[1], -u[0]])
    pts = np.array([cx, cy]) + np.outer(a * np.cos(t), u) + np.outer(b * np.sin(t), v)
    apex = np.array([cx, cy]) - a * u
    base = np.array([cx, cy]) + a * u
    return pts, apex, base


def test_tracing_from_contour_ellipse_matches_ellipsoid_volume_and_orientation():
    pts, apex, base = _ellipse_contour(56, 55, 30, 12, 10)
    t = tracing_from_contour(pts, apex, base, 20)
    assert t.n == 20 and t.rows().shape == (21, 4)
    # ellipsoid of revolution 4/3 pi a b^2; midpoint-rule disks converge to it
    assert t.volume() == pytest.approx(4 / 3 * np.pi * 30 * 12**2, rel=0.01)
    # chords perpendicular to the axis
    ax = np.array([t.axis[2] - t.axis[0], t.axis[3] - t.axis[1]])
    ch = t.chords[:, 2:] - t.chords[:, :2]
    assert np.allclose(ch @ ax, 0, atol=1e-6)
    # all x1 ends on the same (left) wall: the polygon does not self-intersect -> area ~ ellipse area
    m = t.rasterize((112, 112))
    assert m.sum() == pytest.approx(np.pi * 30 * 12, rel=0.06)
    left = (t.chords[:, :2] - apex) @ np.array([ax[1], -ax[0]])
    assert np.all(left < 0)


def _lv_mask(L=60, W=18, tilt=8, base_frac=0.8, shape=(112, 112)):
    """A truncated-ellipse LV (flat base) mask, apex at the top."""
    a = L / (1 + base_frac)
    pts, apex, _ = _ellipse_contour(56, 20 + a, a, W, tilt, 720)
    u = np.array([np.sin(np.radians(tilt)), np.cos(np.radians(tilt))])
    keep = (pts - apex) @ u <= L
    m = polygon_mask(pts[keep, 0], pts[keep, 1], shape)
    return m, apex, apex + L * u


def test_tracing_from_mask_finds_the_axis_and_volume():
    m, apex, base = _lv_mask()
    t = tracing_from_mask(m)
    assert t is not None
    assert np.hypot(*(t.axis[:2] - apex)) < 2.5
    assert np.hypot(*(t.axis[2:] - base)) < 2.5
    ref = tracing_from_contour(mask_contour(m), apex, base).volume()
    assert t.volume() == pytest.approx(ref, rel=0.05)


def test_tracing_from_mask_ef_and_noise_robustness():
    ed, *_ = _lv_mask(L=62, W=19)
    es, *_ = _lv_mask(L=52, W=12)
    t_ed, t_es = tracing_from_mask(ed), tracing_from_mask(es)
    ef = ef_from_volumes(t_ed.volume(), t_es.volume())
    # noisy copy: speckle of stray pixels, a hole, a ragged edge
    rng = np.random.default_rng(0)
    noisy = ed.copy()
    noisy[rng.random(ed.shape) < 0.01] = True
    noisy[50:52, 55:57] = False
    edge = cv2.dilate(ed.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool) & ~ed
    noisy[edge & (rng.random(ed.shape) < 0.3)] = True
    t_noisy = tracing_from_mask(noisy)
    assert t_noisy is not None
    ef_noisy = ef_from_volumes(t_noisy.volume(), t_es.volume())
    assert abs(ef_noisy - ef) < 3.0


def test_tracing_from_mask_degenerate():
    assert tracing_from_mask(np.zeros((112, 112), bool)) is None
    one = np.zeros((112, 112), bool)
    one[50, 50] = True
    assert tracing_from_mask(one) is None
    line = np.zeros((112, 112), bool)
    line[50, 10:60] = True
    t = tracing_from_mask(line)
    assert t is None or t.volume() < 60


def test_area_length_and_ef():
    m = np.zeros((20, 20), bool)
    m[2:12, 5:10] = True  # 50 px
    assert area_length_volume(m, 10) == pytest.approx(8 * 50**2 / (3 * np.pi * 10))
    assert area_length_volume(50.0, 10, cm_per_pixel=0.1) == pytest.approx(8 * 0.5**2 / (3 * np.pi * 1.0))
    assert ef_from_volumes(100, 40) == pytest.approx(60.0)
    assert np.isnan(ef_from_volumes(0, 0))
