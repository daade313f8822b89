"""Window responsiveness with the real pipeline: first overlay, playback rate, UI stalls.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_ui.py [--seconds 10] [--study DIR] [--official]

(c) time from opening a loop in the window to its first overlay frame drawn (the worker segments
    the frames around the playhead first), with the model loading that a first open includes;
(d) playback of the loop at its own frame rate with the overlay on, at native size, while the
    worker analyses the other loops of the study: frames drawn per second against the loop's
    fps, frames behind schedule, and the longest gap of a 10 ms QTimer heartbeat (a UI stall).
Baseline in the same run: the same playback with the worker idle (no analysis running).
(e) switching to each other loop of the study once it is analysed: how long the UI thread is busy
    showing it (frame, overlay, timeline) the first time; baseline: showing it again.
With the demo weights the rest of the demo study is analysed in a few seconds; it prints how much
of the playback the analysis ran for. ``--official`` analyses with the official architectures,
which keep both cores busy through the whole playback.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def run_queue_wait() -> float:
    """Seconds the calling thread has spent runnable but waiting for a CPU (Linux schedstat;
    0 elsewhere). With the thread's CPU time this splits a stall into work, CPU starvation and
    blocking (the GIL, a lock, I/O)."""
    try:
        with open(f"/proc/self/task/{threading.get_native_id()}/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return 0.0


def threads_cpu() -> dict[str, float]:
    """CPU seconds of each thread of this process, by "name/tid" (Linux; empty elsewhere)."""
    out = {}
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/self/task/{tid}/comm") as f:
                name = f.read().strip()
            with open(f"/proc/self/task/{tid}/schedstat") as f:
                out[f"{name}/{tid}"] = int(f.read().split()[0]) / 1e9
        except (OSError, ValueError, IndexError):
            pass
    return out


def default_loops(study: Path) -> list[str]:
    """One loop of each kind the study has: the first DICOM and the first video (EchoNet's are
    50 fps AVIs)."""
    from echoviewer.io import scan_study

    names = [loop.path.name for loop in scan_study(study).loops]
    picks = [next((n for n in names if n.lower().endswith(ext)), None) for ext in (".dcm", ".avi")]
    return [n for n in picks if n] or names[:1]


def official_weights_files() -> tuple[str, str]:
    """Official-architecture checkpoints: the phantom-trained ones if made, else random ones."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_analysis import official_weights
    from phantom_official_weights import made_weights

    made = made_weights()
    if made:
        print(f"official architectures: phantom-trained weights {made[0]}")
        return made

    print("official architectures: random weights (segmentation runs in float32: see docs/speed.md)")
    return official_weights(Path(tempfile.mkdtemp(prefix="bench-ui-weights-")))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--study", help="study folder (default: the demo study)")
    ap.add_argument("--loop", action="append", help="file name of the loop to play (repeatable; default: "
                    "the study's first DICOM and first video)")
    ap.add_argument("--trace", action="store_true",
                    help="list each stall over 30 ms with the worker's events around it")
    ap.add_argument("--worker-threads", type=int, default=None,
                    help="torch threads in the analysis process (default: the app's setting)")
    ap.add_argument("--official", action="store_true",
                    help="analyse with the official EchoNet architectures (the phantom-trained DeepLabV3 of "
                    "benchmarks/phantom_official_weights.py when made, else random weights): 8-13 s a loop on "
                    "2 cores, so the analysis runs through the whole playback")
    args = ap.parse_args()
    args.weights = official_weights_files() if args.official else (None, None)
    import torch  # noqa: F401  (before Qt, as the app does)
    from PySide6.QtWidgets import QApplication

    from echoviewer.synthetic.demo import ensure_demo_study

    study = Path(args.study) if args.study else ensure_demo_study()
    app = QApplication.instance() or QApplication([])
    parts = []
    for name in args.loop or default_loops(study):
        print(f"--- {name}")
        first_overlay, busy, idle = measure(app, study, name, args)
        parts.append(f"{name}: first overlay {first_overlay:.2f} s; playback {busy['drawn_fps']:.1f}/"
                     f"{busy['loop_fps']:.0f} fps with analysis running ({busy['analysing_s']:.1f} of "
                     f"{busy['seconds']:.1f} s; baseline {idle['drawn_fps']:.1f}); "
                     f"switch to an analysed loop {idle['switch_ms']:.0f} ms (again {idle['switch_again_ms']:.0f}); "
                     f"worst stall {busy['worst_gap_ms']:.0f} ms (baseline {idle['worst_gap_ms']:.0f} ms); "
                     f"frames skipped {busy['dropped']}, late {busy['late']} (baseline {idle['dropped']}, "
                     f"{idle['late']})")
    print("SUMMARY " + " || ".join(parts))
    return 0


def measure(app, study: Path, loop_name: str, args) -> tuple[float, dict, dict]:
    """A new window (cold analysis cache) opens the study on ``loop_name``: time to its first
    overlay, then playback while the worker analyses, then playback with the worker idle."""
    from PySide6.QtCore import QTimer

    from echoviewer.ui.main_window import MainWindow

    os.environ["ECHOVIEWER_HOME"] = tempfile.mkdtemp(prefix="bench-ui-")  # cold cache, read at each use
    # before the window starts its analysis process, which takes the thread count at start
    seg, ef = args.weights
    win = MainWindow(overrides={"torch_threads": args.worker_threads, "seg_weights": seg, "ef_weights": ef})
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
    win.open_study(str(study / loop_name))  # opens the folder with this loop on screen
    ok = spin_until(lambda: win.player.native_mask() is not None and win.player.overlay.isVisible(), 120)
    first_overlay = time.perf_counter() - t0
    shown = Path(win.current_key or "").name
    print(f"(c) first overlay of {shown} drawn {first_overlay:.2f} s after opening the study"
          f"{'' if ok else ' (TIMED OUT)'}")

    events = []  # (time, what) of the worker's signals and of garbage collections, for --trace
    if args.trace:
        for sig in ("started", "finished", "progress", "cancelled", "idle"):
            getattr(win.worker, sig).connect(lambda *a, s=sig: events.append((time.perf_counter(), s)))
        gc_start = {}

        def on_gc(phase, info):
            now = time.perf_counter()
            if phase == "start":
                gc_start["t"] = now
            elif now - gc_start.get("t", now) > 0.002:
                events.append((now, f"GC gen {info['generation']} took {1000 * (now - gc_start['t']):.0f} ms"))

        gc.callbacks.append(on_gc)

    def playback(label: str) -> dict:
        gaps = []
        stalls = []  # (end time, gap, UI-thread CPU seconds in the gap, seconds waiting for a CPU)
        last = [time.perf_counter(), time.thread_time(), run_queue_wait(), {}]

        analysing = [0.0]  # seconds of the playback during which the analysis ran

        def beat():
            now, cpu = time.perf_counter(), time.thread_time()
            if not win.progress.isHidden():
                analysing[0] += now - last[0]
            wait, others = (run_queue_wait(), threads_cpu()) if args.trace else (0.0, {})
            gaps.append(now - last[0])
            if gaps[-1] > 0.030 and len(gaps) > 1:
                busy = {k: v - last[3].get(k, 0.0) for k, v in others.items()}
                busy = {k: v for k, v in busy.items() if v > 0.002 and not k.endswith(f"/{os.getpid()}")}
                stalls.append((now, gaps[-1], cpu - last[1], wait - last[2], busy))
            last[:] = [now, cpu, wait, others]

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
        last[:] = [t, time.thread_time(), run_queue_wait(), threads_cpu()]
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
               "busy": label, "analysing_s": analysing[0], "seconds": dt}
        if args.trace:
            for end, gap, cpu, wait, busy in stalls:
                near = [f"{name} {1000 * (t - end):+.0f} ms" for t, name in events if -gap - 0.1 < t - end < 0.05]
                print(f"    stall {1000 * gap:.0f} ms (UI thread on a CPU {1000 * cpu:.0f} ms, waiting for one "
                      f"{1000 * wait:.0f} ms, blocked {1000 * max(0.0, gap - cpu - wait):.0f} ms) "
                      f"ending {end - t:.2f} s in: {', '.join(near) or 'no worker event'}")
                if busy:
                    print("      other threads of this process on a CPU meanwhile: "
                          + ", ".join(f"{k} {1000 * v:.0f} ms" for k, v in sorted(busy.items(), key=lambda kv: -kv[1])))
        print(f"(d) {label}: drew {drawn} frames in {dt:.1f} s = {drawn / dt:.1f} frames/s of a {fps:.0f} fps loop; "
              f"{res['dropped']} frames skipped, {late} shown more than one frame late "
              f"(worst {res['worst_late_ms']:.0f} ms late); longest UI stall {res['worst_gap_ms']:.0f} ms "
              f"(10 ms heartbeat); the analysis ran during {analysing[0]:.1f} s of it")
        return res

    busy = playback("while the worker analyses the rest of the study")
    spin_until(lambda: win.progress.isHidden(), 600)
    idle = playback("baseline, worker idle")
    if args.trace:
        gc.callbacks.remove(on_gc)
    idle["switch_ms"], idle["switch_again_ms"] = switch_times(win, spin_until)
    win.shutdown()
    win.deleteLater()
    return first_overlay, busy, idle


def switch_times(win, spin_until) -> tuple[float, float]:
    """(e) Worst UI-thread time (ms) of showing each other analysed loop for the first time in
    this window, and of showing it again (the baseline)."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    others = [k for k in win.order if k != win.current_key and win.entries[k].analysis is not None]
    times: dict[str, list[float]] = {k: [] for k in others}
    for k in others + others:
        t = time.perf_counter()
        win.select_loop(k)
        app.processEvents()  # what select_loop posted (the repaint) runs on the UI thread too
        times[k].append(1000 * (time.perf_counter() - t))
        spin_until(lambda: False, 0.3)
    first = [v[0] for v in times.values()]
    again = [v[1] for v in times.values()]
    print(f"(e) showing an analysed loop for the first time: UI thread busy {', '.join(f'{x:.0f}' for x in first)} ms; "
          f"again: {', '.join(f'{x:.0f}' for x in again)} ms")
    return max(first or [0]), max(again or [0])


if __name__ == "__main__":
    raise SystemExit(main())
