"""Start-up, whole processes, cold analysis cache, against `python -c "import torch, torchvision"` in the same run.

    python benchmarks/bench_startup.py [--runs 3] [--frames 200] [--xvfb]

- baseline:  a bare ``python -c "import torch, torchvision"``;
- analyze:   ``echoviewer analyze LOOP --no-cache`` of one phantom loop (``--frames`` frames, 50 fps,
             a 112x112 AVI) with the bundled demo weights: process start to exit;
- window:    ``echoviewer gui DEMO_LOOP --startup-trace`` on the demo study (fresh $ECHOVIEWER_HOME,
             so no analysis is cached): process start to the window's first paint, and to the first
             LV overlay of the loop on screen. Offscreen Qt by default; ``--xvfb`` runs it on a
             real X server (xvfb-run).
Prints each run, the medians, the ratios the goals are written in, and one SUMMARY line.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_ANALYZE_RATIO = 1.7
GOAL_WINDOW_S = 1.5
GOAL_OVERLAY_S = 3.0


def cpu_line() -> str:
    """The CPU flags that choose the inference path, and the class the pipeline picks from them."""
    flags = set()
    try:
        flags = set(re.findall(r"\b(avx512_bf16|amx_tile|avx512f|avx512_vnni|avx_vnni|avx2)\b",
                               Path("/proc/cpuinfo").read_text()))
    except OSError:
        pass
    from echoviewer.pipeline.inference import cpu_class

    return f"CPU flags: {' '.join(sorted(flags)) or 'none of avx2/avx512'}; class {cpu_class()}; {os.cpu_count()} CPUs"


def timed(cmd: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return time.perf_counter() - t0


def window_run(study_loop: Path, env: dict, xvfb: bool) -> tuple[float, float, bool]:
    cmd = [sys.executable, "-m", "echoviewer", "gui", str(study_loop), "--timeout", "120",
           "--startup-trace", repr(time.time())]
    if xvfb:
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"] + cmd
        cmd[cmd.index("--startup-trace") + 1] = repr(time.time())
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    m = re.search(r"STARTUP window ([\d.na]+) s first-overlay ([\d.na]+) s torch-in-window (\w+)", r.stderr)
    if not m:
        raise SystemExit(f"no STARTUP line from the window (exit {r.returncode}):\n{r.stderr[-2000:]}")
    return float(m.group(1)), float(m.group(2)), m.group(3) == "True"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--xvfb", action="store_true", help="the window on a real X server (xvfb-run)")
    args = ap.parse_args()
    if args.xvfb and not shutil.which("xvfb-run"):
        raise SystemExit("--xvfb needs xvfb-run (Debian package xvfb)")

    from echoviewer.io.echonet_video import write_echonet_video
    from echoviewer.synthetic.demo import DEMO_LOOPS, ensure_demo_study
    from echoviewer.synthetic.phantom import generate_phantom

    # an installed app has its bytecode compiled (pip does it at install time); an editable checkout
    # run with PYTHONDONTWRITEBYTECODE would compile every module at every start
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "echoviewer")], check=True)
    work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    ph = generate_phantom(3, hr=75, fps=50, n_beats=max(2, round(args.frames / 40)), frames=args.frames)
    loop = work / "loop.avi"
    write_echonet_video(loop, ph.frames, ph.fps)
    demo = ensure_demo_study(work / "demo-study")
    demo_loop = demo / DEMO_LOOPS[0][0]
    base_env = {**os.environ, "PYTHONPATH": str(ROOT)}
    gui_env = {**base_env, "QT_QPA_PLATFORM": "xcb" if args.xvfb else "offscreen"}

    def fresh_home() -> str:
        return tempfile.mkdtemp(prefix="home-", dir=work)  # no analysis cache, no settings

    bare, analyze, window, overlay, torch_in_window = [], [], [], [], []
    for k in range(args.runs):  # interleaved, so a slow moment of the machine hits every kind
        bare.append(timed([sys.executable, "-c", "import torch, torchvision"], base_env))
        analyze.append(timed([sys.executable, "-m", "echoviewer", "analyze", str(loop), "--no-cache", "--quiet",
                              "--out", str(work / "r.csv")], {**base_env, "ECHOVIEWER_HOME": fresh_home()}))
        w, o, t = window_run(demo_loop, {**gui_env, "ECHOVIEWER_HOME": fresh_home()}, args.xvfb)
        window.append(w)
        overlay.append(o)
        torch_in_window.append(t)
        print(f"run {k + 1}: import torch+torchvision {bare[-1]:.2f} s | analyze {analyze[-1]:.2f} s | "
              f"window {w:.2f} s, first overlay {o:.2f} s (torch imported in the window: {t})", flush=True)
    med = statistics.median
    ratio = med(analyze) / med(bare)
    print(f"\n{cpu_line()}; Qt platform {gui_env['QT_QPA_PLATFORM']}")
    print(f"median of {args.runs}: import torch+torchvision {med(bare):.2f} s; analyze {args.frames}-frame loop "
          f"(demo weights) {med(analyze):.2f} s = {ratio:.2f}x the bare import (goal <= {GOAL_ANALYZE_RATIO}x)")
    print(f"window first paint {med(window):.2f} s (goal <= {GOAL_WINDOW_S}); first overlay {med(overlay):.2f} s "
          f"(goal <= {GOAL_OVERLAY_S}); worst {max(window):.2f} / {max(overlay):.2f} s")
    print(f"SUMMARY start-up: analyze {ratio:.2f}x import torch ({med(analyze):.2f} vs {med(bare):.2f} s); "
          f"window {med(window):.2f} s; first overlay {med(overlay):.2f} s; torch in window process: "
          f"{any(torch_in_window)}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
