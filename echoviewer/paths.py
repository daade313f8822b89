"""Per-user locations and crash-safe file writes shared by the core."""

from __future__ import annotations

import glob
import hashlib
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def sha256_file(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file's bytes, read in chunks (weights files are 100+ MB)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


#: The application's name in the OS's per-user folders (platformdirs).
APP_NAME = "EchoViewer"
#: The per-user folder of versions before 0.2, kept for the users who have one.
LEGACY_DIR = ".echoviewer"


def _home_override() -> Path | None:
    env = os.environ.get("ECHOVIEWER_HOME")
    return Path(env).expanduser() if env else None


def _legacy_dir() -> Path | None:
    """~/.echoviewer when it exists: its weights, cache and corrections stay where they are."""
    legacy = Path.home() / LEGACY_DIR
    return legacy if legacy.is_dir() else None


def user_dir() -> Path:
    """The per-user data folder (weights, corrections kept for read-only studies, the demo study).

    $ECHOVIEWER_HOME when set (tests and CI point it at a temporary folder); else ~/.echoviewer when
    it exists (users of earlier versions keep their folder); else the OS's place for application
    data: ~/.local/share/EchoViewer, ~/Library/Application Support/EchoViewer, %LOCALAPPDATA%\\EchoViewer.
    """
    import platformdirs

    return _home_override() or _legacy_dir() or Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def user_cache_dir() -> Path:
    """Where analyses are cached: ``cache`` in $ECHOVIEWER_HOME or ~/.echoviewer (as before), else
    the OS's cache folder (~/.cache/EchoViewer, ~/Library/Caches/EchoViewer, …\\EchoViewer\\Cache)."""
    import platformdirs

    base = _home_override() or _legacy_dir()
    return base / "cache" if base is not None else Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def user_log_dir() -> Path:
    """Where the app's log and crash files go: ``logs`` in $ECHOVIEWER_HOME, else the OS's log folder
    (~/.local/state/EchoViewer/log, ~/Library/Logs/EchoViewer, …\\EchoViewer\\Logs)."""
    import platformdirs

    base = _home_override()
    return base / "logs" if base is not None else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def atomic_write(path: Path, write: Callable[[BinaryIO], object], fsync: bool = False,
                 mode: int | None = None) -> None:
    """Write through a temporary file in the same folder, then rename over ``path``.

    Readers see the old file or the new one, never a half-written one; with ``fsync`` the data
    (and the rename) reach the disk before this returns, so a crash or SIGKILL cannot lose it.
    The file gets ``mode``, else the mode of the file it replaces, else the user's usual mode.
    """
    path = Path(path)
    mode = _new_file_mode(path) if mode is None else mode
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if mode is not None:  # mkstemp's files are private (0600); the user's files are not
            os.fchmod(fd, mode)
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


def _umask() -> int:
    """The process umask, read without changing it (os.umask sets it, racing other threads)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def _new_file_mode(path: Path) -> int | None:
    """The mode a file written at ``path`` gets: the replaced file's, else what open() would give."""
    if not hasattr(os, "fchmod"):
        return None
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


def remove_stale_temps(path: Path, older_than_s: float = 60.0) -> int:
    """Delete the temporary files ``atomic_write(path)`` left behind when its process was killed
    mid-write. Only those older than ``older_than_s``: a younger one may be another running
    instance's write in progress. Returns how many were removed; never raises."""
    path = Path(path)
    removed = 0
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.*.tmp"))
    except OSError:
        return 0
    now = time.time()
    for tmp in candidates:
        try:
            if now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()
                removed += 1
        except OSError:
            pass  # read-only folder, or another instance got there first
    return removed
