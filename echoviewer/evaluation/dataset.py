"""The labelled folder an evaluation reads: checked up front (one-line reasons), then its loops as
the pipeline takes them, with the reference's pixel dropout and the image-quality figures."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echoviewer.dataset.echonet import SPLITS, EchoNetVideo, read_echonet_dataset, read_filelist
from echoviewer.io.transform import GRID

#: --split values: one split of FileList.csv, or every listed loop.
SPLIT_CHOICES = (*SPLITS, "ALL")


class DatasetError(ValueError):
    """A folder that cannot be evaluated; str() is one line saying why."""


@dataclass
class EvalDataset:
    root: Path
    split: str
    videos: list[EchoNetVideo]  # listed in the split, with two traced frames and a video
    n_listed: int  # FileList rows in the split
    untraced: list[str] = field(default_factory=list)  # listed, but fewer than 2 traced frames


def open_dataset(root: str | os.PathLike, split: str = "TEST") -> EvalDataset:
    """The loops of ``split`` in an EchoNet-Dynamic folder; DatasetError when it is not one, a
    file is malformed, a listed video is missing, or the split holds no traced loop."""
    root = Path(root)
    split = split.upper()
    if split not in SPLIT_CHOICES:
        raise DatasetError(f"unknown split {split!r} (one of {', '.join(SPLIT_CHOICES)})")
    if not root.is_dir():
        raise DatasetError(f"{root}: not a folder")
    for name in ("FileList.csv", "VolumeTracings.csv"):
        if not (root / name).is_file():
            raise DatasetError(f"{root}: not an EchoNet-Dynamic folder (no {name})")
    try:
        rows = read_filelist(root / "FileList.csv")
        in_split = [r for r in rows if split == "ALL" or r.split == split]
        if not in_split:
            counts = {s: sum(r.split == s for r in rows) for s in SPLITS}
            have = ", ".join(f"{s} {n}" for s, n in counts.items() if n)
            raise DatasetError(f"{root}: no loops in split {split} (FileList.csv has {have or 'no rows'}; "
                               f"try --split ALL)")
        videos = read_echonet_dataset(root, split, require_videos=True)
    except DatasetError:
        raise
    except (OSError, ValueError, KeyError) as exc:  # a malformed CSV, a missing video
        text = " ".join(str(exc).split())
        raise DatasetError(text if str(root) in text else f"{root}: {text}") from None
    if not videos:
        raise DatasetError(f"{root}: none of the {len(in_split)} loops of split {split} has two traced frames "
                           "in VolumeTracings.csv")
    traced = {v.file_name for v in videos}
    return EvalDataset(root, split, videos, len(in_split), [r.file_name for r in in_split if r.file_name not in traced])


def read_frames(video: EchoNetVideo) -> np.ndarray:
    """(T,112,112,3) uint8 RGB frames of one dataset video; ValueError when they are not on the grid
    its tracings are drawn on."""
    frames = video.frames
    if frames.ndim != 4 or frames.shape[1:3] != (GRID, GRID) or not len(frames):
        raise ValueError(f"frames are {frames.shape[1:3] if frames.ndim == 4 else frames.shape}, not {GRID}x{GRID}")
    return frames


def drop_pixels(frames: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A copy with ``round(fraction * T*H*W)`` random (frame, row, column) pixels set to black in
    every channel, before normalisation, as the reference's ``noise`` option does."""
    if fraction <= 0:
        return frames
    t, h, w = frames.shape[:3]
    flat = rng.choice(t * h * w, size=int(round(fraction * t * h * w)), replace=False)
    out = frames.copy()
    out.reshape(t * h * w, -1)[flat] = 0
    return out


def intensity(frames: np.ndarray) -> tuple[float, float]:
    """Mean pixel intensity of a loop and its s.d. over every pixel of every frame (0-255; the
    image-quality axes of the paper's Extended Data Fig. 5)."""
    grey = frames[..., 0] if frames.ndim == 4 else frames
    return float(grey.mean()), float(grey.std())
