"""`open_loop`: picks the reader of a file by its content (ultrasound DICOM or video).

Apart from `loop.py` so that the readers (io/dicom.py, io/video.py) can build a `Loop` without
the loop module importing them back.
"""

from __future__ import annotations

import os
from pathlib import Path

from echoviewer.io.loop import Loop, LoopError

__all__ = ["open_loop"]


def open_loop(path: str | os.PathLike) -> Loop:
    """Open a video file or an ultrasound DICOM (detected by content). Raises LoopError."""
    # the readers import pydicom and OpenCV: only once a file is opened
    from echoviewer.io.dicom import open_dicom
    from echoviewer.io.dicom_layout import looks_like_dicom
    from echoviewer.io.video import open_video

    p = Path(path)
    try:
        if not p.exists():
            raise LoopError(p, "no such file")
        if p.is_dir():
            raise LoopError(p, "is a folder, not a loop file")
        if p.stat().st_size == 0:
            raise LoopError(p, "zero-byte file")
        with open(p, "rb") as fh:
            head = fh.read(2048)
        if looks_like_dicom(head):
            return open_dicom(p)
        if p.suffix.lower() in (".dcm", ".dicom", ".dic"):
            raise LoopError(p, "not a DICOM file (no DICM marker and no parseable dataset)")
        if _looks_like_text(head):
            raise LoopError(p, "not a video or DICOM file (text)")
        return open_video(p)
    except LoopError:
        raise
    except MemoryError:
        raise LoopError(p, "not enough memory to open the file") from None
    except OSError as exc:
        raise LoopError(p, f"cannot read the file: {exc.strerror or exc}") from None
    except Exception as exc:  # never let a decoder's exception type escape
        raise LoopError(p, f"cannot be read: {type(exc).__name__}: {exc}") from None


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head[:-3].decode("utf-8")  # a multi-byte character cut at the end
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return printable >= 0.95 * max(len(text), 1)
