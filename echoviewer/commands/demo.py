"""`echoviewer demo`: the app's main job on the demo study — analyse every loop, write the report,
then open the review window (when a display is available).

The window is Qt, a layer above the commands: the dispatcher (``echoviewer/cli.py``) hands
``register`` the function that opens it, so this module never imports ``ui``.
"""

from __future__ import annotations

import functools
import os
import sys
from argparse import Namespace
from collections.abc import Callable

#: Opens the review window on a study folder and returns the exit status once it is closed.
WindowOpener = Callable[[str], int]


def register(sub, open_window: WindowOpener | None = None) -> None:
    p = sub.add_parser("demo", help="generate the demo study, analyse it, write the report, open the window")
    p.add_argument("--no-gui", action="store_true", help="stop after the report")
    p.add_argument("--out", help="report path (default: <demo study>/echoviewer_report.csv)")
    p.set_defaults(func=functools.partial(run, open_window=open_window))


def has_display() -> bool:
    if os.environ.get("QT_QPA_PLATFORM", "") in ("offscreen", "minimal"):
        return False
    if sys.platform.startswith("linux"):
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True


def run(args, open_window: WindowOpener | None = None) -> int:
    from echoviewer.commands.analyze import run as analyze
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
    if not has_display() or open_window is None:  # None: registered without the dispatcher's window
        print("no display: skipping the review window (run `echoviewer " f"{study}` on a desktop)",
              file=sys.stderr)
        return 0
    return open_window(str(study))
