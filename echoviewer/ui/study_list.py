"""The study list: one row per loop with thumbnail, duration, fps, analysis state and EF.

It renders a `StudySession` (observing it: rows follow every change) and keeps its own key -> row
map; a row the user picks is reported as ``keySelected(key)``. Once a loop is judged low
confidence or not analysable (io/gates.py, pipeline/confidence.py) the rows are grouped under
headers (analysable, low confidence, not analysable) with the reason on each row; a row's
right-click menu overrules the gates ("Analyse as apical 4-chamber", "Exclude this loop").
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QMenu

from echoviewer.analysis.drawing import to_rgb
from echoviewer.session import EventKind, LoopEntry, LoopState, SessionEvent, StudySession
from echoviewer.ui import theme

THUMB = QSize(88, 66)
#: Group headers, in list order; loops not judged yet (queued, failed, unreadable) stay in the first.
GROUPS = (("analysable", "ANALYSABLE"), ("low confidence", "LOW CONFIDENCE · EF not reported"),
          ("not analysable", "NOT ANALYSABLE · no EF"))
#: The row menu's choices over the gates: (text, Corrections.override_gate choice).
OVERRIDE_ACTIONS = (("Analyse as apical 4-chamber", "a4c"), ("Exclude this loop", "exclude"),
                    ("Use the automatic decision", None))


def thumbnail(frame: np.ndarray, size: QSize = THUMB) -> QIcon:
    rgb = to_rgb(frame)
    h, w = rgb.shape[:2]
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    pm = QPixmap.fromImage(img).scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
    canvas = QPixmap(size)
    canvas.fill(QColor(theme.BASE))
    p = QPainter(canvas)
    p.drawPixmap((size.width() - pm.width()) // 2, (size.height() - pm.height()) // 2, pm)
    p.end()
    return QIcon(canvas)


def placeholder_icon(size: QSize = THUMB) -> QIcon:
    canvas = QPixmap(size)
    canvas.fill(QColor(theme.BASE))
    return QIcon(canvas)


class StudyList(QListWidget):
    #: the user picked a row (not emitted when the session selects a loop)
    keySelected = Signal(str)

    def __init__(self, session: StudySession, in_use: Callable[[object], bool] = lambda loop: False, parent=None):
        """``in_use(loop)``: whether a loop is on screen (its file stays open after its thumbnail)."""
        super().__init__(parent)
        self.session = session
        self.in_use = in_use
        self._items: dict[str, QListWidgetItem] = {}
        self._thumb_queue: list[str] = []
        self._thumb_timer = QTimer(self)
        self._thumb_timer.setInterval(0)
        self._thumb_timer.timeout.connect(self._next_thumbnail)
        self.setIconSize(THUMB)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.currentItemChanged.connect(self._on_current_changed)
        self._headers: list[QListWidgetItem] = []
        self._grouping: list[tuple] = []  # (group, *keys) per group the last time rows were placed
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        session.subscribe(self._on_event)

    def item_for(self, key: str) -> QListWidgetItem | None:
        return self._items.get(key)

    def thumbnails_pending(self) -> bool:
        return self._thumb_timer.isActive()

    def stop(self) -> None:
        self._thumb_timer.stop()

    # -- following the session -----------------------------------------------------------------------
    def _on_event(self, ev: SessionEvent) -> None:
        if ev.kind == EventKind.OPENED:
            self._rebuild()
        elif ev.kind == EventKind.SELECTED:
            item = self._items.get(ev.key)
            if item is not None:
                # (the list may already hold it as current without selecting it: select explicitly)
                with QSignalBlocker(self):
                    self.setCurrentItem(item, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        elif ev.kind in (EventKind.CHANGED, EventKind.EDITED):
            e = self.session.get(ev.key)
            if e is not None:
                self.refresh(e)
                self._regroup()

    def _rebuild(self) -> None:
        with QSignalBlocker(self):
            self.clear()
            self._items = {}
            self._headers, self._grouping = [], []
            for e in self.session:
                item = QListWidgetItem(placeholder_icon(), "")
                item.setData(Qt.ItemDataRole.UserRole, e.key)
                self._items[e.key] = item
                self.addItem(item)
                self.refresh(e)
        self._grouping = [("", *self.session.order)]
        self._thumb_queue = [e.key for e in self.session if e.readable]
        self._thumb_timer.start()

    def _on_current_changed(self, item, _prev) -> None:
        if item is not None and item.data(Qt.ItemDataRole.UserRole):
            self.keySelected.emit(item.data(Qt.ItemDataRole.UserRole))

    # -- groups ---------------------------------------------------------------------------------------
    def group_of(self, key: str) -> str:
        """The group a loop's row is listed under ("analysable" until it is judged otherwise)."""
        e = self.session.get(key)
        d = None if e is None else e.decision
        return "analysable" if d is None else d.verdict.value

    def headers(self) -> list[str]:
        """The group headers shown, in order (none while every loop is in the first group)."""
        return [h.text() for h in self._headers]

    def _regroup(self) -> None:
        """Rows in group order under headers, once some loop is not plainly analysable; else in
        study order without headers. Only moves rows when the grouping changed."""
        by_group: dict[str, list[str]] = {g: [] for g, _ in GROUPS}
        for e in self.session:
            by_group[self.group_of(e.key)].append(e.key)
        split = any(by_group[g] for g, _ in GROUPS[1:])
        order = [k for g, _ in GROUPS for k in by_group[g]] if split else list(self.session.order)
        layout = [(g, *by_group[g]) for g, _ in GROUPS] if split else [("", *order)]
        if layout == self._grouping:
            return
        current = self.currentItem()
        key = current.data(Qt.ItemDataRole.UserRole) if current is not None else None
        with QSignalBlocker(self):
            while self.count():
                self.takeItem(0)
            self._headers = []
            rows: list[QListWidgetItem] = []
            for g, title in GROUPS:
                if split and by_group[g]:
                    self._headers.append(self._header(f"{title} ({len(by_group[g])})"))
                    rows.append(self._headers[-1])
                    rows += [self._items[k] for k in by_group[g]]
            for row in rows if split else [self._items[k] for k in order]:
                self.addItem(row)
            if key in self._items:
                self.setCurrentItem(self._items[key], QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self._grouping = layout

    @staticmethod
    def _header(title: str) -> QListWidgetItem:
        item = QListWidgetItem(title)
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # never selected, never current
        font = QFont()
        font.setBold(True)
        item.setFont(font)
        item.setForeground(QColor(theme.MUTED))
        return item

    def _context_menu(self, pos) -> None:
        item = self.itemAt(pos)
        key = None if item is None else item.data(Qt.ItemDataRole.UserRole)
        menu = self.override_menu(key) if key else None
        if menu is not None:
            menu.exec(self.viewport().mapToGlobal(pos))

    def override_menu(self, key: str) -> QMenu | None:
        """The row menu of an analysed loop: overrule the gates (saved with its corrections)."""
        e = self.session.get(key)
        if e is None or e.corrections is None:
            return None
        menu = QMenu(self)
        now = (e.corrections.gate_override or {}).get("choice")
        for text, choice in OVERRIDE_ACTIONS:
            act = menu.addAction(text)
            act.setCheckable(choice is not None)
            act.setChecked(choice is not None and choice == now)
            act.setEnabled(choice != now)
            act.triggered.connect(lambda _=False, c=choice: self.session.override(key, c))
        return menu

    def refresh(self, entry: LoopEntry) -> None:
        item = self._items.get(entry.key)
        if item is None:
            return
        lines = [entry.name]
        if entry.detail_text():
            lines.append(entry.detail_text())
        status = entry.status_text()
        if entry.state == LoopState.UNREADABLE and len(status) > 90:
            status = status[:87] + "…"
        lines.append(status)
        item.setText("\n".join(lines))
        tip = [str(Path(entry.key))]
        if entry.state == LoopState.UNREADABLE:
            tip[0] += " — unreadable"
        if entry.message:
            tip.append(entry.message)
        item.setToolTip("\n".join(tip))
        if entry.state == LoopState.UNREADABLE:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            item.setForeground(QColor(theme.EXCLUDED_COLOR))
        elif entry.state == LoopState.FAILED:
            item.setForeground(QColor(theme.ERROR))
        elif entry.decision is not None and not entry.decision.analysable:
            item.setForeground(QColor(theme.EXCLUDED_COLOR))
        elif entry.decision is not None and not entry.decision.reported:
            item.setForeground(QColor(theme.FLAGGED_COLOR))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)
        if entry.decision is not None and entry.decision.reason:
            item.setToolTip(item.toolTip() + "\n" + entry.decision.text())

    # -- thumbnails, one per event-loop turn ---------------------------------------------------------
    def _next_thumbnail(self) -> None:
        if not self._thumb_queue:
            self._thumb_timer.stop()
            return
        e = self.session.get(self._thumb_queue.pop(0))
        item = None if e is None else self._items.get(e.key)
        if e is None or e.loop is None or item is None:
            return
        try:
            item.setIcon(thumbnail(e.loop.frame(min(e.loop.n_frames - 1, 0))))
        except Exception:
            pass
        if not self.in_use(e.loop):
            e.loop.close()  # no open file and no decoded frame for each loop of a big study
