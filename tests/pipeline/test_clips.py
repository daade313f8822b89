import numpy as np
import pytest

from echoviewer.pipeline.clips import beat_clip, clip_indices, clip_span, gather_clip


def test_span_of_reference_clip():
    assert clip_span(32, 2) == 63


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
    assert beat_clip(es, n, 32, 2, exact) == expected


def test_gather_clip_samples_every_period_and_pads_with_zeros():
    video = np.arange(1, 51, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32)
    clip = gather_clip(video, 0, 32, 2)
    np.testing.assert_array_equal(clip[:25, 0], np.arange(1, 51, 2))
    assert np.all(clip[25:] == 0)
    np.testing.assert_array_equal(clip_indices(5, 3, 2), [5, 7, 9])
