import json
import subprocess
import sys

import numpy as np
import pytest
import torch

from echoviewer.models import load_model
from echoviewer.training.augment import Augment
from echoviewer.training.data import phantom_set
from echoviewer.training.evaluate import match_beats


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


def test_augment_keeps_mask_aligned_with_frame():
    rng = np.random.default_rng(0)
    frame = np.zeros((112, 112, 3), np.uint8)
    frame[40:70, 50:80] = 200
    mask = frame[..., 0] > 0
    aug = Augment(noise_sd=(0, 0), dropout_p=0, gamma=(1, 1), gain=(1, 1), geometry_p=1.0)
    for _ in range(5):
        f, m = aug(frame, mask, rng)
        bright = f[..., 0] > 100
        inter = (bright & m).sum()
        assert inter / max(m.sum(), 1) > 0.9 and m.sum() > 0.7 * mask.sum()


def test_match_beats_is_one_to_one_within_tolerance():
    assert match_beats(np.array([10, 50, 90]), [12, 49, 130], tolerance=5) == {0: 0, 1: 1}
    assert match_beats(np.array([10, 12]), [11], tolerance=5) in ({0: 0}, {1: 0})
