"""`echoviewer evaluate` through a real subprocess: refusals in one line, the dropout run, and the
corrections export of the demo study."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from echoviewer.cli import build_parser
from echoviewer.evaluation import DatasetError, open_dataset, run_evaluation
from echoviewer.synthetic.dataset import write_dataset
from tests.evaluation.conftest import DEMO

REPO = Path(__file__).resolve().parents[2]


def _evaluate(*args, timeout=300):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "echoviewer", "evaluate", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=timeout)


def test_evaluate_is_a_subcommand():
    args = build_parser("evaluate").parse_args(["evaluate", "data", "--out", "o", "--compare", "s.pt", "e.pt",
                                                 "--split", "all", "--dropout"])
    assert args.split == "ALL" and args.compare == ["s.pt", "e.pt"] and args.dropout


def test_refuses_what_is_not_an_echonet_folder_in_one_line(tmp_path, phantom_folder):
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "loop.avi").write_bytes(b"RIFF")
    no_tracings = tmp_path / "no_tracings"
    no_tracings.mkdir()
    shutil.copy(phantom_folder / "FileList.csv", no_tracings)
    cases = [
        (tmp_path / "missing", [], "not a folder"),
        (tmp_path / "plain", [], "not an EchoNet-Dynamic folder (no FileList.csv)"),
        (no_tracings, [], "no VolumeTracings.csv"),
        (phantom_folder, [], "no loops in split TEST (FileList.csv has TRAIN 5, VAL 1; try --split ALL)"),
    ]
    for folder, extra, reason in cases:
        r = _evaluate(folder, "--out", tmp_path / "out", *extra, timeout=120)
        assert r.returncode == 2, (folder, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and reason in lines[0], (folder, r.stderr)
    assert not (tmp_path / "out").exists()


def test_malformed_folders_are_dataset_errors(tmp_path, phantom_folder):
    bad = tmp_path / "bad"
    shutil.copytree(phantom_folder, bad)
    (bad / "FileList.csv").write_text("Name,EF\nx,50\n")
    with pytest.raises(DatasetError, match="FileList.csv lacks columns"):
        open_dataset(bad, "ALL")
    shutil.copy(phantom_folder / "FileList.csv", bad)
    (bad / "Videos" / "Phantom5_0002.avi").unlink()
    with pytest.raises(DatasetError, match="1 videos missing: Phantom5_0002"):
        open_dataset(bad, "ALL")
    with pytest.raises(DatasetError, match="unknown split"):
        open_dataset(bad, "TESTING")


@pytest.mark.slow
def test_cli_with_dropout_degrades_gracefully(tmp_path):
    data = tmp_path / "data"
    write_dataset(data, 2, seed=11, frames=72)
    out = tmp_path / "out"
    r = _evaluate(data, "--out", out, "--split", "ALL", "--dropout", "--bootstrap", "50",
                  "--seg-weights", DEMO.seg_weights, "--ef-weights", DEMO.ef_weights, "--device", "cpu")
    assert r.returncode == 0, r.stderr
    assert "[12/12]" in r.stderr and "2 loops: Dice" in r.stderr and f"report: {out / 'report.html'}" in r.stderr
    m = json.loads((out / "metrics.json").read_text())
    rob = m["robustness"]
    assert rob["levels"] == [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    dice = [d["value"] for d in rob["dice"]]
    assert dice[0] == pytest.approx(m["dice"]) and dice[-1] < dice[0]
    assert m["generated"]["command"].startswith("echoviewer evaluate ") and "--dropout" in m["generated"]["command"]
    assert "Robustness to dropout" in (out / "report.html").read_text()


@pytest.mark.slow
def test_works_on_the_corrections_export_of_the_demo_study(tmp_path, monkeypatch):
    from echoviewer.annotations.store import AutoSaver, open_corrections
    from echoviewer.export.echonet_export import export_study
    from echoviewer.io import open_loop
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.synthetic import demo

    # one of the demo study's loops (the DICOM, the shortest) keeps the test short
    monkeypatch.setattr(demo, "DEMO_LOOPS", [demo.DEMO_LOOPS[3]])
    study = demo.ensure_demo_study(tmp_path / "study")
    analyzer = Analyzer(DEMO)  # cached: the export reuses this analysis
    # a sonographer's correction, through the API the window uses: the last beat excluded
    loop = open_loop(study / "A4C_dicom.dcm")
    corr = open_corrections(analyzer.analyze(loop), loop.path, user="sono")
    AutoSaver(corr, loop.path)
    corr.exclude(corr.beats[-1]["id"], "ectopic")
    export = tmp_path / "export"
    res = export_study(study, export, analyzer.analyze, include_uncorrected=True, log=lambda m: None)
    assert len(res.exported) == 1

    r = _evaluate(export, "--out", tmp_path / "out", timeout=120)  # export-corrections writes TRAIN
    assert r.returncode == 2 and "no loops in split TEST (FileList.csv has TRAIN 1; try --split ALL)" in r.stderr
    out = run_evaluation(export, tmp_path / "out", DEMO, split="TRAIN", n_boot=50)
    m = out.metrics
    assert m["n_loops"] == 1 and not m["dataset"]["failed"]
    # the label is the model's own tracings and their EF: near-perfect agreement
    assert m["dice"] > 0.95 and m["ef_mae"] < 10
    assert np.isfinite(m["ef_bias"]) and out.report_path.is_file()
