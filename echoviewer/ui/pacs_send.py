"""File → Send results to PACS…: the reviewed study's clinical outputs (SR, Encapsulated PDF, key
images: the same ``write_outputs`` as File → Export report and `echoviewer report`) stored on a node,
off the UI thread. The status bar says what was sent and the node's answer; what the node refuses
stays in an outbox folder, which the message names."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from echoviewer.formatting import plural
from echoviewer.pacs.nodes import PacsSettings, load_settings
from echoviewer.session.reporting import session_loops, session_report
from echoviewer.ui.background import Relay, run_in_thread, show_busy
from echoviewer.ui.pacs_dialog import PacsHost


class SendDialog(QDialog):
    """Which node; what will be sent."""

    def __init__(self, settings: PacsSettings, preferred: str, n_loops: int, not_reported: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle("Send results to PACS")
        self.setMinimumWidth(520)
        self.node = QComboBox()
        for n in settings.nodes:
            self.node.addItem(n.name)
        if preferred:
            self.node.setCurrentIndex(max(0, self.node.findText(preferred)))
        text = (f"The Structured Report, the PDF report (Encapsulated PDF) and the key images of "
                f"{plural(n_loops, 'analysed loop')}, with the corrections made so far, go into the "
                f"study on the node.")
        if not_reported:
            text += f"\nNot included (not analysed): {', '.join(not_reported)}"
        intro = QLabel(text)
        intro.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Node", self.node)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Send")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(intro)
        lay.addLayout(form)
        lay.addWidget(buttons)


class PacsSend(QObject):
    #: a send finished: pacs.send.SentOutputs, or an error message (str)
    sent = Signal(object)

    def __init__(self, host: PacsHost, parent: QWidget):
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent
        self.dialog: SendDialog | None = None
        self._relay: Relay | None = None

    @property
    def busy(self) -> bool:
        return self._relay is not None

    def _source_node(self) -> str:
        """The node the open study was retrieved from (its cache manifest names it), if any."""
        from echoviewer.pacs.retrieve import read_manifest

        folder = self.host.study_path
        return str(read_manifest(Path(folder)).get("node", "")) if folder else ""

    def open_dialog(self) -> None:
        session = self.host.session
        if session.folder is None:
            self.host.show_error("Open a study first")
            return
        loops, missing = session_loops(session)
        if not loops:
            self.host.show_error("Nothing to send yet: no loop of this study is analysed.")
            return
        try:
            settings = load_settings()
        except ValueError as exc:
            self.host.show_error(str(exc))
            return
        if not settings.nodes:
            self.host.show_error("No PACS node yet: add one in Settings → PACS nodes…")
            return
        dlg = SendDialog(settings, self._source_node(), len(loops), [m.name for m in missing], self.parent_widget)
        self.dialog = dlg

        def done(result: int) -> None:
            self.dialog = None
            if result == QDialog.DialogCode.Accepted:
                self.send(settings, dlg.node.currentText())
            dlg.deleteLater()

        dlg.finished.connect(done)
        dlg.open()

    def send(self, settings: PacsSettings, node_name: str) -> bool:
        """Write the outputs and store them on ``node_name`` (in a thread; ``sent`` at the end)."""
        from echoviewer.pacs.client import open_client
        from echoviewer.pacs.model import PacsError
        from echoviewer.pacs.send import send_outputs
        from echoviewer.reports.outputs import ReportError, check_report

        host = self.host
        if self._relay is not None:
            host.show_error("Results are already being sent")
            return False
        node = settings.node(node_name)
        report = session_report(host.session)
        try:
            if node is None:
                raise ReportError(f"no node named {node_name!r}")
            check_report(report, dicom=True)
            client = open_client(node, settings.calling_aet)
        except (ReportError, PacsError) as exc:
            host.show_error(f"Not sent: {exc}")
            self.sent.emit(str(exc))
            return False

        def work(progress):
            return send_outputs(report, client, lambda d, t: progress(f"{d}/{t}"))

        def on_progress(text: str) -> None:
            done_s, _, total_s = text.partition("/")
            host.progress.setRange(0, int(total_s))
            host.progress.setValue(int(done_s))

        def on_done(result) -> None:
            self._relay = None
            host.progress.hide()
            host.set_status(result.summary(), error=bool(result.report.refused))
            self.sent.emit(result)

        def on_error(msg: str) -> None:
            self._relay = None
            host.progress.hide()
            host.show_error(f"Not sent: {msg}")
            self.sent.emit(msg)

        show_busy(host, "PACS %p%", f"Sending the results to {client.label}…")  # rendering takes seconds
        self._relay = run_in_thread("echoviewer-pacs-send", work, self, on_done, on_error, on_progress)
        return True
