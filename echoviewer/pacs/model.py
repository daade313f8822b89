"""What both doors (DIMSE, DICOMweb) speak: queries, matches, instance references, store outcomes,
the ``Client`` interface and ``PacsError`` (one line that names the node)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

#: Storage SOP classes of ultrasound images: the loops the app reviews. Anything else in a study
#: (SR, PDF, Secondary Capture, other modalities) is skipped on retrieve and counted.
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"
US_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.6.1"
US_STORAGE_CLASSES: tuple[str, ...] = (
    US_MULTIFRAME_STORAGE,
    US_IMAGE_STORAGE,
    "1.2.840.10008.5.1.4.1.1.3",  # Ultrasound Multi-frame Image Storage (retired, still in archives)
    "1.2.840.10008.5.1.4.1.1.6",  # Ultrasound Image Storage (retired)
)

#: progress(done, total)
Progress = Callable[[int, int], None]


class PacsError(Exception):
    """A node could not do what was asked; str() is one line naming the node and the problem."""


class Cancelled(PacsError):
    """The user cancelled; what was already fetched or sent stays."""


def check_cancel(cancel: threading.Event | None, node: str) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled(f"{node}: cancelled")


_DATE = re.compile(r"^\d{8}$")


def parse_date_range(text: str) -> tuple[str, str]:
    """'20240101-20240131', '20240101-' (from), '-20240131' (until) or '20240101' (that day) ->
    (from, to), each YYYYMMDD or ''. Raises ValueError with a message for the user."""
    text = text.strip().replace("/", "").replace(".", "")
    if not text:
        return "", ""
    lo, sep, hi = text.partition("-")
    if not sep:
        hi = lo
    for part in (lo, hi):
        if part and not _DATE.match(part):
            raise ValueError(f"dates are YYYYMMDD or YYYYMMDD-YYYYMMDD, not {text!r}")
    if lo and hi and lo > hi:
        raise ValueError(f"date range {text!r} ends before it starts")
    return lo, hi


@dataclass(frozen=True)
class StudyQuery:
    """A study-level search. Empty fields match everything; names may use * and ? wildcards."""

    patient_id: str = ""
    patient_name: str = ""
    date_from: str = ""  # YYYYMMDD
    date_to: str = ""
    accession: str = ""
    modality: str = "US"  # in ModalitiesInStudy; "" for any
    study_uid: str = ""

    @property
    def date_range(self) -> str:
        """DICOM range matching: 'FROM-TO', 'FROM-', '-TO', or '' for any date."""
        if not self.date_from and not self.date_to:
            return ""
        if self.date_from == self.date_to:
            return self.date_from
        return f"{self.date_from}-{self.date_to}"


@dataclass
class StudyMatch:
    study_uid: str
    patient_id: str = ""
    patient_name: str = ""
    study_date: str = ""
    description: str = ""
    accession: str = ""
    modalities: list[str] = field(default_factory=list)
    n_instances: int | None = None  # NumberOfStudyRelatedInstances, every modality
    n_us: int | None = None  # instances in the study's US series (filled by count_us)

    def to_json(self) -> dict[str, Any]:
        """DICOM keywords, as `echoviewer pacs find --json` prints them."""
        return {
            "StudyInstanceUID": self.study_uid,
            "PatientID": self.patient_id,
            "PatientName": self.patient_name,
            "StudyDate": self.study_date,
            "StudyDescription": self.description,
            "AccessionNumber": self.accession,
            "ModalitiesInStudy": list(self.modalities),
            "NumberOfStudyRelatedInstances": self.n_instances,
            **({"NumberOfUSInstances": self.n_us} if self.n_us is not None else {}),
        }


@dataclass(frozen=True)
class InstanceRef:
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class: str = ""

    @property
    def is_us(self) -> bool:
        return self.sop_class in US_STORAGE_CLASSES


@dataclass
class StoreOutcome:
    path: Path
    ok: bool
    sop_uid: str = ""
    sop_class: str = ""
    message: str = ""  # why refused, or a warning the PACS gave with a stored file


@dataclass
class StoreReport:
    node: str
    outcomes: list[StoreOutcome] = field(default_factory=list)

    @property
    def stored(self) -> list[StoreOutcome]:
        return [o for o in self.outcomes if o.ok]

    @property
    def refused(self) -> list[StoreOutcome]:
        return [o for o in self.outcomes if not o.ok]

    def summary(self) -> str:
        """One line: what was stored, what was refused and why (the first reason)."""
        n, bad = len(self.outcomes), self.refused
        if not bad:
            return f"{self.node}: stored {n} of {n}"
        first = bad[0]
        return (f"{self.node}: stored {n - len(bad)} of {n}, refused {len(bad)} "
                f"({first.path.name}: {first.message}{'; …' if len(bad) > 1 else ''})")


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def study_match(ds: Any) -> StudyMatch:
    """A C-FIND or QIDO-RS answer (a pydicom Dataset) as a StudyMatch."""
    mods = ds.get("ModalitiesInStudy", "") or ""
    modalities = [m for m in mods.split("\\") if m] if isinstance(mods, str) else [str(m) for m in mods]
    return StudyMatch(
        study_uid=str(ds.get("StudyInstanceUID", "") or ""),
        patient_id=str(ds.get("PatientID", "") or ""),
        patient_name=str(ds.get("PatientName", "") or ""),
        study_date=str(ds.get("StudyDate", "") or ""),
        description=str(ds.get("StudyDescription", "") or ""),
        accession=str(ds.get("AccessionNumber", "") or ""),
        modalities=modalities,
        n_instances=_int(ds.get("NumberOfStudyRelatedInstances")),
    )


def count_us_series(series: Any) -> int:
    """Instances in the US series of a series-level answer (C-FIND or QIDO-RS datasets)."""
    return sum(_int(ds.get("NumberOfSeriesRelatedInstances")) or 0 for ds in series
               if str(ds.get("Modality", "")).upper() == "US")


class FileSink(Protocol):
    """Where retrieved instances go: ``add(sop_uid, data)`` with the bytes of a DICOM file."""

    def add(self, sop_uid: str, data: bytes) -> None: ...


class Client(Protocol):
    """One node through one door. Every call is bounded by the node's timeouts; ``cancel`` is
    checked between instances."""

    label: str

    def echo(self) -> str: ...
    def find_studies(self, query: StudyQuery) -> list[StudyMatch]: ...
    def count_us(self, study_uid: str) -> int: ...
    def study_instances(self, study_uid: str) -> list[InstanceRef]: ...
    def retrieve(self, refs: Sequence[InstanceRef], sink: FileSink, progress: Progress | None = None,
                 cancel: threading.Event | None = None, whole_series: frozenset[str] = frozenset()) -> int:
        """``refs`` into ``sink``; ``whole_series``: series of which every instance is wanted (a
        hint: a node may then be asked for the series at once)."""
    def store(self, paths: Sequence[Path], progress: Progress | None = None,
              cancel: threading.Event | None = None) -> StoreReport: ...
