"""All speed benchmarks; `--quick` runs a short version of each and ends with one summary line.

    python benchmarks/run.py [--quick]

(a)+(b) benchmarks/bench_analysis.py: end-to-end analysis, official architectures (random weights,
        and phantom-trained ones when benchmarks/phantom_official_weights.py has made them) and
        demo weights, against the reference's way and plain float32 per beat (same run), with
        fast-path agreement.
(c)+(d) benchmarks/bench_ui.py: first overlay after opening a loop; playback and UI stalls while
        the worker analyses, with the demo weights and with the official architectures (which
        keep the analysis running through the whole playback).
(f)     benchmarks/bench_startup.py: `analyze` of one loop and the window's first paint and first
        overlay, whole processes from launch, against a bare `import torch, torchvision`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(cmd: list[str]) -> list[str]:
    print("$", " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    sys.stdout.write(proc.stdout)
    if proc.returncode != 0:
        sys.stdout.write(proc.stderr[-3000:])
        raise SystemExit(f"{cmd[1]} failed with exit status {proc.returncode}")
    return [line for line in proc.stdout.splitlines() if line.startswith("SUMMARY")]


def trained_official() -> list[str]:
    """Phantom-trained official DeepLabV3 (benchmarks/phantom_official_weights.py), if made."""
    sys.path.insert(0, str(HERE))
    from phantom_official_weights import default_out, made_weights

    made = made_weights()
    if made:
        return ["--weights-files", *made]
    print(f"(no phantom-trained official weights in {default_out()}: run benchmarks/phantom_official_weights.py "
          "to add the agreement check on trained official architectures)")
    return []


def main() -> int:
    quick = "--quick" in sys.argv
    py = sys.executable
    lines = run([py, str(HERE / "bench_analysis.py")] + (["--quick"] if quick else []) + trained_official())
    ui = [py, str(HERE / "bench_ui.py"), "--seconds", "5" if quick else "10"]
    lines += [line.replace("SUMMARY ", "SUMMARY demo weights: ") for line in run(ui)]
    lines += [line.replace("SUMMARY ", "SUMMARY official architectures: ") for line in run(ui + ["--official"])]
    lines += run([py, str(HERE / "bench_startup.py"), "--runs", "2" if quick else "5"])
    parts = [line.removeprefix("SUMMARY ").strip() for line in lines]
    print("\nSUMMARY | " + " | ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
