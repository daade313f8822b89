from __future__ import annotations

import numpy as np
import pytest
import scipy.signal

from echoviewer.analysis.beats import echonet_es_frames, ed_frames, es_distance, es_frames


def reference_es(size):
    """Literal transcription of the EchoNet-Dynamic reference (segmentation script)."""
    trim_min = sorted(size)[round(len(size) ** 0.05)]
    trim_max = sorted(size)[round(len(size) ** 0.95)]
    trim_range = trim_max - trim_min
    systole = set(scipy.signal.find_peaks(-size, distance=20, prominence=(0.50 * trim_range))[0])
    return np.array(sorted(systole), dtype=np.int64)


RR = 0.6                      # s (100 bpm)
ES_TIMES = 0.3 + RR * np.arange(10)


def area_curve(fps: float, notch: bool = True) -> np.ndarray:
    """LV area (px) over 6 s: ES minima at ES_TIMES; with notch, a shallower dip midway between
    ES frames (prominence ~0.7 of the ES dips). Every event falls on a frame at 30, 50 and 100 fps."""
    t = np.arange(round(6.0 * fps)) / fps
    g = lambda c, s: np.exp(-0.5 * ((t[:, None] - c[None, :]) / s) ** 2).sum(1)  # noqa: E731
    size = 1500.0 - 600.0 * g(ES_TIMES, 0.04)
    if notch:
        size -= 420.0 * g(ES_TIMES + RR / 2, 0.03)
    return size


def es_truth(fps: float) -> np.ndarray:
    return np.round(ES_TIMES * fps).astype(np.int64)


# ------------------------------------------------------------------ exact rule

@pytest.mark.parametrize("n", range(0, 6))
def test_too_short(n):
    size = np.arange(n, dtype=np.int64)[::-1]
    with pytest.raises(IndexError):     # the reference crashes ...
        reference_es(size)
    out = echonet_es_frames(size)       # ... we return no beats
    assert out.dtype == np.int64 and out.size == 0
    assert es_frames(size, 50.0).size == 0 and es_frames(size, 50.0, exact=True).size == 0


@pytest.mark.parametrize("n", [6, 7, 50, 300])
def test_flat_curve(n):
    flat = np.full(n, 812, dtype=np.int64)
    assert reference_es(flat).size == 0           # find_peaks(prominence=0): a plateau is no peak
    assert echonet_es_frames(flat).size == 0
    assert es_frames(flat.astype(float), 30.0).size == 0


def test_flat_with_outliers_behaves_like_reference():
    # both trims sit on the plateau -> trim_range 0 -> prominence 0: every minimum counts, including
    # the middle of a plateau between two upward spikes (find_peaks' flat-peak rule)
    size = np.full(120, 900, dtype=np.int64)
    size[80] = 600
    size[[30, 50]] = [950, 920]
    ref = reference_es(size)
    assert ref.tolist() == [40, 80]
    np.testing.assert_array_equal(echonet_es_frames(size), ref)
    np.testing.assert_array_equal(es_frames(size, 49.0, exact=True), ref)
    np.testing.assert_array_equal(es_frames(size.astype(float), 50.0), ref)


def test_exact_matches_literal_reference_on_many_curves():
    rng = np.random.default_rng(0)
    curves = [area_curve(f) for f in (30, 50, 100)] + [area_curve(f, notch=False) for f in (30, 50, 100)]
    curves += [np.round(c + rng.normal(0, 25, c.shape)).astype(np.int64) for c in curves]
    curves += [rng.integers(300, 1500, size=n) for n in (6, 7, 8, 19, 20, 21, 64, 175, 1002)]
    curves += [np.cumsum(rng.normal(0, 10, n)) for n in (6, 33, 500)]
    for size in curves:
        ref = reference_es(size)
        np.testing.assert_array_equal(echonet_es_frames(size), ref)
        np.testing.assert_array_equal(es_frames(size, 12.5, exact=True), ref)   # exact ignores fps
        assert echonet_es_frames(list(size)).tolist() == ref.tolist()           # lists are fine too


def test_unsigned_input_does_not_wrap():
    size = np.round(area_curve(50)).astype(np.uint16)
    np.testing.assert_array_equal(echonet_es_frames(size), reference_es(size.astype(np.int64)))


# ------------------------------------------------------------------ frame-rate scaling

def test_distance_scaling():
    assert es_distance(50) == 20 and es_distance(30) == 12 and es_distance(100) == 40
    assert es_distance(1) == 1 and es_distance(50.9) == 20
    for bad in (0, -5, float("nan"), float("inf"), None):
        with pytest.raises(ValueError):
            es_distance(bad)


@pytest.mark.parametrize("fps", [30, 50, 100])
def test_scaled_mode_finds_every_beat(fps):
    size = area_curve(fps)
    np.testing.assert_array_equal(es_frames(size, fps), es_truth(fps))
    # same with integer pixel counts
    np.testing.assert_array_equal(es_frames(np.round(size).astype(np.int64), fps), es_truth(fps))


def test_exact_mode_depends_on_frame_rate():
    # 50 fps: the reference's assumption holds -> exact == scaled == truth
    np.testing.assert_array_equal(echonet_es_frames(area_curve(50)), es_truth(50))
    # 30 fps: 20 frames = 0.67 s > RR (0.6 s) -> beats are lost (and some notches survive instead)
    under = echonet_es_frames(area_curve(30))
    assert len(under) <= len(es_truth(30)) // 2 + 1
    assert len(set(es_truth(30)) - set(under.tolist())) >= 4
    # without the notches: still every other beat or so
    plain = echonet_es_frames(area_curve(30, notch=False))
    assert len(plain) < len(es_truth(30)) and set(plain.tolist()) <= set(es_truth(30))
    # 100 fps: 20 frames = 0.2 s < RR / 2 -> the mid-cycle dips count as extra "ES" frames
    over = echonet_es_frames(area_curve(100))
    assert len(over) > len(es_truth(100)) and set(es_truth(100)) <= set(over)
    # without the notches, exact mode at 100 fps is right again
    np.testing.assert_array_equal(echonet_es_frames(area_curve(100, notch=False)), es_truth(100))


def test_nan_frames():
    fps = 50
    size = area_curve(fps)
    truth = es_truth(fps)
    gap = size.copy()
    gap[95:100] = np.nan            # between a notch (90) and an ES (105)
    np.testing.assert_array_equal(es_frames(gap, fps), truth)
    gap[0:3] = np.nan               # at the start
    gap[-4:] = np.nan               # at the end
    np.testing.assert_array_equal(es_frames(gap, fps), truth)
    on_es = size.copy()
    on_es[truth[3]] = np.nan        # an ES frame itself is missing: never report a NaN frame
    out = es_frames(on_es, fps)
    assert truth[3] not in out and not np.isnan(on_es[out]).any()
    assert set(truth) - {truth[3]} <= set(out.tolist()) | {truth[3] - 1, truth[3] + 1}
    assert es_frames(np.full(100, np.nan), fps).size == 0
    few = np.full(100, np.nan)
    few[:5] = [3, 2, 1, 2, 3]
    assert es_frames(few, fps).size == 0
    # exact mode with NaN uses the same NaN handling, distance 20
    np.testing.assert_array_equal(es_frames(gap, 100, exact=True), truth)


# ------------------------------------------------------------------ end-diastole

def test_ed_between_es():
    size = np.array([5, 7, 9, 8, 3, 4, 10, 10, 6, 2, 6, 12, 11, 1, 5])
    es = np.array([4, 9, 13])
    ed = ed_frames(size, es)
    assert ed.dtype == np.int64
    assert ed.tolist() == [2, 6, 11]        # 6 and 7 tie at 10: the earliest wins
    assert ed_frames(size, []).size == 0


def test_ed_on_curves():
    for fps in (30, 50, 100):
        size = area_curve(fps, notch=False) + np.arange(round(6 * fps)) * 1e-3  # unique maxima
        es = es_frames(size, fps)
        ed = ed_frames(size, es)
        assert len(ed) == len(es)
        assert ed[0] < es[0] and np.all(ed[1:] > es[:-1]) and np.all(ed < es)
        prev = np.r_[0, es[:-1] + 1]
        for p, d, e in zip(prev, ed, es):
            assert size[d] == size[p:e + 1].max()


def test_ed_edge_cases():
    size = np.array([1.0, np.nan, 3.0, 2.0, 0.5, np.nan, np.nan, 0.2])
    assert ed_frames(size, [4, 7]).tolist() == [2, 7]      # NaN ignored; span [5, 7] -> 7 only finite
    assert ed_frames(size, [0]).tolist() == [0]            # ES at frame 0 -> ED is frame 0
    all_nan = np.full(6, np.nan)
    assert ed_frames(all_nan, [3, 5]).tolist() == [0, 4]   # no data: first frame of the span
    with pytest.raises(ValueError, match="increasing"):
        ed_frames(size, [4, 2])
    with pytest.raises(ValueError, match="lie in"):
        ed_frames(size, [8])
