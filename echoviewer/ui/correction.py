"""Correction mode: the window's side of `echoviewer.annotations.Corrections`.

One `CorrectionController` per window. It opens a loop's corrections when its analysis finishes
(restoring the sidecar, so reopening a study brings the edits back), saves after every edit
(`AutoSaver`), and turns the sonographer's gestures into Corrections edits:

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
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

import shutil
import threading
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QMessageBox

from echoviewer.analysis.tracing import mask_contour, polygon_mask, tracing_from_mask
from echoviewer.annotations.store import AutoSaver, SaveError, load_state, open_corrections
from echoviewer.ui import theme
from echoviewer.ui.dialogs import ExcludeDialog, ExportCorrectionsDialog, result_text
from echoviewer.ui.helpers import active_beat, editable_points, es_after

PHASE_NAME = {"ed": "ED", "es": "ES"}

EDIT_HINT = "drag points · Shift+click an edge adds one\nright-click or Del removes · R redraws · Esc cancels"


def describe(action: str) -> str:
    """A Corrections action in words, for the status bar."""
    names = {
        "move_ed": "ED frame moved", "move_es": "ES frame moved", "add_beat": "beat added",
        "delete_beat": "beat deleted", "exclude": "beat excluded", "include": "beat included again",
        "trace_ed": "ED tracing edited", "trace_es": "ES tracing edited", "undo": "undone", "redo": "redone",
    }
    return names.get(action, action.replace("_", " "))


class _Relay(QObject):
    progress = Signal(str)
    done = Signal(object)
    error = Signal(str)


class CorrectionController(QObject):
    #: correction mode switched on / off
    modeChanged = Signal(bool)
    #: a loop's corrections changed and the window shows them: key, action
    changed = Signal(str, str)
    #: an export finished: ExportResult, or an error message (str)
    exported = Signal(object)

    def __init__(self, win):
        super().__init__(win)
        self.win = win
        self.active = False
        self.target: tuple | None = None  # (key, beat id, phase, frame) the tracing editor shows
        self.exclude_dialog: ExcludeDialog | None = None
        self.export_dialog: ExportCorrectionsDialog | None = None
        self.message_box: QMessageBox | None = None
        self._save_result: dict[str, tuple] = {}
        self.unsaved: set[str] = set()  # loops whose last save failed (edits only in memory)
        self._save_state: dict[str, tuple[str, str, str]] = {}  # per loop: indicator text, tooltip, colour
        self._exporting = False
        ed = win.player.editor
        ed.previewChanged.connect(self._on_preview)
        ed.committed.connect(self._on_editor_commit)
        ed.cancelled.connect(self._on_editor_cancelled)
        ed.message.connect(lambda text: win.set_status(text))
        ed.redrawChanged.connect(self._on_redraw_changed)
        win.timeline.markerDragged.connect(self._on_marker_dragged)
        win.timeline.markerMoved.connect(self._on_marker_moved)

    # -- loops ------------------------------------------------------------------------------------
    @property
    def editor(self):
        return self.win.player.editor

    def entry(self):
        return self.win.current_entry()

    def corrections(self):
        e = self.entry()
        return None if e is None else e.corrections

    def attach(self, e, analysis) -> str:
        """A loop's analysis finished: open (or restore) its corrections and save after every edit.
        Returns a note for the status bar ("" when there is nothing to say)."""
        c = e.corrections
        if c is not None and c.has_edits:
            c.analysis = analysis  # re-analysed (new settings): the sonographer's edits stay
            return ""
        try:
            c = open_corrections(analysis, e.loop.path, user=self.win.settings.audit_name())
        except Exception as exc:  # noqa: BLE001 - an unreadable sidecar must not cost the analysis
            self.win.show_error(f"{e.name}: could not read its corrections: {' '.join(str(exc).split())}")
            from echoviewer.annotations.model import Corrections

            c = Corrections(analysis, user=self.win.settings.audit_name())
        restored = c.has_edits
        if restored and not self._same_loop(e, c):
            self._set_aside(e)
            from echoviewer.annotations.model import Corrections

            c = Corrections(analysis, user=self.win.settings.audit_name())
            restored = False
        if not c.state.get("loop"):
            c.state["loop"] = self._loop_info(e, analysis)
        saver = AutoSaver(c, e.loop.path,
                          on_saved=lambda path, fb, key=e.key: self._saved(key, path, fb),
                          on_error=lambda exc, key=e.key: self._save_failed(key, exc))
        c.listeners.append(lambda corr, action, key=e.key: self._on_changed(key, action))
        e.corrections, e.saver = c, saver
        if restored:
            n = sum(1 for a in c.audit if a.get("action") not in ("undo", "redo"))
            _, path = load_state(e.loop.path)
            note = f"restored {n} correction{'s' if n != 1 else ''} from the last session"
            self._set_save_state(e.key, "✎ restored", f"{note}: {path}", theme.CORRECTED_COLOR)
            return note
        return ""

    @staticmethod
    def _loop_info(e, analysis) -> dict:
        info = {"file": Path(e.loop.path).name, "n_frames": int(analysis.n_frames), "fps": float(analysis.fps)}
        try:
            info["sha256"] = e.loop.content_hash()
        except Exception:  # noqa: BLE001 - identity is a safety net, not a requirement
            pass
        return info

    @staticmethod
    def _same_loop(e, c) -> bool:
        want = (c.state.get("loop") or {}).get("sha256")
        if not want:
            return True
        try:
            return e.loop.content_hash() == want
        except Exception:  # noqa: BLE001
            return True

    def _set_aside(self, e) -> None:
        """Corrections made on another file of the same name: keep them beside, start afresh."""
        _, path = load_state(e.loop.path)
        kept = ""
        if path is not None:
            aside = path.with_name(path.name + ".other-file")
            try:
                shutil.copy2(path, aside)
                kept = f" (kept as {aside})"
            except OSError:
                kept = f" (left in {path} until the first new edit)"
        self.win.show_error(f"{e.name}: the saved corrections belong to a different file of this name; "
                            f"not applied{kept}")

    def set_user(self, name: str) -> None:
        for e in self.win.entries.values():
            if e.corrections is not None:
                e.corrections.user = name

    # -- saving -------------------------------------------------------------------------------------
    def _saved(self, key: str, path, used_fallback: bool) -> None:
        self._save_result[key] = ("ok", Path(path), bool(used_fallback))
        self.unsaved.discard(key)
        if used_fallback:
            self._set_save_state(key, "✓ saved (per-user folder)",
                                 f"Corrections saved to {path}: the study folder is read-only", theme.OK)
        else:
            self._set_save_state(key, "✓ saved", f"Corrections saved to {path}", theme.OK)

    def _save_failed(self, key: str, exc: SaveError) -> None:
        self._save_result[key] = ("error", " ".join(str(exc).split()))
        self.unsaved.add(key)
        self._set_save_state(key, "⚠ not saved", str(exc), theme.ERROR)

    def _set_save_state(self, key: str, text: str, tip: str, color: str) -> None:
        self._save_state[key] = (text, tip, color)
        if key == self.win.current_key:
            self.show_save_state()

    def show_save_state(self) -> None:
        """The status-bar save indicator of the loop on screen."""
        text, tip, color = self._save_state.get(self.win.current_key or "", ("", "", theme.MUTED))
        lab = self.win.save_label
        lab.setText(text)
        lab.setToolTip(tip)
        lab.setStyleSheet(f"color: {color};" + (" font-weight: 600;" if color == theme.ERROR else ""))

    def _save_note(self, key: str) -> tuple[str, bool]:
        r = self._save_result.pop(key, None)
        if r is None:
            return "", False
        if r[0] == "error":
            return f" · {r[1]}", True
        if r[2]:
            return f" · saved to {r[1]} (study folder is read-only)", False
        return " · saved", False

    # -- mode -------------------------------------------------------------------------------------
    def available(self) -> bool:
        e = self.entry()
        return e is not None and e.corrections is not None and e.loop is not None and e.analysis is not None

    def set_active(self, on: bool) -> None:
        on = bool(on) and self.available()
        if on == self.active:
            self.win.act_correct.setChecked(on)
            return
        if not on:
            self.cancel()
        self.active = on
        self.win.act_correct.setChecked(on)
        if on:
            self.win.player.pause()
        self.win.player.set_correction_mode(on)
        self.win.timeline.set_editable(on)
        self.refresh()
        if on:
            self.win.set_status("Correction mode: drag ▼ ED / ▲ ES markers on the timeline, or D / S to set them "
                                "here · on ED/ES frames drag the tracing · A add beat · X exclude · "
                                "Ctrl+Z undo · Esc cancel · E leaves")
        else:
            self.win.set_status("Correction mode off")
        self.modeChanged.emit(on)
        self.win._update_actions()

    def loop_changed(self, refresh: bool = True) -> None:
        """The window shows another loop (or the same one re-analysed); ``refresh=False`` when
        the caller has just shown its results."""
        self.editor.cancel()
        self.win.timeline.cancel_drag()
        self.target = None
        self.show_save_state()
        if self.active and not self.available():
            self.set_active(False)
        elif refresh:
            self.refresh()

    # -- showing ----------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Bring player, timeline and summary in line with the current loop's corrections."""
        e = self.entry()
        c = None if e is None else e.corrections
        if c is None or e.analysis is None:
            self.editor.hide()
            self.win.player.set_overlay_suppressed(False)
            self.win.summary.show_live(None, "")
            return
        values = c.values()
        summary = c.summary_of(values)
        self.win.show_corrected(e, values, summary)
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
        return active_beat(values, self.win.player.current)

    def _update_live(self, values, live: bool = False) -> None:
        e = self.entry()
        if not self.active or e is None or e.analysis is None:
            self.win.summary.show_live(None, "")
            self.win.timeline.set_active_beat(None, None)
            return
        v = self.active_value(values)
        if v is None:
            self.win.summary.show_live(None, "")
            self.win.timeline.set_active_beat(None, None)
            self.win.summary.select_beat_row(None)
            return
        editing, hint = "", ""
        if self.target is not None and self.target[1] == v.id:
            editing = f"{PHASE_NAME[self.target[2]]} frame {self.target[3]}"
            hint = ("click points around the LV (right-click removes the last)\nEnter or double-click closes · "
                    "Esc cancels") if self.editor.redrawing else EDIT_HINT
        else:
            hint = "[ and ] go to its ED / ES frames to edit the tracings\nD / S move its ED / ES to this frame"
        self.win.summary.show_live(v, e.analysis.volume_unit, editing, live=live, hint=hint)
        self.win.summary.select_beat_row(v.number)
        self.win.timeline.set_active_beat(v.ed_frame, v.es_frame)

    # -- the tracing editor ---------------------------------------------------------------------------
    def to_display(self, pts) -> np.ndarray:
        return self.entry().loop.transform.to_native_points(np.asarray(pts, float)) + 0.5

    def to_grid(self, pts) -> np.ndarray:
        return self.entry().loop.transform.to_grid_points(np.asarray(pts, float) - 0.5)

    def _editor_target(self, values):
        f = self.win.player.current
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
            self.win.player.set_overlay_suppressed(False)
            return
        if ed.busy and not force:
            return
        hit = self._editor_target(values)
        if hit is None:
            self.target = None
            ed.hide()
            self.win.player.set_overlay_suppressed(False)
            self.win._update_actions()
            return
        v, phase = hit
        beat = e.corrections.beat(v.id)
        contour, apex, base = self.grid_tracing(beat, phase)
        self.target = (e.key, v.id, phase, self.win.player.current)
        color = theme.ED_COLOR if phase == "ed" else theme.ES_COLOR
        ed.set_tracing(None if contour is None else self.to_display(contour),
                       None if apex is None else self.to_display(apex),
                       None if base is None else self.to_display(base), color)
        ed.show()
        self.win.player.set_overlay_suppressed(contour is not None)
        if contour is None:
            self.win.set_status(f"No model tracing on frame {self.win.player.current}: press R and click "
                                "points around the LV to draw one")
        self.win._update_actions()

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
        self.win.summary.show_analysis(e.analysis, e.name, values, summary)
        self._update_live(values, live=True)

    def _on_editor_commit(self, kind: str) -> None:
        c = self.corrections()
        if c is None or self.target is None:
            return
        _, beat_id, phase, _ = self.target
        pts, apex, base = self._grid_geometry()
        if kind == "redraw" or apex is None or base is None:
            axis = self._axis_for(pts)
            if axis is not None and (kind == "redraw" or apex is None or base is None):
                apex, base = axis
        if apex is None or base is None:
            self.win.show_error("Could not find the long axis of this outline: draw it around the whole LV")
            self._update_editor(c.values(), force=True)
            return
        try:
            c.set_tracing(beat_id, phase, pts, apex, base)
        except (ValueError, KeyError) as exc:
            self.win.show_error(f"Tracing not changed: {exc}")
            self._update_editor(c.values(), force=True)
            self.refresh()

    @staticmethod
    def _axis_for(grid_pts):
        """Apex and annulus midpoint of a freshly drawn outline (as the model's tracings find them)."""
        p = np.asarray(grid_pts, float)
        if len(p) < 3:
            return None
        mask = polygon_mask(np.rint(p[:, 0]).astype(int), np.rint(p[:, 1]).astype(int), (112, 112))
        t = tracing_from_mask(mask)
        if t is None:
            return None
        return t.axis[:2].copy(), t.axis[2:].copy()

    def _on_editor_cancelled(self) -> None:
        self.win.set_status("Edit cancelled")
        self.refresh()

    def _on_redraw_changed(self, on: bool) -> None:
        if on:
            self.win.set_status("Redraw: click points around the LV (right-click removes the last); "
                                "Enter or double-click closes; Esc cancels")
        c = self.corrections()
        if c is not None:
            self._update_live(c.values())
        self.win._update_actions()

    # -- edits ------------------------------------------------------------------------------------
    def _on_changed(self, key: str, action: str) -> None:
        """A Corrections listener: every completed edit, undo and redo (after it was saved)."""
        note, failed = self._save_note(key)
        e = self.win.entries.get(key)
        if e is not None and e.item is not None:
            self.win.study_list.refresh(e)
        if key == self.win.current_key:
            self.refresh()
        self.win._update_actions()
        self.win.set_status(f"{self._last_message or describe(action)}{note}", error=failed)
        self._last_message = ""
        self.changed.emit(key, action)

    _last_message = ""

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
            self.win.show_error(str(exc).strip("'\""))
            return False
        self._last_message = ""
        return True

    def set_frame_here(self, phase: str) -> bool:
        c = self.corrections()
        if c is None:
            return False
        f = self.win.player.current
        v = active_beat(c.values(), f)
        if v is None:
            self.win.show_error("No beat here: press A to add one with its ED on this frame")
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
            self.win.set_status(f"Beat {num}: {PHASE_NAME[phase]} is already on frame {frame}")
            return False
        if phase == "ed" and frame >= b["es_frame"]:
            self.win.show_error(f"Beat {num}: ED must come before its ES (frame {b['es_frame']}); "
                                "A adds a new beat starting here")
            return False
        if phase == "es" and frame <= b["ed_frame"]:
            self.win.show_error(f"Beat {num}: ES must come after its ED (frame {b['ed_frame']})")
            return False
        return self._apply(f"Beat {num}: {PHASE_NAME[phase]} frame {old} → {frame}", c.set_frame,
                           beat_id, phase, frame)

    def add_beat_here(self) -> bool:
        c = self.corrections()
        e = self.entry()
        if c is None or e.analysis is None:
            return False
        f = self.win.player.current
        es = es_after(e.analysis.areas, f, e.analysis.fps)
        if es is None:
            self.win.show_error("No room for a beat after the last frame: go to the beat's ED frame first")
            return False
        return self._apply(f"Beat added: ED frame {f}, ES frame {es} (smallest LV area after it) — "
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
        dlg = ExcludeDialog(v.number, self.win)
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
            self.win.set_status("Nothing to undo")
            return False
        self._last_message = "Undone"
        return c.undo()

    def redo(self) -> bool:
        c = self.corrections()
        if c is None:
            return False
        if not c.can_redo():
            self.win.set_status("Nothing to redo")
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
            self.win.set_status("Point at a tracing point to delete it (or right-click it)")

    def cancel(self) -> bool:
        """Esc: the drag or redraw in progress, or a marker drag on the timeline."""
        done = self.editor.cancel()
        if self.win.timeline.cancel_drag():
            done = True
            self.win.set_status("Marker move cancelled")
            c = self.corrections()
            if c is not None:
                self.refresh()
        return done

    # -- timeline markers ---------------------------------------------------------------------------
    def _on_marker_dragged(self, beat_id: int, phase: str, frame: int) -> None:
        self.win._seek_paused(frame)

    def _on_marker_moved(self, beat_id: int, phase: str, frame: int) -> None:
        if not self.move_marker(beat_id, phase, frame):
            self.refresh()
        self.win._seek_paused(frame)

    # -- export -----------------------------------------------------------------------------------------
    def export_dialog_open(self) -> None:
        if not self.win.study_path:
            self.win.show_error("Open a study first")
            return
        default = str(Path(self.win.study_path).with_name(Path(self.win.study_path).name + "_echonet"))
        dlg = ExportCorrectionsDialog(default, self.win)
        self.export_dialog = dlg

        def done(result: int) -> None:
            self.export_dialog = None
            if result == QDialog.DialogCode.Accepted:
                folder, split, uncorrected = dlg.values()
                self.export(folder, split, uncorrected)
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.open()

    def export(self, out_dir, split: str = "TRAIN", include_uncorrected: bool = False) -> bool:
        """Write the study's corrected loops as an EchoNet dataset (in a thread; ``exported`` at the end)."""
        win = self.win
        if not win.study_path:
            win.show_error("Open a study first")
            return False
        if self._exporting:
            win.show_error("An export is already running")
            return False
        from echoviewer.export.echonet_export import export_study

        study = win.study_path
        analyses = {k: e.analysis for k, e in win.entries.items() if e.analysis is not None}
        factory = win.analyzer_factory
        settings = win.settings.analysis_settings()
        user = win.settings.audit_name()
        n_loops = sum(1 for e in win.entries.values() if e.loop is not None)
        unsaved = [win.entries[k].name for k in sorted(self.unsaved) if k in win.entries]
        relay = _Relay(self)
        self._relay = relay
        count = {"n": 0}

        def on_progress(msg: str) -> None:
            count["n"] += 1
            win.progress.setValue(count["n"])
            win.set_status(msg)

        def on_done(res) -> None:
            self._exporting = False
            win.progress.hide()
            text = result_text(res)
            if unsaved:
                text += "\n\nThe last edits of these loops could not be saved, so the export has their last " \
                        "saved state: " + ", ".join(unsaved)
            win.set_status(text.splitlines()[0], error=not res.exported)
            self._show_message("Export corrections", text, warn=not res.exported)
            self.exported.emit(res)

        def on_error(msg: str) -> None:
            self._exporting = False
            win.progress.hide()
            win.show_error(f"Export failed: {msg}")
            self._show_message("Export corrections", f"Export failed: {msg}", warn=True)
            self.exported.emit(msg)

        relay.progress.connect(on_progress)
        relay.done.connect(on_done)
        relay.error.connect(on_error)
        state = {"analyzer": None}

        def analyze(loop):
            a = analyses.get(str(loop.path))
            if a is not None:
                return a
            if state["analyzer"] is None:  # a loop the window has not analysed yet
                state["analyzer"] = factory(settings)
            return state["analyzer"].analyze(loop)

        def work() -> None:
            try:
                res = export_study(study, out_dir, analyze, split=split, include_uncorrected=include_uncorrected,
                                   user=user, log=relay.progress.emit)
            except Exception as exc:  # noqa: BLE001 - reported in the window
                relay.error.emit(" ".join(str(exc).split()) or type(exc).__name__)
                return
            finally:
                close = getattr(state["analyzer"], "close", None)  # ends an analysis process
                if close is not None:
                    close()
            relay.done.emit(res)

        self._exporting = True
        win.progress.setRange(0, max(1, n_loops))
        win.progress.setValue(0)
        win.progress.setFormat("export %v/%m")
        win.progress.show()
        win.set_status(f"Exporting corrections to {out_dir}…")
        threading.Thread(target=work, name="echoviewer-export", daemon=True).start()
        return True

    def _show_message(self, title: str, text: str, warn: bool = False) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning if warn else QMessageBox.Icon.Information, title, text,
                          QMessageBox.StandardButton.Ok, self.win)
        self.message_box = box
        box.finished.connect(lambda _r: setattr(self, "message_box", None))
        box.open()
