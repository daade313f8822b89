"""Write a study's clinical outputs: the PDF report and the DICOM objects (SR, Encapsulated PDF of
that same report, key images as Secondary Capture). The window and `echoviewer report` both call
``write_outputs`` so the two can never produce different files."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from echoviewer.reports.content import StudyReport, identities_disagree


class ReportError(ValueError):
    """A report that cannot be written as asked; str() is one line for the user."""


@dataclass
class Written:
    pdf: Path | None = None
    dicom: list[Path] = field(default_factory=list)

    @property
    def paths(self) -> list[Path]:
        return ([self.pdf] if self.pdf is not None else []) + list(self.dicom)


def check_report(report: StudyReport, dicom: bool) -> None:
    """Refuse what must not be written: nothing to report, several patients in one report, DICOM
    objects without a patient identity (raises ReportError with a one-line reason)."""
    if not report.loops:
        raise ReportError("no loop of the study could be reported")
    other = identities_disagree(report.loops)
    if other:
        raise ReportError(f"the loops belong to different patients ({', '.join(other)} differ from the first); "
                          "report them separately")
    if dicom and not report.identity.patient_id:
        raise ReportError("DICOM output needs a patient ID: none of the loops is DICOM, so enter the "
                          "patient's ID (and name) for this report")


def key_images(report: StudyReport) -> Iterator[tuple[np.ndarray, str]]:
    """Per loop: the key beat's ED and ES frames with the tracing, then the timeline."""
    from echoviewer.reports.figures import key_frame_image, timeline_image

    for lr in report.loops:
        beat = lr.key_beat()
        if lr.loop is not None and beat is not None:
            for phase in ("ed", "es"):
                frame = beat.ed_frame if phase == "ed" else beat.es_frame
                yield key_frame_image(lr, beat, phase), f"{lr.name} {phase.upper()} frame {frame + 1}"
        yield timeline_image(lr), f"{lr.name} LV area and beat EF"


def write_outputs(report: StudyReport, pdf: str | Path | None = None, dicom_dir: str | Path | None = None) -> Written:
    """The PDF at ``pdf`` and/or the DICOM objects in ``dicom_dir`` (the Encapsulated PDF holds the
    same report; it is rendered for DICOM even when no PDF file is asked for)."""
    from echoviewer.reports.dicom_out import write_dicom_objects
    from echoviewer.reports.pdf import write_pdf

    if pdf is None and dicom_dir is None:
        raise ReportError("nothing to write: ask for a PDF and/or DICOM objects")
    check_report(report, dicom=dicom_dir is not None)
    out = Written()
    with tempfile.TemporaryDirectory(prefix="echoviewer-report-") as tmp:
        pdf_path = Path(pdf) if pdf is not None else Path(tmp) / "report.pdf"
        if pdf is not None:
            pdf_path.parent.mkdir(parents=True, exist_ok=True)
        write_pdf(report, pdf_path)
        if pdf is not None:
            out.pdf = pdf_path
        if dicom_dir is not None:
            out.dicom = list(write_dicom_objects(report, Path(dicom_dir), pdf_bytes=pdf_path.read_bytes(),
                                                 key_images=list(key_images(report))))
    return out
