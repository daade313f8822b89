"""`echoviewer analyze PATH`: batch analysis of a loop or a study folder, CSV report out."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path


def _mean(text: str) -> tuple[float, float, float] | None:
    return _triplet(text, positive=False)


def _std(text: str) -> tuple[float, float, float] | None:
    return _triplet(text, positive=True)


def _triplet(text: str, positive: bool) -> tuple[float, float, float] | None:
    from echoviewer.models.normalisation import parse_triplet

    try:
        return parse_triplet(text, positive=positive)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_model_options(p) -> None:
    """The options that choose the models and change results (`analyze` and `batch` share them)."""
    p.add_argument("--seg-weights", help="segmentation weights file (default: official if found, else demo)")
    p.add_argument("--ef-weights", help="EF weights file (default: official if found, else demo)")
    p.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: best available)")
    p.add_argument("--mean", type=_mean, help="input mean R,G,B on the 0-255 scale (default: from the weights)")
    p.add_argument("--std", type=_std, help="input std R,G,B on the 0-255 scale (default: from the weights)")
    p.add_argument("--echonet-exact", action="store_true",
                   help="reference beat rule verbatim (distance=20 frames) and drop beats whose clip overruns")
    p.add_argument("--all-frames", action="store_true",
                   help="segment every frame (default: only the frames the beats are read from, about a quarter "
                        "less work for the same ES, ED and EF; per-frame outputs and --echonet-exact imply it)")


def model_settings(args, per_frame_outputs: bool = False):
    """AnalysisSettings of ``add_model_options``' arguments; ValueError when --mean comes without --std.
    ``per_frame_outputs``: the run writes something of every frame (masks, sizes), so every frame is
    segmented."""
    from echoviewer.pipeline.results import AnalysisSettings

    if (args.mean is None) != (args.std is None):
        raise ValueError("give --mean and --std together")
    return AnalysisSettings(seg_weights=args.seg_weights, ef_weights=args.ef_weights, device=args.device,
                            mean=args.mean, std=args.std, echonet_exact=args.echonet_exact,
                            all_frames=args.all_frames or args.echonet_exact or per_frame_outputs)


def register(sub) -> None:
    p = sub.add_parser("analyze", help="segment, find beats and estimate EF for a loop or a study folder")
    p.add_argument("path", help="a loop file or a study folder")
    p.add_argument("--out", help="write the CSV report here (one row per beat + a summary row per loop)")
    add_model_options(p)
    p.add_argument("--size-csv", help="also write the reference size.csv (one row per frame)")
    p.add_argument("--masks", metavar="DIR", help="also write DIR/<file name>.masks.npz per loop: masks bool (T,H,W) "
                   "at native resolution, ed_frames, es_frames, beat_included")
    p.add_argument("--mask-videos", metavar="DIR", help="also write DIR/<file name>.overlay.avi per loop: the frames "
                   "with the LV mask and the area trace (ES blue, ED red)")
    p.add_argument("--no-cache", action="store_true", help="recompute even if this loop was analysed before")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


class ProgressBar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, stream=sys.stderr, enabled: bool = True):
        self.stream = stream
        self.enabled = enabled
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.label = ""
        self._last = -1

    def start(self, label: str) -> None:
        self.label = label
        self._last = -1

    def __call__(self, p) -> None:
        if not self.enabled or p.stage != "segment" or not p.total:
            return
        pct = int(100 * p.done / p.total)
        if self.tty:
            bar = "#" * (pct // 4)
            self.stream.write(f"\r{self.label[:40]:40s} [{bar:25s}] {pct:3d}% ({p.done}/{p.total} frames)")
            self.stream.flush()
        elif pct // 25 != self._last // 25 or pct == 100 and self._last != 100:
            self.stream.write(f"{self.label}: {pct}% ({p.done}/{p.total} frames)\n")
        self._last = pct

    def end(self, text: str) -> None:
        if self.enabled:
            self.stream.write(("\r" if self.tty else "") + text + (" " * 20 if self.tty else "") + "\n")
            self.stream.flush()


def run(args) -> int:
    from echoviewer.io import scan_study

    path = Path(args.path)
    if not path.exists():
        print(f"error: {path}: no such file or folder", file=sys.stderr)
        return 2
    try:
        settings = model_settings(args, per_frame_outputs=bool(args.size_csv or args.masks or args.mask_videos))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    scan = scan_study(path)
    for err in scan.errors:
        print(f"skipped {err.path}: {err.problem}", file=sys.stderr)
    if not scan.loops:
        print(f"error: no readable loops in {path}", file=sys.stderr)
        return 2

    from echoviewer.models import WeightsError  # imports torch: only once there is something to analyse
    from echoviewer.pipeline.analyzer import Analyzer

    try:
        analyzer = Analyzer(settings, use_cache=not args.no_cache)
    except (WeightsError, ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for info in (analyzer.seg_info, analyzer.ef_info):
        note = " (demo — not for clinical use)" if info.demo else ""
        print(f"{info.task} weights: {info.name} [{info.architecture}] sha256 {info.short_sha}{note}",
              file=sys.stderr)
    print(f"device: {analyzer.device}", file=sys.stderr)

    from echoviewer.export.masks import MASKS_SUFFIX, VIDEO_SUFFIX, mask_outputs, write_mask_video, write_masks

    mask_files = {"masks": {}, "videos": {}}
    if args.masks:
        mask_files["masks"] = mask_outputs([lp.path for lp in scan.loops], args.masks, MASKS_SUFFIX)
    if args.mask_videos:
        mask_files["videos"] = mask_outputs([lp.path for lp in scan.loops], args.mask_videos, VIDEO_SUFFIX)
    bar = ProgressBar(enabled=not args.quiet)
    results = []
    identities = {}
    t_all = time.perf_counter()
    for loop in scan.loops:
        bar.start(Path(loop.path).name)
        t0 = time.perf_counter()
        try:
            a = analyzer.analyze(loop, progress=bar)
        except Exception as exc:  # one bad loop must not stop a batch
            # always reported, --quiet or not; one line; a LoopError already names the file
            why = getattr(exc, "problem", None) or f"{type(exc).__name__}: {exc}"
            msg = f"skipped {loop.path}: analysis failed: {' '.join(str(why).split())}"
            if bar.enabled:
                bar.end(msg)  # ends the progress line
            else:
                print(msg, file=sys.stderr)
            continue
        results.append(a)
        identities[a.path] = loop.identity
        if a.gate is not None and not a.gate.analysable:  # no number on a loop the method does not cover
            bar.end(f"{Path(loop.path).name}: EF none: {a.gate.text()}")
            continue
        ef = "n/a" if a.ef_mean is None else f"{a.ef_mean:.1f}"
        sd = "" if a.ef_sd is None else f" ± {a.ef_sd:.1f}"
        frames = "" if a.segmented is None else f", {int(a.segmented.sum())}/{a.n_frames} frames segmented"
        bar.end(f"{Path(loop.path).name}: EF {ef}{sd} % over {len(a.included_beats)} beats"
                f" ({time.perf_counter() - t0:.2f} s{frames}){'; ' + '; '.join(a.flags) if a.flags else ''}")
        for kind, write in (("masks", write_masks), ("videos", write_mask_video)):
            target = mask_files[kind].get(str(loop.path))
            if target is None:
                continue
            try:
                write(a, loop, target)
            except OSError as exc:
                print(f"error: cannot write {target}: {exc.strerror}" if exc.strerror else f"error: {exc}",
                      file=sys.stderr)
                return 2
    if not results:
        print("error: no loop could be analysed", file=sys.stderr)
        return 2
    from echoviewer.export.report import report_text, write_report, write_size_csv

    try:
        if args.out:
            write_report(results, args.out, identities_by_path=identities)
            print(f"report: {args.out}", file=sys.stderr)
        else:
            sys.stdout.write(report_text(results, identities_by_path=identities))
        if args.size_csv:
            write_size_csv(results, args.size_csv)
            print(f"size.csv: {args.size_csv}", file=sys.stderr)
    except OSError as exc:
        print(f"error: cannot write the report: {exc}", file=sys.stderr)
        return 2
    print(f"analysed {len(results)} of {len(scan.loops)} loops in {time.perf_counter() - t_all:.1f} s",
          file=sys.stderr)
    return 0
