"""Per-user locations and crash-safe file writes shared by the core."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def user_dir() -> Path:
    """~/.echoviewer, or $ECHOVIEWER_HOME (tests and CI point it at a temporary folder)."""
    env = os.environ.get("ECHOVIEWER_HOME")
    return Path(env).expanduser() if env else Path.home() / ".echoviewer"


def atomic_write(path: Path, write: Callable[[BinaryIO], object], fsync: bool = False) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``.

    Readers see the old file or the new one, never a half-written one; with ``fsync`` the data
    (and the rename) reach the disk before this returns, so a crash or SIGKILL cannot lose it.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
        if fsync and hasattr(os, "O_DIRECTORY"):
            dfd = os.open(path.parent, os.O_DIRECTORY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
