"""Summary panel: EF mean ± s.d., category, volumes, heart rate, weights in use, flags, beats."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from echoviewer import DEMO_LABEL
from echoviewer.ui import theme
from echoviewer.ui.helpers import DEFAULT_CATEGORIES, ef_category, format_ef, weights_label


def category_color(label: str, table) -> str:
    labels = [lab for _, lab in table]
    if label not in labels:
        return theme.MUTED
    i = labels.index(label)
    if i == len(labels) - 1:
        return theme.OK
    if i == 0:
        return theme.ERROR
    return theme.WARN


def _heading(text: str) -> QLabel:
    lab = QLabel(text.upper())
    lab.setObjectName("heading")
    return lab


class SummaryPanel(QFrame):
    beatActivated = Signal(int)  # frame to show (the beat's ED frame)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("panel")
        self.categories = list(DEFAULT_CATEGORIES)
        self.analysis = None

        self.title = QLabel("")
        self.title.setWordWrap(True)
        self.title.setStyleSheet(f"color:{theme.TEXT}; font-weight:600;")
        self.demo_banner = QLabel(f"⚠ {DEMO_LABEL.upper()}<br><span style='font-weight:400'>"
                                  "Results come from the bundled demo weights.</span>")
        self.demo_banner.setObjectName("demoBanner")
        self.demo_banner.setWordWrap(True)
        self.demo_banner.hide()
        self.ef_value = QLabel("–")
        self.ef_value.setStyleSheet(f"font-size: 26pt; font-weight: 300; color: {theme.TEXT};")
        self.category = QLabel("")
        self.category.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.beats_used = QLabel("")
        self.beats_used.setStyleSheet(f"color:{theme.MUTED};")
        self.beats_used.setWordWrap(True)

        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(12)
        self.grid.setVerticalSpacing(4)
        self._values: dict[str, QLabel] = {}
        for r, name in enumerate(("EDV", "ESV", "Heart rate", "Segmentation EF", "Frame rate", "Device")):
            k = QLabel(name)
            k.setStyleSheet(f"color:{theme.MUTED};")
            v = QLabel("–")
            v.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.grid.addWidget(k, r, 0)
            self.grid.addWidget(v, r, 1)
            self._values[name] = v

        self.weights = QLabel("–")
        self.weights.setWordWrap(True)
        self.weights.setTextFormat(Qt.TextFormat.RichText)
        self.weights.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.flags = QLabel("")
        self.flags.setWordWrap(True)
        self.flags.setTextFormat(Qt.TextFormat.RichText)

        self.beats = QTableWidget(0, 4)
        self.beats.setHorizontalHeaderLabels(["Beat", "ED–ES", "EF", "Seg EF"])
        self.beats.verticalHeader().setVisible(False)
        self.beats.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.beats.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.beats.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.beats.setShowGrid(False)
        hh = self.beats.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.beats.verticalHeader().setDefaultSectionSize(22)
        self.beats.cellClicked.connect(self._beat_clicked)
        self.beats.setMinimumHeight(90)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        lay.setSpacing(6)
        lay.addWidget(self.title)
        lay.addWidget(self.demo_banner)
        lay.addSpacing(4)
        lay.addWidget(_heading("Ejection fraction"))
        lay.addWidget(self.ef_value)
        lay.addWidget(self.category)
        lay.addWidget(self.beats_used)
        lay.addSpacing(6)
        lay.addLayout(self.grid)
        lay.addSpacing(6)
        lay.addWidget(_heading("Flags"))
        lay.addWidget(self.flags)
        lay.addSpacing(6)
        lay.addWidget(_heading("Beats"))
        lay.addWidget(self.beats, 1)
        lay.addSpacing(6)
        lay.addWidget(_heading("Weights"))
        lay.addWidget(self.weights)
        self.show_message("", "")

    def set_categories(self, table) -> None:
        self.categories = list(table)
        if self.analysis is not None:
            self.show_analysis(self.analysis, self.title.text())

    # -- content --------------------------------------------------------------------------------
    def _set_value(self, name: str, text: str) -> None:
        self._values[name].setText(text)

    def show_message(self, title: str, message: str, error: bool = False) -> None:
        self.analysis = None
        self.title.setText(title)
        self.demo_banner.hide()
        self.ef_value.setText("–")
        self.category.setText(message)
        color = theme.ERROR if error else theme.MUTED
        self.category.setStyleSheet(f"font-size: 10pt; font-weight: 500; color: {color};")
        self.category.setWordWrap(True)
        self.beats_used.setText("")
        for name in self._values:
            self._set_value(name, "–")
        self.flags.setText(f"<span style='color:{theme.MUTED}'>–</span>")
        self.weights.setText(f"<span style='color:{theme.MUTED}'>–</span>")
        self.beats.setRowCount(0)

    def set_loop_info(self, fps: float | None) -> None:
        self._set_value("Frame rate", f"{fps:.1f} fps" if fps else "–")

    def show_analysis(self, a, title: str = "") -> None:
        self.analysis = a
        self.title.setText(title)
        self.demo_banner.setVisible(bool(a.demo))
        self.ef_value.setText(format_ef(a.ef_mean, a.ef_sd))
        cat = ef_category(a.ef_mean, self.categories)
        self.category.setWordWrap(False)
        self.category.setText(cat or "no EF")
        self.category.setStyleSheet(
            f"font-size: 12pt; font-weight: 600; color: {category_color(cat, self.categories)};"
        )
        used = [b for b in a.beats if b.included and b.ef_model is not None]
        self.beats_used.setText(
            f"{len(used)} of {len(a.beats)} beats used · mean ± s.d. of per-beat model EF · "
            "single-plane apical 4-chamber"
        )
        unit = a.volume_unit
        if unit == "mL":
            self._set_value("EDV", f"{a.edv_mean:.0f} mL" if a.edv_mean is not None else "–")
            self._set_value("ESV", f"{a.esv_mean:.0f} mL" if a.esv_mean is not None else "–")
        else:
            self._set_value("EDV", "not calibrated")
            self._set_value("ESV", "not calibrated")
            tip = "No pixel spacing in this file: volumes need a calibration in cm per pixel."
            self._values["EDV"].setToolTip(tip)
            self._values["ESV"].setToolTip(tip)
        self._set_value("Heart rate", f"{a.hr_bpm:.0f} bpm" if a.hr_bpm else "–")
        self._set_value("Segmentation EF", format_ef(a.ef_seg_mean))
        self._set_value("Frame rate", f"{a.fps:.1f} fps")
        self._set_value("Device", str(a.device))

        seg, ef = a.seg_info, a.ef_info

        def wl(info):
            text = html.escape(weights_label(info))
            if getattr(info, "demo", False):
                text += f" <span style='color:{theme.WARN}; font-weight:600'>[demo]</span>"
            return text

        self.weights.setText(f"Segmentation: {wl(seg)}<br>EF: {wl(ef)}")
        flags = [f for f in a.flags if f != "demo weights"]  # the banner says it louder
        if flags:
            items = "".join(f"<li>{html.escape(f[:1].upper() + f[1:])}</li>" for f in flags)
            self.flags.setText(
                f"<ul style='margin:0; margin-left:-18px; color:{theme.WARN}'>{items}</ul>"
            )
        else:
            self.flags.setText(f"<span style='color:{theme.OK}'>None</span>")

        self.beats.setRowCount(len(a.beats))
        for r, b in enumerate(a.beats):
            cells = [
                str(b.number),
                f"{b.ed_frame}–{b.es_frame}",
                "–" if b.ef_model is None else f"{b.ef_model:.1f}",
                "–" if b.ef_seg is None else f"{b.ef_seg:.1f}",
            ]
            for c, text in enumerate(cells):
                it = QTableWidgetItem(text)
                it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                it.setData(Qt.ItemDataRole.UserRole, int(b.ed_frame))
                status = "excluded" if not b.included else ("; ".join(b.flags) if b.flags else "")
                if status:
                    it.setToolTip(f"Beat {b.number}: {status}")
                if not b.included:
                    it.setForeground(QColor(theme.EXCLUDED_COLOR))
                elif b.flags:
                    it.setForeground(QColor(theme.FLAGGED_COLOR))
                self.beats.setItem(r, c, it)

    def _beat_clicked(self, row: int, _col: int) -> None:
        it = self.beats.item(row, 0)
        if it is not None:
            self.beatActivated.emit(int(it.data(Qt.ItemDataRole.UserRole)))
