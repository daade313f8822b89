"""`echoviewer report STUDY [--pdf OUT.pdf] [--dicom OUT_DIR]`: the study's clinical outputs.

Analyses the loops not analysed yet (cached ones come back at once), applies the saved corrections,
and writes the PDF report and/or the DICOM objects (SR, Encapsulated PDF, key images). Exit 0 when
written; 2 with a one-line reason otherwise. Loops that cannot be reported are named on stderr and
in the report itself.
"""

from __future__ import annotations

import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("report", help="PDF report and DICOM objects (SR, Encapsulated PDF, key images) of a study")
    p.add_argument("study", help="a study folder (or one loop file)")
    p.add_argument("--pdf", metavar="OUT.pdf", help="write the PDF report here")
    p.add_argument("--dicom", metavar="OUT_DIR", help="write the DICOM objects into this folder")
    p.add_argument("--patient-name", default="", help="patient name for studies without DICOM (AVI/MP4 loops)")
    p.add_argument("--patient-id", default="", help="patient ID for studies without DICOM (required for --dicom)")
    p.add_argument("--accession", default="", help="accession number for studies without DICOM")
    p.add_argument("--seg-weights", help="segmentation weights file (default: as `analyze`)")
    p.add_argument("--ef-weights", help="EF weights file (default: as `analyze`)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _err(text: str) -> int:
    print(f"error: {' '.join(str(text).split())}", file=sys.stderr)
    return 2


def _has_dicom_identity(study: Path) -> bool:
    from echoviewer.io import scan_study

    return any(loop.identity.patient_id for loop in scan_study(study).loops)


def run(args) -> int:
    from echoviewer.io.identity import Identity

    study = Path(args.study)
    if not study.exists():
        return _err(f"{study}: no such file or folder")
    if not args.pdf and not args.dicom:
        return _err("nothing to write: give --pdf OUT.pdf and/or --dicom OUT_DIR")
    if args.pdf and Path(args.pdf).is_dir():
        return _err(f"--pdf {args.pdf} is a folder; give a file name")
    entered = Identity.entered(args.patient_name, args.patient_id, accession=args.accession)
    if args.dicom and not entered.patient_id and not _has_dicom_identity(study):
        return _err("DICOM output needs a patient ID: the study has no DICOM loop, so give --patient-id "
                    "(and --patient-name)")

    from echoviewer.commands.analyze import ProgressBar
    from echoviewer.models import WeightsError
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings
    from echoviewer.reports.gather import gather_study
    from echoviewer.reports.outputs import check_report, write_outputs

    try:
        analyzer = Analyzer(AnalysisSettings(seg_weights=args.seg_weights, ef_weights=args.ef_weights,
                                             device=args.device))
    except (WeightsError, ValueError, RuntimeError) as exc:
        return _err(str(exc))
    bar = ProgressBar(enabled=not args.quiet)

    def analyze(loop, progress):
        bar.start(Path(loop.path).name)
        a = analyzer.analyze(loop, progress=bar)
        bar.end(f"{Path(loop.path).name}: analysed")
        return a

    report = gather_study(study, analyze, entered=entered, log=lambda m: print(m, file=sys.stderr))
    for m in report.missing:
        print(f"not reported {m.name}: {m.reason}", file=sys.stderr)
    try:
        check_report(report, dicom=bool(args.dicom))
        written = write_outputs(report, pdf=args.pdf, dicom_dir=args.dicom)
    except ValueError as exc:  # ReportError, DicomOutputError: what cannot be reported, in one line
        return _err(str(exc))
    except OSError as exc:
        return _err(f"cannot write the report: {exc.strerror or exc}: {getattr(exc, 'filename', '') or ''}")
    if written.pdf is not None:
        print(f"PDF report: {written.pdf}", file=sys.stderr)
    if written.dicom:
        print(f"DICOM objects: {len(written.dicom)} in {args.dicom}", file=sys.stderr)
    print(f"reported {len(report.loops)} loop{'s' if len(report.loops) != 1 else ''}"
          f"{f', {len(report.missing)} not reported' if report.missing else ''}", file=sys.stderr)
    return 0
