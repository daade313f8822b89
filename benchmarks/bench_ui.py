"""Window responsiveness with the real pipeline: first overlay, playback rate, UI stalls.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui.py [--seconds 10] [--study DIR]

(c) time from opening a loop in the window to its first overlay frame drawn (the worker segments
    the frames around the playhead first), with the model loading that a first open includes;
(d) playback of the loop at its own frame rate with the overlay on, at native size, while the
    worker analyses the other loops of the study: frames drawn per second against the loop's
    fps, frames behind schedule, and the longest gap of a 10 ms QTimer heartbeat (a UI stall).
Baseline in the same run: the same playback with the worker idle (no analysis running).
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--study", help="study folder (default: the demo study)")
    ap.add_argument("--trace", action="store_true", help="list each stall over 30 ms with the worker's events around it")
    ap.add_argument("--worker-threads", type=int, default=None,
                    help="torch threads in the analysis process (default: the app's setting)")
    args = ap.parse_args()
    os.environ.setdefault("ECHOVIEWER_HOME", tempfile.mkdtemp(prefix="bench-ui-"))  # cold cache
    import torch  # noqa: F401  (before Qt, as the app does)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from echoviewer.synthetic.demo import ensure_demo_study
    from echoviewer.ui.main_window import MainWindow

    study = Path(args.study) if args.study else ensure_demo_study()
    app = QApplication.instance() or QApplication([])
    # before the window starts its analysis process, which takes the thread count at start
    win = MainWindow(overrides={"torch_threads": args.worker_threads})
    print(f"worker torch threads: {win.settings.torch_threads or 'torch default'}")
    win.resize(1400, 900)
    win.show()

    def spin_until(cond, timeout):
        t_end = time.perf_counter() + timeout
        while not cond() and time.perf_counter() < t_end:
            app.processEvents()
            time.sleep(0.001)
        return cond()

    # The window loads the models in its worker as it starts; a user opens a study after that.
    t_start = time.perf_counter()
    spin_until(lambda: getattr(getattr(win.worker, "_analyzer", None), "ready", False), 60)
    print(f"models preloaded {time.perf_counter() - t_start:.2f} s after the window opened")
    t0 = time.perf_counter()
    win.open_study(str(study))
    ok = spin_until(lambda: win.player.native_mask() is not None and win.player.overlay.isVisible(), 120)
    first_overlay = time.perf_counter() - t0
    print(f"(c) first overlay drawn {first_overlay:.2f} s after opening the study"
          f"{'' if ok else ' (TIMED OUT)'}")

    events = []  # (time, what) of the worker's signals, for --trace
    if args.trace:
        for sig in ("started", "finished", "progress", "cancelled", "idle"):
            getattr(win.worker, sig).connect(lambda *a, s=sig: events.append((time.perf_counter(), s)))

    def playback(label: str) -> dict:
        gaps = []
        stalls = []  # (end time, gap, UI-thread CPU seconds in the gap)
        last = [time.perf_counter(), time.thread_time()]

        def beat():
            now, cpu = time.perf_counter(), time.thread_time()
            gaps.append(now - last[0])
            if gaps[-1] > 0.030 and len(gaps) > 1:
                stalls.append((now, gaps[-1], cpu - last[1]))
            last[:] = [now, cpu]

        hb = QTimer()
        hb.timeout.connect(beat)
        hb.start(10)
        p = win.player
        lateness = []  # per frame drawn: how long after its due time (s)
        tick = p._tick

        def timed_tick():
            c = p.clock
            lateness.append(time.perf_counter() - (c.t0 + (c.k + 1) / c.rate))
            tick()

        p._timer.timeout.disconnect()
        p._timer.timeout.connect(timed_tick)
        p.seek(0)
        shown0 = p.frames_shown
        p.play()
        skipped0 = p.clock.skipped
        t = time.perf_counter()
        last[:] = [t, time.thread_time()]
        spin_until(lambda: False, args.seconds)
        p.pause()
        hb.stop()
        p._timer.timeout.disconnect()
        p._timer.timeout.connect(tick)
        dt = time.perf_counter() - t
        drawn = p.frames_shown - shown0
        fps = p.loop.fps
        period = 1.0 / (fps * p.speed)
        late = sum(1 for x in lateness if x > period)  # shown after the next frame was already due
        res = {"drawn_fps": drawn / dt, "loop_fps": fps, "dropped": p.clock.skipped - skipped0, "late": late,
               "worst_late_ms": 1000 * max(lateness or [0]), "worst_gap_ms": 1000 * max(gaps[1:] or [0]),
               "busy": label}
        if args.trace:
            for end, gap, cpu in stalls:
                near = [f"{name} {1000 * (t - end):+.0f} ms" for t, name in events if -gap - 0.1 < t - end < 0.05]
                print(f"    stall {1000 * gap:.0f} ms (UI thread busy {1000 * cpu:.0f} ms of it) ending {end - t:.2f} s "
                      f"in: {', '.join(near) or 'no worker event'}")
        print(f"(d) {label}: drew {drawn} frames in {dt:.1f} s = {drawn / dt:.1f} frames/s of a {fps:.0f} fps loop; "
              f"{res['dropped']} frames skipped, {late} shown more than one frame late "
              f"(worst {res['worst_late_ms']:.0f} ms late); longest UI stall {res['worst_gap_ms']:.0f} ms "
              f"(10 ms heartbeat)")
        return res

    busy = playback("while the worker analyses the rest of the study")
    spin_until(lambda: win.progress.isHidden(), 600)
    idle = playback("baseline, worker idle")
    print(f"SUMMARY first overlay {first_overlay:.2f} s; playback {busy['drawn_fps']:.1f}/{busy['loop_fps']:.0f} fps "
          f"with analysis running (baseline {idle['drawn_fps']:.1f}); worst stall {busy['worst_gap_ms']:.0f} ms "
          f"(baseline {idle['worst_gap_ms']:.0f} ms); frames skipped {busy['dropped']}, late {busy['late']} "
          f"(baseline {idle['dropped']}, {idle['late']})")
    win.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
