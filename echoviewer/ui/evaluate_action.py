"""Analysis → Evaluate on a labelled dataset…: `echoviewer evaluate` in its own process (the window
never loads the models itself), its progress in the status bar, cancel, and the report opened."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QProcess, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from echoviewer.errors import one_line

if TYPE_CHECKING:
    from echoviewer.ui.exports import ExportHost

_PROGRESS = re.compile(r"^\[(\d+)/(\d+)\]\s*(.*)$")


def self_command(*args: str) -> list[str]:
    """This app's command line for a subcommand (the frozen app takes subcommands directly)."""
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, "-m", "echoviewer", *args]


class EvaluateDialog(QDialog):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Evaluate on a labelled dataset")
        self.setMinimumWidth(560)
        intro = QLabel("Measures the weights in use on a folder in the EchoNet-Dynamic format (FileList.csv, "
                       "VolumeTracings.csv, Videos/): Dice, EF error, HFrEF AUC, with 95 % intervals, in a report.")
        intro.setWordWrap(True)
        self.dataset = QLineEdit()
        self.dataset.setPlaceholderText("dataset folder")
        self.out = QLineEdit()
        self.out.setPlaceholderText("report folder (default: beside the dataset)")
        self.split = QComboBox()
        self.split.addItems(["TEST", "VAL", "TRAIN", "ALL"])
        self.dropout = QCheckBox("Also measure robustness to pixel dropout (six times longer)")
        form = QFormLayout()
        form.addRow("Dataset", self.dataset)
        form.addRow("Report to", self.out)
        form.addRow("Split", self.split)
        form.addRow("", self.dropout)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Evaluate")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.buttons)
        self.dataset.textChanged.connect(self._validate)
        self._validate()

    def browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Labelled dataset", str(Path.home()))
        if d:
            self.dataset.setText(d)

    def _validate(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.dataset.text().strip()))

    def values(self) -> tuple[str, str, str, bool]:
        data = self.dataset.text().strip()
        out = self.out.text().strip() or str(Path(data).with_name(Path(data).name + "_evaluation"))
        return data, out, self.split.currentText(), self.dropout.isChecked()


class EvaluateRunner(QObject):
    #: finished: the report's path, or an error message (str starting with "error")
    finished = Signal(object)

    def __init__(self, host: ExportHost, parent: QWidget):
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent
        self.dialog: EvaluateDialog | None = None
        self.process: QProcess | None = None
        self.open_report = lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self._err = ""
        self._out_dir = ""

    @property
    def running(self) -> bool:
        return self.process is not None

    def open_dialog(self) -> None:
        dlg = EvaluateDialog(self.parent_widget)
        self.dialog = dlg

        def done(result: int) -> None:
            self.dialog = None
            if result == QDialog.DialogCode.Accepted:
                self.start(*dlg.values())
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.open()
        if not dlg.dataset.text():
            dlg.browse()

    def start(self, dataset: str, out_dir: str, split: str = "TEST", dropout: bool = False) -> bool:
        if self.process is not None:
            self.host.show_error("An evaluation is already running")
            return False
        from echoviewer.commands.evaluate import command_args

        settings = self.host.settings.analysis_settings()
        cmd = self_command(*command_args(dataset, out_dir, split, dropout, settings.seg_weights, settings.ef_weights))
        p = QProcess(self)
        p.setProgram(cmd[0])
        p.setArguments(cmd[1:])
        p.readyReadStandardError.connect(self._read)
        p.finished.connect(self._done)
        self.process, self._err, self._out_dir = p, "", out_dir
        host = self.host
        host.progress.setRange(0, 0)
        host.progress.setFormat("evaluate")
        host.progress.show()
        host.set_status(f"Evaluating {Path(dataset).name}…")
        p.start()
        return True

    def cancel(self) -> None:
        if self.process is not None:
            self.process.kill()

    def _read(self) -> None:
        if self.process is None:
            return
        text = bytes(self.process.readAllStandardError().data()).decode("utf-8", "replace")
        self._err += text
        for line in text.splitlines():
            m = _PROGRESS.match(line.strip())
            if m:
                done, total = int(m.group(1)), int(m.group(2))
                self.host.progress.setRange(0, max(total, 1))
                self.host.progress.setValue(done)
                self.host.progress.setFormat("evaluate %v/%m")
                self.host.set_status(f"Evaluating: {m.group(3)}")

    def _done(self, code: int, _status) -> None:
        self._read()
        self.process = None
        self.host.progress.hide()
        report = Path(self._out_dir) / "report.html"
        if code == 0 and report.exists():
            summary = next((ln for ln in self._err.splitlines() if " loops: " in ln), "")
            self.host.set_status(f"Evaluation done: {one_line(summary) or report}")
            self.open_report(report)
            self.finished.emit(report)
            return
        errors = [ln for ln in self._err.splitlines() if ln.startswith(("error", "echoviewer evaluate:"))]
        msg = one_line(errors[-1] if errors else f"evaluation stopped (exit {code})")
        self.host.show_error(f"Evaluation failed: {msg}")
        self.finished.emit(f"error: {msg}")
