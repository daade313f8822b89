"""The LV overlay as drawn: RGBA layer, composited frame, the native-mask cache."""

from __future__ import annotations

import numpy as np

from echoviewer.analysis.drawing import composite_overlay, to_rgb
from echoviewer.ui.overlay import NativeMaskCache, overlay_rgba


def _disc(shape, cx, cy, r):
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def test_overlay_rgba_alpha_exactly_on_mask():
    m = _disc((60, 80), 40, 30, 12)
    rgba = overlay_rgba(m, (10, 20, 30), 0.5)
    assert rgba.shape == (60, 80, 4) and rgba.dtype == np.uint8
    assert np.array_equal(rgba[..., 3] > 0, m)
    assert tuple(rgba[30, 40]) == (10, 20, 30, 128)
    assert not overlay_rgba(m, (1, 2, 3), 0.0).any()


def test_composite_overlay():
    frame = np.full((60, 80), 100, np.uint8)
    m = _disc((60, 80), 40, 30, 12)
    out = composite_overlay(frame, m, (255, 0, 0), 0.5, contour=False)
    assert out.shape == (60, 80, 3)
    assert tuple(out[30, 40]) == (178, 50, 50)
    assert (out[~m] == 100).all()
    with_line = composite_overlay(frame, m, (255, 0, 0), 0.5, contour=True)
    assert (with_line[~m] == 100).all()  # the outline is drawn on the mask's own boundary pixels
    assert (with_line == (255, 0, 0)).all(axis=2).sum() > 20
    assert np.array_equal(composite_overlay(frame, None, (1, 1, 1), 1.0)[..., 0], frame)
    assert to_rgb(np.zeros((4, 5, 4), np.float32)).shape == (4, 5, 3)


def test_native_mask_cache_converts_lazily_and_evicts():
    calls = []

    def conv(m):
        calls.append(1)
        return m.copy()

    c = NativeMaskCache(conv, size=2)
    m = np.ones((3, 3), bool)
    first = c.get(0, m)
    assert c.get(0, m) is first and len(calls) == 1  # cached: converted once
    c.get(1, m)
    c.get(2, m)  # evicts 0, the least recently used
    assert len(c) == 2
    c.get(0, m)  # converted again; evicts 1
    assert len(calls) == 4
    c.get(2, m)
    assert len(calls) == 4  # 2 stayed
    c.invalidate([0])
    c.get(0, m)
    c.get(2, m)
    assert len(calls) == 5  # only the invalidated frame was converted again
    c.invalidate()
    assert len(c) == 0
    c.get(2, m)
    assert len(calls) == 6  # cleared: converted again
