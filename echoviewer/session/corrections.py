"""A loop's corrections as its analysis arrives: restored from the sidecar when they belong to this
file, set aside when they belong to another file of the same name, fresh otherwise."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from echoviewer.annotations.model import Corrections
from echoviewer.annotations.store import belongs_to, load_state, open_corrections
from echoviewer.errors import one_line


@dataclass
class Opened:
    corrections: Corrections
    restored: int = 0  # edits found in the sidecar (undo/redo not counted)
    sidecar: Path | None = None  # where they were restored from
    problems: list[str] = field(default_factory=list)  # one line each, for the user

    @property
    def note(self) -> str:
        """For the status bar ("" when there is nothing to say)."""
        if not self.restored:
            return ""
        return f"restored {self.restored} correction{'s' if self.restored != 1 else ''} from the last session"


def open_loop_corrections(name: str, loop, analysis, user: str | None) -> Opened:
    """The corrections of a freshly analysed loop; never raises for a bad sidecar (a problem instead)."""
    problems = []
    try:
        c = open_corrections(analysis, loop.path, user=user)
    except Exception as exc:
        problems.append(f"{name}: could not read its corrections: {one_line(str(exc))}")
        c = Corrections(analysis, user=user)
    if c.has_edits and not belongs_to(loop, c):
        problems.append(f"{name}: the saved corrections belong to a different file of this name; "
                        f"not applied{_set_aside(loop)}")
        c = Corrections(analysis, user=user)
    if not c.state.get("loop"):
        c.state["loop"] = _loop_info(loop, analysis)
    if not c.has_edits:
        return Opened(c, problems=problems)
    n = sum(1 for a in c.audit if a.get("action") not in ("undo", "redo"))
    return Opened(c, restored=n, sidecar=load_state(loop.path)[1], problems=problems)


def _loop_info(loop, analysis) -> dict:
    info = {"file": Path(loop.path).name, "n_frames": int(analysis.n_frames), "fps": float(analysis.fps)}
    try:
        info["sha256"] = loop.content_hash()
    except Exception:
        pass
    return info


def _set_aside(loop) -> str:
    """Corrections made on another file of the same name: keep a copy beside; says where."""
    _, path = load_state(loop.path)
    if path is None:
        return ""
    aside = path.with_name(path.name + ".other-file")
    try:
        shutil.copy2(path, aside)
        return f" (kept as {aside})"
    except OSError:
        return f" (left in {path} until the first new edit)"
