"""Readers (video, ultrasound DICOM), study scanning, the native <-> 112 grid transform."""

import os as _os

# Silence FFmpeg's log lines for corrupt files (read once by OpenCV); a user's setting wins.
_os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

from echoviewer.io.loop import Loop, LoopError
from echoviewer.io.readers import open_loop
from echoviewer.io.study import StudyScan, scan_study
from echoviewer.io.transform import GridTransform

__all__ = ["GridTransform", "Loop", "LoopError", "StudyScan", "open_loop", "scan_study"]
