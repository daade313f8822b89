import numpy as np
import pytest

from echoviewer.models.manifest import WeightsInfo
from echoviewer.pipeline.preprocess import (
    ClipSpec,
    clip_batch,
    gather_clip,
    normalise,
    pad_clip,
)


def test_span_of_reference_clip():
    assert ClipSpec().span == 63 and (ClipSpec().frames, ClipSpec().period) == (32, 2)
    assert ClipSpec(16, 4).span == 61


def test_clip_spec_comes_from_the_ef_weights():
    def info(frames, period):
        return WeightsInfo(path=None, name="ef", task="ef", architecture="r2plus1d_18", input_size=112,
                           mean=(0, 0, 0), std=(1, 1, 1), frames=frames, period=period, sha256="", demo=False,
                           official=False)

    assert ClipSpec.of(info(16, 4)) == ClipSpec(16, 4)
    assert ClipSpec.of(info(None, None)) == ClipSpec(32, 2)


@pytest.mark.parametrize(
    "es,n,exact,expected",
    [
        (100, 200, True, (68, "full")),
        (10, 200, True, (0, "full")),  # max(ES - 32, 0)
        (190, 200, True, (None, "dropped")),  # 158 + 63 > 200: the reference drops it
        (190, 200, False, (137, "shifted")),  # ends on the last frame
        (137 + 32, 200, True, (137, "full")),  # last start that fits exactly
        (30, 50, True, (0, "padded")),  # loop shorter than one clip
    ],
)
def test_beat_clip(es, n, exact, expected):
    assert ClipSpec(32, 2).beat_clip(es, n, exact) == expected


@pytest.mark.parametrize(
    "es,n,exact,expected",
    [
        (100, 200, True, (84, "full")),  # max(ES - frames, 0): 16 frames back, not 32
        (190, 200, True, (None, "dropped")),  # 174 + 61 > 200
        (190, 200, False, (139, "shifted")),
        (30, 60, False, (0, "padded")),  # 60 < 61 frames
    ],
)
def test_beat_clip_follows_frames_and_period(es, n, exact, expected):
    assert ClipSpec(16, 4).beat_clip(es, n, exact) == expected


def test_start_with_offset_stays_inside_the_video():
    spec = ClipSpec(32, 2)
    assert spec.start(100, 200, offset=3) == 71
    assert spec.start(10, 200, offset=-4) == 0
    assert spec.start(199, 200, offset=4) == 137
    assert spec.start(40, 50, offset=4) == 0
    for es, n, exact in ((100, 200, False), (190, 200, False), (30, 50, False)):
        assert spec.beat_clip(es, n, exact)[0] == spec.start(es, n)


def test_gather_clip_samples_every_period_and_pads_with_zeros():
    video = np.arange(1, 51, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32)
    clip = gather_clip(video, 0, ClipSpec(32, 2))
    np.testing.assert_array_equal(clip[:25, 0], np.arange(1, 51, 2))
    assert np.all(clip[25:] == 0)
    np.testing.assert_array_equal(ClipSpec(3, 2).indices(5), [5, 7, 9])
    np.testing.assert_array_equal(ClipSpec(4, 4).frame_indices(5, 14), [5, 9, 13])
    np.testing.assert_array_equal(pad_clip(np.ones((2, 3)), ClipSpec(4, 1)), [[1] * 3] * 2 + [[0] * 3] * 2)


def test_normalise_rgb_and_grey_alike():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (5, 8, 9, 1), dtype=np.uint8)
    rgb = np.repeat(grey, 3, axis=-1)
    mean, std = (10.0, 20.0, 30.0), (2.0, 4.0, 5.0)
    x = normalise(rgb, mean, std)
    assert x.shape == (5, 3, 8, 9) and x.dtype == np.float32 and x.flags.c_contiguous
    want = (rgb.astype(np.float32) - np.float32(mean)) / np.float32(std)
    np.testing.assert_array_equal(x, want.transpose(0, 3, 1, 2))
    np.testing.assert_array_equal(normalise(grey, mean, std), x)
    assert rgb.dtype == np.uint8 and rgb.max() > 3  # the input is left as it was
    clips = clip_batch([x[:4], x[1:]])
    assert clips.shape == (2, 3, 4, 8, 9) and np.array_equal(clips[1, :, 0], x[1])
