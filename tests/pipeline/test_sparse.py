"""Segmenting only the frames the beats are read from gives the beats, masks and EF of every frame."""

import numpy as np
import pytest

from echoviewer.analysis.beats import echonet_es_frames, es_frames
from echoviewer.evaluation.phantoms import phantom_loop
from echoviewer.pipeline import cache as cache_mod
from echoviewer.pipeline import sparse
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.dataset import phantom_rng
from echoviewer.synthetic.phantom import generate_phantom


@pytest.fixture(scope="module")
def analyzers():
    return {all_frames: Analyzer(AnalysisSettings(device="cpu", all_frames=all_frames), use_cache=False)
            for all_frames in (True, False)}


def test_coarse_takes_every_second_frame_and_the_last():
    have = sparse.coarse(51)
    assert np.flatnonzero(have).tolist() == list(range(0, 51, 2))
    assert sparse.coarse(50)[-1] and sparse.coarse(50).sum() == 26
    assert sparse.coarse(sparse.MIN_FRAMES - 1).all()  # short loops: every frame


def test_filled_interpolates_only_frames_not_segmented():
    areas = np.array([10, 0, 30, 0, 50], float)
    have = np.array([True, False, True, False, True])
    assert sparse.filled(areas, have).tolist() == [10, 20, 30, 40, 50]
    assert sparse.filled(areas, np.ones(5, bool)).tolist() == areas.tolist()


def test_needed_covers_a_flat_bottom_and_the_ed_but_not_the_descent(monkeypatch):
    # ED at 10 (area 100), a descent to a flat bottom 20..30 (area 50-52), then a rise
    a = np.concatenate([np.full(11, 100.0), np.linspace(100, 52, 10), [51, 50, 52, 51, 50, 51, 52, 50, 51, 51],
                        np.linspace(52, 100, 19)])
    need = sparse.needed(a, ed=[10], es=[22], radius=2, share=0.1)
    flat = np.flatnonzero(a <= 55)
    assert need[flat].all()  # noise decides which of them is the minimum
    assert need[: 14].all()  # the ED's plateau and 2 frames past it; the loop's start
    assert not need[15:18].any()  # the middle of the descent: interpolated
    assert not need[45:].any()  # far from the beat
    monkeypatch.setattr(sparse, "SYSTOLE", True)
    assert sparse.needed(a, ed=[10], es=[22], radius=2, share=0.1)[10:23].all()


def test_equal_minima_go_to_the_earlier_frame_but_the_reference_rule_is_untouched():
    a = np.concatenate([np.linspace(100, 50, 15), [55, 60, 55], [50], np.linspace(50, 100, 15)] * 2)
    # two equal minima 4 frames apart (14 and the plateau 18-19) in each of two 34-frame cycles
    assert es_frames(a, 50.0).tolist() == [14, 48]
    assert es_frames(a[::-1], 50.0).tolist() == [14, 48]  # mirrored: the plateau's middle is the earlier
    assert echonet_es_frames(a).tolist() == [18, 52]  # scipy's sort happens to keep the later ones here
    # exact mode: verbatim the reference (find_peaks' own tie-break)
    assert es_frames(a, 50.0, exact=True).tolist() == echonet_es_frames(a).tolist()


def _same(full, part):
    assert [(b.ed_frame, b.es_frame, b.included, b.clip_start) for b in full.beats] == \
        [(b.ed_frame, b.es_frame, b.included, b.clip_start) for b in part.beats]
    assert [b.ef_model for b in full.beats] == [b.ef_model for b in part.beats]
    assert [b.ef_seg for b in full.beats] == pytest.approx([b.ef_seg for b in part.beats])
    for b in full.beats:
        for f in (b.ed_frame, b.es_frame):
            assert np.array_equal(full.masks[f], part.masks[f])
    assert full.ef_mean == part.ef_mean and full.hr_bpm == part.hr_bpm and full.flags == part.flags


@pytest.mark.parametrize("k", [3, 9, "noisy"])
def test_fewer_frames_same_beats_on_held_out_phantoms(analyzers, k):
    if k == "noisy":  # bench_analysis.py's 80-frame loop: a one-frame dip 3 frames from its first ES
        ph = generate_phantom(1314, frames=80, fps=50, hr=72)
    else:  # the evaluation's test set (benchmarks/sparse_agreement.py: 60)
        ph = generate_phantom(phantom_rng(2027, k))
    full = analyzers[True].analyze(phantom_loop(ph))
    part = analyzers[False].analyze(phantom_loop(ph))
    assert len(full.beats) >= 2
    _same(full, part)
    assert full.segmented is None
    seg = part.segmented
    assert seg is not None and seg.sum() < 0.9 * len(seg)  # the point of it
    assert not part.masks[~seg].any()  # frames not segmented carry no mask, only an interpolated area
    assert np.array_equal(part.areas[seg], full.areas[seg])


def test_a_file_shorter_than_its_header(analyzers):
    ph = generate_phantom(phantom_rng(2027, 3))
    loop = phantom_loop(ph)
    loop.n_frames = loop.n_frames + 7  # the decoder stops 7 frames early
    part = analyzers[False].analyze(loop)
    full = analyzers[True].analyze(phantom_loop(ph))
    assert part.n_frames == full.n_frames and part.segmented[-1]
    _same(full, part)


def test_cache_keeps_which_frames_were_segmented_and_a_full_analysis_serves(tmp_path, monkeypatch):
    monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path))
    ph = generate_phantom(phantom_rng(2027, 3))
    part = Analyzer(AnalysisSettings(device="cpu", all_frames=False))
    first = part.analyze(phantom_loop(ph))
    again = part.analyze(phantom_loop(ph))
    assert again.segmented is not None and np.array_equal(again.segmented, first.segmented)
    for p in cache_mod.cache_dir().glob("*.json"):
        p.unlink()  # a fresh cache: the window analyses every frame first
    Analyzer(AnalysisSettings(device="cpu")).analyze(phantom_loop(ph))
    served = part.analyze(phantom_loop(ph))
    assert served.segmented is None and served.masks.any(axis=(1, 2)).all()  # the full one, no new work
