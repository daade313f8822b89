"""One beat summary for the analysis and the corrections (analysis/beat_summary.py)."""

import dataclasses

import numpy as np
import pytest

from echoviewer.analysis.beat_summary import BeatFigures, BeatSummary, summarise_beats
from echoviewer.io.loop import Loop
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings, model_summary
from echoviewer.synthetic.phantom import generate_phantom


def test_means_are_over_included_beats_with_a_finite_ef():
    s = summarise_beats([
        BeatFigures(20, True, 50.0, 48.0, 100.0, 50.0),
        BeatFigures(60, True, 60.0, None, 120.0, 48.0),
        BeatFigures(100, False, 10.0, 12.0, 1000.0, 900.0),  # excluded
        BeatFigures(140, True, None, 40.0, 500.0, 400.0),  # no EF (its clip was dropped)
        BeatFigures(180, True, float("nan"), 40.0, 500.0, 400.0),
    ], fps=50.0)
    assert isinstance(s, BeatSummary) and (s.n_beats, s.n_used) == (5, 2)
    assert s.ef_mean == 55.0 and s.ef_sd == pytest.approx(np.std([50, 60], ddof=1))
    assert s.ef_seg_mean == 48.0 and (s.edv_mean, s.esv_mean) == (110.0, 49.0)
    assert s.hr_bpm == pytest.approx(60 * 50 / 40)  # every beat's ES counts for the rate
    assert s.corrected_beats == ()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.ef_mean = 1.0  # type: ignore[misc]


def test_no_beats_one_beat_no_frame_rate():
    assert summarise_beats([]) == BeatSummary(n_beats=0, n_used=0)
    one = summarise_beats([BeatFigures(30, True, 40.0)], fps=50.0)
    assert one.ef_mean == 40.0 and one.ef_sd is None and one.hr_bpm is None
    assert summarise_beats([BeatFigures(30, True, 40.0), BeatFigures(70, True, 42.0)]).hr_bpm is None


def test_the_analysis_fills_its_fields_from_the_same_summary(random_weights):
    ph = generate_phantom(7, hr=75, fps=50, n_beats=4, ef=45, ef_sd=0)
    seg, ef = random_weights
    a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu", echonet_exact=True), use_cache=False)
    n = int(ph.truth.es_frames[-1]) + 8  # the last beat's clip overruns: dropped in exact mode
    res = a.summarise(Loop.from_frames(ph.frames[:n].copy(), fps=ph.fps, cm_per_pixel=ph.truth.cm_per_pixel),
                      ph.frames[:n], ph.truth.masks[:n])
    assert any(not b.included for b in res.beats)
    s = model_summary(res.beats, res.fps)
    assert res.summary == s and s.n_used == len(res.beats) - 1
    assert (res.ef_mean, res.ef_sd, res.ef_seg_mean, res.edv_mean, res.esv_mean, res.hr_bpm) == (
        s.ef_mean, s.ef_sd, s.ef_seg_mean, s.edv_mean, s.esv_mean, s.hr_bpm)
    used = [b for b in res.beats if b.included]
    assert s.ef_mean == pytest.approx(np.mean([b.ef_model for b in used]))
    assert s.ef_seg_mean == pytest.approx(np.mean([b.ef_seg for b in used]))
    assert s.edv_mean == pytest.approx(np.mean([b.edv for b in used]))
