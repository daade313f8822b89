"""`echoviewer info PATH [--json]`: what the reader makes of a file or a study folder."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "info",
        help="list the loops in a file or folder (frames, size, fps, calibration)",
        description="Open a loop file or scan a study folder and print what was found. "
        "Exit status 0 when at least one loop opened, 2 when none did.",
    )
    p.add_argument("path", help="a video / DICOM file or a folder (scanned recursively)")
    p.add_argument("--json", action="store_true", help='print one JSON object {"loops": [...], "errors": [...]}')
    p.set_defaults(func=run)
    return p


def _error_dict(err) -> dict:
    return {"path": err.path, "message": str(err), "reason": err.problem}


def _loop_dict(loop) -> dict:
    """The loop's summary and whether the method applies (io/gates.py: metadata, view label and
    pixels on a few frames; the model's evidence needs `analyze`)."""
    import numpy as np

    from echoviewer.errors import one_line
    from echoviewer.io.gates import screen
    from echoviewer.io.transform import GridTransform

    d = loop.summary()
    try:
        # frame 0 only (the reader decoded it already); the stated region, else the whole frame
        tr = loop.transform if loop.region_source != "pending" else GridTransform.from_region(
            (0, 0, loop.width, loop.height))
        g = tr.warp_to_grid(loop.frame(0))
        gate = screen(loop, grid=(g if g.ndim == 3 else np.repeat(g[..., None], 3, axis=2))[None])
    except Exception as exc:  # a frame that cannot be decoded: say so, keep listing
        d.update(analysable=False, reason=one_line(f"cannot judge: {getattr(exc, 'problem', exc)}"), verdict="")
        return d
    d.update(analysable=gate.analysable, reason=gate.reason, verdict=gate.verdict.value)
    return d


def run(args: argparse.Namespace) -> int:
    from echoviewer.io.study import scan_study

    path = Path(args.path)
    if not path.exists():
        if args.json:
            print(json.dumps({"loops": [], "errors": [{"path": str(path), "message": f"{path}: no such file or folder",
                                                       "reason": "no such file or folder"}]}))
        else:
            print(f"echoviewer info: {path}: no such file or folder", file=sys.stderr)
        return 2
    scan = scan_study(path)
    if args.json:
        print(json.dumps({"loops": [_loop_dict(lp) for lp in scan.loops],
                          "errors": [_error_dict(e) for e in scan.errors]}, indent=None))
    else:
        rows, reasons = [], []
        for lp in scan.loops:
            cm = f"{lp.cm_per_pixel:.4f}" if lp.cm_per_pixel is not None else "-"
            d = _loop_dict(lp)
            rows.append((str(lp.path), str(lp.n_frames), f"{lp.width}x{lp.height}", f"{lp.fps:.2f} ({lp.fps_source})",
                         cm, lp.kind, d["verdict"] or "?"))
            if d["reason"]:
                reasons.append(f"  {Path(lp.path).name}: {d['verdict'] or 'not analysable'}: {d['reason']}")
        if rows:
            head = ("path", "frames", "WxH", "fps (source)", "cm/px", "kind", "gates")
            widths = [max(len(r[k]) for r in [head, *rows]) for k in range(len(head))]
            for r in [head, *rows]:
                print("  ".join(c.ljust(w) if k in (0, 3, 5, 6) else c.rjust(w)
                                for k, (c, w) in enumerate(zip(r, widths))).rstrip())
        for line in reasons:
            print(line)
        for e in scan.errors:
            print(f"error: {e}")
        print(f"{len(scan.loops)} loop(s), {len(scan.errors)} error(s)")
    for lp in scan.loops:
        lp.close()
    return 0 if scan.loops else 2
