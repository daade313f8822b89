"""File → Export report…: which clinical outputs (PDF, DICOM objects), where, and for whom.

The identity comes from the study's DICOM loops and is shown read-only; for AVI/MP4 studies the user
types it (DICOM objects need at least a patient ID; a PDF may say "not given").
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QVBoxLayout,
)

from echoviewer.io.identity import Identity
from echoviewer.ui.forms import folder_row, ok_cancel, path_row


@dataclass(frozen=True)
class ReportChoice:
    pdf: str | None  # file
    dicom_dir: str | None
    entered: Identity  # what the user typed ('' fields when the DICOM provides them)


class ReportDialog(QDialog):
    def __init__(self, study_name: str, default_dir: str, identity: Identity, n_reported: int,
                 not_reported: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export report")
        self.setMinimumWidth(600)
        self.read_identity = identity
        base = Path(default_dir)
        intro = QLabel(f"A report of {n_reported} analysed loop{'s' if n_reported != 1 else ''} of "
                       f"{study_name}, with the corrections made so far.")
        intro.setWordWrap(True)
        self.want_pdf = QCheckBox("PDF report (to print and sign)")
        self.want_pdf.setChecked(True)
        self.pdf = QLineEdit(str(base / f"{study_name}_report.pdf"))
        self.want_dicom = QCheckBox("DICOM objects for the PACS: Structured Report, Encapsulated PDF, key images")
        self.dicom = QLineEdit(str(base / f"{study_name}_dicom"))
        outputs = QFormLayout()
        outputs.addRow(self.want_pdf)
        outputs.addRow("File", path_row(self.pdf, self._browse_pdf))
        outputs.addRow(self.want_dicom)
        outputs.addRow("Folder", folder_row(self, self.dicom, "DICOM objects to"))

        who = QGroupBox("Patient")
        self.name = QLineEdit(identity.display_name)
        self.patient_id = QLineEdit(identity.patient_id)
        self.accession = QLineEdit(identity.accession)
        from_file = identity.from_dicom
        for edit in (self.name, self.patient_id, self.accession):
            edit.setReadOnly(from_file)
        self.name.setPlaceholderText("not given")
        self.patient_id.setPlaceholderText("required for DICOM objects")
        self.accession.setPlaceholderText("not given")
        form = QFormLayout(who)
        form.addRow("Name", self.name)
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Accession", self.accession)
        source = QLabel("From the study's DICOM files." if from_file
                        else "This study has no DICOM files: enter who it belongs to.")
        source.setObjectName("hint")
        form.addRow(source)

        self.problem = QLabel("")
        self.problem.setObjectName("error")
        self.problem.setWordWrap(True)
        missing = QLabel("")
        if not_reported:
            missing.setText("Not in the report (listed in it with the reason): " + ", ".join(not_reported))
            missing.setWordWrap(True)
        self.buttons = ok_cancel(self, "Export")
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(outputs)
        lay.addWidget(who)
        if not_reported:
            lay.addWidget(missing)
        lay.addWidget(self.problem)
        lay.addWidget(self.buttons)
        for w in (self.want_pdf, self.want_dicom):
            w.toggled.connect(self._validate)
        for e in (self.pdf, self.dicom, self.patient_id):
            e.textChanged.connect(self._validate)
        self._validate()

    def _browse_pdf(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "PDF report", self.pdf.text(), "PDF files (*.pdf)")
        if path:
            self.pdf.setText(path)

    def why_not(self) -> str:
        """'' when the choices can be exported, else one line saying what is missing."""
        pdf, dicom = self.want_pdf.isChecked(), self.want_dicom.isChecked()
        if not pdf and not dicom:
            return "Choose a PDF report and/or DICOM objects."
        if pdf and not self.pdf.text().strip():
            return "Give the PDF's file name."
        if dicom and not self.dicom.text().strip():
            return "Give the folder for the DICOM objects."
        if dicom and not self.patient_id.text().strip():
            return "DICOM objects need a patient ID."
        return ""

    def _validate(self) -> None:
        self.pdf.setEnabled(self.want_pdf.isChecked())
        self.dicom.setEnabled(self.want_dicom.isChecked())
        why = self.why_not()
        self.problem.setText(why)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not why)

    def choice(self) -> ReportChoice:
        entered = (Identity() if self.read_identity.from_dicom else
                   Identity.entered(self.name.text(), self.patient_id.text(), accession=self.accession.text()))
        return ReportChoice(
            pdf=self.pdf.text().strip() if self.want_pdf.isChecked() else None,
            dicom_dir=self.dicom.text().strip() if self.want_dicom.isChecked() else None,
            entered=entered,
        )
