"""The study list: one row per loop with thumbnail, duration, fps, analysis state and EF."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from echoviewer.ui import theme
from echoviewer.ui.helpers import format_duration, format_ef, loop_corrected, to_rgb

THUMB = QSize(88, 66)

QUEUED, ANALYSING, DONE, ERROR, UNREADABLE = "queued", "analysing", "done", "error", "unreadable"


@dataclass
class LoopEntry:
    key: str  # str(path)
    name: str
    loop: Any = None  # None when unreadable
    state: str = QUEUED
    stage: str = ""
    percent: int = 0
    message: str = ""  # unreadable reason / analysis error
    analysis: Any = None
    masks: np.ndarray | None = None  # (T,112,112) bool, filled in as chunks arrive
    have: np.ndarray | None = None  # (T,) bool
    corrections: Any = None  # echoviewer.annotations.Corrections, once analysed
    saver: Any = None  # its AutoSaver
    item: QListWidgetItem | None = field(default=None, repr=False)

    def mask(self, frame: int) -> np.ndarray | None:
        if self.analysis is not None:
            masks = self.analysis.masks
            return masks[frame] if 0 <= frame < len(masks) else None
        if self.have is not None and 0 <= frame < len(self.have) and self.have[frame]:
            return self.masks[frame]
        return None

    def reset_analysis(self) -> None:
        self.analysis = None
        self.masks = None
        self.have = None
        self.state = QUEUED
        self.percent = 0
        self.stage = ""
        self.message = ""

    def add_masks(self, frames, masks) -> None:
        if self.loop is None:
            return
        if self.masks is None:
            n = int(self.loop.n_frames)
            self.masks = np.zeros((n,) + tuple(np.asarray(masks).shape[1:]), dtype=bool)
            self.have = np.zeros(n, dtype=bool)
        idx = np.asarray(frames, dtype=int)
        self.masks[idx] = np.asarray(masks, dtype=bool)
        self.have[idx] = True

    def partial_areas(self) -> np.ndarray | None:
        if self.masks is None:
            return None
        a = self.masks.reshape(len(self.masks), -1).sum(axis=1).astype(float)
        a[~self.have] = np.nan
        return a

    def status_text(self) -> str:
        if self.state == UNREADABLE:
            return f"unreadable: {self.message}"
        if self.state == ERROR:
            return f"analysis failed: {self.message}"
        if self.state == ANALYSING:
            return f"analysing {self.percent} %"
        if self.state == DONE and self.analysis is not None:
            a = self.analysis
            c = self.corrections
            if c is not None and c.has_edits:
                values = c.values()
                if loop_corrected(values, a):
                    s = c.summary()
                    ef = f"EF {format_ef(s.ef_mean, s.ef_sd)}" if s.ef_mean is not None else "no EF"
                    return f"✎ {ef} (model {format_ef(a.ef_mean)})"
            return f"EF {format_ef(a.ef_mean, a.ef_sd)}" if a.ef_mean is not None else "done · no EF"
        return self.state

    def detail_text(self) -> str:
        if self.loop is None:
            return ""
        lp = self.loop
        return f"{format_duration(lp.n_frames, lp.fps)} · {lp.fps:.0f} fps · {lp.n_frames} frames"


def thumbnail(frame: np.ndarray, size: QSize = THUMB) -> QIcon:
    rgb = to_rgb(frame)
    h, w = rgb.shape[:2]
    img = QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()
    pm = QPixmap.fromImage(img).scaled(size, Qt.AspectRatioMode.KeepAspectRatio,
                                       Qt.TransformationMode.SmoothTransformation)
    canvas = QPixmap(size)
    canvas.fill(QColor(theme.BASE))
    from PySide6.QtGui import QPainter

    p = QPainter(canvas)
    p.drawPixmap((size.width() - pm.width()) // 2, (size.height() - pm.height()) // 2, pm)
    p.end()
    return QIcon(canvas)


def placeholder_icon(size: QSize = THUMB) -> QIcon:
    canvas = QPixmap(size)
    canvas.fill(QColor(theme.BASE))
    return QIcon(canvas)


class StudyList(QListWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setIconSize(THUMB)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

    def add_entry(self, entry: LoopEntry) -> QListWidgetItem:
        item = QListWidgetItem(placeholder_icon(), "")
        item.setData(Qt.ItemDataRole.UserRole, entry.key)
        entry.item = item
        self.addItem(item)
        self.refresh(entry)
        return item

    def refresh(self, entry: LoopEntry) -> None:
        item = entry.item
        if item is None:
            return
        lines = [entry.name]
        if entry.detail_text():
            lines.append(entry.detail_text())
        status = entry.status_text()
        if entry.state == UNREADABLE and len(status) > 90:
            status = status[:87] + "…"
        lines.append(status)
        item.setText("\n".join(lines))
        tip = [str(Path(entry.key))]
        if entry.state == UNREADABLE:
            tip[0] += " — unreadable"
        if entry.message:
            tip.append(entry.message)
        item.setToolTip("\n".join(tip))
        if entry.state == UNREADABLE:
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
            item.setForeground(QColor(theme.EXCLUDED_COLOR))
        elif entry.state == ERROR:
            item.setForeground(QColor(theme.ERROR))
        else:
            item.setData(Qt.ItemDataRole.ForegroundRole, None)

    def set_thumbnail(self, entry: LoopEntry, frame: np.ndarray) -> None:
        if entry.item is not None:
            entry.item.setIcon(thumbnail(frame))
