"""DIMSE with pynetdicom: C-ECHO, C-FIND (study, series, image level), C-GET or C-MOVE, C-STORE.

Every association has explicit timeouts (connection, ACSE, DIMSE, network: the node's), so no call
waits forever on a silent peer. Presentation contexts are proposed one per (SOP class, transfer
syntax) pair, so the archive can pick the context its files are already encoded in and never has
to transcode: on retrieve for the ultrasound storage classes in every syntax a loop may carry, on
store for exactly the pairs of the files being sent (plus Explicit VR Little Endian for compressed
files, decompressed here only when the archive refuses their own syntax).
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGLossless,
    JPEGLosslessSV1,
    RLELossless,
)
from pynetdicom import AE, build_context, build_role, evt
from pynetdicom.presentation import PresentationContext
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)
from pynetdicom.status import STORAGE_SERVICE_CLASS_STATUS, code_to_category

from echoviewer.pacs.model import (
    US_STORAGE_CLASSES,
    FileSink,
    InstanceRef,
    PacsError,
    Progress,
    StoreOutcome,
    StoreReport,
    StudyMatch,
    StudyQuery,
    check_cancel,
    count_us_series,
    study_match,
)
from echoviewer.pacs.nodes import Node

# pynetdicom's INFO/DEBUG output names patients and studies (identifiers of every C-FIND answer):
# quiet unless someone configured it on purpose. Its errors (rejections, aborts) name no patient.
_pynetdicom_log = logging.getLogger("pynetdicom")
if _pynetdicom_log.level == logging.NOTSET:
    _pynetdicom_log.setLevel(logging.ERROR)

#: The transfer syntaxes a retrieved loop may carry, the archive's choice per context.
RETRIEVE_SYNTAXES: tuple[UID, ...] = (
    JPEGBaseline8Bit, JPEGLosslessSV1, JPEGLossless, RLELossless, JPEG2000Lossless, JPEG2000,
    ExplicitVRLittleEndian, ImplicitVRLittleEndian,
)
_UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
_MAX_CONTEXTS = 127  # odd context IDs 1..255; one left for nothing else


def _status_text(code: int) -> str:
    meaning = STORAGE_SERVICE_CLASS_STATUS.get(code, (code_to_category(code), ""))[1]
    return f"0x{code:04X}" + (f" {meaning}" if meaning else "")


def _pairs_contexts(pairs: Sequence[tuple[str, str]]) -> list[PresentationContext]:
    return [build_context(sop_class, [ts]) for sop_class, ts in pairs]


def retrieve_contexts() -> list[PresentationContext]:
    """One context per (US storage class, syntax): the archive sends each file as it is stored."""
    return _pairs_contexts([(c, ts) for c in US_STORAGE_CLASSES for ts in RETRIEVE_SYNTAXES])


class _Receiver:
    """The storage handler of a retrieve (C-GET on our association, or C-MOVE to our storage SCP):
    writes each file into the sink as it arrives and reports progress. While it is in use, a
    watcher aborts the retrieve association as soon as ``cancel`` is set, with the DIMSE timeout
    cut short so that the pending wait for the node's next message ends at once."""

    def __init__(self, sink: FileSink, total: int, progress: Progress | None, cancel: threading.Event | None):
        self.sink, self.total, self.progress, self.cancel = sink, total, progress, cancel
        self.arrived: set[str] = set()
        self.failed = ""
        self.assoc: Any = None  # the retrieve association, to abort on cancel
        self._lock = threading.Lock()
        self._done = threading.Event()

    def __call__(self, event: Any) -> int:
        req = event.request
        if self.cancel is not None and self.cancel.is_set():
            return 0xA700  # refused: the user cancelled
        if str(req.AffectedSOPClassUID) not in US_STORAGE_CLASSES:
            return 0x0000  # never asked for (only US instances are requested); not kept
        uid = str(req.AffectedSOPInstanceUID)
        try:
            self.sink.add(uid, event.encoded_dataset())
        except (OSError, ValueError) as exc:
            self.failed = str(exc)
            return 0xA700  # out of resources: our disk
        with self._lock:
            self.arrived.add(uid)
            n = len(self.arrived)
        if self.progress:
            self.progress(min(n, self.total), self.total)
        return 0x0000

    @contextmanager
    def watching(self, assoc: Any) -> Iterator[None]:
        self.assoc = assoc
        cancel = self.cancel
        if cancel is None:
            yield
            return

        def watch() -> None:
            while not self._done.is_set():
                if cancel.wait(0.05):
                    assoc.dimse_timeout = 0.05
                    if assoc.is_established:
                        assoc.abort()
                    # the thread waiting for the node's next message waits on this queue with the
                    # timeout it started with: an empty item ends that wait now ("no response")
                    queue = getattr(getattr(assoc, "dimse", None), "msg_queue", None)
                    if queue is not None:
                        queue.put((None, None))
                    return

        watcher = threading.Thread(target=watch, name="echoviewer-pacs-cancel", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            self._done.set()
            watcher.join(5)


def _nodelay(event: Any) -> None:
    """No Nagle delay on the small DIMSE messages (a C-GET waits on each sub-operation's answer)."""
    try:
        event.assoc.dul.socket.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):
        pass


class DimseClient:
    """A node over DIMSE, as ``calling_aet``. Each call opens and releases its own association."""

    def __init__(self, node: Node, calling_aet: str):
        self.node = node
        self.calling_aet = calling_aet
        self.label = node.label

    # -- associations ---------------------------------------------------------------------------
    def _ae(self) -> AE:
        ae = AE(ae_title=self.calling_aet)
        n = self.node
        ae.connection_timeout = n.connect_timeout
        ae.acse_timeout = n.timeout
        ae.dimse_timeout = n.timeout
        ae.network_timeout = n.timeout
        return ae

    def _address(self) -> str:
        try:
            infos = socket.getaddrinfo(self.node.host.strip(), self.node.port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise PacsError(f"{self.label}: cannot resolve host {self.node.host!r} ({exc})") from None
        return str(infos[0][4][0])

    def _tls_args(self) -> tuple[ssl.SSLContext, str] | None:
        if not self.node.tls:
            return None
        try:
            ctx = ssl.create_default_context(cafile=self.node.ca_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise PacsError(f"{self.label}: CA file {self.node.ca_file}: {exc}") from None
        return ctx, self.node.host.strip()

    @contextmanager
    def _association(self, contexts: list[PresentationContext], roles: list[Any] | None = None,
                     handlers: list[Any] | None = None, ae: AE | None = None) -> Iterator[Any]:
        ae = ae or self._ae()
        ae.requested_contexts = contexts
        addr = self._address()
        connected: list[bool] = []
        t0 = time.monotonic()
        assoc = ae.associate(addr, self.node.port, ae_title=self.node.called_aet, ext_neg=roles,
                             tls_args=self._tls_args(),
                             evt_handlers=[(evt.EVT_CONN_OPEN, lambda _e: connected.append(True)),
                                           (evt.EVT_CONN_OPEN, _nodelay), *(handlers or [])])
        if not assoc.is_established:
            raise PacsError(f"{self.label}: {self._why_not(assoc, addr, bool(connected), time.monotonic() - t0)}")
        try:
            yield assoc
        except BaseException:
            assoc.abort()  # at once: a cancel or a failure must not wait for a release
            raise
        else:
            if assoc.is_established:
                assoc.release()

    def _why_not(self, assoc: Any, addr: str, connected: bool, waited: float) -> str:
        n = self.node
        if assoc.is_rejected:
            rsp = getattr(assoc.acceptor, "primitive", None)
            reason = getattr(rsp, "reason_str", "") or "no reason given"
            hint = ""
            if "called ae" in reason.lower():
                hint = f" (is {n.called_aet!r} the node's AE title?)"
            elif "calling ae" in reason.lower():
                hint = f" (does the node know our AE title {self.calling_aet!r}?)"
            return f"association rejected: {reason}{hint}"
        if not connected:
            return self._connect_problem(addr)
        if waited >= 0.9 * n.timeout:  # pynetdicom aborts on its ACSE timeout: that is silence, not the node
            return f"no answer to the association request within {n.timeout:g} s"
        if assoc.is_aborted and not assoc.accepted_contexts and getattr(assoc.acceptor, "primitive", None):
            return "the node accepted none of the proposed presentation contexts"
        if assoc.is_aborted:
            return f"association aborted by the node (does it accept our AE title {self.calling_aet!r}?)"
        return f"no answer to the association request within {n.timeout:g} s"

    def _connect_problem(self, addr: str) -> str:
        """Why the connection failed, found by trying once more without DICOM on top."""
        n = self.node
        try:
            with socket.create_connection((addr, n.port), timeout=n.connect_timeout):
                pass
        except ConnectionRefusedError:
            return f"connection refused at {n.host}:{n.port} (is the PACS running, on this port?)"
        except TimeoutError:
            return f"no connection to {n.host}:{n.port} within {n.connect_timeout:g} s"
        except OSError as exc:
            return f"cannot connect to {n.host}:{n.port}: {exc.strerror or exc}"
        if n.tls:
            return "TLS handshake failed (does the node speak TLS on this port? is the CA file right?)"
        return f"cannot connect to {n.host}:{n.port}"

    def _silent(self, assoc: Any, what: str, since: float) -> PacsError:
        """An empty answer (since ``since``, monotonic): the node dropped the association, or said
        nothing in time (the abort may not be flagged yet when the answer comes back: the time tells)."""
        waited = time.monotonic() - since
        if assoc.is_aborted or not assoc.is_established or waited < 0.9 * self.node.timeout:
            return PacsError(f"{self.label}: the node closed the association during {what} (does it allow "
                             f"{what} from our AE title {self.calling_aet!r}? is it still running?)")
        return PacsError(f"{self.label}: no answer to {what} within {self.node.timeout:g} s")

    # -- C-ECHO ---------------------------------------------------------------------------------
    def echo(self) -> str:
        t0 = time.monotonic()
        with self._association([build_context(Verification)]) as assoc:
            t1 = time.monotonic()
            status = assoc.send_c_echo()
        code = status.get("Status") if status else None
        if code is None:
            raise self._silent(assoc, "C-ECHO", t1)
        if code != 0x0000:
            raise PacsError(f"{self.label}: C-ECHO failed: status 0x{code:04X}")
        return f"C-ECHO answered in {1000 * (time.monotonic() - t0):.0f} ms"

    # -- C-FIND ---------------------------------------------------------------------------------
    def _find(self, identifier: Dataset) -> list[Dataset]:
        found: list[Dataset] = []
        with self._association([build_context(StudyRootQueryRetrieveInformationModelFind)]) as assoc:
            last = time.monotonic()
            for status, ident in assoc.send_c_find(identifier, StudyRootQueryRetrieveInformationModelFind):
                code = status.get("Status") if status else None
                if code is None:
                    raise self._silent(assoc, "C-FIND", last)
                last = time.monotonic()
                if code in (0xFF00, 0xFF01):
                    if ident is not None:
                        found.append(ident)
                elif code != 0x0000:
                    raise PacsError(f"{self.label}: C-FIND failed: status 0x{code:04X} "
                                    f"({code_to_category(code).lower()})")
        return found

    def find_studies(self, query: StudyQuery) -> list[StudyMatch]:
        q = Dataset()
        q.QueryRetrieveLevel = "STUDY"
        q.StudyInstanceUID = query.study_uid
        q.PatientID = query.patient_id
        q.PatientName = query.patient_name
        q.StudyDate = query.date_range
        q.AccessionNumber = query.accession
        q.ModalitiesInStudy = query.modality
        q.StudyDescription = ""
        q.StudyTime = ""
        q.NumberOfStudyRelatedInstances = ""
        return [study_match(ds) for ds in self._find(q)]

    def _series(self, study_uid: str) -> list[Dataset]:
        q = Dataset()
        q.QueryRetrieveLevel = "SERIES"
        q.StudyInstanceUID = study_uid
        q.SeriesInstanceUID = ""
        q.Modality = ""
        q.NumberOfSeriesRelatedInstances = ""
        return self._find(q)

    def count_us(self, study_uid: str) -> int:
        return count_us_series(self._series(study_uid))

    def study_instances(self, study_uid: str) -> list[InstanceRef]:
        q = Dataset()
        q.QueryRetrieveLevel = "IMAGE"
        q.StudyInstanceUID = study_uid
        q.SeriesInstanceUID = ""
        q.SOPInstanceUID = ""
        q.SOPClassUID = ""
        return [InstanceRef(str(ds.get("StudyInstanceUID", study_uid)), str(ds.get("SeriesInstanceUID", "")),
                            str(ds.get("SOPInstanceUID", "")), str(ds.get("SOPClassUID", "")))
                for ds in self._find(q) if ds.get("SOPInstanceUID")]

    # -- C-GET / C-MOVE -------------------------------------------------------------------------
    def retrieve(self, refs: Sequence[InstanceRef], sink: FileSink, progress: Progress | None = None,
                 cancel: threading.Event | None = None, whole_series: frozenset[str] = frozenset()) -> int:
        """Fetch ``refs`` (US instances) into ``sink``. Few requests, each listing several UIDs
        (list-of-UID matching): one at series level for the series in ``whole_series`` (every
        instance of them wanted), one per other series naming its instances, then one per
        instance for any the node did not send. Files are kept as they arrive, so an interrupted
        retrieve resumes where it stopped. Returns how many files arrived."""
        if not refs:
            return 0
        receiver = _Receiver(sink, len(refs), progress, cancel)
        if self.node.retrieve == "move":
            self._move(refs, whole_series, receiver, cancel)
        else:
            self._get(refs, whole_series, receiver, cancel)
        return len(receiver.arrived)

    def _requests(self, refs: Sequence[InstanceRef], whole_series: frozenset[str], receiver: _Receiver, send: Any,
                  what: str, cancel: threading.Event | None) -> None:
        by_series: dict[str, list[InstanceRef]] = {}
        for r in refs:
            by_series.setdefault(r.series_uid, []).append(r)
        whole = [uid for uid in by_series if uid in whole_series]
        if whole:
            check_cancel(cancel, self.label)
            self._retrieve_one(send(_series_identifier(refs[0].study_uid, whole)), what, receiver, cancel)
        for uid, group in by_series.items():
            if uid not in whole_series:
                check_cancel(cancel, self.label)
                self._retrieve_one(send(_image_identifier(group)), what, receiver, cancel)
        for r in [r for r in refs if r.sop_uid not in receiver.arrived]:  # a node without list matching
            check_cancel(cancel, self.label)
            self._retrieve_one(send(_image_identifier([r])), what, receiver, cancel)

    def _get(self, refs: Sequence[InstanceRef], whole_series: frozenset[str], receiver: _Receiver,
             cancel: threading.Event | None) -> None:
        contexts = [build_context(StudyRootQueryRetrieveInformationModelGet), *retrieve_contexts()]
        roles = [build_role(c, scp_role=True) for c in US_STORAGE_CLASSES]
        with self._association(contexts, roles, [(evt.EVT_C_STORE, receiver)]) as assoc, receiver.watching(assoc):
            self._requests(refs, whole_series, receiver,
                           lambda ds: assoc.send_c_get(ds, StudyRootQueryRetrieveInformationModelGet), "C-GET", cancel)

    def _move(self, refs: Sequence[InstanceRef], whole_series: frozenset[str], receiver: _Receiver,
              cancel: threading.Event | None) -> None:
        ae = self._ae()
        for c in US_STORAGE_CLASSES:
            ae.add_supported_context(c, list(RETRIEVE_SYNTAXES))
        try:
            server: Any = ae.start_server(("", self.node.move_port), block=False,
                                     evt_handlers=[(evt.EVT_C_STORE, receiver), (evt.EVT_CONN_OPEN, _nodelay)])
        except OSError as exc:
            raise PacsError(f"{self.label}: cannot listen on port {self.node.move_port} for C-MOVE: "
                            f"{exc.strerror or exc}") from None
        try:
            with self._association([build_context(StudyRootQueryRetrieveInformationModelMove)], ae=ae) as assoc, \
                    receiver.watching(assoc):
                self._requests(refs, whole_series, receiver, lambda ds: assoc.send_c_move(
                    ds, self.calling_aet, StudyRootQueryRetrieveInformationModelMove), "C-MOVE", cancel)
        finally:
            server.shutdown()

    def _retrieve_one(self, responses: Any, what: str, receiver: _Receiver, cancel: threading.Event | None) -> None:
        final = None
        last = time.monotonic()
        for status, _ident in responses:
            code = status.get("Status") if status else None
            if code is None:
                check_cancel(cancel, self.label)
                raise self._silent(receiver.assoc, what, last)
            last = time.monotonic()
            if code not in (0xFF00, 0xFF01):
                final = (code, status)
        check_cancel(cancel, self.label)
        if receiver.failed:
            raise PacsError(f"{self.label}: cannot write a retrieved file: {receiver.failed}")
        if final is None:
            raise PacsError(f"{self.label}: {what} ended without a final status")
        code, status = final
        if code == 0xA801 and what == "C-MOVE":
            raise PacsError(f"{self.label}: C-MOVE refused: the node does not know our AE title "
                            f"{self.calling_aet!r} as a move destination")
        if code not in (0x0000, 0xB000):
            raise PacsError(f"{self.label}: {what} failed: status 0x{code:04X} ({code_to_category(code).lower()})")
        if code == 0xB000 or int(status.get("NumberOfFailedSuboperations", 0) or 0):
            raise PacsError(f"{self.label}: {what}: the node could not send every instance "
                            f"(status 0x{code:04X}; does it accept our transfer syntaxes?)")

    # -- C-STORE --------------------------------------------------------------------------------
    def store(self, paths: Sequence[Path], progress: Progress | None = None,
              cancel: threading.Event | None = None) -> StoreReport:
        report = StoreReport(self.label)
        headers: list[tuple[Path, Dataset]] = []
        for p in map(Path, paths):
            try:
                ds = pydicom.dcmread(p, stop_before_pixels=True, specific_tags=["SOPClassUID", "SOPInstanceUID"])
                ts = str(ds.file_meta.TransferSyntaxUID)
                if not ds.get("SOPClassUID") or not ds.get("SOPInstanceUID") or not ts:
                    raise ValueError("no SOP class, instance or transfer syntax")
                headers.append((p, ds))
            except Exception as exc:  # a file that is not DICOM: refused here, the others still go
                report.outcomes.append(StoreOutcome(p, False, message=f"not a DICOM file ({exc})"))
        for batch in _context_batches(headers):
            self._store_batch(batch, report, progress, cancel, len(headers))
        return report

    def _store_batch(self, batch: list[tuple[Path, Dataset]], report: StoreReport, progress: Progress | None,
                     cancel: threading.Event | None, total: int) -> None:
        pairs = _store_pairs(batch)
        with self._association(_pairs_contexts(pairs)) as assoc:
            accepted = {(str(cx.abstract_syntax), str(cx.transfer_syntax[0])) for cx in assoc.accepted_contexts}
            for path, head in batch:
                check_cancel(cancel, self.label)
                report.outcomes.append(self._store_one(assoc, path, head, accepted))
                if progress:
                    progress(len(report.outcomes), total)
                if not assoc.is_established:
                    # the node dropped us: the rest is not sent (and says so), never hangs
                    for p, h in batch[batch.index((path, head)) + 1:]:
                        report.outcomes.append(StoreOutcome(p, False, str(h.SOPInstanceUID), str(h.SOPClassUID),
                                                            "not sent: the node closed the association"))
                    return

    def _store_one(self, assoc: Any, path: Path, head: Dataset, accepted: set[tuple[str, str]]) -> StoreOutcome:
        sop_class, sop_uid = str(head.SOPClassUID), str(head.SOPInstanceUID)
        ts = str(head.file_meta.TransferSyntaxUID)
        out = StoreOutcome(path, False, sop_uid, sop_class)
        what: str | Dataset | Path = path
        if (sop_class, ts) not in accepted:
            plain = next((u for u in (ExplicitVRLittleEndian, ImplicitVRLittleEndian) if (sop_class, u) in accepted),
                         None)
            if plain is None or ts in _UNCOMPRESSED:
                out.message = f"the node accepts no presentation context for {_uid_name(sop_class)} " \
                              f"in {_uid_name(ts)}"
                return out
            try:
                ds = pydicom.dcmread(path)
                ds.decompress()  # only because the node refused the file's own syntax
                what = ds
            except Exception as exc:
                out.message = f"cannot decompress for the node ({type(exc).__name__}: {exc})"
                return out
        try:
            status = assoc.send_c_store(what)
        except (ValueError, AttributeError, OSError) as exc:
            out.message = f"not sent ({exc})"
            return out
        code = status.get("Status") if status else None
        if code is None:
            out.message = f"no answer within {self.node.timeout:g} s (association aborted)"
        elif code == 0x0000:
            out.ok = True
        elif code_to_category(code) == "Warning":
            out.ok = True
            out.message = f"stored with a warning: {_status_text(code)}"
        else:
            comment = str(status.get("ErrorComment", "") or "")
            out.message = f"refused: {_status_text(code)}" + (f" ({comment})" if comment else "")
        return out


def _image_identifier(refs: Sequence[InstanceRef]) -> Dataset:
    """IMAGE-level keys of instances of one series (several SOP Instance UIDs: list matching)."""
    ds = Dataset()
    ds.QueryRetrieveLevel = "IMAGE"
    ds.StudyInstanceUID = refs[0].study_uid
    ds.SeriesInstanceUID = refs[0].series_uid
    ds.SOPInstanceUID = [r.sop_uid for r in refs] if len(refs) > 1 else refs[0].sop_uid
    return ds


def _series_identifier(study_uid: str, series_uids: Sequence[str]) -> Dataset:
    ds = Dataset()
    ds.QueryRetrieveLevel = "SERIES"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = list(series_uids) if len(series_uids) > 1 else series_uids[0]
    return ds


def _uid_name(uid: str) -> str:
    name = UID(uid).name
    return name if name and name != uid else uid


def _store_pairs(batch: Sequence[tuple[Path, Dataset]]) -> list[tuple[str, str]]:
    """The (SOP class, syntax) pairs of ``batch``, plus uncompressed for compressed files (the
    fallback when a node takes no compressed data)."""
    pairs: dict[tuple[str, str], None] = {}
    for _p, head in batch:
        sop_class, ts = str(head.SOPClassUID), str(head.file_meta.TransferSyntaxUID)
        pairs[(sop_class, ts)] = None
        if ts not in _UNCOMPRESSED:
            pairs[(sop_class, str(ExplicitVRLittleEndian))] = None
    return list(pairs)


def _context_batches(headers: list[tuple[Path, Dataset]]) -> Iterator[list[tuple[Path, Dataset]]]:
    """Files in groups whose presentation contexts fit one association."""
    batch: list[tuple[Path, Dataset]] = []
    for item in headers:
        if batch and len(_store_pairs([*batch, item])) > _MAX_CONTEXTS:
            yield batch
            batch = []
        batch.append(item)
    if batch:
        yield batch
