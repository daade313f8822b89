"""EchoNet-Dynamic videos: 112x112, 3 identical (grey) channels, MJPG AVI at the video's frame rate.

The rest of the dataset format (FileList.csv, VolumeTracings.csv, whole folders) needs tracings
and lives in ``echoviewer.dataset.echonet``.
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

__all__ = ["open_mjpg_writer", "read_echonet_video", "write_echonet_video"]


def open_mjpg_writer(path: str | os.PathLike, fps: float, width: int, height: int) -> cv2.VideoWriter:
    """An MJPG AVI writer for BGR frames of ``width`` x ``height`` (its folder made); OSError when
    OpenCV cannot write one there."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), float(fps), (int(width), int(height)), True)
    if not vw.isOpened():
        raise OSError(f"{path}: OpenCV cannot write an MJPG AVI here")
    return vw


def write_echonet_video(path: str | os.PathLike, frames: np.ndarray, fps: float) -> Path:
    """MJPG AVI with 3 identical (grey) channels at `fps`. frames: (T,H,W) grey or (T,H,W,3)
    RGB uint8 (colour input is converted to grey; EchoNet videos are 112x112)."""
    path = Path(path)
    arr = np.asarray(frames)
    if arr.dtype != np.uint8:
        raise ValueError(f"frames must be uint8, got {arr.dtype}")
    if arr.ndim == 4:
        if arr.shape[3] != 3:
            raise ValueError(f"frames must be (T,H,W) or (T,H,W,3), got {arr.shape}")
        same = np.array_equal(arr[..., 0], arr[..., 1]) and np.array_equal(arr[..., 0], arr[..., 2])
        grey = arr[..., 0] if same else np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in arr])
    elif arr.ndim == 3:
        grey = arr
    else:
        raise ValueError(f"frames must be (T,H,W) or (T,H,W,3), got {arr.shape}")
    if len(grey) == 0:
        raise ValueError("no frames")
    h, w = grey.shape[1:3]
    vw = open_mjpg_writer(path, fps, w, h)
    try:
        for g in grey:
            vw.write(cv2.cvtColor(np.ascontiguousarray(g), cv2.COLOR_GRAY2BGR))
    finally:
        vw.release()
    return path


def read_echonet_video(path: str | os.PathLike) -> np.ndarray:
    """(T,H,W,3) uint8 RGB frames of an AVI, decoded with OpenCV as the reference loader does."""
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise OSError(f"{path}: cannot open the video")
    out = []
    try:
        while True:
            ok, f = cap.read()
            if not ok:
                break
            out.append(cv2.cvtColor(f, cv2.COLOR_BGR2RGB))
    finally:
        cap.release()
    if not out:
        raise OSError(f"{path}: no decodable frames")
    return np.stack(out)
