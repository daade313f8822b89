"""What the window writes to disk: the CSV report (this loop or the whole study), the frame on
screen (with a caption band: file, frame, EF, demo label) and the timeline as PNG, and the corrected
loops as an EchoNet-Dynamic dataset (in a thread)."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QProgressBar, QWidget

from echoviewer import DEMO_LABEL
from echoviewer.analysis.drawing import CAPTION_WARN, CaptionLine, caption_band, composite_overlay
from echoviewer.errors import one_line
from echoviewer.session import LoopEntry, StudySession, loop_corrected
from echoviewer.ui.background import Relay, run_in_thread
from echoviewer.ui.dialogs import ExportCorrectionsDialog, result_text

if TYPE_CHECKING:
    from echoviewer.ui.player import CinePlayer
    from echoviewer.ui.settings import UiSettings
    from echoviewer.ui.timeline import TimelineWidget


class ExportHost(Protocol):
    """What the exports need from the window."""

    session: StudySession
    player: CinePlayer  # the frame on screen and its overlay
    timeline: TimelineWidget
    settings: UiSettings  # overlay style, analysis settings, audit name
    progress: QProgressBar
    analyzer_factory: Any  # analyses loops the window has not analysed yet (EchoNet export)

    def current_entry(self) -> LoopEntry | None: ...

    def set_status(self, text: str, error: bool = False) -> None: ...

    def show_error(self, text: str) -> None: ...


def beat_caption(e: LoopEntry, beats, frame: int) -> str:
    """The beat ``frame`` lies in (ED to ES, as the window numbers it) and its EF as reported:
    the corrected EF when the loop was corrected, else the model's. '' outside every beat."""
    a = e.analysis
    if a is None:
        return ""
    values = e.corrections.values() if e.corrections is not None else None
    corrected = loop_corrected(values, a)
    for b in beats:
        if b.ed_frame <= frame <= b.es_frame:
            if hasattr(b, "model"):  # corrections' BeatValues
                ef, included = (b.ef if corrected else b.model.get("ef_model")), not b.excluded
            else:
                ef, included = b.ef_model, b.included
            text = f"beat {b.number} of {len(beats)} · " + (f"EF {ef:.1f} %" if ef is not None else "no EF")
            if corrected:
                text += " (corrected)"
            return text + ("" if included else " · excluded from the mean")
    return ""


def _qimage(rgb: np.ndarray) -> QImage:
    h, w = rgb.shape[:2]
    return QImage(np.ascontiguousarray(rgb).data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def _report_writer():
    from echoviewer.export.report import write_report

    return write_report


class Exports(QObject):
    #: an EchoNet export finished: ExportResult, or an error message (str)
    exported = Signal(object)

    def __init__(self, host: ExportHost, parent: QWidget):
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent  # of the file and message dialogs
        self.export_dialog: ExportCorrectionsDialog | None = None
        self.message_box: QMessageBox | None = None
        self._relay: Relay | None = None  # the running EchoNet export's

    def _ask_path(self, title: str, default: str, filt: str) -> str | None:
        folder = self.host.session.folder
        base = str(folder) if folder is not None else str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self.parent_widget, title, str(Path(base) / default), filt)
        return path or None

    # -- CSV --------------------------------------------------------------------------------------
    def export_report(self, scope: str = "loop", path: str | None = None) -> Path | None:
        """The CSV report of the loop on screen (``scope="loop"``) or of every analysed loop."""
        session = self.host.session
        if scope == "loop":
            e = self.host.current_entry()
            entries = [e] if e is not None and e.analysis is not None else []
            default = f"{Path(e.key).stem if e else 'loop'}_report.csv"
        else:
            entries = [e for e in session if e.analysis is not None]
            default = f"{session.folder.name if session.folder else 'study'}_report.csv"
        analyses = [x.analysis for x in entries]
        corrections = {x.analysis.path: x.corrections for x in entries if x.corrections is not None}
        identities = {x.analysis.path: x.loop.identity for x in entries if x.loop is not None}
        if not analyses:
            self.host.show_error("Nothing to export yet: no finished analysis.")
            return None
        if path is None:
            path = self._ask_path("Export CSV report", default, "CSV files (*.csv)")
            if path is None:
                return None
        try:
            _report_writer()(analyses, Path(path), corrections_by_path=corrections, identities_by_path=identities)
        except Exception as exc:
            self.host.show_error(f"Could not write {path}: {one_line(str(exc))}")
            return None
        self.host.set_status(f"Report written: {path} ({len(analyses)} loop{'s' if len(analyses) != 1 else ''})")
        return Path(path)

    # -- PNG --------------------------------------------------------------------------------------
    def save_timeline_png(self, path: str | None = None) -> Path | None:
        e = self.host.current_entry()
        if e is None:
            return None
        if path is None:
            path = self._ask_path("Save timeline", f"{Path(e.key).stem}_timeline.png", "PNG images (*.png)")
            if path is None:
                return None
        if not self.host.timeline.grab().save(str(path), "PNG"):
            self.host.show_error(f"Could not write {path}")
            return None
        self.host.set_status(f"Timeline saved: {path}")
        return Path(path)

    def frame_image(self) -> np.ndarray | None:
        """The current frame at native resolution with the overlay (as drawn): (H,W,3) uint8."""
        e = self.host.current_entry()
        if e is None or e.loop is None:
            return None
        player, settings = self.host.player, self.host.settings
        mask = player.native_mask() if player.overlay_visible else None
        return composite_overlay(e.loop.frame(player.current), mask, settings.overlay_color,
                                 settings.overlay_opacity)

    def frame_caption(self) -> list[CaptionLine]:
        """What an exported frame says under it: file, frame (from 1; ED or ES when it is one) and time,
        the beat's EF as reported (corrected when the loop was), a person's tracing, the demo label."""
        e = self.host.current_entry()
        if e is None or e.loop is None:
            return []
        player = self.host.player
        f = player.current
        phase = player.phase(f)
        lines: list[CaptionLine] = [f"{e.name} · frame {f + 1} of {player.n_frames}"
                                    + (f" ({phase})" if phase in ("ED", "ES") else "") + f" · {f / player.fps:.2f} s"]
        beat = beat_caption(e, player.beats, f)
        if beat:
            lines.append(beat)
        if player.overlay_visible and e.traced(f):
            lines.append("corrected tracing (drawn by a person)")
        if e.analysis is not None and e.analysis.demo:
            lines.append((DEMO_LABEL, CAPTION_WARN))
        return lines

    def captioned_frame(self) -> np.ndarray | None:
        """The current frame as exported: `frame_image` with the caption band under it."""
        rgb = self.frame_image()
        return None if rgb is None else caption_band(rgb, self.frame_caption())

    def save_frame_png(self, path: str | None = None) -> Path | None:
        e = self.host.current_entry()
        rgb = self.captioned_frame()
        if rgb is None:
            return None
        if path is None:
            default = f"{Path(e.key).stem}_frame{self.host.player.current + 1:04d}.png"  # counted from 1
            path = self._ask_path("Save frame", default, "PNG images (*.png)")
            if path is None:
                return None
        if not _qimage(rgb).save(str(path), "PNG"):
            self.host.show_error(f"Could not write {path}")
            return None
        self.host.set_status(f"Frame saved: {path}")
        return Path(path)

    def copy_frame(self) -> bool:
        """The current frame as `save_frame_png` writes it, on the clipboard."""
        rgb = self.captioned_frame()
        if rgb is None:
            return False
        QGuiApplication.clipboard().setImage(_qimage(rgb))
        self.host.set_status("Frame copied to the clipboard")
        return True

    # -- EchoNet dataset ------------------------------------------------------------------------------
    def open_corrections_dialog(self) -> None:
        """Ask where (and which split) to export the corrected loops to, then export."""
        folder = self.host.session.folder
        if folder is None:
            self.host.show_error("Open a study first")
            return
        dlg = ExportCorrectionsDialog(str(folder.with_name(folder.name + "_echonet")), self.parent_widget)
        self.export_dialog = dlg

        def done(result: int) -> None:
            self.export_dialog = None
            if result == QDialog.DialogCode.Accepted:
                out_dir, split, uncorrected, deidentify = dlg.values()
                self.export_corrections(out_dir, split, uncorrected, deidentify)
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.open()

    def export_corrections(self, out_dir, split: str = "TRAIN", include_uncorrected: bool = False,
                           deidentify: bool = False) -> bool:
        """Write the study's corrected loops as an EchoNet dataset (in a thread; ``exported`` at the end)."""
        host, session = self.host, self.host.session
        if session.folder is None:
            host.show_error("Open a study first")
            return False
        if self._relay is not None:
            host.show_error("An export is already running")
            return False
        from echoviewer.export.echonet_export import export_study

        study = str(session.folder)
        analyses = {e.key: e.analysis for e in session if e.analysis is not None}
        factory = host.analyzer_factory
        settings = host.settings.analysis_settings()
        user = host.settings.audit_name()
        n_loops = sum(1 for e in session if e.readable)
        unsaved = session.unsaved()
        count = {"n": 0}

        def on_progress(msg: str) -> None:
            count["n"] += 1
            host.progress.setValue(count["n"])
            host.set_status(msg)

        def on_done(res) -> None:
            self._relay = None
            host.progress.hide()
            text = result_text(res)
            if unsaved:
                text += "\n\nThe last edits of these loops could not be saved, so the export has their last " \
                        "saved state: " + ", ".join(unsaved)
            host.set_status(text.splitlines()[0], error=not res.exported)
            self._show_message("Export corrections", text, warn=not res.exported)
            self.exported.emit(res)

        def on_error(msg: str) -> None:
            self._relay = None
            host.progress.hide()
            host.show_error(f"Export failed: {msg}")
            self._show_message("Export corrections", f"Export failed: {msg}", warn=True)
            self.exported.emit(msg)

        def work(progress):
            state = {"analyzer": None}

            def analyze(loop):
                a = analyses.get(str(loop.path))
                if a is not None:
                    return a
                if state["analyzer"] is None:  # a loop the window has not analysed yet
                    state["analyzer"] = factory(settings)
                return state["analyzer"].analyze(loop)

            try:
                return export_study(study, out_dir, analyze, split=split, include_uncorrected=include_uncorrected,
                                    deidentify=deidentify,
                                    user=user, log=progress)
            finally:
                close = getattr(state["analyzer"], "close", None)  # ends an analysis process
                if close is not None:
                    close()

        host.progress.setRange(0, max(1, n_loops))
        host.progress.setValue(0)
        host.progress.setFormat("export %v/%m")
        host.progress.show()
        host.set_status(f"Exporting corrections to {out_dir}…")
        self._relay = run_in_thread("echoviewer-export", work, self, on_done, on_error, on_progress)
        return True

    def _show_message(self, title: str, text: str, warn: bool = False) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning if warn else QMessageBox.Icon.Information, title, text,
                          QMessageBox.StandardButton.Ok, self.parent_widget)
        self.message_box = box
        box.finished.connect(lambda _r: setattr(self, "message_box", None))
        box.open()
