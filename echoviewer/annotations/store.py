"""Crash-safe sidecar files for corrections.

The sidecar of ``study/loop.avi`` is ``study/loop.avi.echoviewer.json`` (documented in
docs/corrections.md). Each save writes a temporary file in the same folder, fsyncs it, renames it
over the old one and fsyncs the folder: after a crash or SIGKILL the file on disk is the previous
save or the new one, never a torn one. When the study folder cannot be written (read-only media,
permissions) the sidecar goes to the per-user data folder instead and the caller is told where.
"""

from __future__ import annotations

import errno
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from echoviewer.annotations.model import FORMAT, Corrections
from echoviewer.paths import atomic_write, remove_stale_temps, user_dir

SUFFIX = ".echoviewer.json"


class SaveError(OSError):
    """A save failed; the message says why in plain words. Edits stay in memory and on the last good file."""


def beside_path(loop_path) -> Path:
    p = Path(loop_path)
    return p.with_name(p.name + SUFFIX)


def fallback_path(loop_path) -> Path:
    p = Path(loop_path).resolve()
    digest = hashlib.sha256(str(p.parent).encode()).hexdigest()[:16]
    return user_dir() / "corrections" / f"{p.parent.name}-{digest}" / (p.name + SUFFIX)


def _read(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return None
    return data


def load_state(loop_path) -> tuple[dict | None, Path | None]:
    """The newest readable sidecar of a loop (beside it, or in the per-user fallback). Temporary
    files of saves that a crash interrupted are cleaned up on the way."""
    paths = (beside_path(loop_path), fallback_path(loop_path))
    for p in paths:
        remove_stale_temps(p)
    found = [(d, p) for p in paths if (d := _read(p))]
    if not found:
        return None, None
    return max(found, key=lambda dp: dp[0].get("saved_at", ""))


def save_state(state: dict, loop_path) -> tuple[Path, bool]:
    """Write the sidecar; returns (path written, True if it had to go to the per-user folder)."""
    state["saved_at"] = datetime.now(UTC).isoformat(timespec="microseconds")
    blob = json.dumps(state, indent=1).encode("utf-8")
    target = beside_path(loop_path)
    try:
        atomic_write(target, lambda f: f.write(blob), fsync=True)
        return target, False
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise SaveError(exc.errno, _describe(exc, target)) from exc
    alt = fallback_path(loop_path)
    try:
        alt.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(alt, lambda f: f.write(blob), fsync=True)
    except OSError as exc:
        raise SaveError(exc.errno, _describe(exc, alt)) from exc
    return alt, True


def _describe(exc: OSError, path: Path) -> str:
    if exc.errno == errno.ENOSPC:
        why = "the disk is full"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "the folder is not writable"
    else:
        why = exc.strerror or str(exc)
    return f"could not save corrections to {path}: {why}; your edits are kept in memory and in the last saved file"


class AutoSaver:
    """Saves a Corrections object after every completed edit, undo and redo."""

    def __init__(self, corrections: Corrections, loop_path, on_saved=None, on_error=None):
        self.corrections = corrections
        self.loop_path = Path(loop_path)
        self.on_saved = on_saved  # (path, used_fallback) -> None
        self.on_error = on_error  # (SaveError) -> None
        self.path: Path | None = None
        self.used_fallback = False
        corrections.listeners.append(self._save)

    def _save(self, corrections: Corrections, action: str) -> None:
        try:
            self.path, self.used_fallback = save_state(corrections.state, self.loop_path)
        except SaveError as exc:
            if self.on_error:
                self.on_error(exc)
                return
            raise
        if self.on_saved:
            self.on_saved(self.path, self.used_fallback)


def open_corrections(analysis, loop_path, user: str | None = None) -> Corrections:
    """Corrections for a loop: restored from its sidecar if there is one, else fresh from the analysis."""
    state, _ = load_state(loop_path)
    return Corrections(analysis, state=state, user=user)


def belongs_to(loop, corrections: Corrections) -> bool:
    """Whether saved corrections were made on this very file (same content hash); corrections that
    predate the hash, or a loop whose hash cannot be read, are taken as belonging."""
    want = (corrections.state.get("loop") or {}).get("sha256")
    if not want:
        return True
    try:
        return loop.content_hash() == want
    except Exception:
        return True
