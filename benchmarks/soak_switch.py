"""Long-session soak: switch loops quickly while the worker analyses, then close during analysis.

    QT_QPA_PLATFORM=offscreen python benchmarks/soak_switch.py [--switches 200] [--study DIR]

The study is re-analysed every 50 switches, so the switches cancel and re-queue running jobs.
Prints resident memory (the window's process plus its analysis process, both idle) after warm-up
and after the switches (growth must stay under 100 MB), the longest switch, and whether closing
the window mid-analysis returns (no deadlock).
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

from proc_stats import rss_mb as process_rss_mb  # benchmarks/, this script's folder


def _children() -> list[int]:
    out = []
    for task in Path("/proc/self/task").iterdir():
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def rss_mb() -> float:
    """Resident memory of the app: the window's process plus its analysis process."""
    return process_rss_mb("self") + sum(process_rss_mb(pid) for pid in _children())


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

    def idle() -> bool:
        return win.worker.current() is None and not win.worker.pending()

    def wait_idle(limit=600):
        end = time.perf_counter() + limit
        spin(0.2)
        while not idle() and time.perf_counter() < end:
            spin(0.1)
        spin(0.5)

    win.open_study(str(study))
    keys = list(win.entries)
    wait_idle()
    start = rss_mb()
    base = None
    worst = 0.0
    warm = args.switches // 4
    for i in range(args.switches):
        if i == warm:  # caches (frames, masks, thumbnails) are warm: measure growth from here, idle
            wait_idle()
            base = rss_mb()
        if i % 50 == 0:
            win.reanalyse()  # keep the worker busy (cancelled and re-queued by the switches)
        t = time.perf_counter()
        win.select_loop(keys[i % len(keys)])
        app.processEvents()
        worst = max(worst, time.perf_counter() - t)
        spin(0.05)
    wait_idle()
    after = rss_mb()
    # re-analyse everything, then close while it runs
    win.reanalyse()
    spin(0.5)
    t = time.perf_counter()
    win.close()
    app.processEvents()
    closed = time.perf_counter() - t
    print(f"{args.switches} loop switches over {len(keys)} loops: RSS {start:.0f} MB at start, {base:.0f} MB after "
          f"{warm} switches (caches warm), {after:.0f} MB at the end; "
          f"RSS {base:.0f} -> {after:.0f} MB "
          f"(growth {after - base:+.0f} MB); longest switch {1000 * worst:.0f} ms; "
          f"closing during analysis returned in {closed:.2f} s")
    print(f"SUMMARY soak: growth {after - base:+.0f} MB over the last {args.switches - args.switches // 4} of "
          f"{args.switches} switches (limit 100 MB; {after - start:+.0f} MB including cache warm-up); "
          f"close mid-analysis {closed:.2f} s")
    return 0 if after - base < 100 else 1


if __name__ == "__main__":
    raise SystemExit(main())
