"""Analysis → Evaluate on a labelled dataset…: `echoviewer evaluate` in its own process (the window
never loads the models itself), its progress in the status bar, cancel, and the report opened."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import re
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from echoviewer.errors import one_line
from echoviewer.ui.background import run_in_thread, show_busy
from echoviewer.ui.forms import folder_row, ok_cancel

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
        form.addRow("Dataset", folder_row(self, self.dataset, "Labelled dataset"))
        form.addRow("Report to", folder_row(self, self.out, "Write the report to"))
        form.addRow("Split", self.split)
        form.addRow("", self.dropout)
        self.buttons = ok_cancel(self, "Evaluate")
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.buttons)
        self.dataset.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.dataset.text().strip()))

    def values(self) -> tuple[str, str, str, bool]:
        data = self.dataset.text().strip()
        out = self.out.text().strip() or str(Path(data).with_name(Path(data).name + "_evaluation"))
        return data, out, self.split.currentText(), self.dropout.isChecked()


class EvaluateRunner(QObject):
    """Runs the evaluation as a child process watched from a thread: the thread reads its progress
    lines and waits for its exit with plain ``subprocess`` calls, so the end is seen however the
    process's SIGCHLD is handled (QProcess relies on its own notifier, which other libraries in the
    same process can take over)."""

    #: finished: the report's path, or an error message (str starting with "error")
    finished = Signal(object)

    def __init__(self, host: ExportHost, parent: QWidget):
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent
        self.dialog: EvaluateDialog | None = None
        self.open_report = lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))
        self._relay = None
        self._proc: subprocess.Popen | None = None
        self._cancelled = False
        self._last_dataset = ""

    @property
    def running(self) -> bool:
        return self._relay is not None

    def open_dialog(self) -> None:
        if self.running:
            self.host.show_error("An evaluation is already running")
            return
        dlg = EvaluateDialog(self.parent_widget)
        self.dialog = dlg

        def done(result: int) -> None:
            self.dialog = None
            if result == QDialog.DialogCode.Accepted:
                self._last_dataset = dlg.values()[0]
                self.start(*dlg.values())
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.dataset.setText(self._last_dataset)
        dlg.open()

    def start(self, dataset: str, out_dir: str, split: str = "TEST", dropout: bool = False) -> bool:
        if self.running:
            self.host.show_error("An evaluation is already running")
            return False
        from echoviewer.commands.evaluate import command_args

        settings = self.host.settings.analysis_settings()
        cmd = self_command(*command_args(dataset, out_dir, split, dropout, settings.seg_weights, settings.ef_weights))
        self._cancelled = False

        def work(progress) -> tuple[int, str]:
            # stdout is not read: DEVNULL so the child can never block on a full pipe
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    text=True, encoding="utf-8", errors="replace")
            self._proc = proc
            if self._cancelled:  # cancelled before the child existed
                proc.kill()
            lines: list[str] = []
            assert proc.stderr is not None
            for line in proc.stderr:
                lines.append(line.rstrip("\n"))
                progress(lines[-1])
            return proc.wait(), "\n".join(lines)

        host = self.host
        show_busy(host, "evaluate", f"Evaluating {Path(dataset).name}…")
        self._relay = run_in_thread("echoviewer-evaluate", work, self, lambda r: self._done(out_dir, *r),
                                    self._failed, self._read)
        return True

    def cancel(self) -> None:
        """Stop a running evaluation (the window's close does too: the child must not outlive it)."""
        if not self.running:
            return
        self._cancelled = True  # set first: a child started after this line is killed by the thread
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()

    def _read(self, line: str) -> None:
        m = _PROGRESS.match(line.strip())
        if m:
            done, total = int(m.group(1)), int(m.group(2))
            self.host.progress.setRange(0, max(total, 1))
            self.host.progress.setValue(done)
            self.host.progress.setFormat("evaluate %v/%m")
            self.host.set_status(f"Evaluating: {m.group(3)}")

    def _finish(self) -> None:
        self._relay, self._proc = None, None
        self.host.progress.hide()

    def _done(self, out_dir: str, code: int, err: str) -> None:
        self._finish()
        report = Path(out_dir) / "report.html"
        if code == 0 and report.exists():
            summary = next((ln for ln in err.splitlines() if " loops: " in ln), "")
            self.host.set_status(f"Evaluation done: {one_line(summary) or report}")
            self.open_report(report)
            self.finished.emit(report)
            return
        if self._cancelled:
            self._failed("cancelled")
            return
        errors = [ln for ln in err.splitlines() if ln.startswith(("error", "echoviewer evaluate:"))]
        self._failed(errors[-1].removeprefix("echoviewer evaluate:").strip() if errors
                     else f"evaluation stopped (exit {code})")

    def _failed(self, message: str) -> None:
        self._finish()
        msg = one_line(message)
        self.host.show_error(f"Evaluation failed: {msg}")
        self.finished.emit(f"error: {msg}")
