"""All speed benchmarks; `--quick` runs a short version of each and ends with one summary line.

    python benchmarks/run.py [--quick]

(a)+(b) benchmarks/bench_analysis.py: end-to-end analysis, official architectures and demo weights,
        against the reference's way and plain float32 per beat (same run), with fast-path agreement.
(c)+(d) benchmarks/bench_ui.py: first overlay after opening a loop; playback and UI stalls while
        the worker analyses.
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


def main() -> int:
    quick = "--quick" in sys.argv
    py = sys.executable
    lines = run([py, str(HERE / "bench_analysis.py")] + (["--quick"] if quick else []))
    lines += run([py, str(HERE / "bench_ui.py"), "--seconds", "5" if quick else "10"])
    parts = [line.removeprefix("SUMMARY ").strip() for line in lines]
    print("\nSUMMARY | " + " | ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
