"""A small phantom folder (exact truth) and one evaluation of it, shared by the evaluation tests."""

from pathlib import Path

import pytest

from echoviewer.evaluation import run_evaluation
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.dataset import write_dataset

REPO = Path(__file__).resolve().parents[2]
#: the bundled demo weights, named explicitly so that nothing in a user folder can stand in for them
DEMO = AnalysisSettings(seg_weights=str(REPO / "weights" / "demo_segmentation.pt"),
                        ef_weights=str(REPO / "weights" / "demo_ef.pt"), device="cpu")


@pytest.fixture(scope="session")
def phantom_folder(tmp_path_factory):
    """6 short phantoms (96 frames, 1-4 beats each; one with EF < 50), split TRAIN 5 / VAL 1."""
    out = tmp_path_factory.mktemp("phantoms")
    write_dataset(out, 6, seed=5, frames=96)
    return out


@pytest.fixture(scope="session")
def evaluation(phantom_folder, random_weights, tmp_path_factory):
    """The demo weights against untrained ones on the phantoms: (EvaluationResult, progress calls)."""
    seg, ef = random_weights
    calls = []
    res = run_evaluation(phantom_folder, tmp_path_factory.mktemp("evaluation"), DEMO, split="ALL",
                         compare=AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"), n_boot=200,
                         progress=lambda done, total, msg: calls.append((done, total, msg)))
    return res, calls
