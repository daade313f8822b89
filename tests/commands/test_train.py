"""`echoviewer train` through a real subprocess."""

import json
import subprocess
import sys

import numpy as np
import pytest

from echoviewer.models import load_model
from echoviewer.training.data import phantom_set


def test_train_cli_writes_loadable_demo_weights_with_heldout_metrics(tmp_path):
    out = tmp_path / "w"
    r = subprocess.run(
        [sys.executable, "-m", "echoviewer", "train", "--out", str(out), "--phantoms", "4", "--heldout", "2",
         "--seg-steps", "6", "--ef-steps", "3"],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr
    # the statistics of the training frames (the segmentation frames of the 4 phantoms of seed 0;
    # fewer than channel_stats' 4000-frame sample, so all of them), over every pixel
    frames = np.stack(phantom_set(4, seed=0).seg_frames).astype(np.float64)
    assert 0 < len(frames) < 4000
    want_mean, want_std = (frames.mean(),) * 3, (frames.std(),) * 3
    for task, stem in (("segmentation", "demo_segmentation"), ("ef", "demo_ef")):
        man = json.loads((out / f"{stem}.json").read_text())
        assert man["demo"] is True and man["task"] == task
        assert {"dice", "ef_mae_per_beat", "beats_found", "beats_total"} <= set(man["metrics"])
        assert man["metrics"]["heldout_loops"] == 2
        assert "phantoms" in man["provenance"]["data"]
        model, info = load_model(task, out / f"{stem}.pt")
        assert info.demo and info.sha256 == man["sha256"]
        assert info.mean == pytest.approx(want_mean, rel=1e-9) and info.std == pytest.approx(want_std, rel=1e-9)
    assert "held-out" in r.stderr


def test_finetune_needs_data_and_init(tmp_path):
    r = subprocess.run([sys.executable, "-m", "echoviewer", "train", "--init", "x.pt"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 2 and "--data" in r.stderr and "Traceback" not in r.stderr
