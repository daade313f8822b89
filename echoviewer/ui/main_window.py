"""The review window: study list, cine player with LV overlay, beat-EF timeline, summary.

Layout and wiring only. The study's state lives in a Qt-free `StudySession`, which the window
feeds with the analysis worker's reports and observes; the study list renders it. Actions and
menus (`actions`), exports (`exports`), background threads (`background`), correction mode
(`correction`, through the narrow `CorrectionHost` interface) and calipers (`calipers`, through
`CaliperHost`) live in their own modules, and
so does the one place that draws the loop on screen (`loop_view`).
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSettings, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFileDialog,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from echoviewer.applog import log, loop_ref, redact, study_ref
from echoviewer.errors import one_line
from echoviewer.formatting import plural
from echoviewer.session import EventKind, LoopEntry, LoopState, SessionEvent, StudySession
from echoviewer.session.reporting import session_identity
from echoviewer.ui import theme
from echoviewer.ui.actions import WindowActions
from echoviewer.ui.background import freeze_startup_objects, prepare_demo_study
from echoviewer.ui.calipers import CaliperController
from echoviewer.ui.correction import CorrectionController
from echoviewer.ui.empty_state import EmptyState
from echoviewer.ui.evaluate_action import EvaluateRunner
from echoviewer.ui.exports import Exports
from echoviewer.ui.help import AboutDialog, ShortcutSheet, weights_in_use
from echoviewer.ui.loop_view import LoopView
from echoviewer.ui.pacs_dialog import PacsOpen
from echoviewer.ui.pacs_send import PacsSend
from echoviewer.ui.player import CinePlayer
from echoviewer.ui.report_export import ReportExport
from echoviewer.ui.settings import (
    SettingsDialog,
    UiSettings,
    add_recent_study,
    open_qsettings,
    recent_studies,
    restore_window_state,
    save_window_state,
)
from echoviewer.ui.status_bar import StatusBar
from echoviewer.ui.study_list import StudyList
from echoviewer.ui.summary import SummaryPanel
from echoviewer.ui.timeline import TimelineWidget, legend_html
from echoviewer.ui.worker import (
    AnalysisBridge,
    AnalysisWorker,
    AnalyzerFactory,
    default_analyzer_factory,
    default_reopen,
)


def _default_scan(folder):
    from echoviewer.io import scan_study

    return scan_study(folder)


class MainWindow(QMainWindow):
    #: A loop's finished analysis is on screen (player beats, timeline, summary): key.
    analysisShown = Signal(str)
    #: A loop's analysis failed: key, one-line message (emitted in the UI thread).
    analysisFailed = Signal(str, str)
    studyOpened = Signal(str)

    def __init__(
        self,
        analyzer_factory: AnalyzerFactory | None = None,
        qsettings: QSettings | None = None,
        scan: Callable[[Any], Any] | None = None,
        reopen: Callable[[Any], Any] | None = default_reopen,
        overrides: dict | None = None,
    ):
        super().__init__()
        self.qsettings = qsettings if qsettings is not None else open_qsettings()
        self.settings = UiSettings.effective(self.qsettings, overrides)
        self._scan = scan or _default_scan
        self.analyzer_factory = analyzer_factory or self._default_analyzer
        self.session = StudySession(self.settings.analysis_settings(), user=self.settings.audit_name())
        self.setWindowTitle("EchoViewer")
        self.resize(1400, 900)
        self.setAcceptDrops(True)

        # worker
        self.worker = AnalysisWorker(self.analyzer_factory, self.settings.analysis_settings(), reopen=reopen,
                                     preload=analyzer_factory is None)
        self.bridge = AnalysisBridge(self.worker, self)
        self.worker.started.connect(self._on_started)
        self.worker.progress.connect(self._on_progress)
        self.worker.finished.connect(self._on_finished)
        self.worker.failed.connect(self._on_failed)
        self.worker.cancelled.connect(self._on_cancelled)
        self.worker.idle.connect(self._on_idle)
        self.bridge.start()

        # widgets
        self.player = CinePlayer()
        self.player.set_overlay_style(self.settings.overlay_color, self.settings.overlay_opacity)
        self.study_list = StudyList(self.session, in_use=lambda loop: loop is self.player.loop)
        self.study_list.setMinimumWidth(250)
        self.study_list.keySelected.connect(self.select_loop)
        self.timeline = TimelineWidget()
        self.timeline.setMinimumHeight(180)
        self.summary = SummaryPanel()
        self.summary.setMinimumWidth(300)
        self.summary.set_categories(self.settings.categories)
        self.player.frameError.connect(self.show_error)
        self.player.frameError.connect(lambda msg: log.warning("%s: %s", loop_ref(self.current_key or "?"),
                                                               self._redact(msg)))
        self.empty = EmptyState()
        self.empty.open_btn.clicked.connect(lambda: self.open_study_dialog())
        self.empty.demo_btn.clicked.connect(self.open_demo_study)
        self.empty.recent.itemActivated.connect(lambda it: self.open_study(it.text()))
        self._build_layout()
        self.status = StatusBar(self.statusBar())
        # (the names the correction controller, the exports and the tests know them by)
        self.status_label, self.progress, self.save_label = self.status.status_label, self.status.progress, \
            self.status.save_label

        self.corrector = CorrectionController(self, self)
        self.view = LoopView(self.session, self.player, self.timeline, self.summary, self.corrector, self.status,
                             self)
        self.view.shown.connect(self.analysisShown)
        self.session.subscribe(self._on_session)
        self.exports = Exports(self, self)
        self.reports = ReportExport(self, self)
        self.evaluation = EvaluateRunner(self, self)
        self.pacs_open, self.pacs_send = PacsOpen(self, self), PacsSend(self, self)
        self.calipers = CaliperController(self, self)
        self.act = WindowActions(self)
        self.act.update_recent()
        self.act.update()
        self.help_dialog: QDialog | None = None  # the shortcut sheet or the About box while open
        self._analysis_t0: dict[str, float] = {}
        restore_window_state(self.qsettings, self, self._splitters())
        freeze_startup_objects()

    def _splitters(self) -> dict[str, QSplitter]:
        """The splitters whose sizes are kept between sessions, by their settings name."""
        return {"main": self.splitter, "centre": self.centre_splitter}

    def _build_layout(self) -> None:
        tl_box = QWidget()
        tl_lay = QVBoxLayout(tl_box)
        tl_lay.setContentsMargins(0, 4, 0, 0)
        tl_lay.setSpacing(2)
        self.timeline_key = QLabel(legend_html())
        self.timeline_key.setStyleSheet(f"color:{theme.MUTED}; font-size: 9pt; padding-left: 6px;")
        tl_lay.addWidget(self.timeline_key)
        tl_lay.addWidget(self.timeline, 1)
        self.centre_splitter = centre = QSplitter(Qt.Orientation.Vertical)
        centre.addWidget(self.player)
        centre.addWidget(tl_box)
        centre.setStretchFactor(0, 3)
        centre.setStretchFactor(1, 1)
        centre.setSizes([570, 270])
        centre.setChildrenCollapsible(False)
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(4)
        self.study_title = QLabel("STUDY")
        self.study_title.setObjectName("heading")
        self.study_title.setToolTip("")
        ll.addWidget(self.study_title)
        ll.addWidget(self.study_list, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(centre)
        self.splitter.addWidget(self.summary)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([290, 780, 330])
        self.splitter.setChildrenCollapsible(False)
        review = QWidget()
        rl = QVBoxLayout(review)
        rl.setContentsMargins(8, 6, 8, 4)
        rl.addWidget(self.splitter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(review)
        self.setCentralWidget(self.stack)

    # -- the study: read-only views of the session, by the names tests and scripts know ----------
    entries = property(lambda self: self.session.entries)
    order = property(lambda self: self.session.order)
    current_key = property(lambda self: self.session.current_key)
    study_path = property(lambda self: str(self.session.folder) if self.session.folder is not None else None)

    def current_entry(self) -> LoopEntry | None:
        return self.session.current

    # -- opening studies ------------------------------------------------------------------------
    def open_study_dialog(self) -> None:
        start = self.study_path or (recent_studies(self.qsettings) or [""])[0]
        folder = QFileDialog.getExistingDirectory(self, "Open study folder", start)
        if folder:
            self.open_study(folder)

    def open_demo_study(self) -> None:
        self.set_status("Preparing the demo study…")
        self.empty.demo_btn.setEnabled(False)
        self.act.demo.setEnabled(False)

        def ready(path=None, error: str = "") -> None:
            self.empty.demo_btn.setEnabled(True)
            self.act.demo.setEnabled(True)
            if error:
                self.show_error(f"Demo study: {error}")
            else:
                self.open_study(str(path))

        self._demo_relay = prepare_demo_study(self, ready, lambda msg: ready(error=msg))

    def open_study(self, path, select: str | None = None) -> bool:
        """Open a study folder (or the folder of a file, selecting that file). False on failure."""
        p = Path(path).expanduser()
        if p.is_file():
            select = select or str(p)
            p = p.parent
        if not p.is_dir():
            self.show_error(f"Not a folder: {p}")
            return False
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            scan = self._scan(p)
        except Exception as exc:
            self.show_error(f"Could not open {p}: {one_line(str(exc))}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self._load_scan(p, scan, select)
        return True

    def _redact(self, text: str) -> str:
        """``text`` for the log: the study's paths and file names replaced by references."""
        return redact(text, (e.key for e in self.session), self.session.folder)

    def _load_scan(self, folder: Path, scan, select: str | None) -> None:
        self.corrector.set_active(False)
        self.worker.cancel_all()
        self.player.set_loop(None)
        self.timeline.clear_loop()
        self.session.open(folder, getattr(scan, "loops", []) or [], getattr(scan, "errors", []) or [])
        add_recent_study(self.qsettings, str(folder))
        self.act.update_recent()
        who = session_identity(self.session).caption
        # the application's display name is appended by Qt ("… — EchoViewer"): not named here again
        self.setWindowTitle(f"{folder.name} — {who}" if who else folder.name)
        n_loops, n_bad = sum(1 for e in self.session if e.readable), self.session.count(LoopState.UNREADABLE)
        self.study_title.setText(f"STUDY · {folder.name.upper()} · {plural(n_loops, 'loop').upper()}"
                                 + (f"\n{who}" if who else ""))
        self.study_title.setToolTip(str(folder))
        self.stack.setCurrentIndex(1)
        self.set_status(f"Opened {folder} — {plural(n_loops, 'loop')}"
                        + (f", {plural(n_bad, 'unreadable file')}" if n_bad else ""))
        log.info("opened %s: %d loops, %d unreadable", study_ref(folder), n_loops, n_bad)
        for e in self.session:
            if not e.readable:
                log.info("%s unreadable: %s", loop_ref(e.key), self._redact(e.message))
        first = self.session.first_key(select)
        if first is not None:
            self.select_loop(first)
        else:
            self.summary.show_message(folder.name, "No readable loops in this folder.", error=bool(n_bad))
            self.timeline.clear_loop("no readable loops")
        self._submit_all()
        self.act.update()
        self.studyOpened.emit(str(folder))

    def _submit_all(self) -> None:
        loops = self.session.queue()
        self.worker.submit(loops, first=self.current_key, frame=self.player.current if self.current_key else None)

    # -- the loop on screen ---------------------------------------------------------------------
    def select_loop(self, key: str) -> None:
        e = self.session.get(key)
        if e is None:
            return
        if not e.readable:
            self.set_status(f"{e.name}: {e.message}", error=True)
            return
        self.session.select(key)  # -> _on_session; the list marks it

    def _on_session(self, ev: SessionEvent) -> None:
        if ev.kind == EventKind.SELECTED:
            self._show_entry(self.session.current)
        if ev.kind in (EventKind.SELECTED, EventKind.EDITED) and ev.key == self.current_key:
            self.status.show_save_state(self.current_entry())
        if ev.kind == EventKind.CHANGED and ev.key is not None:
            e = self.session.get(ev.key)
            if e is not None:
                self.status.follow_analysis(e)  # the same event, and number, the study list shows

    def _show_entry(self, e: LoopEntry) -> None:
        error = self.view.show(e)
        if error:
            self.show_error(error)
        elif e.pending:
            self.worker.prioritize(e.key, self.player.current)
        self.act.update()

    def seek(self, frame: int) -> None:
        self.view.seek(frame)

    def request_redraw(self) -> None:
        self.view.redraw()

    # -- the worker's reports -------------------------------------------------------------------
    def _on_started(self, key: str) -> None:
        e = self.session.started(key)
        if e is None:
            return
        self._analysis_t0[key] = time.perf_counter()
        log.info("analysing %s", loop_ref(key))
        if key == self.current_key:
            self.view.analysing(e)
        self.set_status(f"Analysing {e.name}…")

    def _on_progress(self, key: str, p) -> None:
        self.session.progressed(key, p)  # masks: -> the view; percent: -> the list and the status bar

    def _on_finished(self, key: str, analysis) -> None:
        done = self.session.finished(key, analysis)
        if done is None:
            return  # another study, or made with settings changed since (it is queued again)
        e = done.entry
        for problem in done.problems:
            self.show_error(problem)
        log.info("analysed %s: %d frames, %d beats, %.1f s%s", loop_ref(key), int(analysis.n_frames),
                 len(analysis.beats), time.perf_counter() - self._analysis_t0.pop(key, time.perf_counter()),
                 " (demo weights)" if analysis.demo else "")
        ef = analysis.ef_mean
        self.set_status((f"{e.name}: EF {ef:.1f} %" if ef is not None else f"{e.name}: analysed (no EF)")
                        + (f" · {done.note}" if done.note else ""))
        if key == self.current_key:
            self.status.show_save_state(e)
            self.view.finished(e, analysis)
        self.act.update()

    def _on_failed(self, key: str, message: str) -> None:
        e = self.session.failed(key, message)
        if e is None:
            return
        log.warning("analysis of %s failed: %s", loop_ref(key), self._redact(message))
        self.set_status(f"Analysis failed for {e.name}: {message}", error=True)
        if key == self.current_key:
            self.view.show_results(e)
        self.analysisFailed.emit(key, message)

    def _on_cancelled(self, key: str) -> None:
        self.session.cancelled(key)

    def _on_idle(self) -> None:
        self.status.hide_analysis()
        done, failed = self.session.count(LoopState.DONE), self.session.count(LoopState.FAILED)
        if len(self.session):
            self.set_status(f"Analysis complete: {plural(done, 'loop')}" + (f", {failed} failed" if failed else ""),
                            error=bool(failed))

    # -- what the correction controller and the exports call (CorrectionHost, ExportHost) -------------
    def set_status(self, text: str, error: bool = False) -> None:
        self.status.set_status(text, error)

    def show_error(self, text: str) -> None:
        self.set_status(text, error=True)

    def actions_changed(self) -> None:
        self.act.update()

    # -- settings -------------------------------------------------------------------------------
    def _default_analyzer(self, analysis_settings):
        """The real pipeline in its own process, with the CPU threads chosen in Settings."""
        return default_analyzer_factory(analysis_settings, threads=int(self.settings.torch_threads or 0))

    def open_settings(self) -> None:
        dlg = SettingsDialog(self.settings, self)
        if dlg.exec() and dlg.result_settings() is not None:
            self.apply_settings(dlg.result_settings())

    def apply_settings(self, new: UiSettings, persist: bool = True) -> None:
        old = self.settings
        self.settings = new
        if persist:
            new.save(self.qsettings)
        self.player.set_overlay_style(new.overlay_color, new.overlay_opacity)
        self.summary.set_categories(new.categories)
        self.session.set_user(new.audit_name())
        if new.analysis_settings() != old.analysis_settings():
            self.worker.set_settings(new.analysis_settings())
            self.reanalyse(new.analysis_settings())
        elif new.torch_threads != old.torch_threads:
            self.worker.reload()  # the analysis process restarts with the new thread count

    # -- help, full screen ------------------------------------------------------------------------
    def show_shortcuts(self) -> None:
        self._open_help(ShortcutSheet(self.menuBar(), self.act.all, self))

    def show_about(self) -> None:
        self._open_help(AboutDialog(weights_in_use(self.session, self.settings), self))

    def _open_help(self, dlg: QDialog) -> None:
        if self.help_dialog is not None:
            self.help_dialog.close()
        self.help_dialog = dlg
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.finished.connect(lambda _r, d=dlg: setattr(self, "help_dialog", None) if self.help_dialog is d else None)
        dlg.open()

    def set_full_screen(self, on: bool) -> None:
        if on and not self.isFullScreen():
            self.showFullScreen()
        elif not on and self.isFullScreen():
            self.showNormal()

    def changeEvent(self, ev) -> None:
        act = getattr(self, "act", None)
        if ev.type() == QEvent.Type.WindowStateChange and act is not None:  # also when the window manager ends it
            act.full_screen.setChecked(self.isFullScreen())
        super().changeEvent(ev)

    def reanalyse(self, settings=None) -> None:
        """Forget results and analyse every readable loop again (current loop first), with new
        analysis settings if given."""
        self.session.reset(settings)
        if self.current_entry() is not None:
            self.view.reanalysed(self.current_entry())
        self._submit_all()
        self.act.update()

    # -- drag and drop, closing -----------------------------------------------------------------
    def dragEnterEvent(self, ev) -> None:
        urls = ev.mimeData().urls() if ev.mimeData().hasUrls() else []
        if urls and urls[0].isLocalFile():
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev) -> None:
        urls = ev.mimeData().urls()
        if urls and urls[0].isLocalFile():
            ev.acceptProposedAction()
            self.open_study(urls[0].toLocalFile())

    def shutdown(self) -> None:
        self.player.pause()
        self.player.prefetch.close()
        self.study_list.stop()
        self.view.stop()
        self.bridge.shutdown()
        self.evaluation.cancel()

    def closeEvent(self, ev: QCloseEvent) -> None:
        save_window_state(self.qsettings, self, self._splitters())
        self.shutdown()
        log.info("window closed")
        super().closeEvent(ev)
