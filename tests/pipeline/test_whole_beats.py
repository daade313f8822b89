"""The pipeline's own rules on top of the reference (issue 20): masks as one filled region, ED at
the top of the systolic descent, beats seen only in part left out of the loop's EF; and
--echonet-exact keeping the reference's raw masks and every beat."""

import numpy as np
import pytest

from echoviewer.io.loop import Loop
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.phantom import generate_phantom


@pytest.fixture(scope="module")
def phantom():
    return generate_phantom(8, hr=70, fps=30, n_beats=4, ef=50, ef_sd=0)


def _analyse(random_weights, frames, masks, fps, exact):
    seg, ef = random_weights
    analyzer = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu", echonet_exact=exact),
                        use_cache=False)
    analyzer.ef_engine.run_checked = lambda x, *a, **k: np.full((len(x), 1), 55.0, np.float32)
    loop = Loop.from_frames(frames.copy(), fps=fps)
    return analyzer.summarise(loop, loop.grid_frames(), masks)


def test_a_beat_cut_by_the_loop_start_does_not_count(random_weights, phantom):
    t = phantom.truth
    start = int(t.ed_frames[1]) + 1  # the loop opens just after an ED: that beat's ED is not in it
    frames, masks = phantom.frames[start:], t.masks[start:]
    res = _analyse(random_weights, frames, masks, phantom.fps, exact=False)
    first = res.beats[0]
    es = int(t.es_frames[1]) - start
    assert abs(first.es_frame - es) <= 1 and not first.included
    assert any(f.startswith("incomplete beat") for f in first.flags)
    assert all(b.included for b in res.beats[1:]) and len(res.beats) >= 3
    exact = _analyse(random_weights, frames, masks, phantom.fps, exact=True)
    assert exact.beats[0].es_frame == first.es_frame and exact.beats[0].included  # the reference counts it


def test_stray_blobs_and_holes_are_cleaned_except_in_exact_mode(random_weights, phantom):
    t = phantom.truth
    noisy = t.masks.copy()
    noisy[:, 2:6, 2:6] = True  # a blob in a corner, far from the LV
    for f in range(len(noisy)):  # a one-pixel hole inside the cavity
        ys, xs = np.nonzero(t.masks[f])
        noisy[f, int(ys.mean()), int(xs.mean())] = False
    res = _analyse(random_weights, phantom.frames, noisy, phantom.fps, exact=False)
    assert np.array_equal(res.masks, t.masks)
    assert np.array_equal(res.areas, t.masks.reshape(len(t.masks), -1).sum(1))
    exact = _analyse(random_weights, phantom.frames, noisy, phantom.fps, exact=True)
    assert np.array_equal(exact.masks, noisy)  # the reference counts every pixel with logit > 0
