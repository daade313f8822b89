"""Shared by the DICOM output tests: the validators (dciodvfy, dsrdump), a source DICOM loop with a
patient, report content built from the annotation tests' fake analysis, and reading an SR back."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest

from echoviewer.export.report import report_text
from echoviewer.io.dicom_write import write_ultrasound_dicom
from echoviewer.io.identity import Identity
from echoviewer.reports import dicom_sr

PATIENT = dict(PatientName="DOE^JANE^Q", PatientID="MRN-0042", PatientBirthDate="19610302", PatientSex="F",
               AccessionNumber="ACC123", ReferringPhysicianName="HOUSE^GREGORY", StudyID="77")


def tool(name: str) -> str:
    """The path of a validator; skipped when it is missing, except in CI where it must exist."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} must be installed in CI (Debian packages dicom3tools and dcmtk)")
        pytest.skip(f"{name} is not installed (Debian packages dicom3tools and dcmtk)")
    return path


def dciodvfy(path: Path, iod: str) -> list[str]:
    """Validate with dciodvfy: fail on any error line or when it does not recognise ``iod``; return the
    warnings (DICOMDIR hints about empty study date/time/ID are expected for video studies)."""
    r = subprocess.run([tool("dciodvfy"), str(path)], capture_output=True, text=True, timeout=60)
    lines = (r.stdout + r.stderr).splitlines()
    errors = [line for line in lines if line.startswith("Error")]
    assert not errors, "dciodvfy:\n" + "\n".join(lines)
    assert iod in lines, f"dciodvfy did not read {path.name} as {iod}:\n" + "\n".join(lines)
    return [line for line in lines if line.startswith("Warning")]


def not_dicomdir(warnings: list[str]) -> list[str]:
    return [w for w in warnings if "needed to build DICOMDIR" not in w]


def dsrdump(path: Path) -> str:
    r = subprocess.run([tool("dsrdump"), str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def source_dicom(folder: Path, n_frames: int = 60, **attrs: str) -> tuple[Path, Identity]:
    """A small multi-frame ultrasound DICOM with a patient (set with pydicom after writing) and its Identity."""
    path = write_ultrasound_dicom(folder / "loop.dcm", np.zeros((n_frames, 32, 32), np.uint8), 50.0,
                                  transfer_syntax="explicit_le", photometric="MONOCHROME2")
    ds = pydicom.dcmread(path)
    for keyword, value in {**PATIENT, **attrs}.items():
        setattr(ds, keyword, value)
    ds.save_as(path)
    return path, Identity.from_dataset(pydicom.dcmread(path, stop_before_pixels=True))


def with_volumes(analysis, edv=(100.0, 96.0), esv=(45.0, 41.0)):
    """The fake analysis with volumes per beat and its summary fields filled as the analyser fills them."""
    for b, d, s in zip(analysis.beats, edv, esv):
        b.edv, b.esv = d, s
    s = analysis.summary
    analysis.ef_mean, analysis.ef_sd, analysis.edv_mean, analysis.esv_mean = s.ef_mean, s.ef_sd, s.edv_mean, s.esv_mean
    return analysis


def csv_rows(analysis, corrections=None) -> list[dict]:
    text = report_text([analysis], None if corrections is None else {analysis.path: corrections})
    return list(csv.DictReader(io.StringIO(text)))


@dataclass
class Value:
    value: float
    unit: str
    derivation: str | None
    method: str | None
    algorithm_version: str | None
    images: list[tuple[str, list[int] | None]]  # (SOP Instance UID, frame numbers)


@dataclass
class Group:
    values: dict[tuple[str, str | None], Value] = field(default_factory=dict)  # (concept code, derivation code)
    comments: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def read_groups(path: Path) -> dict[str, Group]:
    """Measurement groups of an SR file by tracking identifier, read back with highdicom."""
    sr = hd.sr.srread(path)
    out: dict[str, Group] = {}
    for g in sr.content.get_image_measurement_groups():
        group = Group()
        for m in g.get_measurements():
            algorithm = [i for i in m[0].get("ContentSequence", []) if i.name.meaning == "Algorithm Version"]
            derivation = m.derivation.value if m.derivation is not None else None
            group.values[(m.name.value, derivation)] = Value(
                value=float(m.value), unit=m.unit.value, derivation=derivation,
                method=m.method.value if m.method is not None else None,
                algorithm_version=algorithm[0].value if algorithm else None,
                images=[(str(i.referenced_sop_instance_uid), i.referenced_frame_numbers) for i in m.referenced_images],
            )
        for item in g[0].ContentSequence:
            if item.ValueType == "TEXT" and item.name.value == dicom_sr.COMMENT.value:
                group.comments.append(item.value)
            if item.ValueType == "IMAGE":
                group.images.append(str(item.referenced_sop_instance_uid))
        assert g.tracking_identifier not in out
        out[str(g.tracking_identifier)] = group
    return out


EF, EDV, ESV = dicom_sr.LV_EF.value, dicom_sr.LV_EDV.value, dicom_sr.LV_ESV.value
MEAN, SD = dicom_sr.MEAN.value, dicom_sr.STANDARD_DEVIATION.value
