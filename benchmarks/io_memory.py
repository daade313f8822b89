"""Peak resident memory of the loop readers on a long, large loop.

Writes a 1000-frame 800x600 colour loop (grey sector with speckle plus a coloured ECG trace,
so frames cannot be stored as one grey channel) as a JPEG-baseline DICOM (YBR_FULL_422) and as
an MJPG AVI, then, for each, in a fresh process: open_loop + grid_frames() + 50 random frame()
calls, printing RSS after the imports (the baseline measured in the same run), the peak, and the
timings.

    python benchmarks/io_memory.py [--frames 1000] [--width 800] [--height 600] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _frames(n: int, w: int, h: int):
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    bank = [rng.gamma(1.5, 40, (h, w)).clip(0, 255).astype(np.uint8) for _ in range(6)]
    yy, xx = np.mgrid[:h, :w]
    ang = np.arctan2(xx - w / 2, yy + 1)
    rad = np.hypot(xx - w / 2, yy)
    fan = (np.abs(ang) < 0.75) & (rad < 0.92 * h)
    for t in range(n):
        phase = 2 * np.pi * t / 40
        grey = bank[t % len(bank)].copy()
        r = 0.18 * h * (1 + 0.2 * np.sin(phase))
        cavity = np.hypot(xx - w / 2, (yy - 0.45 * h) * 0.6) < r
        grey[cavity] //= 6
        grey[~fan] = 0
        frame = np.repeat(grey[..., None], 3, axis=2)
        cv2.putText(frame, "ECHOVIEWER BENCH 60Hz", (10, 25), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 1)
        pts = np.stack([np.arange(w), (h - 40 - 20 * np.sin(np.arange(w) / 9 + phase)).astype(int)], 1)
        cv2.polylines(frame, [pts.astype(np.int32)], False, (0, 255, 0), 2)
        yield frame


def make_files(folder: Path, n: int, w: int, h: int) -> tuple[Path, Path]:
    import cv2

    from echoviewer.io.dicom_write import write_ultrasound_dicom

    dcm = folder / "bench.dcm"
    avi = folder / "bench.avi"
    cm = 0.03
    write_ultrasound_dicom(dcm, _frames(n, w, h), fps=50, region=(0, 0, w, h), cm_per_pixel=cm)
    vw = cv2.VideoWriter(str(avi), cv2.VideoWriter_fourcc(*"MJPG"), 50, (w, h))
    for f in _frames(n, w, h):
        vw.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    vw.release()
    return dcm, avi


def measure(path: str) -> dict:
    """Run in a fresh process: RSS figures for one file."""
    import numpy as np

    def rss_mb(key: str = "VmRSS:") -> float:
        # VmHWM (peak) belongs to this process image; ru_maxrss would carry the parent's peak
        # across fork + exec.
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1]) / 1024
        return float("nan")

    from echoviewer.io import open_loop

    base = rss_mb()
    t0 = time.perf_counter()
    loop = open_loop(path)
    t_open = time.perf_counter() - t0
    after_open = rss_mb()
    t0 = time.perf_counter()
    grid = loop.grid_frames()
    t_grid = time.perf_counter() - t0
    after_grid = rss_mb()
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    for i in rng.integers(0, loop.n_frames, 50):
        loop.frame(int(i))
    t_rand = time.perf_counter() - t0
    peak = rss_mb("VmHWM:")
    return {
        "file": Path(path).name,
        "file_mb": round(os.path.getsize(path) / 2**20, 1),
        "frames": loop.n_frames,
        "size": f"{loop.width}x{loop.height}",
        "grid_mb": round(grid.nbytes / 2**20, 1),
        "rss_after_imports_mb": round(base, 1),
        "rss_after_open_mb": round(after_open, 1),
        "rss_after_grid_mb": round(after_grid, 1),
        "rss_end_mb": round(rss_mb(), 1),
        "peak_rss_mb": round(peak, 1),
        "open_s": round(t_open, 3),
        "grid_frames_s": round(t_grid, 2),
        "random_50_frames_s": round(t_rand, 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=1000)
    ap.add_argument("--width", type=int, default=800)
    ap.add_argument("--height", type=int, default=600)
    ap.add_argument("--keep", type=Path, default=None, help="write the test files here and keep them")
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        files = make_files(folder, args.frames, args.width, args.height)
        hwm = next((int(x.split()[1]) / 1024 for x in open("/proc/self/status") if x.startswith("VmHWM:")),
                   float("nan"))
        print(f"wrote {args.frames} frames {args.width}x{args.height} twice in {time.perf_counter() - t0:.1f} s "
              f"(writer process peak RSS {hwm:.0f} MB)")
        for f in files:
            out = subprocess.run([sys.executable, __file__, "--measure", str(f)], capture_output=True, text=True)
            if out.returncode:
                print(out.stderr, file=sys.stderr)
                return 1
            r = json.loads(out.stdout)
            print(
                f"{r['file']:<10} {r['file_mb']:>7.1f} MB file, {r['frames']} x {r['size']}: "
                f"RSS after imports {r['rss_after_imports_mb']:.0f} MB, open {r['rss_after_open_mb']:.0f}, "
                f"grid {r['rss_after_grid_mb']:.0f} (grid array {r['grid_mb']:.0f}), end {r['rss_end_mb']:.0f}, "
                f"PEAK {r['peak_rss_mb']:.0f} MB | open {r['open_s']:.2f} s, grid_frames {r['grid_frames_s']:.1f} s, "
                f"50 random frames {r['random_50_frames_s']:.2f} s"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
