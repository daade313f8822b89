"""File → Open from PACS…: search a node, pick a study, retrieve it into the local study cache (with
progress and cancel, off the UI thread), then open it as any study folder is opened.

``PacsOpen`` is the window's controller (it owns the threads, so they outlive a closed dialog);
``PacsOpenDialog`` is the query form and the result table.
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from echoviewer.formatting import plural
from echoviewer.pacs.model import StudyMatch, StudyQuery, parse_date_range
from echoviewer.pacs.nodes import PacsSettings, load_settings
from echoviewer.ui import theme
from echoviewer.ui.background import Relay, run_in_thread

if TYPE_CHECKING:
    from echoviewer.pacs.retrieve import RetrieveResult
    from echoviewer.session import StudySession

COLUMNS = ("Patient", "Patient ID", "Date", "Description", "Accession", "US instances")


class PacsHost(Protocol):
    """What the PACS controllers use of the window."""

    study_path: str | None
    session: StudySession
    progress: QProgressBar  # the status bar's

    def open_study(self, path: str) -> bool: ...
    def set_status(self, text: str, error: bool = False) -> None: ...
    def show_error(self, text: str) -> None: ...


def _date_text(d: str) -> str:
    return f"{d[:4]}-{d[4:6]}-{d[6:]}" if len(d) == 8 and d.isdigit() else d


def _name_text(name: str) -> str:
    """'DOE^JANE' as people write it: 'DOE, JANE'."""
    parts = [p for p in name.split("^") if p]
    return ", ".join(parts[:2]) + (" " + " ".join(parts[2:]) if len(parts) > 2 else "")


class PacsOpenDialog(QDialog):
    """The query form, the result table, the retrieve's progress. Driven by ``PacsOpen``."""

    searchRequested = Signal()
    retrieveRequested = Signal(int)  # row
    cancelRequested = Signal()
    nodesRequested = Signal()

    def __init__(self, settings: PacsSettings, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Open from PACS")
        self.setMinimumSize(860, 520)
        self.studies: list[StudyMatch] = []

        self.node = QComboBox()
        self.node.setMinimumWidth(220)
        nodes_button = QPushButton("Nodes…")
        nodes_button.clicked.connect(self.nodesRequested)
        self.patient_id = QLineEdit()
        self.patient_name = QLineEdit()
        self.patient_name.setPlaceholderText("DOE^J*  (wildcards * and ?)")
        self.accession = QLineEdit()
        self.dates = QLineEdit()
        self.dates.setPlaceholderText("YYYYMMDD-YYYYMMDD, YYYYMMDD- or one day")
        self.modality = QComboBox()
        self.modality.addItem("US", "US")
        self.modality.addItem("any", "")
        self.search_button = QPushButton("Search")
        self.search_button.setDefault(True)
        self.search_button.clicked.connect(self.searchRequested)
        for edit in (self.patient_id, self.patient_name, self.accession, self.dates):
            edit.setClearButtonEnabled(True)
            edit.returnPressed.connect(self.searchRequested)

        node_row = QWidget()
        nr = QHBoxLayout(node_row)
        nr.setContentsMargins(0, 0, 0, 0)
        nr.addWidget(self.node, 1)
        nr.addWidget(nodes_button)
        form = QFormLayout()
        form.addRow("Node", node_row)
        form.addRow("Patient ID", self.patient_id)
        form.addRow("Patient name", self.patient_name)
        form.addRow("Accession", self.accession)
        form.addRow("Study date", self.dates)
        form.addRow("Modality", self.modality)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.itemSelectionChanged.connect(self._enable)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.retrieveRequested.emit(row))

        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.hide()
        self.retrieve_button = QPushButton("Retrieve and open")
        self.retrieve_button.clicked.connect(lambda: self.retrieveRequested.emit(self.selected_row()))
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self._close_or_cancel)
        bottom = QHBoxLayout()
        bottom.addWidget(self.progress, 1)
        bottom.addStretch(0)
        bottom.addWidget(self.retrieve_button)
        bottom.addWidget(self.close_button)

        top = QHBoxLayout()
        top.addLayout(form, 1)
        top.addWidget(self.search_button, 0, Qt.AlignmentFlag.AlignBottom)
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.message)
        lay.addLayout(bottom)
        self.set_nodes(settings)
        self.busy = ""  # "", "search" or "retrieve"
        self._enable()

    def set_nodes(self, settings: PacsSettings) -> None:
        current = self.node.currentText()
        self.node.clear()
        for n in settings.nodes:
            self.node.addItem(n.name)
        if current:
            self.node.setCurrentIndex(max(0, self.node.findText(current)))
        if not settings.nodes:
            self.show_message("No PACS node yet: add one with Nodes…", error=True)

    def query(self) -> StudyQuery:
        """The form as a query; ValueError (for the user) for a date range that is not one."""
        lo, hi = parse_date_range(self.dates.text())
        return StudyQuery(patient_id=self.patient_id.text().strip(), patient_name=self.patient_name.text().strip(),
                          date_from=lo, date_to=hi, accession=self.accession.text().strip(),
                          modality=str(self.modality.currentData()))

    def selected_row(self) -> int:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1

    def show_studies(self, studies: list[StudyMatch]) -> None:
        self.studies = list(studies)
        self.table.setRowCount(0)
        for s in self.studies:
            r = self.table.rowCount()
            self.table.insertRow(r)
            n = s.n_us if s.n_us is not None else s.n_instances
            values = (_name_text(s.patient_name), s.patient_id, _date_text(s.study_date), s.description, s.accession,
                      "?" if n is None else str(n))
            for c, v in enumerate(values):
                item = QTableWidgetItem(v)
                if c == len(values) - 1:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        if self.studies:
            self.table.selectRow(0)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {theme.ERROR if error else theme.MUTED};")

    def set_busy(self, what: str) -> None:
        self.busy = what
        self.progress.setVisible(what == "retrieve")
        if what == "retrieve":
            self.progress.setRange(0, 0)
        self.close_button.setText("Cancel" if what == "retrieve" else "Close")
        self._enable()

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setFormat(f"{done} / {total} instances")

    def _enable(self) -> None:
        idle = not self.busy
        self.search_button.setEnabled(idle and self.node.count() > 0)
        self.retrieve_button.setEnabled(idle and self.selected_row() >= 0)

    def _close_or_cancel(self) -> None:
        if self.busy == "retrieve":
            self.cancelRequested.emit()
        else:
            self.reject()

    def reject(self) -> None:  # Esc and the window's close button cancel a retrieve first
        if self.busy == "retrieve":
            self.cancelRequested.emit()
            return
        super().reject()


class PacsOpen(QObject):
    """File → Open from PACS…: the dialog, its searches and retrieves (threads), then the study opens."""

    #: a retrieve finished: RetrieveResult, or an error message (str); after the study was opened
    retrieved = Signal(object)
    #: a search finished: list of StudyMatch, or an error message (str)
    searched = Signal(object)

    def __init__(self, host: PacsHost, parent: QWidget):
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent
        self.dialog: PacsOpenDialog | None = None
        self.settings = PacsSettings()
        self._relay: Relay | None = None
        self._cancel: threading.Event | None = None

    @property
    def busy(self) -> bool:
        return self._relay is not None

    def _load(self) -> PacsSettings:
        try:
            self.settings = load_settings()
        except ValueError as exc:
            self.host.show_error(str(exc))
            self.settings = PacsSettings()
        return self.settings

    def open_dialog(self) -> PacsOpenDialog:
        if self.dialog is not None:
            self.dialog.raise_()
            return self.dialog
        dlg = PacsOpenDialog(self._load(), self.parent_widget)
        dlg.searchRequested.connect(self.search)
        dlg.retrieveRequested.connect(self.retrieve)
        dlg.cancelRequested.connect(self.cancel)
        dlg.nodesRequested.connect(self.edit_nodes)
        dlg.finished.connect(self._closed)
        self.dialog = dlg
        dlg.open()
        return dlg

    def _closed(self, _result: int) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None

    def edit_nodes(self) -> None:
        from echoviewer.ui.pacs_nodes import NodesDialog

        dlg = NodesDialog(self._load(), self.dialog or self.parent_widget)
        if dlg.exec() and dlg.result_settings() is not None:
            self.settings = dlg.result_settings() or self.settings
            if self.dialog is not None:
                self.dialog.set_nodes(self.settings)
                self.dialog._enable()

    def _client(self):
        from echoviewer.pacs.client import open_client

        dlg = self.dialog
        node = self.settings.node(dlg.node.currentText()) if dlg is not None else None
        if node is None:
            raise ValueError("choose a node (or add one with Nodes…)")
        return open_client(node, self.settings.calling_aet)

    # -- search ---------------------------------------------------------------------------------
    def search(self) -> bool:
        dlg = self.dialog
        if dlg is None or self._relay is not None:
            return False
        try:
            query = dlg.query()
            client = self._client()
        except Exception as exc:  # a bad date range, an incomplete node: said in the dialog
            dlg.show_message(str(exc), error=True)
            self.searched.emit(str(exc))
            return False

        def work(progress):
            studies = client.find_studies(query)
            for i, s in enumerate(studies):  # the table shows US instances, not every object
                progress(f"Counting ultrasound instances… {i + 1}/{len(studies)}")
                s.n_us = client.count_us(s.study_uid)
            return studies

        def done(studies: list[StudyMatch]) -> None:
            self._relay = None
            if self.dialog is not None:
                self.dialog.set_busy("")
                self.dialog.show_studies(studies)
                n = len(studies)
                self.dialog.show_message(f"{n} stud{'y' if n == 1 else 'ies'} on {client.label}"
                                         + ("" if n else ": none matches"))
            self.searched.emit(studies)

        def failed(msg: str) -> None:
            self._relay = None
            if self.dialog is not None:
                self.dialog.set_busy("")
                self.dialog.show_message(msg, error=True)
            self.searched.emit(msg)

        dlg.set_busy("search")
        dlg.show_message(f"Searching {client.label}…")
        self._relay = run_in_thread("echoviewer-pacs-find", work, self, done, failed,
                                    lambda text: self.dialog.show_message(text) if self.dialog else None)
        return True

    # -- retrieve -------------------------------------------------------------------------------
    def retrieve(self, row: int) -> bool:
        from echoviewer.pacs.cache import StudyCache

        dlg = self.dialog
        if dlg is None or self._relay is not None or not 0 <= row < len(dlg.studies):
            return False
        study = dlg.studies[row]
        try:
            client = self._client()
        except Exception as exc:
            dlg.show_message(str(exc), error=True)
            return False
        cache = StudyCache(limit_mb=self.settings.cache_limit_mb)
        keep = {Path(self.host.study_path)} if self.host.study_path else set()
        cancel = self._cancel = threading.Event()

        def work(progress):
            return cache.fetch(client, study.study_uid, lambda d, t: progress(f"{d}/{t}"), cancel, keep=keep)

        def on_progress(text: str) -> None:
            done_s, _, total_s = text.partition("/")
            if self.dialog is not None:
                self.dialog.set_progress(int(done_s), int(total_s))

        def done(outcome: tuple[RetrieveResult, list[Path]]) -> None:
            result, evicted = outcome
            self._relay = self._cancel = None
            if self.dialog is not None:
                self.dialog.set_busy("")
                self.dialog.accept()
            opened = self.host.open_study(str(result.folder))
            if opened:
                note = f"; {plural(len(evicted), 'older study')} removed from the cache" if evicted else ""
                self.host.set_status(f"Opened from PACS: {result.summary()}{note}")
            self.retrieved.emit(result)

        def failed(msg: str) -> None:
            self._relay = self._cancel = None
            text = ("Retrieve cancelled; what arrived is kept and the next retrieve resumes"
                    if msg.endswith(": cancelled") else f"Not retrieved: {msg}")
            if self.dialog is not None:
                self.dialog.set_busy("")
                self.dialog.show_message(text, error=True)
            self.host.show_error(text)
            self.retrieved.emit(msg)

        dlg.set_busy("retrieve")
        dlg.show_message(f"Retrieving the study of {study.patient_id or 'the patient'} from {client.label}…")
        self._relay = run_in_thread("echoviewer-pacs-get", work, self, done, failed, on_progress)
        return True

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.set()
            if self.dialog is not None:
                self.dialog.show_message("Cancelling…")

