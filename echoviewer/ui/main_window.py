"""The review window: study list, cine player with LV overlay, beat-EF timeline, summary."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

import gc
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QObject, QSettings, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QImage, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from echoviewer import DEMO_LABEL
from echoviewer.ui import theme
from echoviewer.ui.correction import CorrectionController
from echoviewer.ui.helpers import composite_overlay
from echoviewer.ui.player import CinePlayer
from echoviewer.ui.settings import (
    SettingsDialog,
    UiSettings,
    add_recent_study,
    clear_recent_studies,
    open_qsettings,
    recent_studies,
)
from echoviewer.ui.study import ANALYSING, DONE, ERROR, QUEUED, UNREADABLE, LoopEntry, StudyList
from echoviewer.ui.summary import SummaryPanel
from echoviewer.ui.timeline import TimelineWidget, legend_html
from echoviewer.ui.worker import (
    AnalysisBridge,
    AnalysisWorker,
    AnalyzerFactory,
    default_analyzer_factory,
    default_reopen,
)

#: Share of the progress bar per pipeline stage (segmenting dominates).
#: A finished analysis of the loop on screen is drawn this long after it arrives (see _on_finished).
DISPLAY_DELAY_MS = 1
STAGE_SPAN = {"segment": (0, 80), "beats": (80, 85), "ef": (85, 100), "done": (100, 100)}


def stage_percent(stage: str, done: int, total: int) -> int:
    lo, hi = STAGE_SPAN.get(stage, (0, 100))
    frac = done / total if total else 1.0
    return int(round(lo + (hi - lo) * min(max(frac, 0.0), 1.0)))


def _default_scan(folder):
    from echoviewer.io import scan_study

    return scan_study(folder)


def _report_writer():
    from echoviewer.export.report import write_report

    return write_report


class _Relay(QObject):
    """Carries a result from a plain Python thread back to the UI thread."""

    done = Signal(object)
    error = Signal(str)


class EmptyState(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        title = QLabel("No study open")
        title.setObjectName("emptyTitle")
        text = QLabel("Open a folder of apical 4-chamber loops (video or DICOM), or drop it on this window.")
        text.setObjectName("emptyText")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.open_btn = QPushButton("Open study…")
        self.open_btn.setObjectName("primary")
        self.open_btn.setMinimumSize(QSize(170, 38))
        self.demo_btn = QPushButton("Open demo study")
        self.demo_btn.setMinimumSize(QSize(170, 38))
        self.demo_btn.setToolTip(f"Synthetic phantom loops analysed with the bundled weights ({DEMO_LABEL})")
        self.recent = QListWidget()
        self.recent.setFixedWidth(520)
        self.recent_label = QLabel("RECENT STUDIES")
        self.recent_label.setObjectName("heading")
        btns = QHBoxLayout()
        btns.addStretch(1)
        btns.addWidget(self.open_btn)
        btns.addSpacing(10)
        btns.addWidget(self.demo_btn)
        btns.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        lay.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addSpacing(8)
        lay.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addSpacing(22)
        lay.addLayout(btns)
        lay.addSpacing(30)
        lay.addWidget(self.recent_label, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(self.recent, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(3)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            self.recent.addItem(p)
        rows = min(len(paths), 6)
        self.recent.setFixedHeight(max(1, rows) * (self.recent.sizeHintForRow(0) if paths else 30) + 6)
        self.recent.setVisible(bool(paths))
        self.recent_label.setVisible(bool(paths))


_startup_frozen = False


def _freeze_startup_objects() -> None:
    """Once per process: everything alive when the first window is built (modules, widgets:
    ~400,000 objects) lives as long as the app. A full garbage collection walks all tracked
    objects holding the GIL, 100-200 ms of frozen playback; frozen ones are skipped (and still
    freed by reference counting)."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.freeze()


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
        self.settings = UiSettings.load(self.qsettings)
        for k, v in (overrides or {}).items():
            if v is not None:
                setattr(self.settings, k, v)
        self._scan = scan or _default_scan
        self.analyzer_factory = analyzer_factory or self._default_analyzer
        self.entries: dict[str, LoopEntry] = {}
        self.order: list[str] = []
        self.current_key: str | None = None
        self.study_path: str | None = None
        self._thumb_queue: list[str] = []
        self._partial_dirty = False

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
        self.study_list = StudyList()
        self.study_list.setMinimumWidth(250)
        self.study_list.currentItemChanged.connect(self._on_list_changed)
        self.player = CinePlayer()
        self.player.set_overlay_style(self.settings.overlay_color, self.settings.overlay_opacity)
        self.timeline = TimelineWidget()
        self.timeline.setMinimumHeight(180)
        self.summary = SummaryPanel()
        self.summary.setMinimumWidth(300)
        self.summary.set_categories(self.settings.categories)
        self.player.frameChanged.connect(self._on_frame)
        self.player.frameError.connect(self.show_error)
        self.timeline.seekRequested.connect(self._seek_paused)
        self.timeline.scrubRequested.connect(lambda n: self._seek_paused(self.player.current + n))
        self.summary.beatActivated.connect(self._seek_paused)

        tl_box = QWidget()
        tl_lay = QVBoxLayout(tl_box)
        tl_lay.setContentsMargins(0, 4, 0, 0)
        tl_lay.setSpacing(2)
        self.timeline_key = QLabel(legend_html())
        self.timeline_key.setStyleSheet(f"color:{theme.MUTED}; font-size: 9pt; padding-left: 6px;")
        tl_lay.addWidget(self.timeline_key)
        tl_lay.addWidget(self.timeline, 1)
        centre = QSplitter(Qt.Orientation.Vertical)
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

        self.empty = EmptyState()
        self.empty.open_btn.clicked.connect(lambda: self.open_study_dialog())
        self.empty.demo_btn.clicked.connect(self.open_demo_study)
        self.empty.recent.itemActivated.connect(lambda it: self.open_study(it.text()))
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(review)
        self.setCentralWidget(self.stack)

        # status bar
        self.status_label = QLabel("")
        self.progress = QProgressBar()
        self.progress.setFixedWidth(220)
        self.progress.setRange(0, 100)
        self.progress.hide()
        self.weights_label = QLabel("")
        self.save_label = QLabel("")  # corrections: saved / saved to the per-user folder / not saved
        sb = self.statusBar()
        sb.addWidget(self.status_label, 1)
        sb.addPermanentWidget(self.progress)
        sb.addPermanentWidget(self.save_label)
        sb.addPermanentWidget(self.weights_label)

        self.corrector = CorrectionController(self)
        self._build_actions()
        self._update_recent()
        self._thumb_timer = QTimer(self)
        self._thumb_timer.setInterval(0)
        self._thumb_timer.timeout.connect(self._next_thumbnail)
        self._partial_timer = QTimer(self)
        self._partial_timer.setInterval(250)
        self._partial_timer.timeout.connect(self._flush_partial)
        self._partial_timer.start()
        self._update_actions()
        _freeze_startup_objects()

    # -- actions, menus, toolbar ----------------------------------------------------------------
    def _action(self, text, slot, shortcut=None, tip=None, checkable=False) -> QAction:
        a = QAction(text, self)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_actions(self) -> None:
        p = self.player
        self.act_open = self._action("&Open study…", lambda: self.open_study_dialog(), QKeySequence.StandardKey.Open,
                                     "Open a folder of echo loops")
        self.act_demo = self._action("Open &demo study", self.open_demo_study, tip="Synthetic phantom study")
        self.act_export_loop = self._action("&Export report (this loop)…", lambda: self.export_report("loop"),
                                            "Ctrl+E", "CSV report of the loop on screen")
        self.act_export_study = self._action("Export report (whole &study)…", lambda: self.export_report("study"),
                                             "Ctrl+Shift+E", "CSV report of every analysed loop")
        self.act_png_frame = self._action("Save &frame as PNG…", lambda: self.save_frame_png(),
                                          tip="The current frame with the LV overlay, at native resolution")
        self.act_png_timeline = self._action("Save &timeline as PNG…", lambda: self.save_timeline_png())
        self.act_settings = self._action("&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        self.act_quit = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.act_reanalyse = self._action("&Re-analyse study", self.reanalyse)
        self.act_play = self._action("Play", p.toggle_play, "Space", "Play / pause (Space)")
        self.act_prev = self._action("Previous frame", lambda: p.step(-1), "Left")
        self.act_next = self._action("Next frame", lambda: p.step(1), "Right")
        self.act_first = self._action("First frame", p.first, "Home")
        self.act_last = self._action("Last frame", p.last, "End")
        self.act_prev_beat = self._action("Previous beat", p.prev_beat, "[")
        self.act_next_beat = self._action("Next beat", p.next_beat, "]")
        self.act_overlay = self._action("LV overlay", self.set_overlay_visible, "O", "Show the LV overlay (O)",
                                        checkable=True)
        self.act_overlay.setChecked(True)
        self.act_fit = self._action("Fit image", p.fit, "F", "Fit the image to the view (F, or double-click)")
        p.playingChanged.connect(lambda on: self.act_play.setText("Pause" if on else "Play"))

        # corrections
        c = self.corrector
        self.act_correct = self._action("✎ &Correction mode", c.set_active, "E",
                                        "Correct beats and tracings (E): drag markers and points; Esc cancels",
                                        checkable=True)
        self.act_undo = self._action("&Undo", c.undo, QKeySequence.StandardKey.Undo, "Undo the last correction (Ctrl+Z)")
        self.act_redo = self._action("&Redo", c.redo, "Ctrl+Shift+Z", "Redo (Ctrl+Shift+Z)")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_set_ed = self._action("Set &ED of this beat here", lambda: c.set_frame_here("ed"), "D",
                                       "Move the current beat's ED to the frame on screen (D)")
        self.act_set_es = self._action("Set E&S of this beat here", lambda: c.set_frame_here("es"), "S",
                                       "Move the current beat's ES to the frame on screen (S)")
        self.act_add_beat = self._action("&Add a beat here", c.add_beat_here, "A",
                                         "New beat: ED on this frame, ES at the smallest LV area after it (A)")
        self.act_delete_beat = self._action("&Delete this beat", c.delete_beat, "Shift+Del",
                                            "Delete the current beat (Shift+Del; Ctrl+Z brings it back)")
        self.act_exclude = self._action("E&xclude / include this beat…", lambda: c.toggle_exclude(), "X",
                                        "Leave the current beat out of the average, with a reason; X again includes it")
        self.act_redraw = self._action("&Redraw the tracing", c.start_redraw, "R",
                                       "Draw this frame's LV outline from scratch: click points, Enter closes (R)")
        self.act_finish = self._action("Close the redrawn tracing", c.finish_redraw, "Return")
        self.act_finish.setShortcuts([QKeySequence("Return"), QKeySequence("Enter")])
        self.act_delete_point = self._action("Delete the point under the mouse", c.delete_point, "Del")
        self.act_delete_point.setShortcuts([QKeySequence("Del"), QKeySequence("Backspace")])
        self.act_cancel = self._action("Cancel the edit in progress", c.cancel, "Esc")
        self.act_export_corr = self._action("Export &corrections…", c.export_dialog_open,
                                            tip="Write the corrected loops as an EchoNet-Dynamic dataset folder")

        mb = self.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.act_open)
        self.recent_menu = m.addMenu("Open &recent")
        m.addAction(self.act_demo)
        m.addSeparator()
        m.addAction(self.act_export_loop)
        m.addAction(self.act_export_study)
        m.addAction(self.act_png_frame)
        m.addAction(self.act_png_timeline)
        m.addAction(self.act_export_corr)
        m.addSeparator()
        m.addAction(self.act_settings)
        m.addSeparator()
        m.addAction(self.act_quit)
        ed = mb.addMenu("&Edit")
        ed.addAction(self.act_undo)
        ed.addAction(self.act_redo)
        ed.addSeparator()
        ed.addAction(self.act_correct)
        ed.addSeparator()
        for a in (self.act_set_ed, self.act_set_es, self.act_add_beat, self.act_delete_beat, self.act_exclude):
            ed.addAction(a)
        ed.addSeparator()
        for a in (self.act_redraw, self.act_finish, self.act_delete_point, self.act_cancel):
            ed.addAction(a)
        v = mb.addMenu("&View")
        for a in (self.act_play, self.act_prev, self.act_next, self.act_first, self.act_last,
                  self.act_prev_beat, self.act_next_beat):
            v.addAction(a)
        v.addSeparator()
        v.addAction(self.act_overlay)
        v.addAction(self.act_fit)
        an = mb.addMenu("&Analysis")
        an.addAction(self.act_reanalyse)

        tb = self.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        tb.addAction(self.act_open)
        tb.addAction(self.act_export_loop)
        tb.addSeparator()
        tb.addAction(self.act_play)
        tb.addAction(self.act_overlay)
        tb.addAction(self.act_fit)
        tb.addSeparator()
        tb.addAction(self.act_correct)
        tb.addAction(self.act_undo)
        tb.addAction(self.act_redo)
        tb.addSeparator()
        tb.addAction(self.act_settings)
        for a in tb.actions():
            w = tb.widgetForAction(a)
            if w is not None:
                w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.act_open.setIconText("Open study…")
        self.act_export_loop.setIconText("Export CSV")
        self.act_settings.setIconText("Settings…")
        self.act_correct.setIconText("✎ Correct")
        self.act_undo.setIconText("Undo")
        self.act_redo.setIconText("Redo")

    def _update_recent(self) -> None:
        paths = recent_studies(self.qsettings)
        self.recent_menu.clear()
        for p in paths:
            a = self.recent_menu.addAction(p)
            a.triggered.connect(lambda _=False, p=p: self.open_study(p))
        if paths:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(paths))
        self.empty.set_recent(paths)

    def _clear_recent(self) -> None:
        clear_recent_studies(self.qsettings)
        self._update_recent()

    def _update_actions(self) -> None:
        has_loop = self.current_entry() is not None and self.current_entry().loop is not None
        done = self.current_entry() is not None and self.current_entry().analysis is not None
        for a in (self.act_play, self.act_prev, self.act_next, self.act_first, self.act_last,
                  self.act_prev_beat, self.act_next_beat, self.act_png_frame, self.act_fit):
            a.setEnabled(has_loop)
        self.act_export_loop.setEnabled(done)
        self.act_png_timeline.setEnabled(done)
        self.act_export_study.setEnabled(any(e.analysis is not None for e in self.entries.values()))
        self.act_reanalyse.setEnabled(bool(self.entries))
        c = self.current_entry().corrections if self.current_entry() is not None else None
        corr = self.corrector
        on = corr.active and c is not None
        ed = self.player.editor
        self.act_correct.setEnabled(c is not None)
        self.act_undo.setEnabled(c is not None and (c.can_undo() or ed.busy))
        self.act_redo.setEnabled(c is not None and c.can_redo())
        for a in (self.act_set_ed, self.act_set_es, self.act_add_beat, self.act_delete_beat, self.act_exclude,
                  self.act_cancel):
            a.setEnabled(on)
        self.act_redraw.setEnabled(on and ed.isVisible() and not ed.busy)
        self.act_delete_point.setEnabled(on and ed.isVisible())
        self.act_finish.setEnabled(on and ed.redrawing)
        self.act_export_corr.setEnabled(bool(self.study_path) and any(e.loop is not None for e in self.entries.values()))

    # -- opening studies ------------------------------------------------------------------------
    def open_study_dialog(self) -> None:
        start = self.study_path or (recent_studies(self.qsettings) or [""])[0]
        folder = QFileDialog.getExistingDirectory(self, "Open study folder", start)
        if folder:
            self.open_study(folder)

    def open_demo_study(self) -> None:
        self.set_status("Preparing the demo study…")
        self.empty.demo_btn.setEnabled(False)
        self.act_demo.setEnabled(False)
        relay = _Relay(self)
        relay.done.connect(self._demo_done)
        relay.error.connect(self._demo_failed)

        def work():
            try:
                from echoviewer.synthetic.demo import ensure_demo_study

                relay.done.emit(ensure_demo_study())
            except Exception as exc:  # noqa: BLE001 - reported in the status bar
                relay.error.emit(" ".join(str(exc).split()) or type(exc).__name__)

        self._demo_relay = relay
        threading.Thread(target=work, name="echoviewer-demo", daemon=True).start()

    def _demo_ready(self) -> None:
        self.empty.demo_btn.setEnabled(True)
        self.act_demo.setEnabled(True)

    def _demo_done(self, path) -> None:
        self._demo_ready()
        self.open_study(str(path))

    def _demo_failed(self, message: str) -> None:
        self._demo_ready()
        self.show_error(f"Demo study: {message}")

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
        except Exception as exc:  # noqa: BLE001 - a broken study must not kill the app
            self.show_error(f"Could not open {p}: {' '.join(str(exc).split())}")
            return False
        finally:
            QApplication.restoreOverrideCursor()
        self._load_scan(p, scan, select)
        return True

    def _load_scan(self, folder: Path, scan, select: str | None) -> None:
        self.corrector.set_active(False)
        self.worker.cancel_all()
        self.player.set_loop(None)
        self.timeline.clear_loop()
        self.current_key = None
        self.study_list.blockSignals(True)
        self.study_list.clear()
        self.study_list.blockSignals(False)
        self.entries.clear()
        self.order = []
        loops = sorted(getattr(scan, "loops", []) or [], key=lambda lp: Path(lp.path).name.lower())
        errors = sorted(getattr(scan, "errors", []) or [], key=lambda e: str(getattr(e, "path", "")).lower())
        for loop in loops:
            e = LoopEntry(key=str(loop.path), name=Path(loop.path).name, loop=loop)
            self.entries[e.key] = e
            self.order.append(e.key)
            self.study_list.add_entry(e)
        for err in errors:
            path = str(getattr(err, "path", "") or "")
            msg = " ".join(str(getattr(err, "problem", None) or err).split())
            e = LoopEntry(key=path or f"error:{len(self.entries)}", name=Path(path).name or "?",
                          state=UNREADABLE, message=msg)
            self.entries[e.key] = e
            self.order.append(e.key)
            self.study_list.add_entry(e)
        self.study_path = str(folder)
        add_recent_study(self.qsettings, str(folder))
        self._update_recent()
        self.setWindowTitle(f"EchoViewer — {folder.name}")
        n_bad = len(errors)
        self.study_title.setText(f"STUDY · {folder.name.upper()} · {len(loops)} LOOP{'S' if len(loops) != 1 else ''}")
        self.study_title.setToolTip(str(folder))
        self.stack.setCurrentIndex(1)
        self.set_status(
            f"Opened {folder} — {len(loops)} loop{'s' if len(loops) != 1 else ''}"
            + (f", {n_bad} unreadable file{'s' if n_bad != 1 else ''}" if n_bad else "")
        )
        self._thumb_queue = [e.key for e in self.entries.values() if e.loop is not None]
        self._thumb_timer.start()
        first = select if select in self.entries and self.entries[select].loop is not None else None
        if first is None and loops:
            first = str(loops[0].path)
        if first is not None:
            self.select_loop(first)
        else:
            self.summary.show_message(folder.name, "No readable loops in this folder.", error=bool(errors))
            self.timeline.clear_loop("no readable loops")
        self._submit_all()
        self._update_actions()
        self.studyOpened.emit(str(folder))

    def _submit_all(self) -> None:
        loops = [self.entries[k].loop for k in self.order
                 if self.entries[k].loop is not None and self.entries[k].analysis is None
                 and self.entries[k].state != ERROR]
        for lp in loops:
            e = self.entries[str(lp.path)]
            if e.state != ANALYSING:
                e.state = QUEUED
                self.study_list.refresh(e)
        self.worker.submit(loops, first=self.current_key, frame=self.player.current if self.current_key else None)

    def _next_thumbnail(self) -> None:
        if not self._thumb_queue:
            self._thumb_timer.stop()
            return
        e = self.entries.get(self._thumb_queue.pop(0))
        if e is None or e.loop is None:
            return
        try:
            frame = e.loop.frame(min(e.loop.n_frames - 1, 0))
            self.study_list.set_thumbnail(e, frame)
        except Exception:  # noqa: BLE001 - a thumbnail is not worth an error
            pass
        if e.loop is not self.player.loop:
            e.loop.close()  # no open file and no decoded frame for each loop of a big study

    # -- selection ------------------------------------------------------------------------------
    def current_entry(self) -> LoopEntry | None:
        return self.entries.get(self.current_key) if self.current_key else None

    def select_loop(self, key: str) -> None:
        e = self.entries.get(key)
        if e is None or e.item is None:
            return
        # (the list may already hold it as current without selecting it: select explicitly)
        self.study_list.setCurrentItem(e.item, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if e.loop is not None:
            self._show_entry(e)  # no-op when the current-item signal already showed it

    def _on_list_changed(self, item, _prev) -> None:
        if item is None:
            return
        key = item.data(Qt.ItemDataRole.UserRole)
        e = self.entries.get(key)
        if e is None:
            return
        if e.loop is None:
            self.set_status(f"{e.name}: {e.message}", error=True)
            return
        self._show_entry(e)

    def _show_entry(self, e: LoopEntry) -> None:
        if e.key == self.current_key:
            return
        self.current_key = e.key
        try:
            self.player.set_loop(e.loop, e.mask)
        except Exception as exc:  # noqa: BLE001 - e.g. frames that cannot be decoded
            self.player.set_loop(None)
            self.show_error(f"{e.name}: {' '.join(str(exc).split())}")
            self.timeline.clear_loop("cannot display this loop")
            self.summary.show_message(e.name, f"Cannot display: {exc}", error=True)
            self._update_actions()
            return
        self.timeline.set_loop(e.loop.n_frames, e.loop.fps)
        self.timeline.set_frame(self.player.current)
        # An edit in progress on the old loop ends before the new one is drawn, so the new one's
        # corrected view is drawn once (the timeline alone takes 10-15 ms).
        self.corrector.loop_changed(refresh=False)
        self._show_results(e)
        if e.corrections is None:
            self.corrector.refresh()  # nothing to correct here: hides the editor
        if e.analysis is None and e.state in (QUEUED, ANALYSING):
            self.worker.prioritize(e.key, self.player.current)
        self._update_actions()

    def _show_results(self, e: LoopEntry) -> None:
        if e.analysis is not None:
            a = e.analysis
            if e.corrections is not None:
                self.corrector.refresh()  # -> show_corrected
            else:
                self.player.set_beats(a.beats, demo=a.demo)
                self.timeline.set_analysis(a)
                self.timeline.set_frame(self.player.current)
                self.summary.show_analysis(a, e.name)
            self.weights_label.setText(self._weights_text(a))
            self.analysisShown.emit(e.key)
        else:
            self.player.set_beats([])
            if e.state == ERROR:
                self.timeline.clear_loop("analysis failed")
                self.summary.show_message(e.name, f"Analysis failed: {e.message}", error=True)
            else:
                self.timeline.clear_loop()
                self.timeline.set_message("analysing…" if e.state == ANALYSING else "waiting for analysis…")
                self._partial_dirty = True
                self.summary.show_message(e.name, e.status_text().capitalize())
                self.summary.set_loop_info(e.loop.fps)

    def show_corrected(self, e: LoopEntry, values, summary) -> None:
        """Player beats, timeline and summary from a loop's corrections (model values beside)."""
        a = e.analysis
        self.player.set_beats(values, demo=a.demo)
        self.timeline.set_analysis(a, values, summary)
        self.timeline.set_frame(self.player.current)
        self.summary.show_analysis(a, e.name, values, summary)

    @staticmethod
    def _weights_text(a) -> str:
        name = getattr(a.seg_info, "name", "?")
        txt = f"{a.device} · {name}"
        if a.demo:
            txt += f" · {DEMO_LABEL}"
        return txt

    def _on_frame(self, frame: int) -> None:
        self.timeline.set_frame(frame)
        self.corrector.on_frame(frame)

    def _seek_paused(self, frame: int) -> None:
        self.player.pause()
        if self.player.n_frames:
            self.player.seek(min(max(int(frame), 0), self.player.n_frames - 1))

    def set_overlay_visible(self, on: bool) -> None:
        self.act_overlay.setChecked(bool(on))
        self.player.set_overlay_visible(bool(on))

    # -- worker signals -------------------------------------------------------------------------
    def _on_started(self, key: str) -> None:
        e = self.entries.get(key)
        if e is None:
            return
        e.state, e.percent, e.message = ANALYSING, 0, ""
        self.study_list.refresh(e)
        self.progress.setValue(0)
        self.progress.setFormat(f"{e.name}  %p%")
        self.progress.show()
        if key == self.current_key and e.analysis is None:
            self.timeline.set_message("analysing…")
            self.summary.show_message(e.name, "Analysing…")
            self.summary.set_loop_info(e.loop.fps if e.loop else None)
        self.set_status(f"Analysing {e.name}…")

    def _on_progress(self, key: str, p) -> None:
        e = self.entries.get(key)
        if e is None or e.analysis is not None:
            return
        pct = stage_percent(getattr(p, "stage", ""), int(getattr(p, "done", 0)), int(getattr(p, "total", 0)))
        e.state, e.stage = ANALYSING, getattr(p, "stage", "")
        frames, masks = getattr(p, "frames", None), getattr(p, "masks", None)
        if frames is not None and masks is not None and len(frames):
            e.add_masks(frames, masks)
            if key == self.current_key:
                self.player.masks_updated(frames)
                self._partial_dirty = True
        if pct != e.percent:
            e.percent = pct
            self.study_list.refresh(e)
            self.progress.setValue(pct)

    def _flush_partial(self) -> None:
        if not self._partial_dirty:
            return
        self._partial_dirty = False
        e = self.current_entry()
        if e is None or e.analysis is not None:
            return
        areas = e.partial_areas()
        if areas is not None:
            cm = None
            if e.loop is not None and getattr(e.loop, "cm_per_pixel", None):
                cm = e.loop.transform.grid_cm_per_pixel(e.loop.cm_per_pixel)
            self.timeline.set_message("")
            self.timeline.set_partial(areas, cm)

    def _on_finished(self, key: str, analysis) -> None:
        e = self.entries.get(key)
        if e is None:
            return
        done_with = getattr(analysis, "settings", None)
        if done_with is not None and done_with != self.settings.analysis_settings():
            return  # finished just before the settings changed; it is queued again
        e.analysis, e.state, e.percent, e.message = analysis, DONE, 100, ""
        e.masks, e.have = None, None
        region = getattr(analysis, "region", None)
        if region is not None and hasattr(e.loop, "adopt_region"):
            # the analysis found it: showing this loop's overlay need not decode frames to find it
            e.loop.adopt_region(region, analysis.region_source)
        note = self.corrector.attach(e, analysis)
        self.study_list.refresh(e)
        self.progress.setValue(100)
        ef = analysis.ef_mean
        self.set_status((f"{e.name}: EF {ef:.1f} %" if ef is not None else f"{e.name}: analysed (no EF)")
                        + (f" · {note}" if note else ""))
        if key == self.current_key:
            if int(analysis.n_frames) != self.player.n_frames:
                # the file held fewer frames than its header said: follow the analysis
                self.player.set_loop(e.loop, e.mask, frame=min(self.player.current, int(analysis.n_frames) - 1))
                self.timeline.set_loop(int(analysis.n_frames), analysis.fps)
            self.player.masks_updated(None)
            # Drawn a moment later, not now: the frame tick and repaint that are due go first, so
            # the window never does all of it in one stretch (40-60 ms on 2 busy cores).
            QTimer.singleShot(DISPLAY_DELAY_MS, lambda k=key, a=analysis: self._show_finished(k, a))
        self._update_actions()

    def _show_finished(self, key: str, analysis) -> None:
        e = self.entries.get(key)
        if e is None or key != self.current_key or e.analysis is not analysis:
            return  # another loop is on screen, or this one was re-analysed meanwhile
        self._show_results(e)
        self.corrector.loop_changed(refresh=False)

    def _on_failed(self, key: str, message: str) -> None:
        e = self.entries.get(key)
        if e is None:
            return
        e.state, e.message = ERROR, message
        self.study_list.refresh(e)
        self.set_status(f"Analysis failed for {e.name}: {message}", error=True)
        if key == self.current_key:
            self._show_results(e)
        self.analysisFailed.emit(key, message)

    def _on_cancelled(self, key: str) -> None:
        e = self.entries.get(key)
        if e is not None and e.analysis is None and e.state == ANALYSING:
            e.state = QUEUED
            self.study_list.refresh(e)

    def _on_idle(self) -> None:
        self.progress.hide()
        done = sum(1 for e in self.entries.values() if e.state == DONE)
        failed = sum(1 for e in self.entries.values() if e.state == ERROR)
        if self.entries:
            msg = f"Analysis complete: {done} loop{'s' if done != 1 else ''}"
            if failed:
                msg += f", {failed} failed"
            self.set_status(msg, error=bool(failed))

    def set_status(self, text: str, error: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setStyleSheet(f"color: {theme.ERROR if error else theme.MUTED};")
        self.status_label.setToolTip(text)

    def show_error(self, text: str) -> None:
        self.set_status(text, error=True)

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
        self.corrector.set_user(new.audit_name())
        if new.analysis_settings() != old.analysis_settings():
            self.worker.set_settings(new.analysis_settings())
            self.reanalyse()
        elif new.torch_threads != old.torch_threads:
            self.worker.reload()  # the analysis process restarts with the new thread count

    def reanalyse(self) -> None:
        """Forget results and analyse every readable loop again (current loop first)."""
        for e in self.entries.values():
            if e.loop is not None:
                e.reset_analysis()
                self.study_list.refresh(e)
        e = self.current_entry()
        if e is not None:
            self.player.set_beats([])
            self.player.masks_updated(None)
            self._show_results(e)
            self.corrector.loop_changed()
        self._submit_all()
        self._update_actions()

    # -- exports --------------------------------------------------------------------------------
    def _ask_path(self, title: str, default: str, filt: str) -> str | None:
        base = self.study_path or str(Path.home())
        path, _ = QFileDialog.getSaveFileName(self, title, str(Path(base) / default), filt)
        return path or None

    def export_report(self, scope: str = "loop", path: str | None = None) -> Path | None:
        if scope == "loop":
            e = self.current_entry()
            entries = [e] if e is not None and e.analysis is not None else []
            default = f"{Path(e.key).stem if e else 'loop'}_report.csv"
        else:
            entries = [self.entries[k] for k in self.order if self.entries[k].analysis is not None]
            default = f"{Path(self.study_path or 'study').name}_report.csv"
        analyses = [x.analysis for x in entries]
        corrections = {x.analysis.path: x.corrections for x in entries if x.corrections is not None}
        if not analyses:
            self.show_error("Nothing to export yet: no finished analysis.")
            return None
        if path is None:
            path = self._ask_path("Export CSV report", default, "CSV files (*.csv)")
            if path is None:
                return None
        try:
            _report_writer()(analyses, Path(path), corrections_by_path=corrections)
        except Exception as exc:  # noqa: BLE001
            self.show_error(f"Could not write {path}: {' '.join(str(exc).split())}")
            return None
        self.set_status(f"Report written: {path} ({len(analyses)} loop{'s' if len(analyses) != 1 else ''})")
        return Path(path)

    def save_timeline_png(self, path: str | None = None) -> Path | None:
        e = self.current_entry()
        if e is None:
            return None
        if path is None:
            path = self._ask_path("Save timeline", f"{Path(e.key).stem}_timeline.png", "PNG images (*.png)")
            if path is None:
                return None
        if not self.timeline.grab().save(str(path), "PNG"):
            self.show_error(f"Could not write {path}")
            return None
        self.set_status(f"Timeline saved: {path}")
        return Path(path)

    def frame_image(self) -> np.ndarray | None:
        """The current frame at native resolution with the overlay (as drawn): (H,W,3) uint8."""
        e = self.current_entry()
        if e is None or e.loop is None:
            return None
        mask = self.player.native_mask() if self.player.overlay_visible else None
        return composite_overlay(e.loop.frame(self.player.current), mask, self.settings.overlay_color,
                                 self.settings.overlay_opacity)

    def save_frame_png(self, path: str | None = None) -> Path | None:
        e = self.current_entry()
        rgb = self.frame_image()
        if rgb is None:
            return None
        if path is None:
            default = f"{Path(e.key).stem}_frame{self.player.current:04d}.png"
            path = self._ask_path("Save frame", default, "PNG images (*.png)")
            if path is None:
                return None
        h, w = rgb.shape[:2]
        img = QImage(np.ascontiguousarray(rgb).data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
        if not img.save(str(path), "PNG"):
            self.show_error(f"Could not write {path}")
            return None
        self.set_status(f"Frame saved: {path}")
        return Path(path)

    # -- drag and drop, closing -----------------------------------------------------------------
    def dragEnterEvent(self, ev) -> None:  # noqa: N802
        urls = ev.mimeData().urls() if ev.mimeData().hasUrls() else []
        if urls and urls[0].isLocalFile():
            ev.acceptProposedAction()
        else:
            ev.ignore()

    def dropEvent(self, ev) -> None:  # noqa: N802
        urls = ev.mimeData().urls()
        if urls and urls[0].isLocalFile():
            ev.acceptProposedAction()
            self.open_study(urls[0].toLocalFile())

    def shutdown(self) -> None:
        self.player.pause()
        self.player.prefetch.close()
        self._thumb_timer.stop()
        self._partial_timer.stop()
        self.bridge.shutdown()

    def closeEvent(self, ev: QCloseEvent) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(ev)
