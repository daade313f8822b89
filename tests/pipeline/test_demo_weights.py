"""The bundled demo weights, end to end on phantoms they never saw (the issue's acceptance check)."""

import numpy as np
import pytest

from echoviewer.analysis.ef_categories import paper_threshold_flag
from echoviewer.analysis.metrics import dice
from echoviewer.evaluation.phantoms import evaluate_phantoms, phantom_loop
from echoviewer.models import find_weights, load_model
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.phantom import generate_phantom


@pytest.fixture(scope="module")
def analyzer():
    return Analyzer(AnalysisSettings(device="cpu"), use_cache=False)


def test_discovery_falls_back_to_the_demo_weights_and_says_so(analyzer):
    assert analyzer.seg_info.demo and analyzer.ef_info.demo
    assert find_weights("segmentation").name == "demo_segmentation.pt"
    _, info = load_model("ef")
    assert info.metrics["dice"] >= 0.9 and info.metrics["heldout_loops"] >= 20  # measured, stored
    assert "demo weights" in analyzer.analyze(phantom_loop(generate_phantom(1))).flags


def test_demo_weights_on_unseen_phantoms(analyzer):
    # seeds far from the training (0..) and held-out (10000..) seed trees
    phantoms = [generate_phantom(np.random.default_rng(777_000 + i)) for i in range(6)]
    m = evaluate_phantoms(analyzer, phantoms)
    assert m["dice"] >= 0.88, m
    assert m["beats_found"] >= 0.9 * m["beats_total"], m
    assert m["ef_mae_per_beat"] <= 7.0, m


def test_reduced_and_normal_ef_are_told_apart(analyzer):
    low = analyzer.analyze(phantom_loop(generate_phantom(31, ef=30, ef_sd=0.5, hr=70, n_beats=3), "low"))
    high = analyzer.analyze(phantom_loop(generate_phantom(32, ef=65, ef_sd=0.5, hr=70, n_beats=3), "high"))
    assert low.ef_mean < 45 < high.ef_mean
    flag = paper_threshold_flag()
    assert flag in low.flags and flag not in high.flags
    mask = low.masks[low.beats[0].ed_frame]
    assert dice(mask,
                generate_phantom(31, ef=30, ef_sd=0.5, hr=70, n_beats=3).truth.masks[low.beats[0].ed_frame]) > 0.85
