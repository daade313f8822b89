"""Image-region detection when no Sequence of Ultrasound Regions is stored."""

from __future__ import annotations

import numpy as np

from echoviewer.io.region import detect_region

from .conftest import fan_bbox, fan_frames


def _close(a, b, tol=2):
    return max(abs(x - y) for x, y in zip(a, b)) <= tol


def test_motion_ignores_static_text_and_ecg():
    frames = fan_frames(10, colour=True)  # static label + moving ECG trace below the sector
    region, how = detect_region(list(frames))
    assert how == "motion" and _close(region, fan_bbox()), region


def test_frozen_loop_falls_back_to_non_black():
    f = fan_frames(1, text=False)[0]
    region, how = detect_region([f, f, f])
    assert how == "nonblack" and _close(region, fan_bbox()), region


def test_all_black_gives_full_frame():
    region, how = detect_region([np.zeros((60, 80), np.uint8)] * 4)
    assert (region, how) == ((0, 0, 80, 60), "full_frame")


def test_small_flicker_is_not_a_region():
    frames = [np.zeros((100, 100), np.uint8) for _ in range(4)]
    for t, f in enumerate(frames):
        f[5, 5] = 200 * (t % 2)  # a blinking cursor pixel
    region, how = detect_region(frames)
    assert how in ("nonblack", "full_frame")
    assert region == (0, 0, 100, 100) or how == "nonblack"


def test_offset_sector():
    frames = fan_frames(6)
    shifted = np.zeros((6, 150, 200), np.uint8)
    shifted[:, 30:126, 50:178] = frames
    region, how = detect_region(list(shifted))
    x0, y0, x1, y1 = fan_bbox()
    assert how == "motion" and _close(region, (x0 + 50, y0 + 30, x1 + 50, y1 + 30)), region


def test_loop_from_frames():
    from echoviewer.io import Loop

    frames = fan_frames(6)
    loop = Loop.from_frames(frames, fps=40, cm_per_pixel=0.1)
    assert (loop.n_frames, loop.height, loop.width, loop.fps, loop.kind) == (6, 96, 128, 40.0, "array")
    assert np.array_equal(loop.frame(2), frames[2])
    assert _close(loop.region, fan_bbox()) and loop.region_source == "motion"
    assert loop.grid_frames().shape == (6, 112, 112, 3)
    assert len(loop.content_hash()) == 64
    loop.region = (0, 0, 96, 96)  # a user override resets the transform and the grid
    assert loop.transform.side == 96 and loop.region_source == "user"


def test_grey_is_the_brightest_channel():
    from echoviewer.io.region import _grey

    rng = np.random.default_rng(1)
    for channels in (3, 4):
        f = rng.integers(0, 256, (48, 64, channels), dtype=np.uint8)
        g = _grey(f)
        assert g.dtype == np.uint8 and np.array_equal(g, f.max(axis=2))
        assert np.shares_memory(g, f) is False  # the frame itself is left alone
    mono = rng.integers(0, 256, (48, 64), dtype=np.uint8)
    assert _grey(mono) is mono


def _region_item(x0, y0, x1, y1, cm=0.05):
    from pydicom.dataset import Dataset

    item = Dataset()
    item.RegionSpatialFormat, item.RegionDataType = 1, 1
    item.RegionLocationMinX0, item.RegionLocationMinY0 = x0, y0
    item.RegionLocationMaxX1, item.RegionLocationMaxY1 = x1, y1
    item.PhysicalUnitsXDirection = item.PhysicalUnitsYDirection = 3
    item.PhysicalDeltaX = item.PhysicalDeltaY = cm
    return item


def test_a_region_drawn_for_larger_frames_is_not_used():
    # pydicom's real A4C loop: its region (84,31)-(595,414) was drawn for 640x480, its frames are 320x240
    from pydicom.data import get_testdata_file
    from pydicom.dataset import Dataset

    from echoviewer.io import open_loop
    from echoviewer.io.region import region_from_dataset

    ds = Dataset()
    ds.SequenceOfUltrasoundRegions = [_region_item(84, 31, 595, 414)]
    assert region_from_dataset(ds, 320, 240) == (None, None)
    ds.SequenceOfUltrasoundRegions = [_region_item(84, 31, 319, 239)]  # inclusive maxima inside: used
    assert region_from_dataset(ds, 320, 240) == ((84, 31, 320, 240), 0.05)
    loop = open_loop(get_testdata_file("examples_ybr_color.dcm"))
    try:
        loop.prepare_geometry()
        assert loop.region_source != "ultrasound_regions" and loop.cm_per_pixel is None
        x0, y0, x1, y1 = loop.region
        assert 30 <= x0 <= 100 and x1 <= 300 and y1 <= 215  # the sector of the 320x240 frames, not the clipped box
    finally:
        loop.close()
