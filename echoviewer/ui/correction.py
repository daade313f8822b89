"""Correction mode: the window's side of `echoviewer.annotations.Corrections`.

One `CorrectionController` per window. The study session opens a loop's corrections when its
analysis finishes (restoring the sidecar, so reopening a study brings the edits back) and saves
them after every edit; the controller turns the sonographer's gestures into Corrections edits:

  E ............ correction mode on/off (toolbar ✎ Correct)
  D / S ........ set the ED / ES frame of the current beat to the frame on screen
  drag ▼ / ▲ ... on the timeline: move a beat's ED / ES frame (the player follows the drag)
  A ............ add a beat: ED here, ES at the smallest LV area in the next 0.6 s
  Shift+Del .... delete the current beat
  X ............ exclude the current beat (reason dialog) / include it again
  on ED/ES frames: drag contour points and the long-axis ends (apex ◆, mitral annulus ◆);
  Shift+click or double-click an edge adds a point; right-click or Delete (hovered) removes one;
  R redraws the tracing from scratch (click points, Enter or double-click closes)
  Ctrl+Z / Ctrl+Shift+Z  undo / redo; Esc cancels the drag or redraw in progress

Tracings are edited at native resolution and stored on the 112 grid (loop.transform). The beat's
EDV, ESV and EF are recomputed by the method of disks while a point is dragged
(`Corrections.preview_tracing`); the edit is committed on release: one undo step per gesture.

The controller talks to the window through `CorrectionHost` only. It never draws the loop's
results itself: it asks the host to redraw, and the host's one drawing routine calls `draw`.
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from typing import TYPE_CHECKING, Protocol

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog

from echoviewer.analysis.beat_lookup import active_beat, es_after
from echoviewer.analysis.contour import editable_points, outline_axis
from echoviewer.analysis.tracing import mask_contour
from echoviewer.session import EventKind, LoopEntry, SessionEvent, StudySession
from echoviewer.ui import theme
from echoviewer.ui.dialogs import ExcludeDialog
from echoviewer.ui.status_bar import save_note

if TYPE_CHECKING:
    from echoviewer.ui.player import CinePlayer
    from echoviewer.ui.summary import SummaryPanel
    from echoviewer.ui.timeline import TimelineWidget

PHASE_NAME = {"ed": "ED", "es": "ES"}

EDIT_HINT = "drag points · Shift+click an edge adds one\nright-click or Del removes · R redraws · Esc cancels"


def describe(action: str) -> str:
    """A Corrections action in words, for the status bar."""
    names = {
        "move_ed": "ED frame moved", "move_es": "ES frame moved", "add_beat": "beat added",
        "delete_beat": "beat deleted", "exclude": "beat excluded", "include": "beat included again",
        "trace_ed": "ED tracing edited", "trace_es": "ES tracing edited", "undo": "undone", "redo": "redone",
        "override_gate": "the loop's decision overruled",
    }
    return names.get(action, action.replace("_", " "))


class CorrectionHost(Protocol):
    """What the controller needs from the window, and nothing else."""

    session: StudySession
    player: CinePlayer  # its tracing editor, playhead, correction-mode look
    timeline: TimelineWidget  # marker drags, the active beat
    summary: SummaryPanel  # the live box of the beat being edited

    def current_entry(self) -> LoopEntry | None: ...

    def seek(self, frame: int) -> None:
        """Pause and show ``frame`` (clamped to the loop)."""

    def set_status(self, text: str, error: bool = False) -> None: ...

    def show_error(self, text: str) -> None: ...

    def request_redraw(self) -> None:
        """Draw the loop on screen again from its corrections (calls back `draw` for the editor part)."""

    def actions_changed(self) -> None:
        """What can be done changed (undo, redo, the mode's actions)."""


class CorrectionController(QObject):
    #: correction mode switched on / off
    modeChanged = Signal(bool)
    #: a loop's corrections changed and the window shows them: key, action
    changed = Signal(str, str)

    def __init__(self, host: CorrectionHost, parent: QObject | None = None):
        super().__init__(parent)
        self.host = host
        self.active = False
        self.target: tuple | None = None  # (key, beat id, phase, frame) the tracing editor shows
        self.exclude_dialog: ExcludeDialog | None = None
        self._last_message = ""  # what the edit in progress says in the status bar when it lands
        ed = host.player.editor
        ed.previewChanged.connect(self._on_preview)
        ed.committed.connect(self._on_editor_commit)
        ed.cancelled.connect(self._on_editor_cancelled)
        ed.message.connect(lambda text: host.set_status(text))
        ed.redrawChanged.connect(self._on_redraw_changed)
        host.timeline.markerDragged.connect(self._on_marker_dragged)
        host.timeline.markerMoved.connect(self._on_marker_moved)
        host.session.subscribe(self._on_session)

    # -- loops ------------------------------------------------------------------------------------
    @property
    def editor(self):
        return self.host.player.editor

    def entry(self) -> LoopEntry | None:
        return self.host.current_entry()

    def corrections(self):
        e = self.entry()
        return None if e is None else e.corrections

    # -- mode -------------------------------------------------------------------------------------
    def available(self) -> bool:
        e = self.entry()
        return e is not None and e.corrections is not None and e.loop is not None and e.analysis is not None

    def set_active(self, on: bool) -> None:
        on = bool(on) and self.available()
        if on == self.active:
            return
        self._switch(on)
        self.host.request_redraw()
        if on:
            self.host.set_status("Correction mode: drag ▼ ED / ▲ ES markers on the timeline, or D / S to set them "
                                 "here · on ED/ES frames drag the tracing · A add beat · X exclude · "
                                 "Ctrl+Z undo · Esc cancel · E leaves")
        else:
            self.host.set_status("Correction mode off")
        self.host.actions_changed()

    def _switch(self, on: bool) -> None:
        if not on:
            self.cancel()
        self.active = on
        if on:
            self.host.player.pause()
        self.host.player.set_correction_mode(on)
        self.host.timeline.set_editable(on)
        self.modeChanged.emit(on)

    def loop_changed(self) -> None:
        """The window shows another loop (or the same one re-analysed): an edit in progress ends,
        and so does the mode where there is nothing to correct. Draws nothing: the window draws
        the loop next (and calls `draw`)."""
        self.editor.cancel()
        self.host.timeline.cancel_drag()
        self.target = None
        if self.active and not self.available():
            self._switch(False)
            self.host.set_status("Correction mode off")
            self.host.actions_changed()

    # -- showing ----------------------------------------------------------------------------------
    def draw(self, values) -> None:
        """The correction part of the window's drawing of the loop on screen: the tracing editor
        and the live box of the current beat (``values``: its corrected beats; None without)."""
        if values is None:
            self.editor.hide()
            self.host.player.set_overlay_suppressed(False)
            self.host.summary.show_live(None, "")
            return
        self._update_editor(values)
        self._update_live(values)

    def on_frame(self, frame: int) -> None:
        if not self.active:
            return
        c = self.corrections()
        if c is None:
            return
        if self.editor.busy and self.target is not None and self.target[3] != frame:
            self.editor.cancel()  # a drag or redraw belongs to the frame it started on
        values = c.values()
        self._update_editor(values)
        self._update_live(values)

    def active_value(self, values=None):
        c = self.corrections()
        if c is None:
            return None
        values = c.values() if values is None else values
        if self.target is not None:
            for v in values:
                if v.id == self.target[1]:
                    return v
        return active_beat(values, self.host.player.current)

    def _update_live(self, values, live: bool = False) -> None:
        e = self.entry()
        if not self.active or e is None or e.analysis is None:
            self.host.summary.show_live(None, "")
            self.host.timeline.set_active_beat(None, None)
            return
        v = self.active_value(values)
        if v is None:
            self.host.summary.show_live(None, "")
            self.host.timeline.set_active_beat(None, None)
            self.host.summary.select_beat_row(None)
            return
        editing, hint = "", ""
        if self.target is not None and self.target[1] == v.id:
            editing = f"{PHASE_NAME[self.target[2]]} frame {self.target[3] + 1}"
            hint = ("click points around the LV (right-click removes the last)\nEnter or double-click closes · "
                    "Esc cancels") if self.editor.redrawing else EDIT_HINT
        else:
            hint = "[ and ] go to its ED / ES frames to edit the tracings\nD / S move its ED / ES to this frame"
        self.host.summary.show_live(v, e.analysis.volume_unit, editing, live=live, hint=hint)
        self.host.summary.select_beat_row(v.number)
        self.host.timeline.set_active_beat(v.ed_frame, v.es_frame)

    # -- the tracing editor ---------------------------------------------------------------------------
    def to_display(self, pts) -> np.ndarray:
        return self.entry().loop.transform.to_native_points(np.asarray(pts, float)) + 0.5

    def to_grid(self, pts) -> np.ndarray:
        return self.entry().loop.transform.to_grid_points(np.asarray(pts, float) - 0.5)

    def _editor_target(self, values):
        f = self.host.player.current
        hits = [(v, ph) for v in values for ph in ("es", "ed") if getattr(v, f"{ph}_frame") == f]
        if not hits:
            return None
        cur = self.target[1] if self.target is not None else None
        hits.sort(key=lambda vp: (vp[0].id != cur, vp[0].excluded))
        return hits[0]

    def grid_tracing(self, beat: dict, phase: str):
        """(contour, apex, base_mid) on the grid to edit: the edited tracing, else the model mask's
        contour thinned to handles with the model's long axis. (None, None, None) without a mask."""
        t = beat["tracings"].get(phase)
        if t is not None:
            return (np.asarray(t["contour"], float), np.asarray(t["apex"], float),
                    np.asarray(t["base_mid"], float))
        c = self.corrections()
        frame = beat[f"{phase}_frame"]
        if c.analysis is None or not 0 <= frame < len(c.analysis.masks):
            return None, None, None
        contour = mask_contour(c.analysis.masks[frame])
        if contour is None or len(contour) < 3:
            return None, None, None
        tr = c.tracing(beat, phase)
        pts = editable_points(contour)
        if tr is None:
            return pts, None, None
        return pts, tr.axis[:2].copy(), tr.axis[2:].copy()

    def _update_editor(self, values, force: bool = False) -> None:
        ed = self.editor
        e = self.entry()
        if not self.active or e is None or e.corrections is None:
            self.target = None
            ed.hide()
            self.host.player.set_overlay_suppressed(False)
            return
        if ed.busy and not force:
            return
        hit = self._editor_target(values)
        if hit is None:
            self.target = None
            ed.hide()
            self.host.player.set_overlay_suppressed(False)
            self.host.actions_changed()
            return
        v, phase = hit
        beat = e.corrections.beat(v.id)
        contour, apex, base = self.grid_tracing(beat, phase)
        self.target = (e.key, v.id, phase, self.host.player.current)
        color = theme.ED_COLOR if phase == "ed" else theme.ES_COLOR
        ed.set_tracing(None if contour is None else self.to_display(contour),
                       None if apex is None else self.to_display(apex),
                       None if base is None else self.to_display(base), color)
        ed.show()
        self.host.player.set_overlay_suppressed(contour is not None)
        if contour is None:
            self.host.set_status(f"No model tracing on frame {self.host.player.current + 1}: press R and click "
                                 "points around the LV to draw one")
        self.host.actions_changed()

    def _grid_geometry(self):
        pts, apex, base = self.editor.geometry()
        return (self.to_grid(pts), None if apex is None else self.to_grid(apex),
                None if base is None else self.to_grid(base))

    def _on_preview(self) -> None:
        c = self.corrections()
        if c is None or self.target is None:
            return
        pts, apex, base = self._grid_geometry()
        if apex is None or base is None or len(pts) < 3:
            return
        try:
            values, summary = c.preview_tracing(self.target[1], self.target[2], pts, apex, base)
        except (KeyError, ValueError):
            return
        e = self.entry()
        self.host.summary.show_analysis(e.analysis, e.name, values, summary)
        self._update_live(values, live=True)

    def _on_editor_commit(self, kind: str) -> None:
        c = self.corrections()
        if c is None or self.target is None:
            return
        _, beat_id, phase, _ = self.target
        pts, apex, base = self._grid_geometry()
        if kind == "redraw" or apex is None or base is None:
            axis = outline_axis(pts)
            if axis is not None and (kind == "redraw" or apex is None or base is None):
                apex, base = axis
        if apex is None or base is None:
            self.host.show_error("Could not find the long axis of this outline: draw it around the whole LV")
            self._update_editor(c.values(), force=True)
            return
        try:
            c.set_tracing(beat_id, phase, pts, apex, base)
        except (ValueError, KeyError) as exc:
            self.host.show_error(f"Tracing not changed: {exc}")
            self._update_editor(c.values(), force=True)
            self.host.request_redraw()

    def _on_editor_cancelled(self) -> None:
        self.host.set_status("Edit cancelled")
        self.host.request_redraw()

    def _on_redraw_changed(self, on: bool) -> None:
        if on:
            self.host.set_status("Redraw: click points around the LV (right-click removes the last); "
                                 "Enter or double-click closes; Esc cancels")
        c = self.corrections()
        if c is not None:
            self._update_live(c.values())
        self.host.actions_changed()

    # -- edits ------------------------------------------------------------------------------------
    def _on_session(self, ev: SessionEvent) -> None:
        """Every completed edit, undo and redo of any loop, after it was saved."""
        if ev.kind != EventKind.EDITED:
            return
        e = self.host.session.get(ev.key)
        note, failed = save_note(e.saved if e is not None else None)
        if ev.key == self.host.session.current_key:
            self.host.request_redraw()
        self.host.actions_changed()
        self.host.set_status(f"{self._last_message or describe(ev.action)}{note}", error=failed)
        self._last_message = ""
        self.changed.emit(ev.key, ev.action)

    def _apply(self, message: str, fn, *args) -> bool:
        """Run one Corrections edit; a refused one (ValueError) becomes a message, nothing else."""
        c = self.corrections()
        if c is None:
            return False
        if self.editor.busy:
            self.editor.cancel()
        self._last_message = message
        try:
            fn(*args)
        except (ValueError, KeyError) as exc:
            self._last_message = ""
            self.host.show_error(str(exc).strip("'\""))
            return False
        self._last_message = ""
        return True

    def set_frame_here(self, phase: str) -> bool:
        c = self.corrections()
        if c is None:
            return False
        f = self.host.player.current
        v = active_beat(c.values(), f)
        if v is None:
            self.host.show_error("No beat here: press A to add one with its ED on this frame")
            return False
        return self.move_marker(v.id, phase, f)

    def move_marker(self, beat_id: int, phase: str, frame: int) -> bool:
        c = self.corrections()
        if c is None:
            return False
        try:
            b = c.beat(beat_id)
        except KeyError:
            return False
        num = next((v.number for v in c.values() if v.id == beat_id), beat_id)
        old = b[f"{phase}_frame"]
        if frame == old:
            self.host.set_status(f"Beat {num}: {PHASE_NAME[phase]} is already on frame {frame + 1}")
            return False
        if phase == "ed" and frame >= b["es_frame"]:
            self.host.show_error(f"Beat {num}: ED must come before its ES (frame {b['es_frame'] + 1}); "
                                 "A adds a new beat starting here")
            return False
        if phase == "es" and frame <= b["ed_frame"]:
            self.host.show_error(f"Beat {num}: ES must come after its ED (frame {b['ed_frame'] + 1})")
            return False
        return self._apply(f"Beat {num}: {PHASE_NAME[phase]} frame {old + 1} → {frame + 1}", c.set_frame,
                           beat_id, phase, frame)

    def add_beat_here(self) -> bool:
        c = self.corrections()
        e = self.entry()
        if c is None or e.analysis is None:
            return False
        f = self.host.player.current
        es = es_after(e.analysis.areas, f, e.analysis.fps)
        if es is None:
            self.host.show_error("No room for a beat after the last frame: go to the beat's ED frame first")
            return False
        return self._apply(f"Beat added: ED frame {f + 1}, ES frame {es + 1} (smallest LV area after it) — "
                           "drag its ▲ or press S on the right frame to adjust", c.add_beat, f, es)

    def delete_beat(self) -> bool:
        c = self.corrections()
        v = self.active_value()
        if c is None or v is None:
            return False
        return self._apply(f"Beat {v.number} deleted (Ctrl+Z brings it back)", c.delete_beat, v.id)

    def toggle_exclude(self, reason: str | None = None) -> bool:
        """X: include an excluded beat again, else ask why it is excluded (``reason`` skips the dialog)."""
        c = self.corrections()
        v = self.active_value()
        if c is None or v is None:
            return False
        if v.excluded:
            return self._apply(f"Beat {v.number} included in the average again", c.include, v.id)
        if reason is not None:
            return self._apply(f"Beat {v.number} excluded: {reason}", c.exclude, v.id, reason)
        dlg = ExcludeDialog(v.number, self.host.player.window())
        self.exclude_dialog = dlg

        def done(result: int, beat_id=v.id, number=v.number) -> None:
            self.exclude_dialog = None
            if result == QDialog.DialogCode.Accepted and self.corrections() is c:
                r = dlg.reason_text()
                self._apply(f"Beat {number} excluded: {r}", c.exclude, beat_id, r)
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.open()
        return True

    def undo(self) -> bool:
        c = self.corrections()
        if c is None:
            return False
        if self.editor.busy:
            self.editor.cancel()
            return True
        if not c.can_undo():
            self.host.set_status("Nothing to undo")
            return False
        self._last_message = "Undone"
        return c.undo()

    def redo(self) -> bool:
        c = self.corrections()
        if c is None:
            return False
        if not c.can_redo():
            self.host.set_status("Nothing to redo")
            return False
        self._last_message = "Redone"
        return c.redo()

    def start_redraw(self) -> None:
        if self.editor.isVisible() and not self.editor.busy:
            self.editor.start_redraw()

    def finish_redraw(self) -> None:
        self.editor.finish_redraw()

    def delete_point(self) -> None:
        if not self.editor.delete_hovered() and self.editor.isVisible():
            self.host.set_status("Point at a tracing point to delete it (or right-click it)")

    def cancel(self) -> bool:
        """Esc: the drag or redraw in progress, or a marker drag on the timeline."""
        done = self.editor.cancel()
        if self.host.timeline.cancel_drag():
            done = True
            self.host.set_status("Marker move cancelled")
            c = self.corrections()
            if c is not None:
                self.host.request_redraw()
        return done

    # -- timeline markers ---------------------------------------------------------------------------
    def _on_marker_dragged(self, beat_id: int, phase: str, frame: int) -> None:
        self.host.seek(frame)

    def _on_marker_moved(self, beat_id: int, phase: str, frame: int) -> None:
        if not self.move_marker(beat_id, phase, frame):
            self.host.request_redraw()
        self.host.seek(frame)
