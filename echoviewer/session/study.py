"""The open study: its loops in order, the one on screen, and every change of their state.

A `StudySession` owns the study's transitions (queued -> analysing -> done / failed, corrections
opened, partial masks as chunks arrive, reset on re-analysis) and tells observers about them
with `SessionEvent`s. It knows nothing of Qt or of the worker: the window feeds it the worker's
reports and observes it; the study list renders it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from echoviewer.annotations.store import AutoSaver, SaveError
from echoviewer.errors import one_line
from echoviewer.session.corrections import Opened, open_loop_corrections
from echoviewer.session.entry import TRANSITIONS, IllegalTransition, LoopEntry, LoopState, SaveResult

#: Share of a loop's progress per pipeline stage (segmenting dominates).
STAGE_SPAN = {"segment": (0, 80), "beats": (80, 85), "ef": (85, 100), "done": (100, 100)}


def stage_percent(stage: str, done: int, total: int) -> int:
    lo, hi = STAGE_SPAN.get(stage, (0, 100))
    frac = done / total if total else 1.0
    return int(round(lo + (hi - lo) * min(max(frac, 0.0), 1.0)))


class EventKind(StrEnum):
    OPENED = "opened"  # a new study: every entry is new, none is on screen
    SELECTED = "selected"  # another loop is on screen (key)
    CHANGED = "changed"  # an entry's state, progress, message, analysis or corrections changed (key)
    MASKS = "masks"  # masks of some frames arrived while it is analysed (key, frames)
    EDITED = "edited"  # a completed correction, undo or redo, after its save (key, action)


@dataclass(frozen=True)
class SessionEvent:
    kind: EventKind
    key: str | None = None
    frames: np.ndarray | None = None  # MASKS
    action: str = ""  # EDITED: the Corrections action ("move_es", "undo", ...)


Observer = Callable[[SessionEvent], None]


@dataclass
class Finished:
    """What `StudySession.finished` did: the entry, and what opening its corrections found."""

    entry: LoopEntry
    opened: Opened | None = None  # None when corrections with edits were kept across a re-analysis

    @property
    def note(self) -> str:
        return self.opened.note if self.opened is not None else ""

    @property
    def problems(self) -> list[str]:
        return self.opened.problems if self.opened is not None else []


class StudySession:
    def __init__(self, settings: Any = None, user: str | None = None):
        #: the analysis settings results must have been made with (a result made with others is stale)
        self.settings = settings
        #: the name written to the corrections' audit trail
        self.user = user
        self.entries: dict[str, LoopEntry] = {}
        self.order: list[str] = []
        self.current_key: str | None = None
        self.folder: Path | None = None
        self._observers: list[Observer] = []

    # -- observers --------------------------------------------------------------------------------
    def subscribe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer(event)`` after every change; returns the function that unsubscribes."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def _emit(self, kind: EventKind, key: str | None = None, **data) -> None:
        event = SessionEvent(kind, key, **data)
        for observer in list(self._observers):
            observer(event)

    def _move(self, e: LoopEntry, new: LoopState) -> None:
        if new not in TRANSITIONS[e.state]:
            raise IllegalTransition(f"{e.name}: {e.state.value} -> {new.value} is not allowed")
        e.state = new

    # -- reading ----------------------------------------------------------------------------------
    def __iter__(self) -> Iterator[LoopEntry]:
        return (self.entries[k] for k in self.order)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, key: str) -> LoopEntry:
        return self.entries[key]

    def get(self, key: str | None) -> LoopEntry | None:
        return self.entries.get(key) if key is not None else None

    @property
    def current(self) -> LoopEntry | None:
        return self.get(self.current_key)

    def count(self, state: LoopState) -> int:
        return sum(1 for e in self.entries.values() if e.state == state)

    def unsaved(self) -> list[str]:
        """Names of the loops whose last corrections save failed (edits only in memory)."""
        return [e.name for e in self if e.saved is not None and not e.saved.ok]

    # -- the study --------------------------------------------------------------------------------
    def open(self, folder, loops=(), errors=()) -> None:
        """A new study from a scan: its readable loops (queued) and unreadable files, by name."""
        self.entries, self.order, self.current_key = {}, [], None
        self.folder = Path(folder)
        for loop in sorted(loops, key=lambda lp: Path(lp.path).name.lower()):
            self._add(LoopEntry(key=str(loop.path), name=Path(loop.path).name, loop=loop))
        for err in sorted(errors, key=lambda e: str(getattr(e, "path", "")).lower()):
            path = str(getattr(err, "path", "") or "")
            self._add(LoopEntry(key=path or f"error:{len(self.entries)}", name=Path(path).name or "?",
                                state=LoopState.UNREADABLE,
                                message=one_line(str(getattr(err, "problem", None) or err))))
        self._emit(EventKind.OPENED)

    def _add(self, e: LoopEntry) -> None:
        self.entries[e.key] = e
        self.order.append(e.key)

    def first_key(self, prefer: str | None = None) -> str | None:
        """The loop to show first: ``prefer`` when it is a readable loop, else the first readable one."""
        e = self.get(prefer)
        if e is not None and e.readable:
            return e.key
        return next((e.key for e in self if e.readable), None)

    def select(self, key: str) -> LoopEntry:
        """Put a readable loop on screen (KeyError: not in the study; IllegalTransition: unreadable)."""
        e = self.entries[key]
        if not e.readable:
            raise IllegalTransition(f"{e.name} is unreadable: it cannot be shown")
        if key != self.current_key:
            self.current_key = key
            self._emit(EventKind.SELECTED, key)
        return e

    def queue(self) -> list:
        """The loops still to analyse, in study order (the failed ones wait for a re-analysis);
        each not already being analysed is marked queued."""
        todo = [e for e in self if e.readable and e.analysis is None and e.state != LoopState.FAILED]
        for e in todo:
            if e.state != LoopState.ANALYSING:
                self._move(e, LoopState.QUEUED)
                self._emit(EventKind.CHANGED, e.key)
        return [e.loop for e in todo]

    def reset(self, settings: Any = None) -> None:
        """Re-analysis: forget every result (the sonographer's corrections stay), optionally with
        new analysis settings."""
        if settings is not None:
            self.settings = settings
        for e in self:
            if not e.readable:
                continue
            self._move(e, LoopState.QUEUED)
            e.analysis, e.masks, e.have = None, None, None
            e.percent, e.stage, e.message = 0, "", ""
            self._emit(EventKind.CHANGED, e.key)

    def set_user(self, name: str) -> None:
        self.user = name
        for e in self.entries.values():
            if e.corrections is not None:
                e.corrections.user = name

    # -- the worker's reports (a key not in the study is a report about a study closed since: None) --
    def started(self, key: str) -> LoopEntry | None:
        e = self.entries.get(key)
        if e is None:
            return None
        self._move(e, LoopState.ANALYSING)
        e.percent, e.message = 0, ""
        self._emit(EventKind.CHANGED, key)
        return e

    def progressed(self, key: str, progress) -> LoopEntry | None:
        """A pipeline ``Progress`` (stage, done, total; ``frames`` / ``masks`` chunks while
        segmenting). None when ignored: unknown key, or the loop already has its result."""
        e = self.entries.get(key)
        if e is None or e.analysis is not None:
            return None
        was = (e.state, e.percent)
        self._move(e, LoopState.ANALYSING)
        e.stage = getattr(progress, "stage", "")
        frames, masks = getattr(progress, "frames", None), getattr(progress, "masks", None)
        if frames is not None and masks is not None and len(frames):
            self._add_masks(e, frames, masks)
            self._emit(EventKind.MASKS, key, frames=np.asarray(frames))
        e.percent = stage_percent(e.stage, int(getattr(progress, "done", 0)), int(getattr(progress, "total", 0)))
        if (e.state, e.percent) != was:
            self._emit(EventKind.CHANGED, key)
        return e

    @staticmethod
    def _add_masks(e: LoopEntry, frames, masks) -> None:
        if e.loop is None:  # an unreadable loop has no analysis to send chunks of
            return
        if e.masks is None or e.have is None:
            n = int(e.loop.n_frames)
            e.masks = np.zeros((n,) + tuple(np.asarray(masks).shape[1:]), dtype=bool)
            e.have = np.zeros(n, dtype=bool)
        idx = np.asarray(frames, dtype=int)
        e.masks[idx] = np.asarray(masks, dtype=bool)
        e.have[idx] = True

    def finished(self, key: str, analysis) -> Finished | None:
        """The loop's result: it is done and its corrections are open (restored from the sidecar,
        saved after every edit). None when ignored: unknown key, or made with settings that
        changed since (the loop is queued again)."""
        e = self.entries.get(key)
        if e is None:
            return None
        made_with = getattr(analysis, "settings", None)
        if made_with is not None and self.settings is not None and made_with != self.settings:
            return None
        self._move(e, LoopState.DONE)
        e.analysis, e.percent, e.message = analysis, 100, ""
        e.masks, e.have = None, None
        region = getattr(analysis, "region", None)
        if region is not None and e.loop is not None and hasattr(e.loop, "adopt_region"):
            # the analysis found it: showing this loop's overlay need not decode frames to find it
            e.loop.adopt_region(region, analysis.region_source)
        done = Finished(e, self._open_corrections(e, analysis))
        self._emit(EventKind.CHANGED, key)
        return done

    def _open_corrections(self, e: LoopEntry, analysis) -> Opened | None:
        assert e.loop is not None, "an analysed loop is readable"
        c = e.corrections
        if c is not None and c.has_edits:
            c.analysis = analysis  # re-analysed (new settings): the sonographer's edits stay
            return None
        opened = open_loop_corrections(e.name, e.loop, analysis, self.user)
        c = opened.corrections
        key = e.key
        # the saver listens first: an edit is saved before observers hear of it
        e.saver = AutoSaver(c, e.loop.path, on_saved=lambda path, fb: self._saved(key, path, fb),
                            on_error=lambda exc: self._save_failed(key, exc))
        c.listeners.append(lambda _c, action: self._emit(EventKind.EDITED, key, action=action))
        e.corrections = c
        e.restored = f"{opened.note}: {opened.sidecar}" if opened.restored else ""
        return opened

    def _saved(self, key: str, path, fallback: bool) -> None:
        e = self.entries.get(key)
        if e is not None:
            e.saved, e.restored = SaveResult(Path(path), bool(fallback)), ""

    def _save_failed(self, key: str, exc: SaveError) -> None:
        e = self.entries.get(key)
        if e is not None:
            e.saved, e.restored = SaveResult(error=str(exc)), ""

    def override(self, key: str, choice: str | None) -> LoopEntry:
        """A person overrules the gates for an analysed loop: "a4c" (analyse as apical 4-chamber: its
        EF is reported), "exclude" (left out of every summary and report), None (the gates decide).
        Saved with the loop's corrections and recorded in their audit trail."""
        e = self.entries[key]
        if e.corrections is None:
            raise IllegalTransition(f"{e.name} is not analysed yet: there is no decision to overrule")
        e.corrections.override_gate(choice)  # saved, then observers hear EDITED
        self._emit(EventKind.CHANGED, key)
        return e

    def groups(self) -> dict[str, list[LoopEntry]]:
        """Analysed loops by decision ("analysable", "low confidence", "not analysable"), study order."""
        out: dict[str, list[LoopEntry]] = {"analysable": [], "low confidence": [], "not analysable": []}
        for e in self:
            d = e.decision
            if d is not None:
                out[d.verdict.value].append(e)
        return out

    def failed(self, key: str, message: str) -> LoopEntry | None:
        e = self.entries.get(key)
        if e is None:
            return None
        self._move(e, LoopState.FAILED)
        e.message = message
        self._emit(EventKind.CHANGED, key)
        return e

    def cancelled(self, key: str) -> LoopEntry | None:
        """The loop's job was cancelled (it may be queued again): back to queued if it was running."""
        e = self.entries.get(key)
        if e is None or e.analysis is not None or e.state != LoopState.ANALYSING:
            return None
        self._move(e, LoopState.QUEUED)
        self._emit(EventKind.CHANGED, key)
        return e
