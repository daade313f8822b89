"""Training data: echo phantoms (with exact truth) or an EchoNet-format folder (e.g. exported corrections).

Both become the same two things: traced frames with LV masks for segmentation, and loops with
per-beat (ES frame, EF) labels from which EF clips are sampled the way the pipeline samples them
(``pipeline.preprocess.ClipSpec``), with a little start jitter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echoviewer.pipeline.preprocess import ClipSpec


@dataclass
class LabelledLoop:
    frames: np.ndarray  # (T,112,112) uint8 grey (the 3 model channels are identical)
    es_frames: np.ndarray  # (B,)
    efs: np.ndarray  # (B,) % per beat
    name: str = ""


@dataclass
class TrainingSet:
    seg_frames: list[np.ndarray] = field(default_factory=list)  # (112,112) uint8
    seg_masks: list[np.ndarray] = field(default_factory=list)  # (112,112) bool
    loops: list[LabelledLoop] = field(default_factory=list)

    def seg_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Frames (N,112,112,1) grey — augmented as one channel, expanded to 3 by normalisation —
        and masks (N,112,112)."""
        return np.stack(self.seg_frames)[..., None], np.stack(self.seg_masks)

    def add(self, other: TrainingSet) -> None:
        self.seg_frames += other.seg_frames
        self.seg_masks += other.seg_masks
        self.loops += other.loops


def grey(frames: np.ndarray) -> np.ndarray:
    return frames[..., 0] if frames.ndim == 4 else frames


def phantom_set(n: int, seed: int, seg_stride: int = 4, log=None, **phantom_kw) -> TrainingSet:
    """``n`` phantoms from seed ``seed``: every ``seg_stride``-th frame plus all ED/ES frames for
    segmentation, and every loop with its per-beat EF for the EF model."""
    from echoviewer.synthetic.phantom import generate_phantom

    ts = TrainingSet()
    ss = np.random.SeedSequence(seed)
    for i, child in enumerate(ss.spawn(n)):
        ph = generate_phantom(np.random.default_rng(child), **phantom_kw)
        g = grey(ph.frames)
        t = ph.truth
        keep = set(range(0, len(g), seg_stride)) | set(t.ed_frames.tolist()) | set(t.es_frames.tolist())
        for k in sorted(keep):
            ts.seg_frames.append(g[k])
            ts.seg_masks.append(t.masks[k])
        if len(t.es_frames):
            ts.loops.append(LabelledLoop(g, np.asarray(t.es_frames), np.asarray(t.ef, float), f"phantom{seed}-{i}"))
        if log and (i + 1) % 50 == 0:
            log(f"phantoms: {i + 1}/{n}")
    return ts


def echonet_set(folder: str | Path, splits: tuple[str, ...] = ("TRAIN",), log=None) -> TrainingSet:
    """An EchoNet-Dynamic-format folder: traced ES/ED frames (masks rasterised as the reference
    loader does) for segmentation; each video's FileList EF labels a clip ending at its traced ES."""
    from echoviewer.dataset.echonet import read_dataset
    from echoviewer.io.echonet_video import read_echonet_video

    ts = TrainingSet()
    for item in read_dataset(folder, splits=splits):
        g = grey(read_echonet_video(item.path))
        for frame, tracing in ((item.es_frame, item.es_tracing), (item.ed_frame, item.ed_tracing)):
            if 0 <= frame < len(g):
                ts.seg_frames.append(g[frame])
                ts.seg_masks.append(tracing.rasterize(g.shape[1:3]))
        if item.ef is not None and 0 <= item.es_frame < len(g):
            ts.loops.append(LabelledLoop(g, np.array([item.es_frame]), np.array([float(item.ef)]), item.name))
    if log:
        log(f"{folder}: {len(ts.loops)} videos, {len(ts.seg_frames)} traced frames")
    return ts


def clip_sampler(loops: list[LabelledLoop], spec: ClipSpec, jitter: int = 4):
    """A function rng -> (clip frames (k,112,112,1) grey uint8, EF) drawing a random beat of a random
    loop: the frames of the beat's clip that exist (k <= spec.frames), which the trainer pads after
    normalisation as the pipeline does; the start moves by up to ``jitter`` frames."""

    def sample(rng: np.random.Generator):
        lp = loops[int(rng.integers(len(loops)))]
        b = int(rng.integers(len(lp.es_frames)))
        offset = int(rng.integers(-jitter, jitter + 1))
        return beat_clip(lp.frames, int(lp.es_frames[b]), spec, offset)[..., None], float(lp.efs[b])

    return sample


def beat_clip(frames: np.ndarray, es_frame: int, spec: ClipSpec, offset: int = 0) -> np.ndarray:
    """The frames of the EF clip of the beat ending at ``es_frame`` that exist in ``frames`` (k <= spec.frames;
    the rest is padding), its start moved by ``offset`` (training's jitter) as ``ClipSpec.start`` keeps it."""
    t = len(frames)
    return frames[spec.frame_indices(spec.start(int(es_frame), t, offset=offset), t)]
