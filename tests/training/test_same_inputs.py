"""Training feeds the models exactly the tensors inference feeds them: same normalisation, same
clip of a beat, same padding, from the same weights info (pipeline/preprocess.py)."""

import numpy as np
import pytest
import torch
from torch import nn

from echoviewer.io.loop import Loop
from echoviewer.models import build_model, save_weights
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.preprocess import ClipSpec
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.phantom import generate_phantom
from echoviewer.training.data import LabelledLoop, clip_sampler, grey
from echoviewer.training.trainer import TrainConfig, train_ef, train_segmentation

# a different value per channel, so a swapped axis or a channel taken for another shows
MEAN, STD = (31.0, 33.0, 36.0), (47.0, 50.0, 53.0)


class Recorder(nn.Module):
    """Records what it is given; one parameter for the trainer to step."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))
        self.seen: list[torch.Tensor] = []

    def forward(self, x):
        self.seen.append(x.detach().clone())
        out = x.flatten(1)[:, :1] if x.dim() == 5 else x[:, :1]  # EF (N,1) or logits (N,1,H,W)
        return out * 0 + self.w


@pytest.fixture(scope="module")
def phantom():
    return generate_phantom(7, hr=75, fps=50, n_beats=4, ef=45, ef_sd=0)


def _analyzer(tmp_path, frames, period) -> Analyzer:
    meta = {"mean": MEAN, "std": STD}
    seg = save_weights(build_model("unet_small"), tmp_path / "seg.pt",
                       {**meta, "architecture": "unet_small", "task": "segmentation"})
    ef = save_weights(build_model("r2plus1d_mini"), tmp_path / "ef.pt",
                      {**meta, "architecture": "r2plus1d_mini", "task": "ef", "frames": frames, "period": period})
    return Analyzer(AnalysisSettings(seg_weights=str(seg), ef_weights=str(ef), device="cpu"), use_cache=False)


def _inference_clips(analyzer, loop, masks) -> tuple[list, list[np.ndarray]]:
    """The beats the pipeline finds and the EF model inputs it builds for them, in order."""
    seen = []

    def run_checked(x, *_a, **_k):
        seen.extend(x)
        return np.zeros((len(x), 1), np.float32)

    analyzer.ef_engine.run_checked = run_checked
    res = analyzer.summarise(loop, loop.grid_frames(), masks)
    beats = [b for b in res.beats if b.clip_mode != "dropped"]
    assert len(seen) == len(beats)
    return beats, seen


def _training_clip(grid, es_frame, info) -> torch.Tensor:
    """The EF input train_ef builds for the beat ending at ``es_frame`` (no jitter, no augmentation)."""
    rec = Recorder()
    spec = ClipSpec.of(info)
    loops = [LabelledLoop(grey(grid), np.array([es_frame]), np.array([50.0]))]
    train_ef(rec, clip_sampler(loops, spec, jitter=0), info.mean, info.std, spec,
             TrainConfig(steps=1, batch=1, augment=None, log_every=1), log=lambda m: None)
    (x,) = rec.seen
    return x[0]


@pytest.mark.parametrize("frames,period,n,modes", [
    (32, 2, 155, {"full", "shifted"}),  # ES 147: its clip would run past the end
    (16, 4, 155, {"full", "shifted"}),
    (32, 2, 50, {"padded"}),  # shorter than one clip
    (16, 4, 55, {"padded"}),
])
def test_training_ef_inputs_equal_inference_ones(tmp_path, phantom, frames, period, n, modes):
    assert phantom.truth.es_frames.tolist() == [27, 67, 106, 147]
    analyzer = _analyzer(tmp_path, frames, period)
    assert analyzer.clip == ClipSpec(frames, period)
    loop = Loop.from_frames(phantom.frames[:n].copy(), fps=phantom.fps)
    grid = loop.grid_frames()
    beats, inputs = _inference_clips(analyzer, loop, phantom.truth.masks[:n])
    assert beats, "the phantom should have beats"
    assert {b.clip_mode for b in beats} == modes
    span = (frames - 1) * period + 1
    for b, x in zip(beats, inputs):
        assert x.shape == (3, frames, 112, 112)
        if b.clip_mode == "full":
            assert b.clip_start == max(b.es_frame - frames, 0)
        # the clip is the grid frames at start, start + period, ... normalised, zeros past the end
        for j in (0, 1, frames - 1):
            f = b.clip_start + period * j
            if f < len(grid):
                want = (grid[f].astype(np.float32) - np.float32(MEAN)) / np.float32(STD)
                np.testing.assert_array_equal(x[:, j], want.transpose(2, 0, 1))
            else:
                assert n < span and not x[:, j].any()
        trained = _training_clip(grid, b.es_frame, analyzer.ef_info)
        assert trained.dtype == torch.float32
        np.testing.assert_array_equal(trained.numpy(), x)


def test_training_segmentation_inputs_equal_inference_ones(tmp_path, phantom):
    analyzer = _analyzer(tmp_path, 32, 2)
    loop = Loop.from_frames(phantom.frames[:4].copy(), fps=phantom.fps)
    grid = loop.grid_frames()
    seen = []
    run = analyzer.seg_engine.run
    analyzer.seg_engine.run = lambda x: (seen.append(x.copy()), run(x))[1]
    analyzer.segment(grid[2:3])
    rec = Recorder()
    info = analyzer.seg_info
    train_segmentation(rec, grey(grid[2:3])[..., None], np.zeros((1, 112, 112), bool), info.mean, info.std,
                       TrainConfig(steps=1, batch=1, augment=None, log_every=1), log=lambda m: None)
    (x,) = rec.seen
    assert seen[0].shape == (1, 3, 112, 112)
    np.testing.assert_array_equal(x.numpy(), seen[0])
