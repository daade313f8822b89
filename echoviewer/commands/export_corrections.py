"""`echoviewer export-corrections STUDY OUT_DIR`: corrected loops as an EchoNet-Dynamic dataset folder."""

from __future__ import annotations

import sys


def register(sub) -> None:
    p = sub.add_parser("export-corrections",
                       help="write corrected loops as an EchoNet-Dynamic dataset folder (to retrain the models)")
    p.add_argument("study", help="study folder whose loops carry corrections (sidecar files)")
    p.add_argument("out_dir", help="dataset folder to write (FileList.csv, VolumeTracings.csv, Videos/)")
    p.add_argument("--split", default="TRAIN", type=str.upper, choices=["TRAIN", "VAL", "TEST"])
    p.add_argument("--include-uncorrected", action="store_true",
                   help="also export loops nobody edited, with the model's tracings (marked in the audit JSON)")
    p.add_argument("--deidentify", action="store_true",
                   help="a research export, to leave the hospital: keyed hashes instead of names, paths and users; "
                        "pixels outside the ultrasound region blanked; OUT_DIR must be new or empty. The key and "
                        "the table to re-link the hashes stay in the per-user folder (keys/)")
    p.add_argument("--seg-weights", help="segmentation weights for unedited tracings (default: as `analyze`)")
    p.add_argument("--ef-weights")
    p.add_argument("--device")
    p.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from echoviewer.export.echonet_export import NOT_CORRECTED, export_study
    from echoviewer.models import WeightsError
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings

    if not Path(args.study).is_dir():
        print(f"error: {args.study}: not a folder", file=sys.stderr)
        return 2
    try:
        analyzer = Analyzer(AnalysisSettings(seg_weights=args.seg_weights, ef_weights=args.ef_weights,
                                             device=args.device))
        res = export_study(args.study, args.out_dir, analyzer.analyze, split=args.split,
                           include_uncorrected=args.include_uncorrected, deidentify=args.deidentify,
                           log=lambda m: print(m, file=sys.stderr))
    except (WeightsError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: cannot write {args.out_dir}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path, why in res.skipped:
        hint = " (add --include-uncorrected to export it)" if why == NOT_CORRECTED else ""
        print(f"skipped {path}: {why}{hint}", file=sys.stderr)
    print(f"exported {len(res.exported)} loops to {res.out_dir}", file=sys.stderr)
    if res.relink is not None:
        print(f"de-identified: video names are keyed hashes; the key and {res.relink.name} to re-link them "
              f"stay on this computer in {res.relink.parent}", file=sys.stderr)
    return 0 if res.exported else 2
