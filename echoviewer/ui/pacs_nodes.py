"""Settings → PACS nodes…: the archives the app talks to, our own AE title, the study cache's size,
and a Test button per node (C-ECHO, or a QIDO-RS query for DICOMweb) run off the UI thread."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from echoviewer.pacs.nodes import Node, PacsSettings, check_aet, load_settings, save_settings
from echoviewer.ui import theme
from echoviewer.ui.background import Relay, run_in_thread

PROTOCOL_LABELS = {"dimse": "DIMSE (host, port, AE title)", "dicomweb": "DICOMweb (URL)"}
RETRIEVE_LABELS = {"get": "C-GET", "move": "C-MOVE to our storage port"}


def _timeout_box(value: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(0.5, 600.0)
    box.setDecimals(1)
    box.setSuffix(" s")
    box.setValue(value)
    return box


class NodeForm(QWidget):
    """The fields of one node."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.name = QLineEdit()
        self.protocol = QComboBox()
        for key, label in PROTOCOL_LABELS.items():
            self.protocol.addItem(label, key)
        self.host = QLineEdit()
        self.host.setPlaceholderText("pacs.hospital.org or 10.0.0.5")
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.called_aet = QLineEdit()
        self.called_aet.setMaxLength(16)
        self.called_aet.setPlaceholderText("the archive's AE title")
        self.url = QLineEdit()
        self.url.setPlaceholderText("http://pacs:8042/dicom-web")
        self.retrieve = QComboBox()
        for key, label in RETRIEVE_LABELS.items():
            self.retrieve.addItem(label, key)
        self.move_port = QSpinBox()
        self.move_port.setRange(1, 65535)
        self.move_port.setToolTip("C-MOVE: the archive sends the study to our AE title at this port "
                                  "(it must know us there)")
        self.tls = QCheckBox("TLS")
        self.ca_file = QLineEdit()
        self.ca_file.setPlaceholderText("CA certificate (PEM); empty: the system's")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_ca)
        ca_row = QWidget()
        cl = QHBoxLayout(ca_row)
        cl.setContentsMargins(0, 0, 0, 0)
        cl.addWidget(self.ca_file, 1)
        cl.addWidget(browse)
        self.connect_timeout = _timeout_box(5.0)
        self.timeout = _timeout_box(30.0)
        self.timeout.setToolTip("How long to wait for each answer (association, DIMSE message, HTTP response)")

        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name", self.name)
        form.addRow("Protocol", self.protocol)
        form.addRow("Host", self.host)
        form.addRow("Port", self.port)
        form.addRow("Called AE title", self.called_aet)
        form.addRow("DICOMweb URL", self.url)
        form.addRow("Retrieve with", self.retrieve)
        form.addRow("Our storage port", self.move_port)
        form.addRow(self.tls)
        form.addRow("CA file", ca_row)
        form.addRow("Connect timeout", self.connect_timeout)
        form.addRow("Answer timeout", self.timeout)
        self._form = form
        self.protocol.currentIndexChanged.connect(self._show_fields)
        self.retrieve.currentIndexChanged.connect(self._show_fields)
        self.tls.toggled.connect(self._show_fields)

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "CA certificate", str(Path(self.ca_file.text()).parent)
                                              if self.ca_file.text() else "", "PEM (*.pem *.crt);;All files (*)")
        if path:
            self.ca_file.setText(path)

    def _show_fields(self) -> None:
        dimse = self.protocol.currentData() == "dimse"
        for w in (self.host, self.port, self.called_aet, self.retrieve):
            self._form.setRowVisible(w, dimse)
        self._form.setRowVisible(self.url, not dimse)
        self._form.setRowVisible(self.move_port, dimse and self.retrieve.currentData() == "move")
        self.ca_file.setEnabled(self.tls.isChecked())

    def set_node(self, n: Node) -> None:
        self.name.setText(n.name)
        self.protocol.setCurrentIndex(max(0, self.protocol.findData(n.protocol)))
        self.host.setText(n.host)
        self.port.setValue(int(n.port))
        self.called_aet.setText(n.called_aet)
        self.url.setText(n.dicomweb_url)
        self.retrieve.setCurrentIndex(max(0, self.retrieve.findData(n.retrieve)))
        self.move_port.setValue(int(n.move_port))
        self.tls.setChecked(n.tls)
        self.ca_file.setText(n.ca_file)
        self.connect_timeout.setValue(n.connect_timeout)
        self.timeout.setValue(n.timeout)
        self._show_fields()

    def node(self) -> Node:
        return Node(name=self.name.text().strip(), host=self.host.text().strip(), port=self.port.value(),
                    called_aet=self.called_aet.text().strip(), dicomweb_url=self.url.text().strip(),
                    protocol=str(self.protocol.currentData()), retrieve=str(self.retrieve.currentData()),
                    move_port=self.move_port.value(), tls=self.tls.isChecked(), ca_file=self.ca_file.text().strip(),
                    connect_timeout=self.connect_timeout.value(), timeout=self.timeout.value())


class NodesDialog(QDialog):
    """Edits a copy of the PACS settings; OK checks every node and saves them (``pacs.json``)."""

    def __init__(self, settings: PacsSettings | None = None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("PACS nodes")
        self.setMinimumWidth(720)
        if settings is None:
            try:
                settings = load_settings()
            except ValueError as exc:
                QMessageBox.warning(self, "PACS nodes", f"{exc}\nStarting from an empty list.")
                settings = PacsSettings()
        self._settings = settings
        self.nodes: list[Node] = [replace(n) for n in settings.nodes]
        self._row = -1
        self._relay: Relay | None = None

        self.calling_aet = QLineEdit(settings.calling_aet)
        self.calling_aet.setMaxLength(16)
        self.calling_aet.setToolTip("The AE title this app calls with; the archive must know it (for C-MOVE, "
                                    "with our host and storage port)")
        self.cache_mb = QSpinBox()
        self.cache_mb.setRange(100, 10_000_000)
        self.cache_mb.setSingleStep(1000)
        self.cache_mb.setSuffix(" MB")
        self.cache_mb.setValue(int(settings.cache_limit_mb))
        self.cache_mb.setToolTip("Retrieved studies are kept locally up to this size; the ones opened longest "
                                 "ago are removed first")
        ours = QGroupBox("This workstation")
        of = QFormLayout(ours)
        of.addRow("Our AE title", self.calling_aet)
        of.addRow("Study cache limit", self.cache_mb)

        self.list = QListWidget()
        self.list.setMinimumWidth(170)
        add = QPushButton("Add")
        add.clicked.connect(self.add_node)
        self.remove = QPushButton("Remove")
        self.remove.clicked.connect(self.remove_node)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(self.remove)
        left.addLayout(row)

        self.form = NodeForm()
        self.test_button = QPushButton("Test")
        self.test_button.setToolTip("C-ECHO (DIMSE) or a QIDO-RS search (DICOMweb) with the values above")
        self.test_button.clicked.connect(self.test_node)
        self.test_result = QLabel("")
        self.test_result.setWordWrap(True)
        right = QVBoxLayout()
        right.addWidget(self.form)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.test_result, 1)
        right.addLayout(test_row)
        right.addStretch(1)
        middle = QHBoxLayout()
        middle.addLayout(left)
        middle.addLayout(right, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(ours)
        lay.addLayout(middle, 1)
        lay.addWidget(buttons)

        self.list.currentRowChanged.connect(self._select)
        for n in self.nodes:
            self.list.addItem(n.name or "(unnamed)")
        if self.nodes:
            self.list.setCurrentRow(0)
        self._enable()
        self._result: PacsSettings | None = None

    # -- the list -------------------------------------------------------------------------------
    def _enable(self) -> None:
        on = self._row >= 0
        self.form.setEnabled(on)
        self.remove.setEnabled(on)
        self.test_button.setEnabled(on and self._relay is None)

    def _commit(self) -> None:
        """The form back into the node it shows."""
        if 0 <= self._row < len(self.nodes):
            self.nodes[self._row] = self.form.node()
            item = self.list.item(self._row)
            if item is not None:
                item.setText(self.nodes[self._row].name or "(unnamed)")

    def _select(self, row: int) -> None:
        self._commit()
        self._row = row
        if 0 <= row < len(self.nodes):
            self.form.set_node(self.nodes[row])
        self.test_result.setText("")
        self._enable()

    def add_node(self) -> None:
        self._commit()
        names = {n.name for n in self.nodes}
        name = next(f"PACS {i}" for i in range(1, 1000) if f"PACS {i}" not in names)
        self.nodes.append(Node(name=name))
        self.list.addItem(name)
        self.list.setCurrentRow(len(self.nodes) - 1)
        self.form.name.setFocus()

    def remove_node(self) -> None:
        row = self._row
        if not 0 <= row < len(self.nodes):
            return
        self._row = -1  # the form's values belong to the node going away
        del self.nodes[row]
        self.list.takeItem(row)
        self._select(self.list.currentRow())

    # -- test -----------------------------------------------------------------------------------
    def test_node(self) -> None:
        """Echo the node as the form describes it now (in a thread; the label says how it went)."""
        from echoviewer.pacs.client import open_client

        self._commit()
        node = self.nodes[self._row]
        aet = self.calling_aet.text().strip()
        self.test_button.setEnabled(False)
        self._show_test("Testing…", None)

        def work(_progress):
            return open_client(node, aet).echo()

        def finish(text: str, ok: bool) -> None:
            self._relay = None
            self._show_test(text, ok)
            self._enable()

        self._relay = run_in_thread("echoviewer-pacs-test", work, self, lambda text: finish(f"✓ {text}", True),
                                    lambda msg: finish(f"✗ {msg}", False))

    def _show_test(self, text: str, ok: bool | None) -> None:
        self.test_result.setText(text)
        color = theme.MUTED if ok is None else (theme.OK if ok else theme.ERROR)
        self.test_result.setStyleSheet(f"color: {color};")

    # -- result ---------------------------------------------------------------------------------
    def collect(self) -> PacsSettings:
        """The edited settings; ValueError (a message for the user) when a node cannot be used."""
        self._commit()
        aet = check_aet(self.calling_aet.text(), "Our AE title")
        seen: set[str] = set()
        for n in self.nodes:
            if not n.name:
                raise ValueError("Every node needs a name")
            if n.name in seen:
                raise ValueError(f"Two nodes are named {n.name!r}")
            seen.add(n.name)
            try:
                n.check()
            except ValueError as exc:
                raise ValueError(f"{n.name}: {exc}") from None
        return PacsSettings(calling_aet=aet, nodes=[replace(n) for n in self.nodes],
                            cache_limit_mb=self.cache_mb.value())

    def accept(self) -> None:
        try:
            result = self.collect()
            save_settings(result)
        except ValueError as exc:
            QMessageBox.warning(self, "PACS nodes", str(exc))
            return
        except OSError as exc:
            QMessageBox.warning(self, "PACS nodes", f"Cannot save the nodes: {exc.strerror or exc}")
            return
        self._result = result
        super().accept()

    def result_settings(self) -> PacsSettings | None:
        return self._result
