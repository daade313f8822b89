"""Persistent user settings (QSettings, organisation "EchoViewer") and the settings dialog."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from dataclasses import dataclass, field, replace
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from echoviewer.analysis.drawing import OVERLAY_COLOR, OVERLAY_OPACITY
from echoviewer.analysis.ef_categories import (
    DEFAULT_CATEGORIES,
    categories_from_json,
    categories_to_json,
    validate_categories,
)
from echoviewer.models.normalisation import format_triplet, parse_triplet
from echoviewer.pipeline.results import AnalysisSettings

ORGANISATION = "EchoViewer"
APPLICATION = "EchoViewer"
MAX_RECENT = 10
DEVICES = ("auto", "cpu", "cuda", "mps")


def open_qsettings(path: str | Path | None = None) -> QSettings:
    """The app's QSettings; an INI file at ``path`` instead (tests, portable installs)."""
    if path is not None:
        return QSettings(str(path), QSettings.Format.IniFormat)
    return QSettings(ORGANISATION, APPLICATION)


@dataclass
class UiSettings:
    device: str = "auto"
    seg_weights: str = ""  # "" = automatic (official if present, else demo)
    ef_weights: str = ""
    mean: tuple[float, float, float] | None = None  # None = from the weights
    std: tuple[float, float, float] | None = None
    categories: list[tuple[float | None, str]] = field(default_factory=lambda: list(DEFAULT_CATEGORIES))
    overlay_color: tuple[int, int, int] = OVERLAY_COLOR
    overlay_opacity: float = OVERLAY_OPACITY
    torch_threads: int = 0  # 0 = torch's default; else torch.set_num_threads in the analysis process
    audit_user: str = ""  # the name in the corrections' audit trail; "" = the OS login name

    def audit_name(self) -> str:
        from echoviewer.annotations.model import default_user

        return self.audit_user.strip() or default_user()

    def analysis_settings(self) -> AnalysisSettings:
        return AnalysisSettings(
            seg_weights=self.seg_weights or None,
            ef_weights=self.ef_weights or None,
            device=None if self.device in ("", "auto") else self.device,
            mean=self.mean,
            std=self.std,
        )

    # -- QSettings ------------------------------------------------------------------------------
    @classmethod
    def effective(cls, qs: QSettings, overrides: dict | None = None) -> UiSettings:
        """The stored settings with this session's overrides (command-line options) applied."""
        settings = cls.load(qs)
        for k, v in (overrides or {}).items():
            if v is not None:
                setattr(settings, k, v)
        return settings

    @classmethod
    def load(cls, qs: QSettings) -> UiSettings:
        d = cls()

        def get(key, default):
            v = qs.value(key, default)
            return default if v is None else v

        def triplet(key, positive=False):
            try:
                return parse_triplet(str(get(key, "")), positive=positive)
            except ValueError:
                return None

        color = d.overlay_color
        c = QColor(str(get("overlay/color", "")))
        if c.isValid():
            color = (c.red(), c.green(), c.blue())
        try:
            opacity = min(max(float(get("overlay/opacity", d.overlay_opacity)), 0.0), 1.0)
        except (TypeError, ValueError):
            opacity = d.overlay_opacity
        try:
            threads = max(0, int(get("analysis/torch_threads", 0)))
        except (TypeError, ValueError):
            threads = 0
        device = str(get("analysis/device", "auto"))
        return cls(
            device=device if device in DEVICES else "auto",
            seg_weights=str(get("analysis/seg_weights", "")),
            ef_weights=str(get("analysis/ef_weights", "")),
            mean=triplet("analysis/mean"),
            std=triplet("analysis/std", positive=True),
            categories=categories_from_json(str(get("ef/categories", ""))),
            overlay_color=color,
            overlay_opacity=opacity,
            torch_threads=threads,
            audit_user=str(get("audit/user", "")).strip(),
        )

    def save(self, qs: QSettings) -> None:
        qs.setValue("analysis/device", self.device)
        qs.setValue("analysis/seg_weights", self.seg_weights)
        qs.setValue("analysis/ef_weights", self.ef_weights)
        qs.setValue("analysis/mean", format_triplet(self.mean))
        qs.setValue("analysis/std", format_triplet(self.std))
        qs.setValue("analysis/torch_threads", int(self.torch_threads))
        qs.setValue("ef/categories", categories_to_json(self.categories))
        qs.setValue("overlay/color", QColor(*self.overlay_color).name())
        qs.setValue("overlay/opacity", float(self.overlay_opacity))
        qs.setValue("audit/user", self.audit_user)
        qs.sync()


def recent_studies(qs: QSettings) -> list[str]:
    v = qs.value("recent/studies", [])
    if isinstance(v, str):
        v = [v] if v else []
    return [str(p) for p in (v or [])]


def add_recent_study(qs: QSettings, path: str) -> list[str]:
    path = str(Path(path))
    items = [p for p in recent_studies(qs) if p != path]
    items.insert(0, path)
    items = items[:MAX_RECENT]
    qs.setValue("recent/studies", items)
    qs.sync()
    return items


def clear_recent_studies(qs: QSettings) -> None:
    qs.setValue("recent/studies", [])
    qs.sync()


def save_window_state(qs: QSettings, win: QMainWindow, splitters: dict[str, QSplitter]) -> None:
    """The window's size and place (and full screen / maximised), its toolbar and splitter sizes."""
    qs.setValue("window/geometry", win.saveGeometry())
    qs.setValue("window/state", win.saveState())
    for name, sp in splitters.items():
        qs.setValue(f"window/splitter_{name}", sp.saveState())
    qs.sync()


def restore_window_state(qs: QSettings, win: QMainWindow, splitters: dict[str, QSplitter]) -> bool:
    """What `save_window_state` kept, if anything (False: nothing kept, the window keeps its defaults).
    A geometry that no longer fits the screens is moved onto one by Qt."""
    geometry = qs.value("window/geometry")
    if not isinstance(geometry, QByteArray) or geometry.isEmpty():
        return False
    win.restoreGeometry(geometry)
    state = qs.value("window/state")
    if isinstance(state, QByteArray):
        win.restoreState(state)
    for name, sp in splitters.items():
        kept = qs.value(f"window/splitter_{name}")
        if isinstance(kept, QByteArray):
            sp.restoreState(kept)
    return True


# -- dialog ------------------------------------------------------------------------------------
class _WeightsPicker(QWidget):
    def __init__(self, title: str, value: str, parent=None):
        super().__init__(parent)
        self.title = title
        self.edit = QLineEdit(value)
        self.edit.setPlaceholderText("automatic (official if present, else demo)")
        self.edit.setClearButtonEnabled(True)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(browse)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.title, str(Path(self.edit.text()).parent) if self.edit.text() else "",
            "PyTorch weights (*.pt *.pth *.ckpt);;All files (*)",
        )
        if path:
            self.edit.setText(path)

    def value(self) -> str:
        return self.edit.text().strip()


class SettingsDialog(QDialog):
    """Edits a copy of the settings; ``result_settings()`` after ``exec() == Accepted``."""

    def __init__(self, settings: UiSettings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("EchoViewer settings")
        self.setMinimumWidth(660)
        self._settings = settings
        self._color = settings.overlay_color

        # analysis
        self.device = QComboBox()
        self.device.addItems(list(DEVICES))
        self.device.setCurrentText(settings.device if settings.device in DEVICES else "auto")
        self.seg = _WeightsPicker("Segmentation weights", settings.seg_weights)
        self.ef = _WeightsPicker("EF weights", settings.ef_weights)
        self.mean = QLineEdit(format_triplet(settings.mean))
        self.mean.setPlaceholderText("from the weights (e.g. 32.49, 32.63, 32.93)")
        self.std = QLineEdit(format_triplet(settings.std))
        self.std.setPlaceholderText("from the weights (e.g. 49.87, 49.88, 50.13)")
        self.threads = QSpinBox()
        self.threads.setRange(0, 64)
        self.threads.setSpecialValueText("pipeline default")
        self.threads.setValue(settings.torch_threads)
        analysis = QGroupBox("Analysis (changing these re-analyses the study)")
        form = QFormLayout(analysis)
        form.addRow("Device", self.device)
        form.addRow("Segmentation weights", self.seg)
        form.addRow("EF weights", self.ef)
        form.addRow("Normalisation mean", self.mean)
        form.addRow("Normalisation s.d.", self.std)
        form.addRow("CPU threads for analysis", self.threads)

        # categories
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["EF up to (%)", "Category"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setMinimumHeight(130)
        self._fill_table(settings.categories)
        add = QPushButton("Add row")
        add.clicked.connect(lambda: self._insert_row(self.table.rowCount() - 1, 0.0, "new category"))
        remove = QPushButton("Remove row")
        remove.clicked.connect(self._remove_row)
        reset = QPushButton("Defaults")
        reset.clicked.connect(lambda: self._fill_table(DEFAULT_CATEGORIES))
        cats = QGroupBox("EF categories (EF rounded to a whole percent; last row: everything above)")
        cl = QVBoxLayout(cats)
        cl.addWidget(self.table)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        row.addWidget(reset)
        cl.addLayout(row)

        # overlay
        self.color_btn = QPushButton()
        self.color_btn.setFixedWidth(90)
        self.color_btn.clicked.connect(self._pick_color)
        self._show_color()
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(int(round(settings.overlay_opacity * 100)))
        self.opacity_label = QLabel()
        self.opacity.valueChanged.connect(lambda v: self.opacity_label.setText(f"{v} %"))
        self.opacity_label.setText(f"{self.opacity.value()} %")
        self.opacity_label.setMinimumWidth(44)
        overlay = QGroupBox("LV overlay")
        ol = QFormLayout(overlay)
        ol.addRow("Colour", self.color_btn)
        op = QHBoxLayout()
        op.addWidget(self.opacity, 1)
        op.addWidget(self.opacity_label)
        ol.addRow("Fill opacity", op)

        # corrections
        from echoviewer.annotations.model import default_user

        self.audit_user = QLineEdit(settings.audit_user)
        self.audit_user.setPlaceholderText(f"{default_user()} (your login name)")
        self.audit_user.setClearButtonEnabled(True)
        self.audit_user.setToolTip("Recorded with every correction you make (the audit trail in the sidecar "
                                   "file and in exports). Empty: your login name.")
        corr = QGroupBox("Corrections")
        cf = QFormLayout(corr)
        cf.addRow("Your name for the audit trail", self.audit_user)

        # PACS: its own dialog and file (pacs.json: the CLI reads it too), saved there at once
        self.pacs_nodes = QPushButton("PACS nodes…")
        self.pacs_nodes.setToolTip("Archives to open studies from and send results to; our AE title")
        self.pacs_nodes.clicked.connect(self._edit_pacs_nodes)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(self.pacs_nodes, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(analysis)
        lay.addWidget(cats)
        lay.addWidget(overlay)
        lay.addWidget(corr)
        lay.addWidget(buttons)
        self._result: UiSettings | None = None

    def _edit_pacs_nodes(self) -> None:
        from echoviewer.ui.pacs_nodes import NodesDialog

        NodesDialog(parent=self).exec()

    # categories table
    def _fill_table(self, table) -> None:
        self.table.setRowCount(0)
        for upper, label in table:
            self._insert_row(self.table.rowCount(), upper, label)

    def _insert_row(self, row: int, upper, label: str) -> None:
        row = max(0, row)
        self.table.insertRow(row)
        self.table.setItem(row, 0, QTableWidgetItem("" if upper is None else f"{upper:g}"))
        self.table.setItem(row, 1, QTableWidgetItem(label))

    def _remove_row(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()}, reverse=True)
        for r in rows:
            if self.table.rowCount() > 1:
                self.table.removeRow(r)

    def categories(self) -> list[tuple[float | None, str]]:
        rows = []
        n = self.table.rowCount()
        for r in range(n):
            up = (self.table.item(r, 0).text() if self.table.item(r, 0) else "").strip()
            label = self.table.item(r, 1).text() if self.table.item(r, 1) else ""
            if r == n - 1:
                rows.append((None, label))
            else:
                try:
                    rows.append((float(up), label))
                except ValueError:
                    raise ValueError(f"row {r + 1}: '{up}' is not a number") from None
        return validate_categories(rows)

    # overlay colour
    def _pick_color(self) -> None:
        c = QColorDialog.getColor(QColor(*self._color), self, "Overlay colour")
        if c.isValid():
            self._color = (c.red(), c.green(), c.blue())
            self._show_color()

    def _show_color(self) -> None:
        name = QColor(*self._color).name()
        self.color_btn.setText(name)
        self.color_btn.setStyleSheet(f"background:{name}; color:#111; font-weight:600;")

    def collect(self) -> UiSettings:
        """The edited settings; raises ValueError with a message for the user."""
        try:
            mean = parse_triplet(self.mean.text())
        except ValueError as exc:
            raise ValueError(f"Normalisation mean: {exc}") from None
        try:
            std = parse_triplet(self.std.text(), positive=True)
        except ValueError as exc:
            raise ValueError(f"Normalisation s.d.: {exc}") from None
        for title, p in (("Segmentation weights", self.seg.value()), ("EF weights", self.ef.value())):
            if p and not Path(p).is_file():
                raise ValueError(f"{title}: no such file: {p}")
        return replace(
            self._settings,
            device=self.device.currentText(),
            seg_weights=self.seg.value(),
            ef_weights=self.ef.value(),
            mean=mean,
            std=std,
            categories=self.categories(),
            overlay_color=self._color,
            overlay_opacity=self.opacity.value() / 100.0,
            torch_threads=self.threads.value(),
            audit_user=" ".join(self.audit_user.text().split()),
        )

    def accept(self) -> None:
        try:
            self._result = self.collect()
        except ValueError as exc:
            QMessageBox.warning(self, "Settings", str(exc))
            return
        super().accept()

    def result_settings(self) -> UiSettings | None:
        return self._result
