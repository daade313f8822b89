"""An EchoNet-format folder read from disk while training: torch Datasets and their DataLoader.

Only an index stays in memory (which video, which frame, which label); each item opens its video
when it is asked for, in a DataLoader worker. Items are the tensors the in-memory path
(``data.echonet_set`` + ``trainer.train_segmentation`` / ``train_ef``) builds: the same traced
frames and rasterised masks, the same clip of a beat (``data.beat_clip``), the same augmentation
(``augment.Augment``) and normalisation and padding (``pipeline.preprocess``).

Determinism: the sampler yields ``(epoch, index)`` keys and an item draws its augmentation from a
generator seeded with ``(seed, epoch, index)``, so what an item becomes depends neither on the
worker that builds it nor on the rank whose shard it falls in; the shuffling is the
DistributedSampler's (seeded, ``set_epoch`` every pass). The same seed gives the same batches
with any number of workers.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, Sampler

from echoviewer.analysis.tracing import Tracing
from echoviewer.pipeline.preprocess import ClipSpec, clip_batch, normalise, pad_clip
from echoviewer.training.augment import Augment
from echoviewer.training.data import beat_clip, grey
from echoviewer.training.distributed import DistEnv


@dataclass(frozen=True)
class TracedFrame:
    """A traced frame of a video: a segmentation item."""

    path: Path
    frame: int
    tracing: Tracing


@dataclass(frozen=True)
class LabelledBeat:
    """A video's beat ending at ``es_frame`` with its EF (%): an EF item."""

    path: Path
    es_frame: int
    ef: float


def echonet_items(folder: str | Path, splits: tuple[str, ...] = ("TRAIN",)) -> tuple[list[TracedFrame],
                                                                                     list[LabelledBeat]]:
    """The index of an EchoNet-format folder, from its CSVs only (no video opened): each video's
    traced ES and ED frames, and its FileList EF labelling the clip that ends at its traced ES
    (as ``data.echonet_set``; frame numbers checked against FileList's NumberOfFrames here and
    against the decoded video when the item is read)."""
    from echoviewer.dataset.echonet import read_dataset

    frames, beats = [], []
    for item in read_dataset(folder, splits=splits):
        n = item.row.n_frames
        for frame, tracing in ((item.es_frame, item.es_tracing), (item.ed_frame, item.ed_tracing)):
            if 0 <= frame < n:
                frames.append(TracedFrame(item.path, int(frame), tracing))
        if item.ef is not None and 0 <= item.es_frame < n:
            beats.append(LabelledBeat(item.path, int(item.es_frame), float(item.ef)))
    return frames, beats


def _video(path: Path, frame: int) -> np.ndarray:
    """(T,112,112) grey frames of a video that must hold ``frame``."""
    from echoviewer.io.echonet_video import read_echonet_video

    g = grey(read_echonet_video(path))
    if not 0 <= frame < len(g):
        raise ValueError(f"{path}: traced frame {frame} is past its {len(g)} decoded frames")
    return g


class _LazyItems(Dataset):
    """Items keyed by ``(epoch, index)`` (or a bare index: epoch 0), augmented with their own generator."""

    def __init__(self, items: list, mean, std, augment: Augment | None, seed: int):
        self.items, self.mean, self.std, self.augment, self.seed = items, mean, std, augment, int(seed)

    def __len__(self) -> int:
        return len(self.items)

    def _key(self, key) -> tuple[int, np.random.Generator]:
        epoch, index = key if isinstance(key, tuple) else (0, key)
        return int(index), np.random.default_rng([self.seed, int(epoch), int(index)])


class SegmentationFrames(_LazyItems):
    """Traced frames -> (x (3,H,W) float32 normalised, y (1,H,W) float32 mask)."""

    def __getitem__(self, key):
        index, rng = self._key(key)
        it: TracedFrame = self.items[index]
        frame = _video(it.path, it.frame)[it.frame][..., None]  # (H,W,1) grey
        mask = it.tracing.rasterize(frame.shape[:2])
        if self.augment is not None:
            frame, mask = self.augment(frame, mask, rng)
        x = torch.from_numpy(normalise(frame, self.mean, self.std))
        return x, torch.from_numpy(mask.astype(np.float32))[None]


class EFClips(_LazyItems):
    """Beats -> (x (3,F,H,W) float32, the EF model's clip, y (1,) EF %); the clip's start moves by up to
    ``jitter`` frames."""

    def __init__(self, items: list, mean, std, augment: Augment | None, seed: int, spec: ClipSpec, jitter: int = 4):
        super().__init__(items, mean, std, augment, seed)
        self.spec, self.jitter = spec, int(jitter)

    def __getitem__(self, key):
        index, rng = self._key(key)
        it: LabelledBeat = self.items[index]
        offset = int(rng.integers(-self.jitter, self.jitter + 1))
        clip = beat_clip(_video(it.path, it.es_frame), it.es_frame, self.spec, offset)[..., None]
        if self.augment is not None:
            clip, _ = self.augment(clip, None, rng)
        x = clip_batch([pad_clip(normalise(clip, self.mean, self.std), self.spec)])[0]
        return torch.from_numpy(x), torch.tensor([it.ef], dtype=torch.float32)


class ShardedEpochs(Sampler):
    """Endless ``(epoch, index)`` keys: this rank's shard of each pass (a DistributedSampler with the
    run's seed, ``set_epoch`` before every pass). Every rank gets as many keys per pass, so all ranks
    take the same number of steps."""

    def __init__(self, dataset: Dataset, env: DistEnv, seed: int):
        self.inner = DistributedSampler(dataset, num_replicas=env.world, rank=env.rank, shuffle=True, seed=seed)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for epoch in itertools.count():
            self.inner.set_epoch(epoch)
            for index in self.inner:
                yield epoch, index


def _seed_worker(worker_id: int) -> None:
    """Each worker's global generators from the loader's seeded base (items use their own generators;
    this keeps anything else that draws reproducible) and one thread, as the workers share the cores."""
    import cv2

    s = torch.initial_seed() % 2**32
    np.random.seed(s)
    random.seed(s)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def make_loader(dataset: Dataset, batch: int, workers: int, seed: int, env: DistEnv) -> DataLoader:
    """An endless DataLoader over this rank's shard, ``batch`` items per step, read by ``workers``
    processes (0: in this process)."""
    return DataLoader(
        dataset, batch_size=batch, sampler=ShardedEpochs(dataset, env, seed), num_workers=int(workers),
        worker_init_fn=_seed_worker if workers else None, generator=torch.Generator().manual_seed(int(seed)),
        pin_memory=env.device.type == "cuda",
        # spawned, not forked: a fork copies OpenCV's and OpenMP's thread pools mid-state once the parent
        # has used them (a forked worker hung in warpAffine here); the workers start once per training
        multiprocessing_context="spawn" if workers else None,
    )
