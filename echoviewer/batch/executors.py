"""Where loops run: in this process, or in N local worker processes (spawn) each loading the models
once. An executor takes (path, attempt) tasks and hands back ``Outcome``s as they finish; the
driver keeps ``capacity`` tasks in flight, so nothing is opened ahead of a free worker."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import deque
from typing import Protocol

from echoviewer.batch.worker import LoopWorker, Outcome
from echoviewer.pipeline.results import AnalysisSettings


class Executor(Protocol):
    capacity: int

    def describe(self) -> list[str]: ...
    def submit(self, path: str, attempt: int) -> None: ...
    def next_outcome(self) -> Outcome: ...  # blocks until a submitted task finishes
    def close(self) -> None: ...


def default_threads(jobs: int) -> int:
    """Torch threads per worker: the machine's cores shared out (at least 1)."""
    return max(1, (os.cpu_count() or 1) // max(1, jobs))


class InProcess:
    """One worker, this process (``--jobs 1``): no start-up cost, the models loaded here."""

    capacity = 1

    def __init__(self, settings: AnalysisSettings, threads: int = 0):
        self.worker = LoopWorker(settings, threads)
        self._queue: deque[tuple[str, int]] = deque()

    def describe(self) -> list[str]:
        return self.worker.describe()

    def submit(self, path: str, attempt: int) -> None:
        self._queue.append((path, attempt))

    def next_outcome(self) -> Outcome:
        return self.worker.run(*self._queue.popleft())

    def close(self) -> None:
        pass


# -- local worker processes ------------------------------------------------------------------------
_WORKER: LoopWorker | None = None
_INIT_ERROR = "the worker process did not start"


def _init_process(settings: AnalysisSettings, threads: int, started) -> None:
    global _WORKER, _INIT_ERROR
    try:
        _WORKER = LoopWorker(settings, threads)
    except Exception as exc:  # said by describe() in the driver, not as a broken pool
        from echoviewer.errors import one_line

        _INIT_ERROR = one_line(exc)
    with started.get_lock():
        started.value += 1


def _worker() -> LoopWorker:
    if _WORKER is None:
        raise RuntimeError(_INIT_ERROR)
    return _WORKER


def _run_in_process(path: str, attempt: int) -> Outcome:
    return _worker().run(path, attempt)


def _describe_in_process() -> list[str]:
    return _worker().describe()


CRASHED = "the worker process stopped unexpectedly"


class ProcessPool:
    """``--jobs N``: N spawned processes (no fork of a process holding torch threads), each with its
    own ``LoopWorker``. A worker that dies (a native decoder's crash) fails its loops with a line
    that allows a retry, and the pool is started again."""

    def __init__(self, settings: AnalysisSettings, jobs: int, threads: int = 0):
        self.settings, self.jobs = settings, jobs
        self.threads = threads or default_threads(jobs)
        self.capacity = 2 * jobs  # one queued behind each running loop: no worker waits for the driver
        self._context = multiprocessing.get_context("spawn")
        self._started = self._context.Value("i", 0)  # workers done loading the models
        self._pool = self._start()
        self._futures: dict = {}
        self._ready: deque[Outcome] = deque()

    def _start(self):
        from concurrent.futures import ProcessPoolExecutor

        return ProcessPoolExecutor(self.jobs, mp_context=self._context, initializer=_init_process,
                                   initargs=(self.settings, self.threads, self._started))

    def describe(self) -> list[str]:
        """The weights, once every worker has loaded them (a bad weights file fails here, once; the
        run's clock starts with all workers ready)."""
        asks = [self._pool.submit(_describe_in_process) for _ in range(self.jobs)]  # starts them all
        lines = asks[0].result()
        deadline = time.monotonic() + 300  # a worker that dies while loading: its loops fail later
        while self._started.value < self.jobs and time.monotonic() < deadline:
            time.sleep(0.05)
        return [*lines, f"workers: {self.jobs} local processes, {self.threads} thread(s) each"]

    def submit(self, path: str, attempt: int) -> None:
        self._futures[self._pool.submit(_run_in_process, path, attempt)] = (path, attempt)

    def next_outcome(self) -> Outcome:
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        from echoviewer.errors import one_line

        if self._ready:
            return self._ready.popleft()
        done, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        fut = next(iter(done))
        path, attempt = self._futures.pop(fut)
        try:
            return fut.result()
        except BrokenProcessPool:
            # which loop crashed it is unknown: every loop in flight fails with a retry allowed
            # (the driver tries each once more, on a new pool)
            for other, (p, a) in list(self._futures.items()):
                if other.done() and other.exception() is None:
                    self._ready.append(other.result())
                else:
                    self._ready.append(Outcome(p, ok=False, reason=CRASHED, retry=True, attempt=a))
            self._futures.clear()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            return Outcome(path, ok=False, reason=CRASHED, retry=True, attempt=attempt)
        except Exception as exc:
            return Outcome(path, ok=False, reason=f"worker error: {one_line(exc)}", retry=True, attempt=attempt)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
