"""The study list: one row per loop with thumbnail, duration, fps, analysis state and EF.

It renders a `StudySession` (observing it: rows follow every change) and keeps its own key -> row
map; a row the user picks is reported as ``keySelected(key)``.
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QItemSelectionModel, QSignalBlocker, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from echoviewer.analysis.drawing import to_rgb
from echoviewer.session import EventKind, LoopEntry, LoopState, SessionEvent, StudySession
from echoviewer.ui import theme

THUMB = QSize(88, 66)


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

    def _rebuild(self) -> None:
        with QSignalBlocker(self):
            self.clear()
            self._items = {}
            for e in self.session:
                item = QListWidgetItem(placeholder_icon(), "")
                item.setData(Qt.ItemDataRole.UserRole, e.key)
                self._items[e.key] = item
                self.addItem(item)
                self.refresh(e)
        self._thumb_queue = [e.key for e in self.session if e.readable]
        self._thumb_timer.start()

    def _on_current_changed(self, item, _prev) -> None:
        if item is not None:
            self.keySelected.emit(item.data(Qt.ItemDataRole.UserRole))

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
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)

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
