"""`echoviewer selftest` (and the frozen app's ``--selftest``): prove an install or a build works.

Headless (no Qt), on CPU, side-effect free: it opens the demo study (the per-user one when it is
already complete, else one generated into a temporary folder), reads every loop's first and last
frame, round-trips a tiny DICOM through each compressed transfer syntax the reader supports
(the decoder plugins are what a frozen build most often loses), analyses ONE loop with the bundled
demo weights, writes the CSV report to a temporary folder and checks it: one summary row, the
beat rows, the sha256 of both weights files (hashed here, independently of the loader) and the demo
label. Prints one summary line and exits 0, or prints ``selftest FAILED: <reason>`` and exits 1.
"""

from __future__ import annotations

import csv
import sys
import tempfile
import time
from pathlib import Path

from echoviewer.paths import sha256_file

#: The loop analysed by default (the demo study's first, regular-rhythm loop).
DEFAULT_LOOP = "A4C_normal.avi"
#: Compressed syntaxes round-tripped by the codec check (writer name -> photometric).
CODECS = {"jpeg_baseline": "YBR_FULL_422", "rle": "RGB", "jpeg2000": "RGB", "jpeg_lossless": "RGB"}


class SelftestError(Exception):
    """One line saying what failed."""


def register(sub) -> None:
    p = sub.add_parser(
        "selftest",
        help="headless check of this install/build: demo study, one loop on CPU, CSV report",
        description="Open the demo study, analyse one loop on CPU with the bundled demo weights, "
                    "write and check the CSV report. Exit 0 when everything works.",
    )
    p.add_argument("--study", help="study folder to use instead of the demo study")
    p.add_argument("--loop", help=f"file name of the loop to analyse (default {DEFAULT_LOOP}, else the first)")
    p.add_argument("--out", help="keep the report here (default: a temporary folder, removed)")
    p.add_argument("--device", default="cpu", help="analysis device (default cpu)")
    p.add_argument("--seg-weights", help="segmentation weights (default: the bundled demo weights)")
    p.add_argument("--ef-weights", help="EF weights (default: the bundled demo weights)")
    p.add_argument("--min-beats", type=int, default=1, help="fail when fewer beats are found (default 1)")
    p.add_argument("--no-codecs", action="store_true", help="skip the DICOM codec round trip")
    p.set_defaults(func=run)


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _log(msg: str) -> None:
    print(f"selftest: {msg}", file=sys.stderr, flush=True)


def demo_weights(task: str) -> Path:
    """The bundled demo weights for ``task`` from the usual search folders (app first, then user)."""
    from echoviewer.models import discovery

    dirs = discovery.search_dirs()
    for p in discovery.available_weights(task, dirs):
        if p.name == discovery.DEMO_NAMES[task]:
            return p
    places = "; ".join(str(d) for d in dirs)
    raise SelftestError(f"no demo {task} weights ({discovery.DEMO_NAMES[task]}) found; looked in {places}")


def _study(args, tmp: Path) -> tuple[Path, str]:
    from echoviewer.synthetic.demo import default_demo_dir, ensure_demo_study, is_complete

    if args.study:
        folder = Path(args.study).expanduser()
        if not folder.exists():
            raise SelftestError(f"{folder}: no such file or folder")
        return folder, "given"
    if is_complete(default_demo_dir()):
        return default_demo_dir(), "user demo study"
    _log("generating the demo study into a temporary folder…")
    return ensure_demo_study(tmp / "demo-study"), "generated"


def _read_loops(folder: Path):
    from echoviewer.io import scan_study

    scan = scan_study(folder)
    if scan.errors:
        e = scan.errors[0]
        raise SelftestError(f"cannot read {Path(e.path).name}: {e}")
    if not scan.loops:
        raise SelftestError(f"no readable loops in {folder}")
    for loop in scan.loops:
        for i in (0, loop.n_frames - 1):
            f = loop.frame(i)
            if f.shape[:2] != (loop.height, loop.width):
                raise SelftestError(f"{Path(loop.path).name}: frame {i} is {f.shape}, header says "
                                    f"{loop.height}x{loop.width}")
    return scan.loops


#: Decoder plugins pydicom must see when their package is installed: (syntax, plugin, module).
#: A frozen build that lost pylibjpeg's entry points still decodes JPEG 2000 through Pillow, so
#: the round trip alone would not notice.
PLUGINS = [("jpeg2000", "pylibjpeg", "openjpeg"), ("rle", "pylibjpeg", "rle"),
           ("jpeg2000", "gdcm", "gdcm"), ("jpeg_lossless", "gdcm", "gdcm"), ("jpeg_baseline", "pillow", "PIL")]


def _decoder_plugins() -> dict[str, tuple[str, ...]]:
    import importlib.util

    from pydicom.pixels.decoders.base import get_decoder

    from echoviewer.io.dicom_write import TRANSFER_SYNTAXES

    have = {syntax: tuple(get_decoder(TRANSFER_SYNTAXES[syntax]).available_plugins) for syntax in CODECS}
    for syntax, plugin, module in PLUGINS:
        if importlib.util.find_spec(module) is not None and plugin not in have[syntax]:
            raise SelftestError(f"DICOM {syntax}: pydicom's {plugin} decoder is unavailable although "
                                f"{module} is installed (available: {', '.join(have[syntax]) or 'none'})")
    return have


def _codecs(tmp: Path) -> list[str]:
    """Write a small loop in each compressed syntax, read it back with the app's reader."""
    import numpy as np

    from echoviewer.io import open_loop
    from echoviewer.io.dicom_write import write_ultrasound_dicom

    y, x = np.mgrid[0:64, 0:80]
    frames = np.stack([np.stack([(x * 3 + t * 10) % 256, (y * 4) % 256, (x + y) % 256], -1)
                       for t in range(3)]).astype(np.uint8)
    done = []
    for syntax, photometric in CODECS.items():
        path = tmp / f"codec_{syntax}.dcm"
        try:
            write_ultrasound_dicom(path, frames, 30.0, transfer_syntax=syntax, photometric=photometric)
            loop = open_loop(path)
            got = loop.frame(loop.n_frames - 1)
        except Exception as exc:
            raise SelftestError(f"DICOM {syntax}: {type(exc).__name__}: {exc}") from exc
        if loop.n_frames != len(frames) or got.shape[:2] != frames.shape[1:3]:
            raise SelftestError(f"DICOM {syntax}: read {loop.n_frames} frames of {got.shape}, wrote "
                                f"{len(frames)} of {frames.shape[1:]}")
        ref = frames[-1].astype(int) if got.ndim == 3 else frames[-1].mean(-1)
        err = float(np.abs(got.astype(int) - ref).mean())
        if err > (12.0 if syntax == "jpeg_baseline" else 1.0):
            raise SelftestError(f"DICOM {syntax}: decoded frame differs (mean abs error {err:.1f})")
        done.append(syntax)
    return done


def check_report(path: Path, analysis, seg_path: Path, ef_path: Path, min_beats: int) -> dict:
    """Read the CSV back and check it against the analysis and the weights files; returns the summary row."""
    from echoviewer import DEMO_LABEL
    from echoviewer.export.report import COLUMNS

    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        rows = list(reader)
    if header != COLUMNS:
        raise SelftestError(f"report header is not the report's columns: {header[:4]}…")
    summary = [r for r in rows if r["beat"] == "mean"]
    beats = [r for r in rows if r["beat"] != "mean"]
    if len(summary) != 1:
        raise SelftestError(f"report has {len(summary)} summary rows, expected 1")
    if len(beats) != len(analysis.beats):
        raise SelftestError(f"report has {len(beats)} beat rows, the analysis {len(analysis.beats)} beats")
    if len(beats) < min_beats:
        raise SelftestError(f"only {len(beats)} beats found in {Path(analysis.path).name} (need {min_beats})")
    if [r["beat"] for r in beats] != [str(i) for i in range(1, len(beats) + 1)]:
        raise SelftestError("beat rows are not numbered 1..n")
    for role, p in (("seg", seg_path), ("ef", ef_path)):
        want = sha256_file(p)
        bad = [r for r in rows if r[f"{role}_weights_sha256"] != want]
        if bad:
            raise SelftestError(f"report {role}_weights_sha256 {bad[0][f'{role}_weights_sha256'][:12]}… "
                                f"is not the sha256 of {p} ({want[:12]}…)")
    demo = analysis.seg_info.demo or analysis.ef_info.demo
    notes = {r["weights_note"] for r in rows}
    if demo and notes != {DEMO_LABEL}:
        raise SelftestError(f"demo weights but the report's weights_note is {sorted(notes)!r}, not {DEMO_LABEL!r}")
    s = summary[0]
    used = int(s["beats_used"] or 0)
    if used and not s["ef_model"]:
        raise SelftestError(f"summary row has {used} beats used but no EF")
    if s["ef_model"]:
        ef = float(s["ef_model"])
        if not 0.0 <= ef <= 100.0:
            raise SelftestError(f"summary EF {ef} is outside 0..100 %")
    return s


def selftest(args) -> str:
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="echoviewer-selftest-") as tmpname:
        tmp = Path(tmpname)
        study, origin = _study(args, tmp)
        loops = _read_loops(study)
        _log(f"read {_n(len(loops), 'loop')} from {study} ({origin})")
        codecs = [] if args.no_codecs else _codecs(tmp)
        if codecs:
            plugins = _decoder_plugins()
            _log("DICOM codecs round-tripped: " + ", ".join(f"{c} ({'/'.join(plugins[c])})" for c in codecs))

        want = args.loop or DEFAULT_LOOP
        pick = [lp for lp in loops if Path(lp.path).name == want]
        if not pick and args.loop:
            raise SelftestError(f"no loop named {args.loop} in {study}")
        loop = (pick or loops)[0]

        from echoviewer.models import WeightsError
        from echoviewer.pipeline.analyzer import Analyzer
        from echoviewer.pipeline.results import AnalysisSettings

        seg_path = Path(args.seg_weights).expanduser() if args.seg_weights else demo_weights("segmentation")
        ef_path = Path(args.ef_weights).expanduser() if args.ef_weights else demo_weights("ef")
        try:
            analyzer = Analyzer(AnalysisSettings(seg_weights=str(seg_path), ef_weights=str(ef_path),
                                                 device=args.device), use_cache=False)
        except (WeightsError, ValueError, RuntimeError, OSError) as exc:
            raise SelftestError(f"cannot load the weights: {exc}") from exc
        _log(f"weights: {seg_path} and {ef_path.name}; device {analyzer.device}")
        t1 = time.perf_counter()
        try:
            analysis = analyzer.analyze(loop)
        except Exception as exc:
            raise SelftestError(f"analysis of {Path(loop.path).name} failed: {type(exc).__name__}: {exc}") from exc
        t_an = time.perf_counter() - t1

        from echoviewer.export.report import write_report

        out = Path(args.out).expanduser() if args.out else tmp / "selftest_report.csv"
        try:
            write_report([analysis], out)
        except OSError as exc:
            raise SelftestError(f"cannot write the report {out}: {exc}") from exc
        s = check_report(out, analysis, seg_path, ef_path, args.min_beats)

    import torch

    ef = f"EF {float(s['ef_model']):.1f} %" if s["ef_model"] else "EF n/a"
    label = "demo weights — not for clinical use" if analysis.seg_info.demo else "weights"
    frozen = "frozen" if getattr(sys, "frozen", False) else "python"
    return (f"selftest OK: {Path(loop.path).name}: {_n(len(analysis.beats), 'beat')}, {ef} "
            f"({s['beats_used']} used), analysed in {t_an:.1f} s on {analysis.device}; "
            f"{_n(len(loops), 'loop')} read, {_n(len(codecs), 'DICOM codec')}; report checked "
            f"(summary row, {_n(len(analysis.beats), 'beat row')}, sha256 seg {analysis.seg_info.short_sha} "
            f"ef {analysis.ef_info.short_sha}, {label}); weights from {seg_path.parent}; "
            f"torch {torch.__version__}, {frozen}; {time.perf_counter() - t0:.1f} s")


def run(args) -> int:
    try:
        line = selftest(args)
    except SelftestError as exc:
        print(f"selftest FAILED: {exc}", flush=True)
        return 1
    except Exception as exc:
        import traceback

        traceback.print_exc(file=sys.stderr)
        print(f"selftest FAILED: unexpected {type(exc).__name__}: {exc}", flush=True)
        return 1
    print(line, flush=True)
    return 0
