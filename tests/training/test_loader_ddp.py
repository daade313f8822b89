"""Fine-tuning reads an EchoNet folder from disk through a DataLoader, reproducibly, alone or under torchrun."""

import itertools
import json
import math
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from echoviewer.models import load_model
from echoviewer.models.architectures import unwrap
from echoviewer.pipeline.preprocess import ClipSpec
from echoviewer.synthetic.dataset import write_dataset
from echoviewer.training.augment import Augment
from echoviewer.training.data import echonet_set
from echoviewer.training.datasets import EFClips, SegmentationFrames, echonet_items, make_loader
from echoviewer.training.distributed import DistEnv
from echoviewer.training.recipes import finetune
from echoviewer.training.trainer import clips_input, frames_input

SEG_INIT = Path(__file__).resolve().parents[2] / "weights" / "demo_segmentation.pt"
MEAN, STD = (31.0, 33.0, 36.0), (47.0, 50.0, 53.0)


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """Five short phantom loops in EchoNet format (four in TRAIN)."""
    out = tmp_path_factory.mktemp("export")
    write_dataset(out, 5, seed=0, fps=50, frames=80)
    return out


def test_dataset_items_are_the_in_memory_tensors(export):
    ts = echonet_set(export)
    frames, beats = echonet_items(export)
    assert len(frames) == len(ts.seg_frames) == 8 and len(beats) == len(ts.loops) == 4
    seg = SegmentationFrames(frames, MEAN, STD, None, seed=0)
    for i in range(len(frames)):
        x, y = seg[i]
        np.testing.assert_array_equal(x.numpy(), frames_input(ts.seg_frames[i][None, ..., None], MEAN, STD)[0].numpy())
        np.testing.assert_array_equal(y.numpy()[0], ts.seg_masks[i].astype(np.float32))
    spec = ClipSpec(16, 3)
    ef = EFClips(beats, MEAN, STD, None, seed=0, spec=spec, jitter=0)
    for k, lp in enumerate(ts.loops):
        x, y = ef[k]
        t, es = len(lp.frames), int(lp.es_frames[0])
        want = clips_input([lp.frames[spec.frame_indices(spec.start(es, t), t)][..., None]], MEAN, STD, spec)[0]
        assert x.shape == (3, 16, 112, 112)
        np.testing.assert_array_equal(x.numpy(), want.numpy())
        assert y.item() == pytest.approx(lp.efs[0], abs=1e-4)
    # augmented: the augmentation module, drawing from the item's own (seed, epoch, index) generator
    aug = Augment()
    x, y = SegmentationFrames(frames, MEAN, STD, aug, seed=5)[(3, 2)]
    f, m = aug(ts.seg_frames[2][..., None], ts.seg_masks[2], np.random.default_rng([5, 3, 2]))
    np.testing.assert_array_equal(x.numpy(), frames_input(f[None], MEAN, STD)[0].numpy())
    np.testing.assert_array_equal(y.numpy()[0], m.astype(np.float32))
    assert not np.array_equal(x.numpy(), seg[2][0].numpy())


def test_loader_shards_cover_the_data_and_do_not_depend_on_workers(export):
    frames, _ = echonet_items(export)
    seg = SegmentationFrames(frames, MEAN, STD, Augment(), seed=1)

    def batches(env, workers, n=2):
        it = iter(make_loader(seg, 4, workers, 1, env))
        return [next(it) for _ in range(n)]

    a, b = batches(DistEnv(), 0), batches(DistEnv(), 1)
    for (xa, ya), (xb, yb) in zip(a, b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    # two ranks: disjoint halves of one pass
    keys = [list(itertools.islice(make_loader(seg, 1, 0, 1, DistEnv(2, r)).sampler, 4)) for r in (0, 1)]
    assert {k[0] for k in keys[0] + keys[1]} == {0}
    assert sorted(k[1] for k in keys[0] + keys[1]) == list(range(8))


def test_same_seed_same_weights_in_one_process(export, tmp_path):
    def run(name, seed, workers):
        (pt,) = finetune(export, [str(SEG_INIT)], tmp_path / name, steps=2, seed=seed, workers=workers,
                         log=lambda m: None)
        return torch.load(pt, map_location="cpu", weights_only=True)

    a, b, c = run("a", 0, 0), run("b", 0, 1), run("c", 1, 0)
    init = unwrap(load_model("segmentation", SEG_INIT)[0]).state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)
    # and it trained
    assert a.keys() == init.keys() and any(not torch.equal(a[k], init[k]) for k in a)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _torchrun(export, init, out) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
         "--master_port", str(_free_port()), "-m", "echoviewer", "train", "--data", str(export),
         "--init", str(init), "--steps", "3", "--workers", "1", "--out", str(out)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )


def test_torchrun_two_cpu_processes(export, tmp_path):
    out = tmp_path / "w"
    r = _torchrun(export, SEG_INIT, out)
    assert r.returncode == 0, r.stderr[-3000:]
    assert sorted(p.name for p in out.iterdir()) == ["finetuned_segmentation.json", "finetuned_segmentation.pt"]
    man = json.loads((out / "finetuned_segmentation.json").read_text())
    training = man["provenance"]["training"]
    assert training["world_size"] == 2 and training["backend"] == "gloo" and training["steps"] == 3
    assert math.isfinite(training["final_loss"])
    assert r.stderr.count("wrote ") == 1  # rank 0 alone logs and writes
    _, info = load_model("segmentation", out / "finetuned_segmentation.pt")
    assert info.sha256 == man["sha256"]


def test_torchrun_failure_is_one_line_per_rank_and_ends_the_run(export, tmp_path):
    r = _torchrun(export, tmp_path / "missing.pt", tmp_path / "w")
    assert r.returncode != 0
    assert "error (rank 0 of 2): " in r.stderr and "missing.pt" in r.stderr
    assert not (tmp_path / "w").exists() or not any((tmp_path / "w").iterdir())
