"""`echoviewer batch` throughput and flatness.

(1) loops/min on the same phantom archive for 1 local worker (this process), 2 local worker
    processes and Ray local with 2 actors (the run's own figure: from the first loop submitted to
    the last written, start-up not counted; the whole command's wall time is printed beside it).
(2) a tree of many tiny loops (default 2,000 loops of 16 frames at 112x112, 20 folders of 10
    sub-folders): the driver and its workers are sampled every half second (resident memory,
    open files) while they run, to show neither grows with the number of loops done.

    python benchmarks/bench_batch.py [--loops 24] [--frames 48] [--tiny 2000] [--tiny-jobs 2]
                                     [--skip-throughput] [--skip-tiny] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from proc_stats import rss_mb  # noqa: E402  (benchmarks/, this script's folder)


def make_loops(folder: Path, n: int, frames: int, distinct: int | None = None, fanout: tuple[int, int] = (1, 1)):
    """``n`` phantom AVIs spread over fanout[0] folders of fanout[1] sub-folders (``distinct`` of them
    rendered, the rest copies: rendering 2,000 would take longer than analysing them)."""
    from echoviewer.io.echonet_video import write_echonet_video
    from echoviewer.synthetic.phantom import generate_phantom

    distinct = min(n, distinct or n)
    rendered: list[Path] = []
    folders = [folder / f"site{a:02d}" / f"study{b:02d}" for a in range(fanout[0]) for b in range(fanout[1])]
    for i in range(n):
        d = folders[i % len(folders)]
        d.mkdir(parents=True, exist_ok=True)
        path = d / f"loop{i:05d}.avi"
        if i < distinct:
            ph = generate_phantom(i, frames=frames, hr=130 + (i % 7) * 5, fps=50, ef_sd=0)
            write_echonet_video(path, ph.frames, ph.fps)
            rendered.append(path)
        else:
            shutil.copyfile(rendered[i % distinct], path)
    return folder


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out




def _fds(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def batch(args: list[str], home: Path, sample: Path | None = None) -> tuple[str, float, list]:
    """Run `echoviewer batch ARGS`; its summary line, wall seconds and (with ``sample``, the ledger
    to count loops done) samples (seconds, loops done, RSS MB per process, open files per process)."""
    env = {**os.environ, "ECHOVIEWER_HOME": str(home), "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "echoviewer", "batch", *args, "--device", "cpu", "--quiet"]
    t0 = time.perf_counter()
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err)
    samples = []
    while proc.poll() is None:
        time.sleep(0.5)
        if sample is not None:
            pids = _tree(proc.pid)
            done = len(sample.read_bytes().splitlines()) if sample.exists() else 0
            samples.append((time.perf_counter() - t0, done, [rss_mb(p) for p in pids], [_fds(p) for p in pids]))
    wall = time.perf_counter() - t0
    err.seek(0)
    text = err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"batch {' '.join(args)} failed ({proc.returncode}):\n{text[-3000:]}")
    line = next(ln for ln in text.splitlines() if ln.startswith("done "))
    return line, wall, samples


def throughput(tmp: Path, loops: int, frames: int) -> list[str]:
    archive = make_loops(tmp / "archive", loops, frames, fanout=(2, 3))
    figures = []
    for label, extra in (("1 local worker", ["--jobs", "1"]), ("1 worker, 1 thread", ["--jobs", "1", "--threads", "1"]),
                         ("2 local workers", ["--jobs", "2"]),
                         ("Ray local, 2 actors", ["--ray", "local", "--jobs", "2"])):
        line, wall, _ = batch([str(archive), "--out", str(tmp / f"out-{len(figures)}"), *extra], tmp / "home")
        rate = float(re.search(r"\(([\d.]+) loops/min\)", line).group(1))
        print(f"{label:22s} {rate:7.1f} loops/min   ({line}; whole command {wall:.1f} s)", flush=True)
        figures.append(f"{label} {rate:.0f}")
    return figures


def tiny(tmp: Path, n: int, jobs: int) -> str:
    t0 = time.perf_counter()
    archive = make_loops(tmp / "tiny", n, 16, distinct=50, fanout=(20, 10))
    print(f"{n} tiny loops (16 frames, 112x112) in 200 folders written in {time.perf_counter() - t0:.0f} s", flush=True)
    out = tmp / "tiny-out"
    line, wall, samples = batch([str(archive), "--out", str(out), "--jobs", str(jobs)], tmp / "home",
                                sample=out / "done.jsonl")
    print(f"{line}; whole command {wall:.0f} s")
    print(" seconds  loops done  RSS MB (driver, workers...)      open files (driver, workers...)")
    # while every process of the run is alive (not the last half second, when they are ending)
    width = max(len(s[2]) for s in samples)
    running = [s for s in samples if s[1] > 0 and len(s[2]) == width and all(s[2])]
    step = max(1, len(running) // 12)
    for t, done, rss, fds in running[::step] + running[-1:]:
        print(f"{t:8.0f}  {done:10d}  {' '.join(f'{r:6.0f}' for r in rss):30s}  {' '.join(f'{f:4d}' for f in fds)}")
    # flat: compare the sum over the process tree after 10 % and at the end of the run
    early = next(s for s in running if s[1] >= n // 10)
    late = running[-1]
    rss0, rss1 = sum(early[2]), sum(late[2])
    fd0, fd1 = sum(early[3]), sum(late[3])
    verdict = (f"{n} tiny loops: RSS {rss0:.0f} -> {rss1:.0f} MB, open files {fd0} -> {fd1} "
               f"(from {early[1]} to {late[1]} loops done)")
    print(verdict)
    return verdict


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--loops", type=int, default=24)
    ap.add_argument("--frames", type=int, default=48)
    ap.add_argument("--tiny", type=int, default=2000)
    ap.add_argument("--tiny-jobs", type=int, default=2)
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--skip-tiny", action="store_true")
    ap.add_argument("--keep", help="work in this folder and keep it")
    a = ap.parse_args()
    tmp = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="bench-batch-"))
    tmp.mkdir(parents=True, exist_ok=True)
    parts = []
    try:
        if not a.skip_throughput:
            print(f"throughput: {a.loops} phantom loops of {a.frames} frames, demo weights, CPU "
                  f"({os.cpu_count()} cores)", flush=True)
            parts.append("loops/min: " + ", ".join(throughput(tmp, a.loops, a.frames)))
        if not a.skip_tiny:
            parts.append(tiny(tmp, a.tiny, a.tiny_jobs))
    finally:
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("SUMMARY " + "; ".join(parts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
