"""Closed-contour geometry: a mask's outline as a path, the editable points of a tracing."""

import numpy as np
import pytest

from echoviewer.analysis.contour import (
    contour_path,
    editable_points,
    nearest_edge,
    outline_axis,
    polygon_area,
    resample_closed,
)
from echoviewer.analysis.tracing import mask_contour, tracing_from_contour, tracing_from_mask


def _disc(shape, cx, cy, r):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def test_contour_path_traces_the_mask_boundary():
    m = _disc((60, 80), 20, 30, 8) | _disc((60, 80), 60, 30, 6)
    xs, ys = contour_path(m)
    assert np.isnan(xs).sum() == 2  # two closed contours, NaN-separated
    pts = np.column_stack([xs, ys])
    pts = pts[np.isfinite(pts[:, 0])]
    cols, rows = (pts[:, 0] - 0.5).astype(int), (pts[:, 1] - 0.5).astype(int)
    assert m[rows, cols].all()  # every vertex is a mask pixel centre
    inner = m.copy()
    inner[1:-1, 1:-1] = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    assert not inner[rows, cols].all()  # ... on the boundary, not the interior
    assert contour_path(np.zeros((5, 5), bool))[0].size == 0


def test_resample_closed_is_even_by_arc_length():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    pts = resample_closed(square, 8)
    np.testing.assert_allclose(pts, [[0, 0], [5, 0], [10, 0], [10, 5], [10, 10], [5, 10], [0, 10], [0, 5]])
    assert polygon_area(square) == 100.0


def test_editable_points_keep_the_method_of_disks_volume():
    yy, xx = np.mgrid[:112, :112]
    for ax, ay in ((14, 30), (9, 19), (17, 33)):
        mask = ((xx - 60.3) / ax) ** 2 + ((yy - 52.1) / ay) ** 2 <= 1
        t = tracing_from_mask(mask)
        pts = editable_points(mask_contour(mask))
        assert 16 <= len(pts) <= 24
        gaps = np.hypot(*np.diff(np.vstack([pts, pts[:1]]), axis=0).T)
        assert gaps.max() < 1.6 * gaps.min()  # evenly spaced
        v = tracing_from_contour(pts, t.axis[:2], t.axis[2:]).volume()
        assert v == pytest.approx(t.volume(), rel=0.025)


def test_nearest_edge():
    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    i, d, p = nearest_edge(square, (4, 1))
    assert i == 0 and d == pytest.approx(1) and np.allclose(p, (4, 0))
    i, d, p = nearest_edge(square, (-2, 5))
    assert i == 3 and np.allclose(p, (0, 5))


def test_outline_axis_finds_apex_and_annulus_like_the_model_tracings():
    mask = ((np.mgrid[:112, :112][1] - 60.3) / 14) ** 2 + ((np.mgrid[:112, :112][0] - 52.1) / 30) ** 2 <= 1
    t = tracing_from_mask(mask)
    apex, base = outline_axis(editable_points(mask_contour(mask)))
    # the same long axis as the model's tracing of the mask: top to bottom, as long
    assert apex[1] == pytest.approx(t.axis[1], abs=1) and base[1] == pytest.approx(t.axis[3], abs=1)
    assert np.hypot(*(base - apex)) == pytest.approx(np.hypot(*(t.axis[2:] - t.axis[:2])), abs=1)
    assert outline_axis([[1, 1], [5, 5]]) is None
