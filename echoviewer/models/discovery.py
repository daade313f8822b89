"""Where weights are looked for.

Search folders, in order (duplicates removed):

1. ``$ECHOVIEWER_WEIGHTS`` (one folder, or several separated by ``os.pathsep``), when set;
2. ``weights/`` of the app: the repository's ``weights/`` (next to the ``echoviewer`` package),
   the frozen bundle's ``sys._MEIPASS/weights`` and ``weights/`` next to a frozen executable;
3. ``weights/`` of the per-user folder (``paths.user_dir()``: ``$ECHOVIEWER_HOME``, else ``~/.echoviewer``
   when it exists, else the OS's application-data folder).

For a task, the first match wins over three passes through these folders:

1. the released EchoNet-Dynamic files by name (``deeplabv3_resnet50_random.pt``,
   ``r2plus1d_18_32_2_pretrained.pt``);
2. the project's own non-demo weights (``NAME.json`` manifest with this task and ``demo: false``
   beside ``NAME.pt``; within a folder by file name);
3. the bundled demo weights ``demo_segmentation.pt`` / ``demo_ef.pt`` (with their ``.json``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from echoviewer.paths import user_dir  # re-exported: the per-user folder

from .manifest import FORMAT, OFFICIAL_NAMES, WeightsError

__all__ = ["DEMO_NAMES", "OFFICIAL_NAMES", "search_dirs", "user_dir", "find_weights", "available_weights"]

DEMO_NAMES = {"segmentation": "demo_segmentation.pt", "ef": "demo_ef.pt"}
_TASK_WORD = {"segmentation": "segmentation", "ef": "EF"}


def _app_dirs() -> list[Path]:
    import echoviewer

    dirs = [Path(echoviewer.__file__).resolve().parent.parent / "weights"]
    meipass = getattr(sys, "_MEIPASS", None)
    if meipass:
        dirs.append(Path(meipass) / "weights")
    if getattr(sys, "frozen", False) or meipass:
        dirs.append(Path(sys.executable).resolve().parent / "weights")
    return dirs


def search_dirs() -> list[Path]:
    """The folders searched, in order (whether or not they exist)."""
    dirs: list[Path] = []
    env = os.environ.get("ECHOVIEWER_WEIGHTS")
    if env:
        dirs += [Path(p).expanduser() for p in env.split(os.pathsep) if p.strip()]
    dirs += _app_dirs()
    dirs.append(user_dir() / "weights")
    out: list[Path] = []
    seen: set[str] = set()
    for d in dirs:
        key = os.path.normcase(str(d.absolute()))
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _own_candidates(folder: Path, task: str, demo: bool) -> list[Path]:
    out: list[Path] = []
    try:
        manifests = sorted(folder.glob("*.json"))
    except OSError:
        return out
    for m in manifests:
        pt = m.with_suffix(".pt")
        if not pt.is_file():
            continue
        try:
            data = json.loads(m.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            continue
        if (isinstance(data, dict) and data.get("format") == FORMAT and data.get("task") == task
                and bool(data.get("demo", False)) == demo):
            out.append(pt)
    return out


def available_weights(task: str, dirs: list[Path] | None = None) -> list[Path]:
    """Every candidate for ``task``, best first (what ``find_weights`` would pick is the first)."""
    if task not in OFFICIAL_NAMES:
        raise ValueError(f"unknown task {task!r} (expected segmentation or ef)")
    dirs = search_dirs() if dirs is None else [Path(d) for d in dirs]
    found: list[Path] = []
    for d in dirs:                                     # 1. released EchoNet files
        p = d / OFFICIAL_NAMES[task]
        if p.is_file():
            found.append(p)
    for d in dirs:                                     # 2. own-format, not demo
        found += [p for p in _own_candidates(d, task, demo=False) if p.name != DEMO_NAMES[task]]
    for d in dirs:                                     # 3. demo weights
        p = d / DEMO_NAMES[task]
        if p.is_file():
            found.append(p)
    out: list[Path] = []
    for p in found:
        if p not in out:
            out.append(p)
    return out


def find_weights(task: str, explicit: str | Path | None = None) -> Path:
    """The weights file to use for ``task`` ("segmentation" | "ef").

    explicit: a file is returned as given (``NAME.json`` -> ``NAME.pt``) if it exists; a folder is
    searched like the default folders. Otherwise see the module docstring. Raises WeightsError
    ("no segmentation weights found; looked in …") when nothing is there.
    """
    if task not in OFFICIAL_NAMES:
        raise ValueError(f"unknown task {task!r} (expected segmentation or ef)")
    if explicit is not None and str(explicit) != "":
        p = Path(explicit).expanduser()
        if p.suffix.lower() == ".json":
            p = p.with_suffix(".pt")
        if p.is_dir():
            dirs = [p]
        elif p.is_file():
            return p
        else:
            raise WeightsError(f"{p}: no such file", p)
    else:
        dirs = search_dirs()
    found = available_weights(task, dirs)
    if found:
        return found[0]
    places = "; ".join(str(d) for d in dirs)
    raise WeightsError(
        f"no {_TASK_WORD[task]} weights found; looked in {places} "
        f"(put {OFFICIAL_NAMES[task]} in one of them, or set ECHOVIEWER_WEIGHTS)")
