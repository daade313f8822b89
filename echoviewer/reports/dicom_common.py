"""What every DICOM object EchoViewer writes about a study shares: the patient and study it joins,
the software that made it, and fresh UIDs for its own series and instance.

Patient and study are copied from the source DICOM through the report's ``Identity`` (the first
DICOM loop's header); a study of video files (AVI) carries the identity the user entered and gets a
*new* Study Instance UID, made once per export so that the SR, the PDF and the key images of one
export are one study. Nothing here invents a patient: without one (``Identity.known`` false) there
are no DICOM outputs (``DicomOutputError``).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from echoviewer.io.identity import Identity
from echoviewer.reports.content import StudyReport, identities_disagree

MANUFACTURER = "EchoViewer"
#: Every new object is UTF-8 (names typed by users may carry any script).
CHARACTER_SET = "ISO_IR 192"
_LO_MAX = 64  # the longest LO value (SoftwareVersions, Manufacturer ...)


class DicomOutputError(ValueError):
    """The study cannot be written as DICOM (no patient, patients mixed, nothing to report)."""


@dataclass(frozen=True)
class Series:
    """Number and description of a series EchoViewer adds to a study (high numbers, clear of the scanner's)."""

    number: int
    description: str


SR_SERIES = Series(9001, "EchoViewer LV EF measurements")
PDF_SERIES = Series(9002, "EchoViewer EF report (PDF)")
KEY_IMAGE_SERIES = Series(9003, "EchoViewer key images")


def new_uid() -> str:
    return str(generate_uid())


def short_uid(uid: str, digits: int = 12) -> str:
    """A short, file-name-safe tag of a UID (a hash: the UID itself is long and says nothing to a person)."""
    return hashlib.sha1(uid.encode("ascii")).hexdigest()[:digits]


def person_name(name: str) -> str:
    """A name in DICOM PN form. Kept as is when it has components ('^'); 'Family, Given' becomes
    'Family^Given'; any other typed name becomes the family-name component as typed (no guessing which
    word is the family name)."""
    name = " ".join(name.split())
    if not name or "^" in name:
        return name
    if name.count(",") == 1:
        family, given = (p.strip() for p in name.split(","))
        return f"{family}^{given}"
    return f"{name}^"


def dicom_date(text: str) -> str:
    """YYYYMMDD from 'YYYYMMDD' or 'YYYY-MM-DD'; '' for anything else (DA must not hold free text)."""
    digits = re.sub(r"[-./]", "", text.strip())
    if len(digits) != 8 or not digits.isdigit():
        return ""
    try:
        datetime.strptime(digits, "%Y%m%d")
    except ValueError:
        return ""
    return digits


def dicom_time(text: str) -> str:
    """HHMMSS[.ffffff] from a DICOM TM or 'HH:MM[:SS]'; '' for anything else."""
    t = text.strip().replace(":", "")
    return t if re.fullmatch(r"\d{2}(\d{2}(\d{2}(\.\d{1,6})?)?)?", t) else ""


def dicom_sex(text: str) -> str:
    t = text.strip().upper()[:1]
    return t if t in ("M", "F", "O") else ""


def _lo(text: str) -> str:
    return text[:_LO_MAX]


def software_versions(report: StudyReport) -> list[str]:
    """SoftwareVersions: the sha256 of every weights file used (64 hex digits, exactly an LO value),
    segmentation first, then the app's version. The app comes last because the element's padding space
    lands on the last value, and a padded 64-digit hash reads back as 65 characters (pydicom warns)."""
    out: list[str] = []
    for info in report.weights:
        sha = str(info.sha256 or "")
        if sha and sha not in out:
            out.append(_lo(sha))
    return [*out, _lo(f"{MANUFACTURER} {report.app_version}")]


@dataclass(frozen=True)
class StudyContext:
    """The study new objects join, and who makes them: what a SR, an Encapsulated PDF and a Secondary
    Capture of one export share (same study, same content time, same software)."""

    patient_name: str
    patient_id: str
    patient_birth_date: str
    patient_sex: str
    study_uid: str
    study_date: str
    study_time: str
    accession: str
    referring_physician: str
    study_id: str
    content_date: str
    content_time: str
    software_versions: tuple[str, ...]
    app_version: str
    demo_label: str  # '' unless demo weights were used
    study_uid_is_new: bool  # True for a video study: the export made the study up

    def patient_study(self) -> dict[str, Any]:
        """Patient and General Study module attributes by keyword (types 2: '' when unknown)."""
        return {
            "PatientName": self.patient_name,
            "PatientID": self.patient_id,
            "PatientBirthDate": self.patient_birth_date,
            "PatientSex": self.patient_sex,
            "StudyInstanceUID": self.study_uid,
            "StudyDate": self.study_date,
            "StudyTime": self.study_time,
            "AccessionNumber": self.accession,
            "ReferringPhysicianName": self.referring_physician,
            "StudyID": self.study_id,
        }

    def highdicom_patient_study(self) -> dict[str, Any]:
        """The same as highdicom's SOPClass keyword arguments (a PN with no '^' is one highdicom refuses)."""
        return {
            "study_instance_uid": self.study_uid,
            "patient_name": self.patient_name or None,
            "patient_id": self.patient_id,
            "patient_birth_date": self.patient_birth_date,
            "patient_sex": self.patient_sex or None,
            "accession_number": self.accession,
            "study_id": self.study_id,
            "study_date": self.study_date,
            "study_time": self.study_time,
            "referring_physician_name": self.referring_physician or None,
        }

    def equipment(self) -> dict[str, Any]:
        """General Equipment attributes of every new object."""
        return {
            "Manufacturer": MANUFACTURER,
            "ManufacturerModelName": MANUFACTURER,
            "SoftwareVersions": list(self.software_versions),
        }

    def apply(self, ds: Dataset) -> Dataset:
        """Set character set, patient, study, equipment and content date/time on a pydicom dataset."""
        ds.SpecificCharacterSet = CHARACTER_SET
        for keyword, value in {**self.patient_study(), **self.equipment()}.items():
            setattr(ds, keyword, value)
        ds.ContentDate = self.content_date
        ds.ContentTime = self.content_time
        ds.InstanceCreationDate = self.content_date
        ds.InstanceCreationTime = self.content_time
        return ds


def check_reportable(report: StudyReport) -> None:
    """Raise DicomOutputError when the report cannot become DICOM objects of one patient."""
    if not report.identity.known:
        raise DicomOutputError("DICOM outputs need a patient: the study has no DICOM loop; enter the patient's "
                               "name or ID")
    mixed = identities_disagree(report.loops)
    if mixed:
        raise DicomOutputError(f"loops of another patient in this study: {', '.join(mixed)}")


def study_context(report: StudyReport, study_uid: str | None = None) -> StudyContext:
    """The context of one export. ``study_uid`` overrides the study (a caller that already made one up
    for a video study and wants the same study again); otherwise the identity's, or a new one."""
    check_reportable(report)
    ident: Identity = report.identity
    uid = study_uid or ident.study_uid
    when = report.generated
    return StudyContext(
        patient_name=person_name(ident.patient_name),
        patient_id=_lo(ident.patient_id),
        patient_birth_date=dicom_date(ident.patient_birth_date),
        patient_sex=dicom_sex(ident.patient_sex),
        study_uid=uid or new_uid(),
        study_date=dicom_date(ident.study_date),
        study_time=dicom_time(ident.study_time),
        accession=ident.accession[:16],  # SH
        referring_physician=person_name(ident.referring_physician),
        study_id=ident.study_id[:16],  # SH
        content_date=when.strftime("%Y%m%d"),
        content_time=when.strftime("%H%M%S"),
        software_versions=tuple(software_versions(report)),
        app_version=report.app_version,
        demo_label=report.demo_label,
        study_uid_is_new=not uid,
    )
