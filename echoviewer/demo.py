"""`echoviewer demo`: the app's main job on the demo study — analyse every loop, write the report,
then open the review window (when a display is available)."""

from __future__ import annotations

import os
import sys
from argparse import Namespace


def register(sub) -> None:
    p = sub.add_parser("demo", help="generate the demo study, analyse it, write the report, open the window")
    p.add_argument("--no-gui", action="store_true", help="stop after the report")
    p.add_argument("--out", help="report path (default: <demo study>/echoviewer_report.csv)")
    p.set_defaults(func=run)


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run(args) -> int:
    from echoviewer.pipeline.cli import run as analyze
    from echoviewer.synthetic.demo import ensure_demo_study

    print("preparing the demo study (synthetic phantoms, generated once)…", file=sys.stderr)
    study = ensure_demo_study()
    out = args.out or str(study / "echoviewer_report.csv")
    print(f"demo study: {study}", file=sys.stderr)
    rc = analyze(Namespace(
        path=str(study), out=out, seg_weights=None, ef_weights=None, device=None, mean=None, std=None,
        echonet_exact=False, size_csv=None, no_cache=False, quiet=False,
    ))
    if rc != 0 or args.no_gui:
        return rc
    if not has_display():
        print("no display: skipping the review window (run `echoviewer " f"{study}` on a desktop)",
              file=sys.stderr)
        return 0
    from echoviewer.ui.cli import run as gui

    return gui(Namespace(path=str(study), screenshot=None, device=None, seg_weights=None, ef_weights=None))
