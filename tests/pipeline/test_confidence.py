"""The model's evidence (pipeline/confidence.py) and the gates inside `Analyzer.analyze`."""

from __future__ import annotations

from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from pydicom.data import get_testdata_file

from echoviewer.io import open_loop
from echoviewer.io.gates import ANALYSABLE, Decision, Verdict
from echoviewer.io.loop import Loop
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.confidence import decide, evidence_gate, lv_problem
from echoviewer.pipeline.results import AnalysisSettings


@pytest.fixture(scope="module")
def analyzer():
    """The demo weights (what a user without the official ones runs)."""
    return Analyzer(AnalysisSettings(device="cpu"), use_cache=False)


def _ellipse(cx=56, cy=50, ax=14, ay=30, angle=0):
    m = np.zeros((112, 112), np.uint8)
    cv2.ellipse(m, (cx, cy), (ax, ay), angle, 0, 360, 1, -1)
    return m.astype(bool)


def test_an_upright_lv_is_plausible():
    assert lv_problem(_ellipse()) == ""


@pytest.mark.parametrize("mask, words", [
    (np.zeros((112, 112), bool), "no LV"),
    (_ellipse(angle=90), "across the image"),
    (_ellipse(ax=2, ay=3), "implausible size"),
    (_ellipse(ax=50, ay=55), "implausible size"),
    (_ellipse(cx=12, cy=100, ax=6, ay=10), "implausible place"),
    (_ellipse(cx=35, ax=8, ay=20) | _ellipse(cx=80, ax=8, ay=20), "more than one"),
])
def test_implausible_lv(mask, words):
    assert words in lv_problem(mask)


def _analysis(mask, hr=70.0, ef=55.0, ef_seg=53.0):
    beats = [SimpleNamespace(ed_frame=0, es_frame=1)]
    return SimpleNamespace(masks=np.stack([mask, mask]), areas=np.array([mask.sum()] * 2), beats=beats, hr_bpm=hr,
                           ef_mean=ef, ef_seg_mean=ef_seg)


def test_evidence_gate_both_ways():
    assert evidence_gate(_analysis(_ellipse())) == ANALYSABLE
    assert "across" in evidence_gate(_analysis(_ellipse(angle=90))).reason
    assert "heart rate 250 bpm" in evidence_gate(_analysis(_ellipse(), hr=250)).reason
    assert evidence_gate(_analysis(_ellipse(), hr=25)).verdict == Verdict.LOW_CONFIDENCE
    assert "disagree" in evidence_gate(_analysis(_ellipse(), ef=60, ef_seg=30)).reason
    assert evidence_gate(_analysis(_ellipse(), ef=None)) == ANALYSABLE  # no EF: nothing to compare


def test_decide_keeps_an_earlier_rejection():
    no = Decision(Verdict.NOT_ANALYSABLE, "colour flow", "pixels")
    assert decide(no, _analysis(_ellipse())) == no
    note = Decision(Verdict.ANALYSABLE, "2D region only", "metadata")
    assert decide(note, _analysis(_ellipse())) == note
    assert decide(note, _analysis(_ellipse(angle=90))).gate == "model"


def test_analyzer_judges_every_loop(analyzer, phantom_loop):
    a = analyzer.analyze(phantom_loop)
    assert a.gate == ANALYSABLE and a.ef_mean is not None and a.analysed


def test_analyzer_skips_a_loop_the_gates_reject(analyzer):
    rng = np.random.default_rng(0)
    page = np.full((40, 120, 160, 3), 245, np.uint8)
    page[:, 20:24, 10:150] = rng.integers(0, 60, (4, 140, 3))
    loop = Loop.from_frames(page, fps=30, path="<page>")
    a = analyzer.analyze(loop, skip_not_analysable=True)
    assert not a.gate.analysable and not a.analysed and a.beats == [] and a.ef_mean is None
    assert a.flags == [a.gate.text()] and a.n_frames == 40
    full = analyzer.analyze(loop)  # the window analyses it anyway (a person may include it)
    assert full.analysed and not full.gate.analysable


def test_the_real_a4c_loop_passes_every_gate(analyzer):
    loop = open_loop(get_testdata_file("examples_ybr_color.dcm"))
    try:
        a = analyzer.analyze(loop, skip_not_analysable=True)
    finally:
        loop.close()
    assert a.gate == ANALYSABLE, a.gate
    assert a.analysed and a.beats  # analysed; its one beat found is cut by the loop start (test_whole_beats)
