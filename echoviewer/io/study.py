"""Scan a study folder: every candidate file becomes a Loop or a LoopError, never an exception."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from echoviewer.io.loop import Loop, LoopError
from echoviewer.io.readers import open_loop

#: Sidecars and other files that are never loops; skipped silently. Anything else is tried,
#: including unknown and missing extensions (DICOM files often have none).
SKIP_EXTENSIONS = {
    ".csv", ".tsv", ".json", ".npz", ".npy", ".txt", ".md", ".png", ".jpg", ".jpeg", ".bmp", ".tif",
    ".tiff", ".pdf", ".html", ".htm", ".xml", ".yaml", ".yml", ".ini", ".cfg", ".toml", ".log",
    ".py", ".pyc", ".pt", ".pth", ".onnx", ".ckpt", ".zip", ".gz", ".tar", ".7z", ".rtf", ".doc",
    ".docx", ".xls", ".xlsx", ".sqlite", ".db", ".lock", ".tmp", ".bak", ".swp",
}
SKIP_NAMES = {"DICOMDIR", "Thumbs.db", "desktop.ini", "__MACOSX", "__pycache__"}


@dataclass
class StudyScan:
    loops: list[Loop] = field(default_factory=list)
    errors: list[LoopError] = field(default_factory=list)


def is_candidate(path: Path) -> bool:
    """False for hidden files, known sidecars and DICOMDIR; True for anything worth trying."""
    name = path.name
    if name.startswith(".") or name in SKIP_NAMES or name.endswith("~"):
        return False
    return path.suffix.lower() not in SKIP_EXTENSIONS


def iter_candidates(folder: Path):
    """Candidate files under `folder`, recursively, in sorted order (hidden folders skipped)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") or entry.name in SKIP_NAMES:
            continue
        try:
            if entry.is_dir(follow_symlinks=False):
                yield from iter_candidates(Path(entry.path))
            elif entry.is_file() and is_candidate(Path(entry.path)):
                yield Path(entry.path)
        except OSError:
            continue


def scan_study(folder: str | os.PathLike) -> StudyScan:
    """Open every candidate file under `folder` (or the one file given). Never raises for bad
    files: each becomes a LoopError with a one-line reason. Opening reads headers and the first
    frame only."""
    root = Path(folder)
    scan = StudyScan()
    if not root.exists():
        scan.errors.append(LoopError(root, "no such file or folder"))
        return scan
    paths = [root] if root.is_file() else list(iter_candidates(root))
    for p in paths:
        try:
            scan.loops.append(open_loop(p))
        except LoopError as exc:
            scan.errors.append(exc)
        except Exception as exc:  # open_loop converts everything; belt and braces
            scan.errors.append(LoopError(p, f"{type(exc).__name__}: {exc}"))
    return scan
