"""Who and what a loop belongs to: patient, study and source-image identity.

Read from the source DICOM's header; nothing invents it. Loops from video files (AVI/MP4) carry none,
so reports ask the user (window) or take it from the command line (``Identity.entered``). Identity is
patient data: it goes into clinical outputs (window title, reports, DICOM objects) and never into
logs, research exports or file names unless the user chose it.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


def _text(ds: Any, keyword: str) -> str:
    value = ds.get(keyword, "")
    if value is None:
        return ""
    return str(value).strip()


@dataclass(frozen=True)
class Identity:
    """Patient and study identity of a loop; every field is '' when unknown."""

    patient_name: str = ""  # DICOM PN form ("FAMILY^GIVEN"); see display_name
    patient_id: str = ""
    patient_birth_date: str = ""  # YYYYMMDD
    patient_sex: str = ""
    study_date: str = ""  # YYYYMMDD
    study_time: str = ""
    accession: str = ""
    study_uid: str = ""
    study_id: str = ""
    referring_physician: str = ""
    institution: str = ""
    manufacturer: str = ""
    model_name: str = ""
    # the source image (for references from reports)
    series_uid: str = ""
    sop_class_uid: str = ""
    sop_instance_uid: str = ""

    @classmethod
    def from_dataset(cls, ds: Any) -> Identity:
        """The identity in a pydicom Dataset's header (missing elements become '')."""
        return cls(
            patient_name=_text(ds, "PatientName"),
            patient_id=_text(ds, "PatientID"),
            patient_birth_date=_text(ds, "PatientBirthDate"),
            patient_sex=_text(ds, "PatientSex"),
            study_date=_text(ds, "StudyDate"),
            study_time=_text(ds, "StudyTime"),
            accession=_text(ds, "AccessionNumber"),
            study_uid=_text(ds, "StudyInstanceUID"),
            study_id=_text(ds, "StudyID"),
            referring_physician=_text(ds, "ReferringPhysicianName"),
            institution=_text(ds, "InstitutionName"),
            manufacturer=_text(ds, "Manufacturer"),
            model_name=_text(ds, "ManufacturerModelName"),
            series_uid=_text(ds, "SeriesInstanceUID"),
            sop_class_uid=_text(ds, "SOPClassUID"),
            sop_instance_uid=_text(ds, "SOPInstanceUID"),
        )

    @classmethod
    def entered(cls, patient_name: str = "", patient_id: str = "", **more: str) -> Identity:
        """An identity typed by the user (AVI studies); a plain "Given Family" name is kept as typed."""
        return cls(patient_name=patient_name.strip(), patient_id=patient_id.strip(),
                   **{k: v.strip() for k, v in more.items()})

    @property
    def known(self) -> bool:
        """True when a patient is named or identified (what DICOM outputs need at least)."""
        return bool(self.patient_id or self.patient_name)

    @property
    def from_dicom(self) -> bool:
        return bool(self.sop_instance_uid)

    @property
    def display_name(self) -> str:
        """'FAMILY, Given' from the DICOM PN form; the name as typed otherwise."""
        name = self.patient_name
        if "^" not in name:
            return name
        parts = [p.strip() for p in name.split("^")]
        family, given = parts[0], " ".join(p for p in parts[1:3] if p)
        return f"{family}, {given}" if given else family

    @property
    def study_date_text(self) -> str:
        """YYYY-MM-DD when the DICOM date is well formed, else as stored."""
        d = self.study_date
        if len(d) == 8 and d.isdigit():
            return f"{d[:4]}-{d[4:6]}-{d[6:]}"
        return d

    @property
    def caption(self) -> str:
        """'DOE, JANE · ID 42 · 2024-01-31 · Acc. A7' (the parts that are known; '' when none)."""
        parts = [self.display_name, f"ID {self.patient_id}" if self.patient_id else "", self.study_date_text,
                 f"Acc. {self.accession}" if self.accession else ""]
        return " · ".join(p for p in parts if p)

    def merged(self, other: Identity) -> Identity:
        """This identity with its empty fields filled from ``other`` (entered over read, say)."""
        return replace(self, **{f.name: getattr(other, f.name) for f in fields(self)
                                if not getattr(self, f.name) and getattr(other, f.name)})

    def patient_fields(self) -> dict[str, str]:
        """The patient/study fields a person reads (no UIDs), for headers and CSV columns."""
        return {
            "patient_name": self.display_name,
            "patient_id": self.patient_id,
            "study_date": self.study_date_text,
            "accession": self.accession,
        }


#: No identity (video files, arrays).
UNKNOWN = Identity()
