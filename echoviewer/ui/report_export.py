"""File → Export report…: the study as the window shows it (corrections included) written as a PDF
and/or DICOM objects, in a thread, by the same ``write_outputs`` as `echoviewer report`."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QMessageBox, QWidget

from echoviewer.session.reporting import session_identity, session_loops, session_report
from echoviewer.ui.background import Relay, run_in_thread, show_busy
from echoviewer.ui.report_dialog import ReportChoice, ReportDialog

if TYPE_CHECKING:
    from echoviewer.ui.exports import ExportHost


class ReportExport(QObject):
    #: a report finished: reports.outputs.Written, or an error message (str)
    reported = Signal(object)

    def __init__(self, host: ExportHost, parent: QWidget):
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent
        self.dialog: ReportDialog | None = None
        self.message_box: QMessageBox | None = None
        self._relay: Relay | None = None

    @property
    def busy(self) -> bool:
        return self._relay is not None

    def open_dialog(self) -> None:
        session = self.host.session
        if session.folder is None:
            self.host.show_error("Open a study first")
            return
        loops, missing = session_loops(session)
        if not loops:
            self.host.show_error("Nothing to report yet: no loop of this study is analysed.")
            return
        dlg = ReportDialog(session.folder.name, str(session.folder.parent), session_identity(session), len(loops),
                           [m.name for m in missing], self.parent_widget)
        self.dialog = dlg

        def done(result: int) -> None:
            self.dialog = None
            if result == QDialog.DialogCode.Accepted:
                self.export(dlg.choice())
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.open()

    def export(self, choice: ReportChoice) -> bool:
        """Write the report as chosen (in a thread; ``reported`` at the end). False when refused."""
        from echoviewer.reports.outputs import ReportError, check_report, write_outputs

        host = self.host
        if self._relay is not None:
            host.show_error("A report is already being written")
            return False
        report = session_report(host.session, entered=choice.entered)
        try:
            check_report(report, dicom=choice.dicom_dir is not None)
        except ReportError as exc:
            host.show_error(f"Report not written: {exc}")
            return False

        def work(progress):
            return write_outputs(report, pdf=choice.pdf, dicom_dir=choice.dicom_dir)

        def on_done(written) -> None:
            self._relay = None
            host.progress.hide()
            where = written.pdf if written.pdf is not None else Path(choice.dicom_dir or ".")
            host.set_status(f"Report written: {where}")
            lines = [f"Reported {len(report.loops)} loop{'s' if len(report.loops) != 1 else ''}."]
            if written.pdf is not None:
                lines.append(f"PDF: {written.pdf}")
            if written.dicom:
                lines.append(f"DICOM: {len(written.dicom)} objects in {choice.dicom_dir}")
            if report.missing:
                lines.append("Not reported: " + "; ".join(f"{m.name} ({m.reason})" for m in report.missing))
            self._show_message("Export report", "\n".join(lines), warn=bool(report.missing))
            self.reported.emit(written)

        def on_error(msg: str) -> None:
            self._relay = None
            host.progress.hide()
            host.show_error(f"Report not written: {msg}")
            self.reported.emit(msg)

        show_busy(host, "report", "Writing the report…")  # rendering takes a few seconds
        self._relay = run_in_thread("echoviewer-report", work, self, on_done, on_error)
        return True

    def _show_message(self, title: str, text: str, warn: bool = False) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning if warn else QMessageBox.Icon.Information, title, text,
                          QMessageBox.StandardButton.Ok, self.parent_widget)
        self.message_box = box
        box.finished.connect(lambda _r: setattr(self, "message_box", None))
        box.open()
