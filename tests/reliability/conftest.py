"""Fixtures for the reliability tests: the generated bad-input corpus, fuzz seeds, and a runner that
executes many `python -m echoviewer ...` commands concurrently (each test then checks its own)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability.corpus import CASES, build_all

#: Every CLI run must finish within this (a hang is a failure, not a stuck CI job).
CLI_TIMEOUT_S = 120
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class CliRun:
    args: list[str]
    returncode: int | None  # None: killed at the timeout
    stdout: str
    stderr: str
    seconds: float
    limit: float = CLI_TIMEOUT_S

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(args: list[str], home: Path, timeout: float = CLI_TIMEOUT_S, threads: int | None = None) -> CliRun:
    """`python -m echoviewer ARGS` in a fresh interpreter, with its own ECHOVIEWER_HOME."""
    env = {**os.environ, "ECHOVIEWER_HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "PYTHONFAULTHANDLER": "1"}
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    t0 = time.monotonic()
    try:
        r = subprocess.run([sys.executable, "-m", "echoviewer", *args], capture_output=True, text=True,
                           timeout=timeout, env=env, cwd=ROOT)
        return CliRun(args, r.returncode, r.stdout, r.stderr, time.monotonic() - t0, timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        err = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else (exc.stderr or "")
        return CliRun(args, None, out, err, time.monotonic() - t0, timeout)


class CliPool:
    """Runs named CLI commands on a small thread pool (one interpreter per command); result(name)
    waits for one. Shared by the whole folder so that the commands of every module start at once
    and run while the in-process tests (fuzzing, autosave) use the main thread."""

    def __init__(self, home: Path, workers: int | None = None):
        self.home = home
        self._pool = ThreadPoolExecutor(workers or max(2, min(4, os.cpu_count() or 2)))
        self._futures: dict = {}

    def submit(self, jobs: dict[str, list[str]], timeouts: dict[str, float] | None = None) -> None:
        timeouts = timeouts or {}
        for name in sorted(jobs, key=lambda n: -timeouts.get(n, CLI_TIMEOUT_S)):  # the longest first
            self._futures[name] = self._pool.submit(run_cli, jobs[name], self.home / name.replace("/", "_"),
                                                    timeouts.get(name, CLI_TIMEOUT_S), threads=1)

    def result(self, name: str) -> CliRun:
        return self._futures[name].result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def collected_params(session, module_suffix: str, param: str) -> set:
    """Values of `param` among the collected tests of one module (so a -k run only pays for its own)."""
    out = set()
    for item in session.items:
        if item.nodeid.split("::")[0].endswith(module_suffix):
            spec = getattr(item, "callspec", None)
            if spec is not None and param in spec.params:
                out.add(spec.params[param])
    return out


@pytest.fixture(scope="session")
def corpus_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("corpus")


@pytest.fixture(scope="session")
def corpus(corpus_dir, request) -> dict[str, Path]:
    """name -> file, for the corpus cases some collected test uses (all of them in a full run)."""
    wanted = set()
    for item in request.session.items:
        spec = getattr(item, "callspec", None)
        if spec is not None and spec.params.get("case") in CASES:
            wanted.add(spec.params["case"])
    return build_all(corpus_dir, sorted(wanted) or None)


@pytest.fixture(scope="session")
def cli_pool(tmp_path_factory):
    pool = CliPool(tmp_path_factory.mktemp("cli_home"))
    yield pool
    pool.close()


#: the `analyze FOLDER` run over the valid / damaged loops not analysed one by one, and the
#: 4000-frame loop's analysis (4000 frames segmented + ~150 EF clips: ~20 s of one core)
LONG_TIMEOUT_S = 3 * CLI_TIMEOUT_S


@pytest.fixture(scope="session")
def bad_input_runs(cli_pool, corpus, random_weights, tmp_path_factory, request):
    """Submit `info`, `info --json` and `analyze` of each collected corpus case.

    Unusable files (cheap: refused before torch is imported), files that fail late and a few valid
    ones are analysed one file per process; the other valid and damaged-but-maybe-readable files in
    one `analyze FOLDER` run (hard links in one folder): one interpreter + model start instead of
    one each. Returns (report folder, case -> its path in the batch folder).
    """
    seg, ef = random_weights
    out = tmp_path_factory.mktemp("reports")
    batch_dir = tmp_path_factory.mktemp("analyze_batch")
    wanted = collected_params(request.session, "test_bad_inputs.py", "case")
    weights = ["--seg-weights", seg, "--ef-weights", ef, "--device", "cpu", "--no-cache"]
    jobs, in_batch = {}, {}
    for name, case in CASES.items():
        if name not in wanted:
            continue
        path = str(corpus[name])
        jobs[f"{name}/info"] = ["info", path]
        jobs[f"{name}/info_json"] = ["info", path, "--json"]
        if case.expect == "late":  # --quiet hides the progress bar, never the reason
            jobs[f"{name}/analyze_quiet"] = ["analyze", path, *weights, "--quiet", "--out", str(out / f"{name}_q.csv")]
        if case.expect in ("bad", "late") or case.solo:
            jobs[f"{name}/analyze"] = ["analyze", path, *weights, "--out", str(out / f"{name}.csv")]
        else:
            in_batch[name] = batch_dir / name
            os.link(corpus[name], in_batch[name])
    if in_batch:
        jobs["batch/analyze"] = ["analyze", str(batch_dir), *weights, "--out", str(out / "batch.csv")]
    long = ["batch/analyze"] + [f"{n}/analyze" for n, c in CASES.items() if c.slow]
    cli_pool.submit(jobs, {job: LONG_TIMEOUT_S for job in long if job in jobs})
    return out, in_batch


@pytest.fixture(scope="session")
def weights_runs(cli_pool, random_weights, tmp_path_factory, request):
    """Submit `analyze --seg-weights / --ef-weights` with each hostile or mismatched weights file.
    Returns (name -> weights file, name -> marker file its payload would write, folder)."""
    from tests.reliability.hostile import weights_jobs

    root = tmp_path_factory.mktemp("untrusted")
    wanted = collected_params(request.session, "test_untrusted_weights.py", "name")
    jobs, files, markers = weights_jobs(root, random_weights, wanted)
    cli_pool.submit(jobs)
    return files, markers, root


@pytest.fixture(scope="session", autouse=True)
def _start_cli_jobs(request):
    """Start every CLI command this session will check before the first reliability test runs."""
    modules = {item.nodeid.split("::")[0].rsplit("/", 1)[-1] for item in request.session.items}
    if "test_bad_inputs.py" in modules:
        request.getfixturevalue("bad_input_runs")
    if "test_untrusted_weights.py" in modules:
        request.getfixturevalue("weights_runs")
