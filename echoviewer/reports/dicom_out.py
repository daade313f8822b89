"""Write a study's DICOM objects: the measurement SR, the Encapsulated PDF report and the key images.

All of one export join the same study (one ``StudyContext``), each kind in its own new series. File
names carry no patient data: the kind and a short hash of the SOP Instance UID (``SR_<hash>.dcm``,
``PDF_<hash>.dcm``, ``KEY_<hash>.dcm``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from echoviewer.paths import atomic_write
from echoviewer.reports.content import StudyReport
from echoviewer.reports.dicom_common import StudyContext, short_uid, study_context
from echoviewer.reports.dicom_pdf import DEFAULT_TITLE, encapsulated_pdf
from echoviewer.reports.dicom_sc import KeyImage, secondary_captures
from echoviewer.reports.dicom_sr import build_sr


def save_dataset(ds: Dataset, path: Path) -> Path:
    """Write ``ds`` as a DICOM file (preamble, file meta) through a temporary file."""
    path = Path(path)
    atomic_write(path, lambda f: ds.save_as(f, enforce_file_format=True))
    return path


def file_name(kind: str, ds: Dataset) -> str:
    return f"{kind}_{short_uid(str(ds.SOPInstanceUID))}.dcm"


def write_dicom_objects(report: StudyReport, out_dir: str | Path, pdf_bytes: bytes | None = None,
                        key_images: Iterable[KeyImage | tuple[Any, ...]] = (), *, final: bool = False,
                        pdf_title: str = DEFAULT_TITLE, ctx: StudyContext | None = None) -> list[Path]:
    """Write the SR, then the Encapsulated PDF (when ``pdf_bytes``), then one Secondary Capture per key
    image into ``out_dir``; returns the paths in that order.

    ``key_images``: KeyImage items or (RGB uint8 array, description[, source Identity[, frame index]])
    tuples. ``ctx``: the study context (default: from the report; pass one to reuse a made-up study UID).
    Raises DicomOutputError when the report has no patient, mixes patients or has no measurement.
    """
    ctx = ctx or study_context(report)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    objects: list[tuple[str, Dataset]] = [("SR", build_sr(report, ctx, final=final))]
    if pdf_bytes is not None:
        objects.append(("PDF", encapsulated_pdf(pdf_bytes, ctx, pdf_title, [lr.identity for lr in report.loops])))
    objects += [("KEY", sc) for sc in secondary_captures(key_images, ctx)]
    return [save_dataset(ds, out / file_name(kind, ds)) for kind, ds in objects]
