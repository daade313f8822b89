"""Small dialogs of correction mode: why a beat is excluded, where corrections are exported."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QVBoxLayout,
)

from echoviewer.ui import theme
from echoviewer.ui.forms import folder_row, ok_cancel

#: Reasons offered when a beat is left out of the average (free text is allowed too).
PRESET_REASONS = (
    "ectopic beat",
    "poor image quality",
    "foreshortened",
    "post-ectopic beat",
    "incomplete beat (loop edge)",
    "irregular rhythm",
)

SPLITS = ("TRAIN", "VAL", "TEST")


class ExcludeDialog(QDialog):
    """Why is this beat excluded? A preset (click) or free text; OK needs a reason."""

    def __init__(self, beat_number: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"Exclude beat {beat_number}")
        self.setMinimumWidth(380)
        intro = QLabel(f"Leave beat {beat_number} out of the average EF. Reason:")
        intro.setWordWrap(True)
        self.presets = QListWidget()
        self.presets.addItems(list(PRESET_REASONS))
        self.presets.setFixedHeight(self.presets.sizeHintForRow(0) * len(PRESET_REASONS) + 8)
        self.presets.currentTextChanged.connect(self._preset)
        self.presets.itemDoubleClicked.connect(lambda _it: self.accept())
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("or type a reason")
        self.reason.textChanged.connect(self._validate)
        note = QLabel("The beat stays in the study (greyed); X again includes it. Ctrl+Z undoes.")
        note.setStyleSheet(f"color:{theme.MUTED};")
        note.setWordWrap(True)
        self.buttons = ok_cancel(self, "Exclude")
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addWidget(self.presets)
        lay.addWidget(self.reason)
        lay.addWidget(note)
        lay.addWidget(self.buttons)
        self._validate()
        self.reason.setFocus()

    def _preset(self, text: str) -> None:
        if text:
            self.reason.setText(text)

    def _validate(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.reason_text()))

    def reason_text(self) -> str:
        return " ".join(self.reason.text().split())

    def accept(self) -> None:
        if self.reason_text():
            super().accept()


class ExportCorrectionsDialog(QDialog):
    """Where to write the EchoNet-format dataset of corrected loops, which split, and whether
    loops nobody corrected go too."""

    def __init__(self, default_dir: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export corrections")
        self.setMinimumWidth(560)
        intro = QLabel("Writes the corrected loops of this study as an EchoNet-Dynamic dataset folder "
                       "(Videos/, FileList.csv, VolumeTracings.csv and an audit file) to retrain the models.")
        intro.setWordWrap(True)
        self.folder = QLineEdit(default_dir)
        self.folder.setPlaceholderText("output folder")
        self.folder.textChanged.connect(self._validate)
        self.split = QComboBox()
        self.split.addItems(list(SPLITS))
        self.include_uncorrected = QCheckBox("Also export loops nobody corrected (with the model's tracings)")
        form = QFormLayout()
        form.addRow("Folder", folder_row(self, self.folder, "Export corrections to"))
        form.addRow("Split", self.split)
        form.addRow("", self.include_uncorrected)
        self.deidentify = QCheckBox("De-identify (the export leaves the hospital): hashed names, no IDs or dates, "
                                    "pixels outside the image blanked")
        self.deidentify.setToolTip("The key that re-links the hashes stays on this computer; the folder must be "
                                   "new or empty")
        self.deidentify.toggled.connect(self._suggest_folder)
        form.addRow("", self.deidentify)
        self.buttons = ok_cancel(self, "Export")
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(self.buttons)
        self._validate()

    def _validate(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.folder.text().strip()))

    def _suggest_folder(self, on: bool) -> None:
        """A de-identified export goes to a folder of its own (it must be new or empty)."""
        text = self.folder.text().strip()
        if on and text and not text.endswith("_deidentified"):
            self.folder.setText(text + "_deidentified")
        elif not on and text.endswith("_deidentified"):
            self.folder.setText(text[: -len("_deidentified")])

    def values(self) -> tuple[str, str, bool, bool]:
        return (self.folder.text().strip(), self.split.currentText(), self.include_uncorrected.isChecked(),
                self.deidentify.isChecked())


def result_text(res) -> str:
    """One paragraph for the user about an ExportResult."""
    n = len(res.exported)
    lines = [f"Exported {n} loop{'s' if n != 1 else ''} to {res.out_dir}."]
    if res.skipped:
        lines.append(f"Skipped {len(res.skipped)}:")
        for path, why in res.skipped[:8]:
            lines.append(f"  • {Path(path).name}: {why}")
        if len(res.skipped) > 8:
            lines.append(f"  … and {len(res.skipped) - 8} more (see ExportAudit.json)")
    return "\n".join(lines)


__all__ = ["ExcludeDialog", "ExportCorrectionsDialog", "PRESET_REASONS", "SPLITS", "result_text"]
