"""analysis.peaks.find_peaks is scipy.signal.find_peaks (distance, prominence), result for result."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, settings
from hypothesis import strategies as st

from echoviewer.analysis.beats import echonet_es_frames
from echoviewer.analysis.peaks import find_peaks
from echoviewer.synthetic.phantom import generate_phantom


def _scipy(x, distance, prominence):
    return scipy.signal.find_peaks(x, distance=distance, prominence=prominence)[0]


# small integer values make plateaus and ties (the hard cases) common
curves = st.lists(st.integers(-6, 6), min_size=0, max_size=120).map(lambda v: np.asarray(v, dtype=np.int64))


@settings(max_examples=400, deadline=None)
@given(curves, st.one_of(st.none(), st.floats(1, 30)), st.one_of(st.none(), st.floats(0, 8)))
def test_same_peaks_as_scipy(x, distance, prominence):
    np.testing.assert_array_equal(find_peaks(x, distance, prominence), _scipy(x, distance, prominence))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=6, max_size=300))
def test_same_es_frames_as_the_reference_rule_with_scipy(values):
    size = np.asarray(values)
    n = len(size)
    ordered = sorted(size)
    trim_range = ordered[round(n ** 0.95)] - ordered[round(n ** 0.05)]
    np.testing.assert_array_equal(echonet_es_frames(size), _scipy(-size, 20, 0.5 * trim_range))


def test_plateaus_and_edges():
    x = np.array([0, 1, 1, 1, 0, 2, 2, 0, 3, 3])   # plateau of 3, plateau of 2, rising edge at the end
    assert find_peaks(x).tolist() == [2, 5] == _scipy(x, None, None).tolist()
    assert find_peaks(np.zeros(5)).tolist() == []
    with pytest.raises(ValueError):
        find_peaks(x, distance=0.5)


def test_real_area_curve_from_a_phantom():
    phantom = generate_phantom(4, hr=75, fps=50, n_beats=4)
    areas = phantom.truth.areas
    n = len(areas)
    ordered = sorted(areas)
    prom = 0.5 * (ordered[round(n ** 0.95)] - ordered[round(n ** 0.05)])
    got = find_peaks(-areas, 20, prom)
    assert len(got) >= 2
    np.testing.assert_array_equal(got, _scipy(-areas, 20, prom))
