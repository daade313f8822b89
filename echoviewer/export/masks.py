"""Masks for researchers (a contract): per loop ``<file name>.masks.npz`` holding ``masks``, bool
(T,H,W) at the loop's native resolution (what the window overlays), ``ed_frames``, ``es_frames``
(0-based, one per beat) and ``beat_included`` (whether the beat counts in the loop's EF); and,
like the reference's segmentation videos, ``<file name>.overlay.avi``: the frames with the mask
drawn in, the LV-area trace below them like an ECG strip with ES (blue) and ED (red) lines.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from echoviewer.analysis.drawing import OVERLAY_COLOR, OVERLAY_OPACITY, composite_overlay
from echoviewer.io.echonet_video import open_mjpg_writer
from echoviewer.paths import atomic_write

__all__ = ["MASKS_SUFFIX", "VIDEO_SUFFIX", "mask_outputs", "native_masks", "write_mask_video", "write_masks"]

MASKS_SUFFIX = ".masks.npz"
VIDEO_SUFFIX = ".overlay.avi"
_STRIP = 72  # px: the area trace under each frame
_ES_BGR, _ED_BGR, _TRACE_BGR, _NOW_BGR = (255, 160, 80), (90, 90, 255), (230, 230, 230), (0, 196, 255)


def _native_mask(analysis, loop, i: int, shape: tuple[int, int]) -> np.ndarray:
    return loop.transform.mask_to_native(analysis.masks[i], shape)


def native_masks(analysis, loop) -> np.ndarray:
    """The analysis's masks on the loop's native frames: (T,H,W) bool."""
    h, w = loop.frame_rgb(0).shape[:2]
    return np.stack([_native_mask(analysis, loop, i, (h, w)) for i in range(analysis.n_frames)])


def write_masks(analysis, loop, path: str | os.PathLike) -> Path:
    """``path`` (.masks.npz, compressed), written whole or not at all."""
    beats = analysis.beats
    masks = native_masks(analysis, loop)
    ed = np.array([b.ed_frame for b in beats], np.int64)
    es = np.array([b.es_frame for b in beats], np.int64)
    included = np.array([b.included for b in beats], bool)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: np.savez_compressed(f, masks=masks, ed_frames=ed, es_frames=es,
                                                     beat_included=included))
    return path


def _strip(analysis, width: int) -> tuple[np.ndarray, np.ndarray]:
    """The area trace (BGR, ``_STRIP`` high) and each frame's x on it."""
    strip = np.full((_STRIP, width, 3), 20, np.uint8)
    a = np.asarray(analysis.areas, float)
    xs = np.linspace(8, width - 8, max(len(a), 1))
    lo, hi = (float(a.min()), float(a.max())) if len(a) else (0.0, 1.0)
    ys = _STRIP - 8 - (a - lo) / max(hi - lo, 1.0) * (_STRIP - 16)
    for b in analysis.beats:
        for frame, color in ((b.es_frame, _ES_BGR), (b.ed_frame, _ED_BGR)):
            x = int(round(xs[frame]))
            cv2.line(strip, (x, 4), (x, _STRIP - 4), color, 1)
    if len(a) > 1:
        cv2.polylines(strip, [np.stack([xs, ys], 1).round().astype(np.int32)], False, _TRACE_BGR, 1, cv2.LINE_AA)
    return strip, xs


def _overlay_frames(analysis, loop) -> Iterator[np.ndarray]:
    first = loop.frame_rgb(0)
    h, w = first.shape[:2]
    strip, xs = _strip(analysis, w)
    for i in range(analysis.n_frames):
        rgb = first if i == 0 else loop.frame_rgb(i)
        over = composite_overlay(rgb, _native_mask(analysis, loop, i, (h, w)), OVERLAY_COLOR, OVERLAY_OPACITY)
        below = strip.copy()
        x = int(round(xs[i]))
        cv2.line(below, (x, 0), (x, _STRIP - 1), _NOW_BGR, 2)
        yield np.vstack([cv2.cvtColor(over, cv2.COLOR_RGB2BGR), below])


def write_mask_video(analysis, loop, path: str | os.PathLike) -> Path:
    """``path`` (.overlay.avi, MJPG at the loop's frame rate); a partial file is removed."""
    path = Path(path)
    h, w = loop.frame_rgb(0).shape[:2]
    part = path.with_name(f".{path.stem}.part.avi")  # OpenCV picks the container by the extension
    try:
        vw = open_mjpg_writer(part, loop.fps, w, h + _STRIP)
    except OSError as exc:
        raise OSError(f"cannot write {path}: {exc.strerror or 'OpenCV cannot write an MJPG AVI there'}") from None
    try:
        for frame in _overlay_frames(analysis, loop):
            vw.write(frame)
    except BaseException:
        vw.release()
        part.unlink(missing_ok=True)
        raise
    vw.release()
    os.replace(part, path)
    return path


def mask_outputs(paths, out_dir: str | os.PathLike, suffix: str) -> dict[str, Path]:
    """Each loop path's output file in ``out_dir``: its file name + ``suffix``; loops of the same
    name (in different folders) get ``-2``, ``-3`` … so none overwrites another."""
    out, taken = {}, set()
    for p in paths:
        name = Path(p).name
        candidate, k = name + suffix, 1
        while candidate in taken:
            k += 1
            candidate = f"{name}-{k}{suffix}"
        taken.add(candidate)
        out[str(p)] = Path(out_dir) / candidate
    return out
