"""Summary panel: EF mean ± s.d., category, volumes, heart rate, weights in use, flags, beats.

With corrections the headline is the corrected mean (method of disks on the corrected tracings)
with the model's beside it, e.g. "52.3 ± 1.2 %" over "✎ corrected · model 55.1 ± 1.9 %", and
corrected beats carry a ✎ in the beat table. In correction mode a box at the top shows the beat
being edited — EF, EDV, ESV — live while a tracing is dragged.
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from echoviewer import DEMO_LABEL
from echoviewer.analysis.ef_categories import DEFAULT_CATEGORIES, ef_category
from echoviewer.formatting import format_ef
from echoviewer.session import loop_corrected
from echoviewer.ui import theme


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
        self.decision = None  # io.gates.Decision of the loop shown (None: not judged)
        self.values = None  # Corrections.values() of the loop shown (None: no corrections)
        self.corr_summary = None

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
        self.model_line = QLabel("")  # "✎ corrected · model 55.1 ± 1.9 %"
        self.model_line.setWordWrap(True)
        self.model_line.setTextFormat(Qt.TextFormat.RichText)
        self.model_line.hide()

        # the beat being edited (correction mode)
        self.live = QFrame()
        self.live.setObjectName("liveBox")
        self.live_title = QLabel("")
        self.live_title.setStyleSheet(f"color:{theme.CORRECTED_COLOR}; font-size: 9pt; font-weight: 700;"
                                      " letter-spacing: 1px;")
        self.live_ef = QLabel("–")
        self.live_ef.setStyleSheet(f"font-size: 20pt; font-weight: 600; color: {theme.TEXT};")
        self.live_model = QLabel("")
        self.live_model.setStyleSheet(f"color:{theme.MUTED};")
        self.live_model.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.live_model.setWordWrap(True)
        self.live_vols = QLabel("")
        self.live_vols.setStyleSheet(f"font-size: 11pt; color: {theme.TEXT};")
        self.live_hint = QLabel("")  # one short line (a wrapped label would be squeezed in a full panel)
        self.live_hint.setStyleSheet(f"color:{theme.MUTED}; font-size: 8.5pt;")
        ll = QVBoxLayout(self.live)
        ll.setContentsMargins(10, 6, 10, 6)
        ll.setSpacing(2)
        ll.addWidget(self.live_title)
        row = QHBoxLayout()
        row.addWidget(self.live_ef)
        row.addWidget(self.live_model, 1)
        ll.addLayout(row)
        ll.addWidget(self.live_vols)
        ll.addWidget(self.live_hint)
        self.live.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.live.hide()

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
        # each column as wide as its longest value ("111–131" whole, never "111–…"); the last takes
        # what is left, and a panel too narrow for them all scrolls rather than cuts
        hh.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        hh.setStretchLastSection(True)
        self.beats.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.beats.verticalHeader().setDefaultSectionSize(22)
        self.beats.cellClicked.connect(self._beat_clicked)
        self.beats.setMinimumHeight(90)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(12, 10, 12, 10)
        lay.setSpacing(6)
        lay.addWidget(self.title)
        lay.addWidget(self.demo_banner)
        lay.addWidget(self.live)
        lay.addSpacing(4)
        lay.addWidget(_heading("Ejection fraction"))
        lay.addWidget(self.ef_value)
        lay.addWidget(self.model_line)
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
        self._weights_heading = _heading("Weights")
        lay.addWidget(self._weights_heading)
        lay.addWidget(self.weights)
        self.show_message("", "")

    def add_section(self, widget) -> None:
        """Another block of the panel, above the weights (the caliper measurements' list)."""
        lay = self.layout()
        lay.insertWidget(lay.indexOf(self._weights_heading), widget)

    def set_categories(self, table) -> None:
        self.categories = list(table)
        if self.analysis is not None:
            self.show_analysis(self.analysis, self.title.text(), self.values, self.corr_summary)

    # -- content --------------------------------------------------------------------------------
    def _set_value(self, name: str, text: str) -> None:
        self._values[name].setText(text)

    def show_message(self, title: str, message: str, error: bool = False) -> None:
        self.analysis = self.decision = None
        self.values = self.corr_summary = None
        self.model_line.hide()
        self.live.hide()
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

    @staticmethod
    def _volume(v: float | None, unit: str) -> str:
        if v is None:
            return "–"
        if unit == "mL":
            return f"{v:.0f} mL"
        return f"{v / 1000:.1f}k px³"

    def show_analysis(self, a, title: str = "", values=None, summary=None, decision=None) -> None:
        """Show an analysis; with ``values`` / ``summary`` (Corrections.values() / .summary()) the
        corrected values lead and the model's stand beside them. ``decision`` (io.gates.Decision,
        LoopEntry.decision): a loop the method does not apply to shows no EF, one of low confidence
        says its EF is not reported."""
        if decision is None and a is self.analysis:
            decision = self.decision  # shown again (new categories, correction mode): same loop
        self.decision = decision
        self.analysis = a
        self.values, self.corr_summary = values, summary
        self.title.setText(title)
        self.demo_banner.setVisible(bool(a.demo))
        corrected = summary is not None and loop_corrected(values, a)
        mean = summary.ef_mean if corrected else a.ef_mean
        self.ef_value.setText(format_ef(mean, summary.ef_sd if corrected else a.ef_sd))
        cat = ef_category(mean, self.categories)
        self.category.setWordWrap(False)
        self.category.setText(cat or "no EF")
        self.category.setStyleSheet(
            f"font-size: 12pt; font-weight: 600; color: {category_color(cat, self.categories)};"
        )
        n_beats = len(values) if values is not None else len(a.beats)
        if corrected:
            n_corr = len(summary.corrected_beats)
            self.model_line.setText(
                f"<span style='color:{theme.CORRECTED_COLOR}; font-weight:600'>✎ corrected</span>"
                f"<span style='color:{theme.MUTED}'> · model {html.escape(format_ef(a.ef_mean, a.ef_sd))}</span>"
            )
            self.model_line.show()
            self.beats_used.setText(f"{summary.n_used} of {n_beats} beats used · {n_corr} corrected · "
                                    "method of disks, single-plane A4C")
            self.beats_used.setToolTip("Mean ± s.d. of the per-beat EF by the method of disks on the corrected "
                                       "tracings (single-plane apical 4-chamber); the model's EF beside it")
        else:
            self.model_line.hide()
            used = [b for b in a.beats if b.included and b.ef_model is not None]
            self.beats_used.setText(
                f"{len(used)} of {len(a.beats)} beats used · mean ± s.d. of per-beat model EF · "
                "single-plane apical 4-chamber"
            )
            self.beats_used.setToolTip("")
        unit = a.volume_unit
        if unit == "mL":
            for name, model_v, corr_v in (("EDV", a.edv_mean, summary and summary.edv_mean),
                                          ("ESV", a.esv_mean, summary and summary.esv_mean)):
                if corrected:
                    text = f"{self._volume(corr_v, unit)} ✎  (model {self._volume(model_v, unit)})"
                else:
                    text = self._volume(model_v, unit)
                self._set_value(name, text)
                self._values[name].setToolTip("")
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
            text = html.escape(info.sha_label) if info is not None else "–"
            if getattr(info, "demo", False):
                text += f" <span style='color:{theme.WARN}; font-weight:600'>[demo]</span>"
            return text

        self.weights.setText(f"Segmentation: {wl(seg)}<br>EF: {wl(ef)}")
        flags = [f for f in a.flags if f != "demo weights"]  # the banner says it louder
        if decision is not None and not decision.analysable:
            flags = [decision.text()]  # what the model made of it (beats, disagreement) means nothing here
        elif decision is not None and (decision.reason or not decision.reported):
            flags.insert(0, decision.text())
        if flags:
            items = "".join(f"<li>{html.escape(f[:1].upper() + f[1:])}</li>" for f in flags)
            self.flags.setText(
                f"<ul style='margin:0; margin-left:-18px; color:{theme.WARN}'>{items}</ul>"
            )
        else:
            self.flags.setText(f"<span style='color:{theme.OK}'>None</span>")
        if values is None:
            self._fill_model_beats(a)
        else:
            self._fill_corrected_beats(a, values, corrected)
        if decision is not None:
            self._show_decision(decision)

    def _show_decision(self, decision) -> None:
        if not decision.analysable:  # never a number on a loop the method does not cover
            self.ef_value.setText("–")
            self._set_value("Segmentation EF", "–")
            for name in ("EDV", "ESV", "Heart rate"):
                self._set_value(name, "–")
            self.beats_used.setText("no EF: EchoNet-Dynamic's method covers apical 4-chamber B-mode cines only")
            self.beats.setRowCount(0)
            text, color = decision.text(), theme.EXCLUDED_COLOR
        elif not decision.reported:
            text, color = f"{decision.text()} · EF not reported", theme.FLAGGED_COLOR
        else:
            return
        self.category.setWordWrap(True)
        self.category.setText(text)
        self.category.setStyleSheet(f"font-size: 10pt; font-weight: 600; color: {color};")

    def _fill_model_beats(self, a) -> None:
        self.beats.setColumnCount(4)
        self.beats.setHorizontalHeaderLabels(["Beat", "ED–ES", "EF", "Seg EF"])
        self.beats.setRowCount(len(a.beats))
        for r, b in enumerate(a.beats):
            cells = [
                str(b.number),
                f"{b.ed_frame + 1}–{b.es_frame + 1}",  # people count frames from 1
                "–" if b.ef_model is None else f"{b.ef_model:.1f}",
                "–" if b.ef_seg is None else f"{b.ef_seg:.1f}",
            ]
            why = "; ".join(b.flags)
            status = (f"excluded ({why})" if why else "excluded") if not b.included else why
            color = theme.EXCLUDED_COLOR if not b.included else (theme.FLAGGED_COLOR if b.flags else None)
            self._fill_row(r, cells, int(b.ed_frame), f"Beat {b.number}: {status}" if status else "", color)

    def _fill_corrected_beats(self, a, values, corrected: bool) -> None:
        flags = {b.number: b.flags for b in a.beats}
        cols = ["Beat", "ED–ES", "EF", "Seg EF"] + (["✎ EF"] if corrected else [])
        self.beats.setColumnCount(len(cols))
        self.beats.setHorizontalHeaderLabels(cols)
        self.beats.setRowCount(len(values))
        for r, v in enumerate(values):
            m = v.model or {}
            ef_model, ef_seg = m.get("ef_model"), m.get("ef_seg")
            cells = [
                f"✎ {v.number}" if v.corrected else str(v.number),
                f"{v.ed_frame + 1}–{v.es_frame + 1}",
                "–" if ef_model is None else f"{ef_model:.1f}",
                "–" if ef_seg is None else f"{ef_seg:.1f}",
            ]
            if corrected:
                cells.append("excl." if v.excluded else ("–" if v.ef is None else f"{v.ef:.1f}"))
            bflags = flags.get(v.id, []) if v.origin == "model" else []
            tip = []
            if v.origin == "user":
                tip.append("added by the sonographer")
            if v.excluded:
                tip.append(f"excluded: {v.exclude_reason or 'excluded'}")
            elif bflags:
                tip.append("; ".join(bflags))
            if v.corrected and v.ef is not None:
                tip.append(f"corrected EF {v.ef:.1f} % (method of disks)")
            color = theme.EXCLUDED_COLOR if v.excluded else (theme.FLAGGED_COLOR if bflags else None)
            self._fill_row(r, cells, int(v.ed_frame), f"Beat {v.number}: {'; '.join(tip)}" if tip else "", color)
            if v.corrected and not v.excluded:
                for c in (0, len(cells) - 1) if corrected else (0,):
                    self.beats.item(r, c).setForeground(QColor(theme.CORRECTED_COLOR))

    def _fill_row(self, r: int, cells: list[str], ed_frame: int, tip: str, color: str | None) -> None:
        for c, text in enumerate(cells):
            it = QTableWidgetItem(text)
            it.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            it.setData(Qt.ItemDataRole.UserRole, ed_frame)
            header = self.beats.horizontalHeaderItem(c)
            # the value in full, with what it is (also when a narrow panel has to scroll it)
            it.setToolTip("\n".join(x for x in (f"{header.text() if header else ''}: {text}", tip) if x))
            if color:
                it.setForeground(QColor(color))
            self.beats.setItem(r, c, it)

    def select_beat_row(self, number: int | None) -> None:
        """Highlight the beat being edited (1-based number as in the table), or none."""
        if number is None or not 1 <= number <= self.beats.rowCount():
            self.beats.clearSelection()
            return
        self.beats.selectRow(number - 1)

    # -- the beat being edited --------------------------------------------------------------------
    def show_live(self, v, unit: str, editing: str = "", live: bool = False, hint: str = "") -> None:
        """Values of the beat being edited (a BeatValues); ``live`` while a drag is in progress."""
        if v is None:
            self.live.hide()
            return
        what = f" · {editing}" if editing else ""
        self.live_title.setText(f"✎ BEAT {v.number}{what.upper()}" + (" · LIVE" if live else ""))
        ef = "–" if v.ef is None or v.ef != v.ef else f"{v.ef:.1f} %"
        self.live_ef.setText(f"EF {ef}")
        self.live_ef.setStyleSheet(
            f"font-size: 20pt; font-weight: 600; color: {theme.CORRECTED_COLOR if live else theme.TEXT};"
        )
        self.live_vols.setText(f"EDV {self._volume(v.edv, unit)}   ESV {self._volume(v.esv, unit)}"
                               + ("   · excluded" if v.excluded else ""))
        m = v.model or {}
        parts = []
        if m.get("ef_model") is not None:
            parts.append(f"model {m['ef_model']:.1f} %")
        if m.get("ef_seg") is not None:
            parts.append(f"seg {m['ef_seg']:.1f} %")
        self.live_model.setText("<br>".join(parts) if parts else "added beat")
        self.live_hint.setText(hint)
        self.live_hint.setToolTip(hint)
        self.live_hint.setVisible(bool(hint))
        self.live.show()

    def _beat_clicked(self, row: int, _col: int) -> None:
        it = self.beats.item(row, 0)
        if it is not None:
            self.beatActivated.emit(int(it.data(Qt.ItemDataRole.UserRole)))
