"""One loop of a study as the review session tracks it: its state, analysis and corrections."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from echoviewer.annotations.reconcile import loop_corrected, loop_decision
from echoviewer.formatting import format_duration, format_ef

if TYPE_CHECKING:
    from echoviewer.annotations.model import Corrections
    from echoviewer.annotations.store import AutoSaver
    from echoviewer.io.gates import Decision
    from echoviewer.io.loop import Loop
    from echoviewer.pipeline.results import LoopAnalysis


class LoopState(StrEnum):
    """Where a loop is in the study's life. Compares equal to its value ("done" == LoopState.DONE)."""

    QUEUED = "queued"  # readable, waiting for its analysis
    ANALYSING = "analysing"
    DONE = "done"  # analysed; its corrections are open
    FAILED = "failed"  # the analysis failed: ``message`` says why
    UNREADABLE = "unreadable"  # the file could not be opened: ``message`` says why; never analysed


class IllegalTransition(RuntimeError):
    """A change of state the study's rules forbid: a bug in the caller, never caused by the data."""


#: The state changes a loop may make. A job that was already running when its loop was queued
#: again (re-analysis with unchanged settings) still reports, so QUEUED may go straight to DONE
#: or FAILED; DONE and FAILED leave only through a reset; UNREADABLE never changes.
TRANSITIONS: dict[LoopState, frozenset[LoopState]] = {
    LoopState.QUEUED: frozenset({LoopState.QUEUED, LoopState.ANALYSING, LoopState.DONE, LoopState.FAILED}),
    LoopState.ANALYSING: frozenset({LoopState.ANALYSING, LoopState.QUEUED, LoopState.DONE, LoopState.FAILED}),
    LoopState.DONE: frozenset({LoopState.QUEUED}),
    LoopState.FAILED: frozenset({LoopState.QUEUED}),
    LoopState.UNREADABLE: frozenset(),
}


@dataclass(frozen=True)
class SaveResult:
    """How the last save of a loop's corrections went."""

    path: Path | None = None
    fallback: bool = False  # written to the per-user folder: the study folder is read-only
    error: str | None = None  # why it failed; the edits are kept in memory and in the last saved file

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(eq=False)
class LoopEntry:
    key: str  # str(path), or "error:N" for an unreadable file without a path
    name: str
    loop: Loop | None = None  # None when unreadable
    state: LoopState = LoopState.QUEUED
    stage: str = ""  # pipeline stage while analysing
    percent: int = 0
    message: str = ""  # unreadable reason / analysis error
    analysis: LoopAnalysis | None = None
    masks: np.ndarray | None = field(default=None, repr=False)  # (T,112,112) bool, filled in as chunks arrive
    have: np.ndarray | None = field(default=None, repr=False)  # (T,) bool: which frames of ``masks`` arrived
    corrections: Corrections | None = None  # open once analysed
    saver: AutoSaver | None = field(default=None, repr=False)  # saves ``corrections`` after every edit
    saved: SaveResult | None = None  # the last save, None before the first edit
    restored: str = ""  # "restored N corrections from the last session" until the next save

    @property
    def readable(self) -> bool:
        return self.loop is not None

    @property
    def pending(self) -> bool:
        """Waiting for or in its analysis (what selecting it re-prioritises)."""
        return self.analysis is None and self.state in (LoopState.QUEUED, LoopState.ANALYSING)

    @property
    def decision(self) -> Decision | None:
        """Whether the method applies (the gates, overruled by a person's choice); None until analysed."""
        if self.state != LoopState.DONE or self.analysis is None:
            return None
        return loop_decision(self.analysis, self.corrections)

    def mask(self, frame: int) -> np.ndarray | None:
        """The (112,112) LV mask of ``frame``: a person's tracing on it, else the analysis', else a
        chunk that already arrived."""
        if self.corrections is not None:
            traced = self.corrections.traced_masks().get(frame)
            if traced is not None:
                return traced
        if self.analysis is not None:
            masks = self.analysis.masks
            return masks[frame] if 0 <= frame < len(masks) else None
        if self.masks is not None and self.have is not None and 0 <= frame < len(self.have) and self.have[frame]:
            return self.masks[frame]
        return None

    def traced(self, frame: int) -> bool:
        """Whether ``frame`` shows a person's tracing rather than the model's mask."""
        return self.corrections is not None and frame in self.corrections.traced_masks()

    def partial_areas(self) -> np.ndarray | None:
        """LV area per frame from the chunks so far (NaN where none arrived yet)."""
        if self.masks is None or self.have is None:
            return None
        a = self.masks.reshape(len(self.masks), -1).sum(axis=1).astype(float)
        a[~self.have] = np.nan
        return a

    def status_text(self) -> str:
        if self.state == LoopState.UNREADABLE:
            return f"unreadable: {self.message}"
        if self.state == LoopState.FAILED:
            return f"analysis failed: {self.message}"
        if self.state == LoopState.ANALYSING:
            return f"analysing {self.percent} %"
        if self.state == LoopState.DONE and self.analysis is not None:
            a = self.analysis
            c = self.corrections
            d = self.decision
            if d is not None and not d.analysable:
                return d.text()  # no EF on a loop the method does not apply to
            text = f"EF {format_ef(a.ef_mean, a.ef_sd)}" if a.ef_mean is not None else "done · no EF"
            if c is not None and c.has_edits:
                values = c.values()
                if loop_corrected(values, a):
                    s = c.summary()
                    ef = f"EF {format_ef(s.ef_mean, s.ef_sd)}" if s.ef_mean is not None else "no EF"
                    text = f"✎ {ef} (model {format_ef(a.ef_mean)})"
            if d is not None and not d.reported:
                return f"{d.text()}\n{text} · not reported"
            return text
        return self.state.value

    def detail_text(self) -> str:
        if self.loop is None:
            return ""
        lp = self.loop
        return f"{format_duration(lp.n_frames, lp.fps)} · {lp.fps:.0f} fps · {lp.n_frames} frames"
