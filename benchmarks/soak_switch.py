"""Long-session soak: switch loops quickly while the worker analyses, then close during analysis.

    QT_QPA_PLATFORM=offscreen python benchmarks/soak_switch.py [--switches 200] [--study DIR]

Prints resident memory after warm-up and after the switches (growth must stay under 100 MB),
the longest switch, and whether closing the window mid-analysis returns (no deadlock).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--switches", type=int, default=200)
    ap.add_argument("--study")
    args = ap.parse_args()
    os.environ.setdefault("ECHOVIEWER_HOME", tempfile.mkdtemp(prefix="soak-"))
    import torch  # noqa: F401  (before Qt, as the app does)
    from PySide6.QtWidgets import QApplication

    from echoviewer.synthetic.demo import ensure_demo_study
    from echoviewer.ui.main_window import MainWindow

    study = Path(args.study) if args.study else ensure_demo_study()
    app = QApplication.instance() or QApplication([])
    win = MainWindow()
    win.show()

    def spin(seconds):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)

    win.open_study(str(study))
    keys = list(win.entries)
    spin(3.0)
    start = rss_mb()
    base = None
    worst = 0.0
    for i in range(args.switches):
        if i == args.switches // 4:  # caches (frames, masks, thumbnails) are warm: measure growth from here
            base = rss_mb()
        t = time.perf_counter()
        win.select_loop(keys[i % len(keys)])
        app.processEvents()
        worst = max(worst, time.perf_counter() - t)
        spin(0.05)
    spin(1.0)
    after = rss_mb()
    # re-analyse everything, then close while it runs
    win.reanalyse()
    spin(0.5)
    t = time.perf_counter()
    win.close()
    app.processEvents()
    closed = time.perf_counter() - t
    print(f"{args.switches} loop switches over {len(keys)} loops: RSS {start:.0f} MB at start, {base:.0f} MB after "
          f"{args.switches // 4} switches (caches warm), {after:.0f} MB at the end; "
          f"RSS {base:.0f} -> {after:.0f} MB "
          f"(growth {after - base:+.0f} MB); longest switch {1000 * worst:.0f} ms; "
          f"closing during analysis returned in {closed:.2f} s")
    print(f"SUMMARY soak: growth {after - base:+.0f} MB over the last {args.switches - args.switches // 4} of "
          f"{args.switches} switches (limit 100 MB; {after - start:+.0f} MB including cache warm-up); "
          f"close mid-analysis {closed:.2f} s")
    return 0 if after - base < 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
