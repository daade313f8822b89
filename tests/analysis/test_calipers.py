"""Calipers (issue 21, item 5): distances, areas and method-of-disks LV volumes, hand-computed."""

import math

import numpy as np
import pytest

from echoviewer.analysis.calipers import (
    Measured,
    check_points,
    distance,
    lv_axis,
    measure,
    polygon_area,
    trace_volume,
)


def test_distance_of_a_3_4_5_triangle_in_px_and_cm():
    assert distance([(1, 2), (4, 6)]) == 5.0
    m = measure("distance", [(1, 2), (4, 6)], 0.05)
    assert m == Measured("distance", pytest.approx(0.25), "cm") and m.text() == "0.25 cm"
    u = measure("distance", [(0, 0), (30, 40)])
    assert u.unit == "px" and u.value == 50.0 and u.text() == "50.0 px" and not u.calibrated


def test_area_of_a_square_and_a_triangle_either_way_round():
    square = [(10, 10), (30, 10), (30, 30), (10, 30)]
    assert polygon_area(square) == 400.0
    assert polygon_area(square[::-1]) == 400.0
    assert polygon_area([(0, 0), (3, 0), (0, 4)]) == 6.0
    m = measure("area", square, 0.1)
    assert m.unit == "cm²" and m.value == pytest.approx(4.0) and m.text() == "4.00 cm²"
    assert measure("area", square).text() == "400 px²"


def _half_ellipse_trace(a: float, b: float, n: int = 400) -> np.ndarray:
    """An LV trace from one annulus hinge (-a, 0) round the apex (0, -b) to the other (a, 0):
    the outline of half an ellipsoid of revolution about the y axis."""
    t = np.linspace(np.pi, 2 * np.pi, n)
    return np.stack([a * np.cos(t), b * np.sin(t)], axis=1) + [50.0, 80.0]


def test_lv_axis_runs_from_the_annulus_midpoint_to_the_farthest_point():
    trace = _half_ellipse_trace(10, 30)
    apex, base = lv_axis(trace)
    assert base == pytest.approx([50.0, 80.0]) and apex == pytest.approx([50.0, 50.0], abs=0.2)


def test_disk_volume_of_a_half_ellipsoid_is_two_thirds_pi_a2_b():
    a, b = 10.0, 30.0
    exact = 2.0 / 3.0 * math.pi * a * a * b  # px³
    assert trace_volume(_half_ellipse_trace(a, b)) == pytest.approx(exact, rel=0.01)
    m = measure("volume", _half_ellipse_trace(a, b), 0.1)  # 1 px = 1 mm: mL = cm³
    assert m.unit == "mL" and m.value == pytest.approx(exact * 1e-3, rel=0.01)
    assert measure("volume", _half_ellipse_trace(a, b)).unit == "px³"


@pytest.mark.parametrize("kind, points", [("distance", [(0, 0)]), ("distance", [(0, 0), (1, 1), (2, 2)]),
                                          ("area", [(0, 0), (1, 1)]), ("volume", [(0, 0), (1, 0)]),
                                          ("angle", [(0, 0), (1, 0)]), ("area", [(0, 0), (1, np.nan), (2, 0)])])
def test_bad_measurements_are_refused(kind, points):
    with pytest.raises(ValueError):
        check_points(kind, points)
