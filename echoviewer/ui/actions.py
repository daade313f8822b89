"""The window's actions (with their keyboard shortcuts), menus and toolbar, and when each is enabled."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu

from echoviewer.ui.settings import clear_recent_studies, recent_studies
from echoviewer.ui.window_level import PRESETS

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMenuBar, QToolBar

    from echoviewer.session import LoopEntry, StudySession
    from echoviewer.ui.calipers import CaliperController
    from echoviewer.ui.correction import CorrectionController
    from echoviewer.ui.empty_state import EmptyState
    from echoviewer.ui.evaluate_action import EvaluateRunner
    from echoviewer.ui.exports import Exports
    from echoviewer.ui.pacs_dialog import PacsOpen
    from echoviewer.ui.pacs_send import PacsSend
    from echoviewer.ui.player import CinePlayer
    from echoviewer.ui.report_export import ReportExport


class ActionHost(Protocol):
    """What the actions drive and read: the window, seen through the members they use."""

    session: StudySession
    player: CinePlayer
    corrector: CorrectionController
    calipers: CaliperController
    exports: Exports
    reports: ReportExport
    evaluation: EvaluateRunner
    pacs_open: PacsOpen
    pacs_send: PacsSend
    empty: EmptyState
    qsettings: QSettings

    def current_entry(self) -> LoopEntry | None: ...
    def open_study(self, path: str) -> bool: ...
    def open_study_dialog(self) -> None: ...
    def open_demo_study(self) -> None: ...
    def open_settings(self) -> None: ...
    def reanalyse(self) -> None: ...
    def show_shortcuts(self) -> None: ...
    def show_about(self) -> None: ...
    def set_full_screen(self, on: bool) -> None: ...
    def close(self) -> bool: ...
    def addAction(self, action: QAction) -> None: ...
    def menuBar(self) -> QMenuBar: ...
    def addToolBar(self, title: str) -> QToolBar: ...


class WindowActions:
    """Every action of the review window (``win.act.<name>``); shortcuts work anywhere in it.

    Shortcuts are written out (not QKeySequence.StandardKey, whose keys differ between desktops) so
    that the README's table and Help → Keyboard shortcuts say what every platform gets; Qt reads
    Ctrl as ⌘ on a Mac."""

    def __init__(self, win: ActionHost):
        self.win = win
        self.all: list[QAction] = []  # in creation order (the shortcut sheet lists those no menu holds)
        p, c, x, m = win.player, win.corrector, win.exports, win.calipers
        add = self._add
        self.open = add("&Open study…", lambda: win.open_study_dialog(), "Ctrl+O", "Open a folder of echo loops")
        self.demo = add("Open &demo study", win.open_demo_study, tip="Synthetic phantom study")
        self.open_pacs = add("Open from &PACS…", win.pacs_open.open_dialog, "Ctrl+Shift+O",
                             "Search a PACS node, retrieve a study into the local cache and open it")
        self.send_pacs = add("Send results to PAC&S…", win.pacs_send.open_dialog,
                             tip="SR, Encapsulated PDF and key images into the study on a PACS node")
        self.clinical_report = add("Export &report (PDF, DICOM)…", win.reports.open_dialog, "Ctrl+Shift+R",
                                   "PDF report to sign and DICOM objects for the PACS (SR, Encapsulated PDF, "
                                   "key images)")
        self.export_loop = add("&Export CSV (this loop)…", lambda: x.export_report("loop"), "Ctrl+E",
                               "CSV report of the loop on screen")
        self.export_study = add("Export CSV (whole &study)…", lambda: x.export_report("study"), "Ctrl+Shift+E",
                                "CSV report of every analysed loop")
        self.png_frame = add("Save &frame as PNG…", lambda: x.save_frame_png(),
                             tip="The current frame with the LV overlay, at native resolution, with its file, "
                                 "frame and EF written under it")
        self.copy_frame = add("&Copy frame", lambda: x.copy_frame(), "Ctrl+C",
                              "Copy the current frame (as saved as PNG) to the clipboard")
        self.png_timeline = add("Save &timeline as PNG…", lambda: x.save_timeline_png())
        self.settings = add("&Settings…", win.open_settings, "Ctrl+,")
        self.quit = add("&Quit", win.close, "Ctrl+Q")
        self.reanalyse = add("&Re-analyse study", lambda: win.reanalyse())
        self.evaluate = add("&Evaluate on a labelled dataset…", win.evaluation.open_dialog,
                            tip="Measure the weights in use on an EchoNet-format folder: Dice, EF error, HFrEF AUC")
        self.play = add("Play", p.toggle_play, "Space", "Play / pause (Space)")
        self.prev = add("Previous frame", lambda: p.step(-1), "Left")
        self.next = add("Next frame", lambda: p.step(1), "Right")
        self.first = add("First frame", p.first, "Home")
        self.last = add("Last frame", p.last, "End")
        self.prev_beat = add("Previous beat", p.prev_beat, "[")
        self.next_beat = add("Next beat", p.next_beat, "]")
        self.overlay = add("LV overlay", p.set_overlay_visible, "O", "Show the LV overlay (O)", checkable=True)
        self.overlay.setChecked(True)
        self.fit = add("Fit image", p.fit, "F", "Fit the image to the view (F, or double-click)")
        self.full_screen = add("&Full screen", win.set_full_screen, "F11", "Full screen (F11)", checkable=True)
        p.playingChanged.connect(lambda on: self.play.setText("Pause" if on else "Play"))

        # window/level: display only (ui/window_level.py)
        self.wl_group = QActionGroup(win)
        self.wl_presets: list[QAction] = []
        for name, wl in PRESETS:
            a = add(name, lambda _=False, wl=wl: p.set_window_level(wl), tip=f"Window/level {wl.label()}",
                    checkable=True)
            self.wl_group.addAction(a)
            self.wl_presets.append(a)
        self.wl_reset = add("&Reset window/level", p.reset_window_level, "W",
                            "Back to the loop's own brightness and contrast (W); right-drag on the image changes them")
        p.windowLevelChanged.connect(self._show_window_level)
        self._show_window_level(p.window_level)

        # help
        self.shortcuts = add("&Keyboard shortcuts", win.show_shortcuts, "F1", "Every shortcut of the window (F1 or ?)")
        self.shortcuts.setShortcuts([QKeySequence("F1"), QKeySequence("?")])
        self.about = add("&About EchoViewer", win.show_about, tip="Version, weights in use, third-party licences")

        # corrections
        self.correct = add("✎ &Correction mode", self._set_correction, "E",
                           "Correct beats and tracings (E): drag markers and points; Esc cancels", checkable=True)
        c.modeChanged.connect(self.correct.setChecked)
        self.undo = add("&Undo", c.undo, "Ctrl+Z", "Undo the last correction (Ctrl+Z)")
        self.redo = add("&Redo", c.redo, "Ctrl+Shift+Z", "Redo (Ctrl+Shift+Z)")
        self.redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.set_ed = add("Set &ED of this beat here", lambda: c.set_frame_here("ed"), "D",
                          "Move the current beat's ED to the frame on screen (D)")
        self.set_es = add("Set E&S of this beat here", lambda: c.set_frame_here("es"), "S",
                          "Move the current beat's ES to the frame on screen (S)")
        self.add_beat = add("&Add a beat here", c.add_beat_here, "A",
                            "New beat: ED on this frame, ES at the smallest LV area after it (A)")
        self.delete_beat = add("&Delete this beat", c.delete_beat, "Shift+Del",
                               "Delete the current beat (Shift+Del; Ctrl+Z brings it back)")
        self.exclude = add("E&xclude / include this beat…", lambda: c.toggle_exclude(), "X",
                           "Leave the current beat out of the average, with a reason; X again includes it")
        self.redraw = add("&Redraw the tracing", c.start_redraw, "R",
                          "Draw this frame's LV outline from scratch: click points, Enter closes (R)")
        self.finish = add("Close the redrawn tracing, area or LV trace", lambda: m.finish() or c.finish_redraw(),
                          "Return")
        self.finish.setShortcuts([QKeySequence("Return"), QKeySequence("Enter")])
        self.delete_point = add("Delete the point under the mouse", c.delete_point, "Del")
        self.delete_point.setShortcuts([QKeySequence("Del"), QKeySequence("Backspace")])
        self.cancel = add("Cancel the edit or measurement in progress", lambda: m.cancel() or c.cancel(), "Esc")
        # calipers (ui/calipers.py): saved with the corrections, listed in the reports
        self.measure_distance = add("Measure &distance", lambda: m.start("distance"), "M",
                                    "Caliper: click two points on the image (M); Esc cancels")
        self.measure_area = add("Measure &area", lambda: m.start("area"), "Shift+M",
                                "Click points round an area; Enter or double-click closes it (Shift+M)")
        self.measure_volume = add("&Trace LV volume", lambda: m.start("volume"), "T",
                                  "Click from one mitral hinge round the apex to the other; Enter closes: "
                                  "volume by the method of disks (T)")
        self.delete_measurement = add("D&elete measurement", lambda: m.delete(),
                                      tip="The measurement selected in the list, else the last one on this frame")
        self.export_corr = add("Export &corrections…", x.open_corrections_dialog,
                               tip="Write the corrected loops as an EchoNet-Dynamic dataset folder")
        self._build_menus()
        self._build_toolbar()
        self._build_image_menu()
        p.contextMenuRequested.connect(self.popup_image_menu)

    def _add(self, text, slot, shortcut=None, tip=None, checkable=False) -> QAction:
        a = QAction(text, self.win)
        if shortcut:
            a.setShortcut(QKeySequence(shortcut))
            a.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        if tip:
            a.setToolTip(tip)
            a.setStatusTip(tip)
        a.setCheckable(checkable)
        a.triggered.connect(slot)
        self.win.addAction(a)
        self.all.append(a)
        return a

    def _show_window_level(self, wl) -> None:
        """Check the preset the display is at (none after a right-drag elsewhere)."""
        for (_name, preset), a in zip(PRESETS, self.wl_presets):
            a.setChecked(preset == wl)
        self.wl_reset.setEnabled(not wl.is_default and self.win.player.loop is not None)

    def _set_correction(self, on: bool) -> None:
        self.win.corrector.set_active(on)
        self.correct.setChecked(self.win.corrector.active)  # refused: nothing to correct here

    def _build_menus(self) -> None:
        mb = self.win.menuBar()
        m = mb.addMenu("&File")
        m.addAction(self.open)
        self.recent_menu = m.addMenu("Open &recent")
        m.addAction(self.demo)
        m.addAction(self.open_pacs)
        m.addSeparator()
        for a in (self.clinical_report, self.send_pacs, self.export_loop, self.export_study, self.png_frame,
                  self.png_timeline, self.export_corr):
            m.addAction(a)
        m.addSeparator()
        m.addAction(self.settings)
        m.addSeparator()
        m.addAction(self.quit)
        ed = mb.addMenu("&Edit")
        ed.addAction(self.undo)
        ed.addAction(self.redo)
        ed.addSeparator()
        ed.addAction(self.copy_frame)
        ed.addSeparator()
        ed.addAction(self.correct)
        ed.addSeparator()
        for a in (self.set_ed, self.set_es, self.add_beat, self.delete_beat, self.exclude):
            ed.addAction(a)
        ed.addSeparator()
        for a in (self.redraw, self.finish, self.delete_point, self.cancel):
            ed.addAction(a)
        v = mb.addMenu("&View")
        for a in (self.play, self.prev, self.next, self.first, self.last, self.prev_beat, self.next_beat):
            v.addAction(a)
        v.addSeparator()
        v.addAction(self.overlay)
        v.addAction(self.fit)
        self.wl_menu = self._window_level_menu(v)
        v.addSeparator()
        v.addAction(self.full_screen)
        ms = mb.addMenu("&Measure")
        for a in (self.measure_distance, self.measure_area, self.measure_volume):
            ms.addAction(a)
        ms.addSeparator()
        ms.addAction(self.delete_measurement)
        an = mb.addMenu("&Analysis")
        an.addAction(self.reanalyse)
        an.addAction(self.evaluate)
        h = mb.addMenu("&Help")
        h.addAction(self.shortcuts)
        h.addAction(self.about)

    def _window_level_menu(self, parent: QMenu, reset: bool = True) -> QMenu:
        m = parent.addMenu("&Window/level")
        for a in self.wl_presets:
            m.addAction(a)
        if reset:
            m.addSeparator()
            m.addAction(self.wl_reset)
        return m

    def _build_image_menu(self) -> None:
        """The image's right-click menu: the same actions as the menus, so they agree."""
        m = self.image_menu = QMenu(self.win)
        m.addAction(self.overlay)
        m.addAction(self.fit)
        m.addSeparator()
        m.addAction(self.png_frame)
        m.addAction(self.copy_frame)
        m.addSeparator()
        for a in (self.measure_distance, self.measure_area, self.measure_volume, self.delete_measurement):
            m.addAction(a)
        m.addSeparator()
        self._window_level_menu(m, reset=False)
        m.addAction(self.wl_reset)

    def popup_image_menu(self, pos: QPoint) -> None:
        if self.win.player.loop is not None:
            self.image_menu.popup(pos)

    def _build_toolbar(self) -> None:
        tb = self.win.addToolBar("Main")
        tb.setObjectName("mainToolbar")
        tb.setMovable(False)
        tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for group in ((self.open, self.export_loop), (self.play, self.overlay, self.fit),
                      (self.correct, self.undo, self.redo), (self.settings,)):
            if tb.actions():
                tb.addSeparator()
            for a in group:
                tb.addAction(a)
        for a in tb.actions():
            w = tb.widgetForAction(a)
            if w is not None:
                w.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for a, text in ((self.open, "Open study…"), (self.export_loop, "Export CSV"), (self.settings, "Settings…"),
                        (self.correct, "✎ Correct"), (self.undo, "Undo"), (self.redo, "Redo")):
            a.setIconText(text)

    def update_recent(self) -> None:
        """The Open recent menu and the empty state's list, from the settings."""
        win = self.win
        paths = recent_studies(win.qsettings)
        self.recent_menu.clear()
        for path in paths:
            a = self.recent_menu.addAction(path)
            a.triggered.connect(lambda _=False, path=path: win.open_study(path))
        if paths:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._clear_recent)
        self.recent_menu.setEnabled(bool(paths))
        win.empty.set_recent(paths)

    def _clear_recent(self) -> None:
        clear_recent_studies(self.win.qsettings)
        self.update_recent()

    def update(self) -> None:
        """Enable what can be done now: on the loop on screen, in the study, in correction mode."""
        win = self.win
        e = win.current_entry()
        has_loop = e is not None and e.loop is not None
        done = e is not None and e.analysis is not None
        for a in (self.play, self.prev, self.next, self.first, self.last, self.prev_beat, self.next_beat,
                  self.png_frame, self.copy_frame, self.fit, *self.wl_presets):
            a.setEnabled(has_loop)
        self.wl_reset.setEnabled(has_loop and not win.player.window_level.is_default)
        self.export_loop.setEnabled(done)
        self.png_timeline.setEnabled(done)
        self.export_study.setEnabled(any(x.analysis is not None for x in win.session))
        self.clinical_report.setEnabled(any(x.analysis is not None for x in win.session))
        self.send_pacs.setEnabled(self.clinical_report.isEnabled())
        self.reanalyse.setEnabled(len(win.session) > 0)
        c = e.corrections if e is not None else None
        on = win.corrector.active and c is not None
        ed = win.player.editor
        self.correct.setEnabled(c is not None)
        self.undo.setEnabled(c is not None and (c.can_undo() or ed.busy))
        self.redo.setEnabled(c is not None and c.can_redo())
        for a in (self.set_ed, self.set_es, self.add_beat, self.delete_beat, self.exclude):
            a.setEnabled(on)
        cal = win.calipers
        self.cancel.setEnabled(on or cal.busy)
        self.redraw.setEnabled(on and ed.isVisible() and not ed.busy)
        self.delete_point.setEnabled(on and ed.isVisible())
        self.finish.setEnabled((on and ed.redrawing) or cal.closable)
        for a in (self.measure_distance, self.measure_area, self.measure_volume):
            a.setEnabled(cal.available())
        self.delete_measurement.setEnabled(cal.can_delete())
        self.export_corr.setEnabled(win.session.folder is not None and any(x.readable for x in win.session))
