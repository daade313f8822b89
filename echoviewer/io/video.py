"""Video loops (AVI, MP4, MOV, anything FFmpeg in OpenCV opens), decoded with OpenCV, BGR -> RGB.

Opening reads the first frame and checks that the container's frame count is real by decoding
the last frame; when it is not (missing index, truncated file, no count) the frames are counted
by grabbing, capped in frames and seconds so a pathological file cannot hang a study scan.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

# FFmpeg's own log lines ("moov atom not found", ...) would reach the terminal for every corrupt
# file in a study; OpenCV reads this once, when it first opens a video. A user's setting wins.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # AV_LOG_QUIET

import cv2
import numpy as np

from echoviewer.io.loop import DEFAULT_FPS, FrameSource, Loop, LoopError

VIDEO_EXTENSIONS = {".avi", ".mp4", ".mov", ".m4v", ".mkv", ".webm", ".wmv", ".mpg", ".mpeg", ".ogv", ".flv", ".3gp",
                    ".gif"}
#: Forward distance (frames) still served by grabbing instead of seeking.
SEEK_AHEAD = 24
#: Caps on counting frames when the container's count cannot be trusted.
COUNT_MAX_FRAMES = 100_000
COUNT_MAX_SECONDS = 20.0


def _capture(path: Path) -> cv2.VideoCapture:
    """FFmpeg capture; OpenCV's own log lines for unreadable files ("[ERROR:0@0.1] global
    cap_ffmpeg_impl.hpp ... Could not find decoder") are muted while opening: the caller turns a
    failed open into one LoopError line."""
    try:
        level = cv2.utils.logging.getLogLevel()
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    except AttributeError:  # pragma: no cover - very old OpenCV
        return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        return cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    finally:
        cv2.utils.logging.setLogLevel(level)


def _to_rgb(frame: np.ndarray) -> np.ndarray:
    """OpenCV BGR frame -> compact uint8: (H,W) when the channels are equal, else (H,W,3) RGB."""
    if frame.dtype != np.uint8:
        frame = (frame >> 8).astype(np.uint8) if frame.dtype == np.uint16 else frame.astype(np.uint8)
    if frame.ndim == 2:
        return np.ascontiguousarray(frame)
    if frame.shape[2] == 4:
        frame = frame[..., :3]
    b = frame[..., 0]
    if np.array_equal(b, frame[..., 1]) and np.array_equal(b, frame[..., 2]):
        return np.ascontiguousarray(b)
    return cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)


class VideoSource(FrameSource):
    """Random access over a sequential decoder: reads in order, grabs short jumps forward, seeks
    (CAP_PROP_POS_FRAMES) otherwise."""

    def __init__(self, path: Path, n_frames: int):
        self.path = path
        self.n_frames = n_frames
        self._cap: cv2.VideoCapture | None = None
        self._pos = 0  # index of the frame the next read() returns
        self._lock = threading.Lock()

    def _reopen(self) -> cv2.VideoCapture:
        if self._cap is not None:
            self._cap.release()
        cap = self._cap = _capture(self.path)
        self._pos = 0
        if not cap.isOpened():
            raise LoopError(self.path, "the video can no longer be opened")
        return cap

    def read(self, i: int) -> np.ndarray:
        with self._lock:
            cap = self._cap
            if cap is None or i < self._pos or i > self._pos + SEEK_AHEAD:
                if i <= SEEK_AHEAD:
                    cap = self._reopen()
                else:
                    if cap is None:
                        cap = self._reopen()
                    if cap.set(cv2.CAP_PROP_POS_FRAMES, i):
                        self._pos = i
                    else:
                        cap = self._reopen()
            while self._pos < i:
                if not cap.grab():
                    cap.release()
                    self._cap = None
                    raise LoopError(self.path, f"frame {i} cannot be decoded")
                self._pos += 1
            ok, frame = cap.read()
            if not ok or frame is None:
                cap.release()
                self._cap = None
                raise LoopError(self.path, f"frame {i} cannot be decoded")
            self._pos += 1
        return _to_rgb(frame)

    def iter_frames(self) -> Iterator[np.ndarray]:
        cap = _capture(self.path)
        try:
            for _ in range(self.n_frames):
                ok, frame = cap.read()
                if not ok or frame is None:
                    return
                yield _to_rgb(frame)
        finally:
            cap.release()

    def close(self) -> None:
        with self._lock:
            if self._cap is not None:
                self._cap.release()
                self._cap = None


def _count_frames(path: Path, limit_frames: int, limit_s: float) -> tuple[int, bool]:
    """(frames decodable by sequential grabbing, whether a cap stopped the count)."""
    cap = _capture(path)
    n = 0
    t0 = time.monotonic()
    try:
        while cap.grab():
            n += 1
            if n >= limit_frames or (n % 64 == 0 and time.monotonic() - t0 > limit_s):
                return n, True
    finally:
        cap.release()
    return n, False


def open_video(path: str | os.PathLike) -> Loop:
    """Open a video file as a Loop (raises LoopError)."""
    path = Path(path)
    known = path.suffix.lower() in VIDEO_EXTENSIONS
    cap = _capture(path)
    try:
        if not cap.isOpened():
            if known:
                raise LoopError(path, "cannot open the video (corrupt or truncated file)")
            raise LoopError(path, "not a video or DICOM file")
        ok, first = cap.read()
        if not ok or first is None or first.size == 0:
            raise LoopError(path, "video without decodable frames (corrupt or truncated file)")
        height, width = first.shape[:2]
        declared = int(round(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        fps_raw = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC) or 0)
        n = None
        if 0 < declared <= COUNT_MAX_FRAMES:
            if declared == 1:
                n = 1 if not cap.grab() else None
            elif cap.set(cv2.CAP_PROP_POS_FRAMES, declared - 1):
                ok, last = cap.read()
                if ok and last is not None and last.shape[:2] == (height, width):
                    n = declared
    finally:
        cap.release()

    if n is None:
        counted, capped = _count_frames(path, COUNT_MAX_FRAMES, COUNT_MAX_SECONDS)
        if counted == 0:
            raise LoopError(path, "video without decodable frames (corrupt or truncated file)")
        if declared > 0 and counted < declared - max(2, int(0.02 * declared)) and not capped:
            raise LoopError(path, f"truncated video: the header says {declared} frames but only {counted} "
                                  "can be decoded")
        n = counted

    if 1.0 <= fps_raw <= 1000.0:
        fps, fps_source = fps_raw, "container"
    else:
        fps, fps_source = DEFAULT_FPS, "default"
    codec = "".join(chr((fourcc >> (8 * k)) & 0xFF) for k in range(4)).strip("\x00 ") if fourcc else ""
    info: dict[str, str | int] = {"codec": codec if codec.isprintable() else "",
                                  "container": path.suffix.lower().lstrip(".")}
    if declared and declared != n:
        info["frames_declared"] = declared
    return Loop(
        path=path,
        kind="video",
        n_frames=n,
        height=height,
        width=width,
        fps=fps,
        fps_source=fps_source,
        cm_per_pixel=None,
        source=VideoSource(path, n),
        info=info,
        first_frame=_to_rgb(first),  # the probe: frame 0 is what a viewer shows first
    )
