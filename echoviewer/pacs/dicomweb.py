"""DICOMweb with dicomweb-client: QIDO-RS (search), WADO-RS (retrieve), STOW-RS (store).

The same ``Client`` interface as DIMSE, for archives that speak HTTP (Orthanc, dcm4chee, cloud).
Every request carries the node's (connect, read) timeouts; TLS verification uses the node's CA
file when one is set. Instances are retrieved in the syntax they are stored in (``transfer-syntax=*``),
so the server never transcodes.
"""

from __future__ import annotations

import io
import logging
import re
import threading
import time
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TypeVar

import pydicom
import requests
import requests.adapters
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset

from echoviewer.pacs.model import (
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

# dicomweb-client logs the URL of every request at INFO (study UIDs, search filters): quiet unless
# configured on purpose.
_log = logging.getLogger("dicomweb_client")
if _log.level == logging.NOTSET:
    _log.setLevel(logging.WARNING)

_ANY_SYNTAX = (("application/dicom", "*"),)
T = TypeVar("T")


class _CaFileAdapter(requests.adapters.HTTPAdapter):
    """Verifies servers against the node's CA file. (``session.verify`` would lose to
    $REQUESTS_CA_BUNDLE, which requests lets override a session's own setting.)"""

    def __init__(self, ca_file: str):
        super().__init__()
        self.ca_file = ca_file

    def send(self, request, *args, **kwargs):
        kwargs["verify"] = self.ca_file
        return super().send(request, *args, **kwargs)


class DicomwebClient:
    def __init__(self, node: Node):
        self.node = node
        self.label = node.label
        session = requests.Session()
        # no gzip: pixel data is compressed already, and a server compressing megabytes of it per
        # instance (Orthanc does when asked) makes WADO-RS three times slower
        session.headers["Accept-Encoding"] = "identity"
        if node.tls and node.ca_file:
            session.mount("https://", _CaFileAdapter(node.ca_file))
        try:
            self._client = DICOMwebClient(node.dicomweb_url.strip().rstrip("/"), session=session,
                                          timeout=(node.connect_timeout, node.timeout))
        except ValueError as exc:
            raise PacsError(f"{self.label}: {exc}") from None
        # dicomweb-client retries a failed request up to 5 times, 30 s of back-off in all (for a
        # refused connection too): a node that is down is said so at once instead.
        self._client.set_http_retry_params(retry=False)

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """``fn()``, its network failures as one-line PacsErrors."""
        n = self.node
        try:
            return fn()
        except requests.exceptions.SSLError as exc:
            m = re.search(r"certificate verify failed: ([^()'\"]+)", str(exc))
            why = f"certificate verify failed: {m.group(1).strip()}" if m else _short(exc)
            raise PacsError(f"{self.label}: TLS: {why} (is the CA file right?)") from None
        except requests.exceptions.ConnectTimeout:
            raise PacsError(f"{self.label}: no connection within {n.connect_timeout:g} s") from None
        except requests.exceptions.ConnectionError as exc:
            text = str(exc)
            if "Connection refused" in text:
                raise PacsError(f"{self.label}: connection refused (is the server running, on this port?)") from None
            if "timed out" in text.lower():
                raise PacsError(f"{self.label}: no answer to {what} within {n.timeout:g} s") from None
            raise PacsError(f"{self.label}: {what}: cannot connect ({_short(exc)})") from None
        except requests.exceptions.Timeout:
            raise PacsError(f"{self.label}: no answer to {what} within {n.timeout:g} s") from None
        except requests.exceptions.HTTPError as exc:
            resp = exc.response
            code = resp.status_code if resp is not None else "?"
            reason = resp.reason if resp is not None else str(exc)
            raise PacsError(f"{self.label}: {what} failed: HTTP {code} {reason}") from None
        except requests.exceptions.RequestException as exc:
            raise PacsError(f"{self.label}: {what}: {_short(exc)}") from None
        except ValueError as exc:  # a malformed answer (not JSON, not multipart)
            raise PacsError(f"{self.label}: {what}: unexpected answer ({_short(exc)})") from None

    # -- QIDO-RS --------------------------------------------------------------------------------
    def echo(self) -> str:
        t0 = time.monotonic()
        self._call("QIDO-RS", lambda: self._client.search_for_studies(limit=1, fields=["StudyInstanceUID"]))
        return f"QIDO-RS answered in {1000 * (time.monotonic() - t0):.0f} ms"

    def find_studies(self, query: StudyQuery) -> list[StudyMatch]:
        filters = {k: v for k, v in {
            "StudyInstanceUID": query.study_uid, "PatientID": query.patient_id, "PatientName": query.patient_name,
            "StudyDate": query.date_range, "AccessionNumber": query.accession, "ModalitiesInStudy": query.modality,
        }.items() if v}
        found = self._call("QIDO-RS", lambda: self._client.search_for_studies(
            search_filters=filters,
            fields=["StudyDescription", "ModalitiesInStudy", "NumberOfStudyRelatedInstances", "AccessionNumber"]))
        return [study_match(Dataset.from_json(d)) for d in found]

    def count_us(self, study_uid: str) -> int:
        series = self._call("QIDO-RS", lambda: self._client.search_for_series(
            study_instance_uid=study_uid, fields=["NumberOfSeriesRelatedInstances"]))
        return count_us_series(Dataset.from_json(d) for d in series)

    def study_instances(self, study_uid: str) -> list[InstanceRef]:
        found = self._call("QIDO-RS", lambda: self._client.search_for_instances(
            study_instance_uid=study_uid, fields=["SOPClassUID", "SeriesInstanceUID"]))
        refs = []
        for d in found:
            ds = Dataset.from_json(d)
            if ds.get("SOPInstanceUID") and ds.get("SeriesInstanceUID"):
                refs.append(InstanceRef(str(ds.get("StudyInstanceUID", study_uid) or study_uid),
                                        str(ds.SeriesInstanceUID), str(ds.SOPInstanceUID),
                                        str(ds.get("SOPClassUID", ""))))
        return refs

    # -- WADO-RS --------------------------------------------------------------------------------
    def retrieve(self, refs: Sequence[InstanceRef], sink: FileSink, progress: Progress | None = None,
                 cancel: threading.Event | None = None, whole_series: frozenset[str] = frozenset()) -> int:
        """One WADO-RS request per instance (``whole_series`` is not needed: requests are cheap)."""
        got = 0
        for i, ref in enumerate(refs):
            check_cancel(cancel, self.label)
            ds = self._call("WADO-RS", partial(self._client.retrieve_instance, ref.study_uid, ref.series_uid,
                                               ref.sop_uid, media_types=_ANY_SYNTAX))
            buf = io.BytesIO()
            try:
                pydicom.dcmwrite(buf, ds, enforce_file_format=True)
            except Exception as exc:
                raise PacsError(f"{self.label}: WADO-RS: a retrieved instance cannot be written "
                                f"({type(exc).__name__}: {exc})") from None
            sink.add(ref.sop_uid, buf.getvalue())
            got += 1
            if progress:
                progress(i + 1, len(refs))
        return got

    # -- STOW-RS --------------------------------------------------------------------------------
    def store(self, paths: Sequence[Path], progress: Progress | None = None,
              cancel: threading.Event | None = None) -> StoreReport:
        """One STOW-RS request per file, so the answer for each file is its own."""
        report = StoreReport(self.label)
        paths = [Path(p) for p in paths]
        for path in paths:
            check_cancel(cancel, self.label)
            report.outcomes.append(self._store_one(path))
            if progress:
                progress(len(report.outcomes), len(paths))
        return report

    def _store_one(self, path: Path) -> StoreOutcome:
        try:
            ds = pydicom.dcmread(path)
            sop_uid, sop_class = str(ds.SOPInstanceUID), str(ds.SOPClassUID)
        except Exception as exc:
            return StoreOutcome(path, False, message=f"not a DICOM file ({exc})")
        out = StoreOutcome(path, False, sop_uid, sop_class)
        try:
            answer = self._call("STOW-RS", lambda: self._client.store_instances([ds]))
        except PacsError as exc:
            if "HTTP" not in str(exc):
                raise  # the node is unreachable: the other files would fail the same way
            out.message = f"refused: {str(exc).split('failed: ', 1)[-1]}"
            return out
        failed = answer.get("FailedSOPSequence") or []
        if any(str(item.get("ReferencedSOPInstanceUID", "")) == sop_uid for item in failed):
            item = next(i for i in failed if str(i.get("ReferencedSOPInstanceUID", "")) == sop_uid)
            reason = item.get("FailureReason")
            out.message = "refused" + (f": status 0x{int(reason):04X}" if reason is not None else "")
            return out
        out.ok = True
        return out


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 160 else text[:157] + "…"
