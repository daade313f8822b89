"""Pure helpers of the review window: formatting, heart phase, clock, overlays."""

from __future__ import annotations

import math

import numpy as np
import pytest

from echoviewer.ui import helpers as h


def test_formatting():
    assert h.format_time(1.2345) == "1.23 s"
    assert h.format_time(float("nan")) == "–"
    assert h.format_ef(55.04, 2.26) == "55.0 ± 2.3 %"
    assert h.format_ef(None) == "–"
    assert h.format_ef(61.0) == "61.0 %"
    assert h.format_duration(100, 50.0) == "2.0 s"


def test_heart_phase():
    ed, es = [0, 40], [20, 60]
    got = {f: h.heart_phase(f, ed, es) for f in (0, 10, 20, 30, 40, 50, 60, 70)}
    assert got == {0: "ED", 10: "systole", 20: "ES", 30: "diastole", 40: "ED", 50: "systole", 60: "ES",
                   70: "diastole"}
    # before the first marker: the phase that leads into it
    assert h.heart_phase(5, [30], [10]) == "systole"
    assert h.heart_phase(5, [10], [30]) == "diastole"
    assert h.heart_phase(5, [], []) == ""


def test_markers():
    assert h.next_marker(5, [0, 10, 20], +1) == 10
    assert h.next_marker(10, [0, 10, 20], +1) == 20
    assert h.next_marker(20, [0, 10, 20], +1) is None
    assert h.next_marker(10, [0, 10, 20], -1) == 0
    assert h.next_marker(0, [0, 10, 20], -1) is None


class TestPlaybackClock:
    def test_on_time_ticks_show_every_frame(self):
        c = h.PlaybackClock(100, fps=50)
        c.reset(0.0, 7)
        shown = []
        now = c.first_delay(0.0)
        assert now == pytest.approx(0.02)
        for _ in range(10):
            f, delay = c.advance(now)
            shown.append(f)
            assert delay == pytest.approx(0.02, abs=1e-9)
            now += delay
        assert shown == list(range(8, 18))
        assert c.skipped == 0

    def test_late_ticks_do_not_drift(self):
        """Each tick fires 3 ms late and rendering takes 4 ms: after 10 s we are still at frame 500."""
        c = h.PlaybackClock(10_000, fps=50)
        c.reset(0.0, 0)
        now = c.first_delay(0.0) + 0.003
        f = 0
        while now < 10.0:
            f, _ = c.advance(now)
            now += 0.004  # render
            delay = c.t0 + (c.k + 1) / c.rate - now
            now += max(delay, 0) + 0.003
        assert f == 500 - 1 or f == 500
        assert c.skipped == 0

    def test_skips_only_when_far_behind(self):
        c = h.PlaybackClock(1000, fps=100)
        c.reset(0.0, 0)
        f, _ = c.advance(0.025)  # 2.5 frames due: small lag, no skip
        assert f == 1 and c.skipped == 0
        f, _ = c.advance(0.5)  # 50 frames due: jump
        assert f == 50 and c.skipped > 0

    def test_speed_and_wrap(self):
        c = h.PlaybackClock(10, fps=40, speed=0.25)
        assert c.rate == 10
        c.reset(0.0, 9)
        f, delay = c.advance(0.1)
        assert f == 0 and delay == pytest.approx(0.1)


def _disc(shape, cx, cy, r):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def test_overlay_rgba_alpha_exactly_on_mask():
    m = _disc((60, 80), 40, 30, 12)
    rgba = h.overlay_rgba(m, (10, 20, 30), 0.5)
    assert rgba.shape == (60, 80, 4) and rgba.dtype == np.uint8
    assert np.array_equal(rgba[..., 3] > 0, m)
    assert tuple(rgba[30, 40]) == (10, 20, 30, 128)
    assert not h.overlay_rgba(m, (1, 2, 3), 0.0).any()


def test_contour_path_traces_the_mask_boundary():
    m = _disc((60, 80), 20, 30, 8) | _disc((60, 80), 60, 30, 6)
    xs, ys = h.contour_path(m)
    assert np.isnan(xs).sum() == 2  # two closed contours, NaN-separated
    pts = np.column_stack([xs, ys])
    pts = pts[np.isfinite(pts[:, 0])]
    cols, rows = (pts[:, 0] - 0.5).astype(int), (pts[:, 1] - 0.5).astype(int)
    assert m[rows, cols].all()  # every vertex is a mask pixel centre
    inner = m.copy()
    inner[1:-1, 1:-1] = m[1:-1, 1:-1] & m[:-2, 1:-1] & m[2:, 1:-1] & m[1:-1, :-2] & m[1:-1, 2:]
    assert not inner[rows, cols].all()  # ... on the boundary, not the interior
    assert h.contour_path(np.zeros((5, 5), bool))[0].size == 0


def test_composite_overlay():
    frame = np.full((60, 80), 100, np.uint8)
    m = _disc((60, 80), 40, 30, 12)
    out = h.composite_overlay(frame, m, (255, 0, 0), 0.5, contour=False)
    assert out.shape == (60, 80, 3)
    assert tuple(out[30, 40]) == (178, 50, 50)
    assert (out[~m] == 100).all()
    with_line = h.composite_overlay(frame, m, (255, 0, 0), 0.5, contour=True)
    assert (with_line[~m] == 100).all()  # the outline is drawn on the mask's own boundary pixels
    assert (with_line == (255, 0, 0)).all(axis=2).sum() > 20
    assert np.array_equal(h.composite_overlay(frame, None, (1, 1, 1), 1.0)[..., 0], frame)


def test_native_mask_cache_converts_lazily_and_evicts():
    calls = []

    def conv(m):
        calls.append(1)
        return m.copy()

    c = h.NativeMaskCache(conv, size=2)
    m = np.ones((3, 3), bool)
    c.get(0, m)
    c.get(0, m)
    assert len(calls) == 1
    c.get(1, m)
    c.get(2, m)  # evicts 0
    assert len(c) == 2
    c.get(0, m)
    assert len(calls) == 4
    c.invalidate([0])
    c.get(0, m)
    assert len(calls) == 5
    c.invalidate()
    assert len(c) == 0
    assert math.isfinite(len(calls))


# -- corrections ---------------------------------------------------------------------------------
def test_resample_closed_is_even_by_arc_length():
    from echoviewer.ui.helpers import resample_closed

    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    pts = resample_closed(square, 8)
    np.testing.assert_allclose(pts, [[0, 0], [5, 0], [10, 0], [10, 5], [10, 10], [5, 10], [0, 10], [0, 5]])


def test_editable_points_keep_the_method_of_disks_volume():
    from echoviewer.analysis.tracing import mask_contour, tracing_from_contour, tracing_from_mask
    from echoviewer.ui.helpers import editable_points

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


def test_nearest_edge_and_active_beat_and_es_after():
    from types import SimpleNamespace as B

    from echoviewer.ui.helpers import active_beat, es_after, nearest_edge

    square = np.array([[0, 0], [10, 0], [10, 10], [0, 10]], float)
    i, d, p = nearest_edge(square, (4, 1))
    assert i == 0 and d == pytest.approx(1) and np.allclose(p, (4, 0))
    i, d, p = nearest_edge(square, (-2, 5))
    assert i == 3 and np.allclose(p, (0, 5))
    beats = [B(ed_frame=0, es_frame=20), B(ed_frame=40, es_frame=60)]
    assert active_beat(beats, 10) is beats[0] and active_beat(beats, 25) is beats[0]
    assert active_beat(beats, 30) is beats[1] and active_beat(beats, 70) is beats[1]
    assert active_beat(beats, 30.0) is beats[1] and active_beat([], 3) is None
    areas = 100 + 20 * np.cos(2 * np.pi * np.arange(120) / 40)
    assert es_after(areas, 40, 50.0) == 60
    assert es_after(areas, 119, 50.0) is None
