"""Fuzz the loop readers with mutated DICOM / AVI / MP4 bytes in a pool of subprocesses.

Each generated input (a mutation of a small valid seed file, or random bytes behind a plausible
magic) is written to disk and handed to a worker process that runs the reader contract of
tests/reliability/fuzz.py: open_loop -> frame(0) -> grid_frames() -> frame(last), where the only
allowed exception is LoopError. A worker that does not answer within --timeout seconds is killed
and the input counted as a hang; a worker that dies (segfault, abort, OOM) is counted as a crash;
both are replaced. Workers run under an address-space limit (--mem-mb) so a header that asks for a
huge allocation fails as MemoryError instead of taking the machine down.

    python benchmarks/fuzz_readers.py [--cases 10000] [--workers 2] [--timeout 30] [--seed 0]
                                      [--mem-mb 3072] [--keep DIR]

Prints cases tried, outcomes, failures, hangs, crashes, seconds, and how many lines the decoding
libraries printed on their own (C-level stderr/stdout of the workers: noise a user would see in a
terminal); exit status 1 when any failure, hang or crash was found (the offending inputs and a
findings.json are kept in --keep, default a temp folder). --only SUBSTR[,SUBSTR] fuzzes a subset of
the seeds (e.g. --only jpeg_lossless).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

EXTENSIONS = (".dcm", ".avi", ".mp4", "")


# -- worker ------------------------------------------------------------------------------------------
def worker(result_fd: int, mem_mb: int) -> None:
    import resource

    if mem_mb > 0:
        limit = mem_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    from tests.reliability.fuzz import check_file

    out = os.fdopen(result_fd, "w", buffering=1)
    out.write("ready\n")
    for line in sys.stdin:
        idx, path = line.rstrip("\n").split(" ", 1)
        t0 = time.perf_counter()
        outcome, detail = check_file(path)
        out.write(json.dumps([int(idx), outcome, time.perf_counter() - t0, detail]) + "\n")


class Worker:
    def __init__(self, mem_mb: int, log):
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", str(w), "--mem-mb", str(mem_mb)],
            stdin=subprocess.PIPE, stdout=log, stderr=log, pass_fds=(w,), text=True, cwd=ROOT,
        )
        os.close(w)
        self.results = os.fdopen(r, "r")
        self.busy: tuple[int, float] | None = None  # (case index, start time)
        line = self._readline(120)
        if line != "ready":
            raise RuntimeError("fuzz worker did not start")

    def _readline(self, timeout: float) -> str | None:
        ready, _, _ = select.select([self.results], [], [], timeout)
        if not ready:
            return None
        line = self.results.readline()
        return line.rstrip("\n") if line else ""

    def send(self, idx: int, path: Path) -> None:
        self.proc.stdin.write(f"{idx} {path}\n")
        self.proc.stdin.flush()
        self.busy = (idx, time.monotonic())

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        self.results.close()


# -- inputs ---------------------------------------------------------------------------------------------
def generate(i: int, seed: int, seeds: dict[str, bytes], random_share: float = 0.08) -> tuple[bytes, str, str]:
    """Input number i: (bytes, extension, description); deterministic in (seed, i)."""
    from tests.reliability.fuzz import mutate, random_file

    rng = random.Random(seed * 1_000_003 + i)
    names = sorted(seeds)
    if rng.random() < random_share:
        data, desc = random_file(rng)
        ext = rng.choice(EXTENSIONS)
    else:
        name = rng.choice(names)
        data, desc = mutate(seeds[name], rng, list(seeds.values()))
        desc = f"{name}:{desc}"
        ext = os.path.splitext(name)[1]
        if rng.random() < 0.05:  # a file under the wrong name
            ext = rng.choice(EXTENSIONS)
    return data, ext, desc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds per input before it counts as a hang")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mem-mb", type=int, default=3072, help="address-space limit per worker (0: none)")
    ap.add_argument("--keep", help="folder for failing / hanging / crashing inputs")
    ap.add_argument("--only", help="comma-separated substrings: fuzz only the seeds whose names contain one")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker is not None:
        worker(args.worker, args.mem_mb)
        return 0

    from tests.reliability.fuzz import make_seeds

    tmp = Path(tempfile.mkdtemp(prefix="echoviewer-fuzz-"))
    keep = Path(args.keep) if args.keep else tmp / "findings"
    keep.mkdir(parents=True, exist_ok=True)
    seeds = make_seeds(tmp / "seeds")
    if args.only:
        seeds = {k: v for k, v in seeds.items() if any(s in k for s in args.only.split(","))}
        if not seeds:
            ap.error(f"no seed matches {args.only!r}")
    log = open(tmp / "workers.log", "w")
    t_start = time.perf_counter()
    workers = [Worker(args.mem_mb, log) for _ in range(args.workers)]
    counts: collections.Counter = collections.Counter()
    by_seed: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    findings: list[dict] = []
    signatures: collections.Counter = collections.Counter()
    descs: dict[int, tuple[str, str, Path]] = {}
    slowest = (0.0, "")
    next_case = 0
    done = 0
    next_progress = 1000

    def record(idx: int, outcome: str, seconds: float, detail: str) -> None:
        nonlocal done, slowest
        desc, ext, path = descs.pop(idx)
        counts[outcome] += 1
        by_seed[desc.split(":")[0] if ":" in desc else "random"][outcome] += 1
        done += 1
        if seconds > slowest[0]:
            slowest = (seconds, desc)
        if outcome in ("failure", "hang", "crash"):
            saved = keep / f"case{idx:06d}{ext}"
            shutil.copyfile(path, saved)
            findings.append({"case": idx, "outcome": outcome, "input": desc, "file": str(saved), "detail": detail})
            signatures[(outcome, detail.split(" | ")[0][:120])] += 1
        path.unlink(missing_ok=True)

    try:
        while done < args.cases:
            for k, w in enumerate(workers):
                if w.busy is None and next_case < args.cases:
                    data, ext, desc = generate(next_case, args.seed, seeds, 0.0 if args.only else 0.08)
                    path = tmp / f"in{k}_{next_case}{ext}"
                    path.write_bytes(data)
                    descs[next_case] = (desc, ext, path)
                    w.send(next_case, path)
                    next_case += 1
            busy = [w for w in workers if w.busy is not None]
            ready, _, _ = select.select([w.results for w in busy], [], [], 0.5)
            now = time.monotonic()
            for k, w in enumerate(workers):
                if w.busy is None:
                    continue
                idx, started = w.busy
                if w.results in ready:
                    line = w.results.readline()
                    if line:
                        i, outcome, seconds, detail = json.loads(line)
                        w.busy = None
                        record(i, outcome, seconds, detail)
                        continue
                    code = w.proc.wait()
                    how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
                    w.busy = None
                    w.kill()
                    record(idx, "crash", now - started, f"worker died ({how})")
                    workers[k] = Worker(args.mem_mb, log)
                elif now - started > args.timeout:
                    w.busy = None
                    w.kill()
                    record(idx, "hang", now - started, f"no answer within {args.timeout:g} s")
                    workers[k] = Worker(args.mem_mb, log)
            if done >= next_progress:
                print(f"  {done} cases, {time.perf_counter() - t_start:.0f} s, failures {counts['failure']}, "
                      f"hangs {counts['hang']}, crashes {counts['crash']}", file=sys.stderr, flush=True)
                next_progress += 1000
    finally:
        for w in workers:
            w.kill()
        log.close()
    seconds = time.perf_counter() - t_start

    print(f"fuzz_readers: {done} cases{' (seeds: ' + ', '.join(sorted(seeds)) + ')' if args.only else ''} "
          f"in {seconds:.1f} s ({done / seconds:.1f}/s, {args.workers} workers, "
          f"timeout {args.timeout:g} s, seed {args.seed})")
    print(f"  read as a loop: {counts['loop']}   refused / failed with LoopError: {counts['loop_error']}")
    print(f"  failures: {counts['failure']}   hangs: {counts['hang']}   crashes: {counts['crash']}")
    noise = [ln for ln in (tmp / "workers.log").read_text(errors="replace").splitlines() if ln.strip()]
    print(f"  slowest input: {slowest[0]:.2f} s ({slowest[1]})")
    print(f"  lines the readers printed (library logs, warnings): {len(noise)}"
          + (f", e.g. {noise[0][:100]!r}" if noise else ""))
    print("  per seed (loop / LoopError / failure+hang+crash):")
    for name in sorted(by_seed):
        c = by_seed[name]
        print(f"    {name:24s} {c['loop']:5d} {c['loop_error']:5d} {c['failure'] + c['hang'] + c['crash']:5d}")
    if findings:
        print("  distinct problems:")
        for (outcome, sig), n in signatures.most_common():
            print(f"    {n:5d} x {outcome}: {sig}")
        (keep / "findings.json").write_text(json.dumps(findings, indent=1))
        print(f"  inputs and details kept in {keep}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if findings else 0


if __name__ == "__main__":
    raise SystemExit(main())
