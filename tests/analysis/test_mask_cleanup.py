"""The LV mask as one region: stray blobs dropped, holes filled, the ventricle kept over a larger
atrium blob; --echonet-exact's raw masks are the pipeline's concern (tests/pipeline)."""

from __future__ import annotations

import numpy as np

from echoviewer.analysis.mask_cleanup import keep_lv, one_region


def _disc(cx, cy, r, shape=(112, 112)):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


def test_one_region_drops_blobs_and_fills_holes():
    lv = _disc(50, 50, 20)
    m = lv.copy()
    m[48:53, 48:53] = False  # a hole (trabeculae segmented as wall)
    m |= _disc(95, 95, 4)  # a blob outside the LV
    out = one_region(m)
    assert out[50, 50] and not out[95, 95]
    assert np.array_equal(out, lv)
    assert not one_region(np.zeros((112, 112), bool)).any()


def test_keep_lv_keeps_the_ventricle_when_the_atrium_blob_is_larger():
    lv = np.stack([_disc(50, 40, r) for r in (20, 18, 14, 18, 20)])
    masks = lv.copy()
    atrium = _disc(50, 90, 17)
    masks[2] |= atrium  # at ES the separate atrium blob (r 17) is larger than the LV (r 14)
    masks[4] |= _disc(100, 10, 3)
    masks[3, 50, 40] = False  # a one-pixel hole
    out = keep_lv(masks)
    assert np.array_equal(out, lv)
    assert np.array_equal(one_region(masks[2]), atrium)  # a frame on its own would pick the atrium


def test_keep_lv_leaves_empty_frames_empty():
    masks = np.zeros((3, 112, 112), bool)
    masks[1] = _disc(40, 40, 10)
    out = keep_lv(masks)
    assert not out[0].any() and not out[2].any() and np.array_equal(out[1], masks[1])
