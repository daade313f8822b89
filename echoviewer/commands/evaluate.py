"""`echoviewer evaluate DATASET --out DIR`: the paper's metrics and figures for a set of weights on a
labelled EchoNet-format folder (metrics.json, predictions.csv, beats.csv, report.html)."""

from __future__ import annotations

import shlex
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="measure weights on a labelled EchoNet-format folder: Dice, EF error, HFrEF AUC, report",
        description="Run the app's pipeline over DATASET (FileList.csv, VolumeTracings.csv, Videos/: the "
        "EchoNet-Dynamic dataset, an `export-corrections` folder, `synth` phantoms) and compare with its labels. "
        "Writes OUT/metrics.json, predictions.csv, beats.csv and a self-contained report.html. Every figure has "
        "a bootstrap 95 %% interval (patients resampled).")
    p.add_argument("dataset", metavar="DATASET", help="EchoNet-Dynamic format folder")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created)")
    p.add_argument("--seg-weights", metavar="F", help="segmentation weights (default: official if found, else demo)")
    p.add_argument("--ef-weights", metavar="F", help="EF weights (default: official if found, else demo)")
    p.add_argument("--split", default="TEST", type=str.upper, choices=["TEST", "VAL", "TRAIN", "ALL"],
                   help="FileList.csv split to evaluate (default TEST)")
    p.add_argument("--compare", nargs=2, metavar=("SEG2", "EF2"),
                   help="a second set of weights on the same loops (e.g. after fine-tuning): paired differences")
    p.add_argument("--dropout", action="store_true",
                   help="also run with 10 … 50 %% of pixels set to black (robustness; 6x the time)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available)")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed of the bootstrap and the dropout (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress lines")
    p.set_defaults(func=run)


def run(args) -> int:
    from echoviewer.evaluation import DatasetError, open_dataset

    def fail(message: str) -> int:
        print(f"echoviewer evaluate: {' '.join(str(message).split())}", file=sys.stderr)
        return 2

    if args.bootstrap < 1:
        return fail("--bootstrap must be at least 1")
    try:
        data = open_dataset(args.dataset, args.split)  # before the models load: a bad folder fails at once
    except DatasetError as exc:
        return fail(str(exc))

    from echoviewer.evaluation import run_evaluation
    from echoviewer.models import WeightsError
    from echoviewer.pipeline.results import AnalysisSettings

    settings = AnalysisSettings(seg_weights=args.seg_weights, ef_weights=args.ef_weights, device=args.device)
    compare = (AnalysisSettings(seg_weights=args.compare[0], ef_weights=args.compare[1], device=args.device)
               if args.compare else None)

    def progress(done: int, total: int, message: str) -> None:
        if not args.quiet:
            print(f"[{done}/{total}] {message}", file=sys.stderr, flush=True)

    command = "echoviewer evaluate " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if len(sys.argv) > 2 else ""
    try:
        res = run_evaluation(data, args.out, settings, compare=compare, dropout=args.dropout, n_boot=args.bootstrap,
                             seed=args.seed, progress=progress, command=command)
    except (WeightsError, DatasetError, ValueError, RuntimeError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write {args.out}: {exc.strerror or exc}")
    m = res.metrics

    def show(key: str, digits: int) -> str:
        v, ci = m.get(key), m.get(f"{key}_ci") or [None, None]
        if v is None:
            return "–"
        return f"{v:.{digits}f}" + (f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if None not in ci else "")

    print(f"{m['n_loops']} loops: Dice {show('dice', 3)}, EF MAE {show('ef_mae', 2)}, RMSE {show('ef_rmse', 2)}, "
          f"R² {show('ef_r2', 3)}, bias {show('ef_bias', 2)}, HFrEF AUC {show('hfref_auc', 3)}", file=sys.stderr)
    print(f"report: {res.report_path}", file=sys.stderr)
    return 0 if m["n_loops"] else fail(f"no loop could be analysed (reasons in {res.report_path})")


def command_args(dataset: str, out_dir: str, split: str = "TEST", dropout: bool = False,
                 seg_weights: str | None = None, ef_weights: str | None = None) -> list[str]:
    """This subcommand's arguments for the given choices (the window runs it in its own process)."""
    args = ["evaluate", dataset, "--out", out_dir, "--split", split] + (["--dropout"] if dropout else [])
    for flag, value in (("--seg-weights", seg_weights), ("--ef-weights", ef_weights)):
        if value:
            args += [flag, str(value)]
    return args
