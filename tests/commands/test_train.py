"""`echoviewer train` through a real subprocess."""

import json
import subprocess
import sys

from echoviewer.models import load_model


def test_train_cli_writes_loadable_demo_weights_with_heldout_metrics(tmp_path):
    out = tmp_path / "w"
    r = subprocess.run(
        [sys.executable, "-m", "echoviewer", "train", "--out", str(out), "--phantoms", "4", "--heldout", "2",
         "--seg-steps", "6", "--ef-steps", "3"],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr
    for task, stem in (("segmentation", "demo_segmentation"), ("ef", "demo_ef")):
        man = json.loads((out / f"{stem}.json").read_text())
        assert man["demo"] is True and man["task"] == task
        assert {"dice", "ef_mae_per_beat", "beats_found", "beats_total"} <= set(man["metrics"])
        assert man["metrics"]["heldout_loops"] == 2
        assert "phantoms" in man["provenance"]["data"]
        model, info = load_model(task, out / f"{stem}.pt")
        assert info.demo and info.sha256 == man["sha256"]
        assert info.mean[0] > 0 and info.std[0] > 0  # measured on the training frames, not a default
    assert "held-out" in r.stderr


def test_finetune_needs_data_and_init(tmp_path):
    r = subprocess.run([sys.executable, "-m", "echoviewer", "train", "--init", "x.pt"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "--data" in r.stderr and "Traceback" not in r.stderr
