"""The batch driver: walks the paths lazily, skips loops already done, keeps the executor's workers
busy (never more loops in flight than they can take), retries a failure once where another try can
help, and writes every outcome through the one ``ResultStore``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from echoviewer.batch.executors import Executor
from echoviewer.batch.store import ResultStore
from echoviewer.batch.worker import Outcome

#: A failure that may pass elsewhere or later (a worker or node lost, a file not reachable from one
#: node, an analysis error) is tried this many more times before it is recorded.
RETRIES = 1


@dataclass
class Summary:
    done: int = 0        # analysed in this run
    skipped: int = 0     # done by an earlier run (same bytes, same settings)
    failed: int = 0
    retried: int = 0
    seconds: float = 0.0

    @property
    def finished(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def loops_per_min(self) -> float:
        return 60.0 * self.done / self.seconds if self.seconds > 0 else 0.0

    def line(self) -> str:
        return (f"done {self.done}, skipped {self.skipped}, failed {self.failed} in {self.seconds:.1f} s "
                f"({self.loops_per_min:.1f} loops/min)")


def run_batch(paths: Iterable[str], store: ResultStore, executor: Executor,
              on_outcome: Callable[[Outcome | None, Summary], None] | None = None) -> Summary:
    """Analyse every path not done yet; ``on_outcome(outcome, summary)`` after each recorded outcome
    (``None`` for a loop skipped as done)."""
    summary = Summary()
    t0 = time.perf_counter()
    seen: set[str] = set()  # a list may name a file twice: its rows are written once
    walk = iter(paths)

    def tell(outcome: Outcome | None) -> None:
        summary.seconds = time.perf_counter() - t0
        if on_outcome:
            on_outcome(outcome, summary)

    def next_path() -> str | None:
        for p in walk:
            if p in seen:
                continue
            seen.add(p)
            if store.is_done(p):
                summary.skipped += 1
                tell(None)
                continue
            return p
        return None

    in_flight = 0
    walking = True
    while True:
        while walking and in_flight < executor.capacity:
            path = next_path()
            if path is None:
                walking = False
            else:
                executor.submit(path, 0)
                in_flight += 1
        if not in_flight:
            break
        outcome = executor.next_outcome()
        in_flight -= 1
        if not outcome.ok and outcome.retry and outcome.attempt < RETRIES:
            summary.retried += 1
            executor.submit(outcome.path, outcome.attempt + 1)
            in_flight += 1
            continue
        store.record(outcome)
        if outcome.ok:
            summary.done += 1
        else:
            summary.failed += 1
        tell(outcome)
    summary.seconds = time.perf_counter() - t0
    return summary
