"""run_batch with a scripted executor: retries, laziness, the single writer."""

from collections import deque

from echoviewer.batch.driver import run_batch
from echoviewer.batch.worker import Outcome


class ScriptedExecutor:
    """Fails a path's first ``fails[path]`` attempts (retry allowed unless the path starts with 'bad')."""

    capacity = 2

    def __init__(self, fails):
        self.fails, self.queue, self.calls = fails, deque(), []
        self.max_in_flight = 0

    def submit(self, path, attempt):
        self.calls.append((path, attempt))
        self.queue.append((path, attempt))
        self.max_in_flight = max(self.max_in_flight, len(self.queue))

    def next_outcome(self):
        path, attempt = self.queue.popleft()
        if path.startswith("bad"):
            return Outcome(path, ok=False, reason="not a video", retry=False, attempt=attempt)
        if attempt < self.fails.get(path, 0):
            return Outcome(path, ok=False, reason=f"lost worker {attempt}", retry=True, attempt=attempt)
        return Outcome(path, ok=True, rows=[{"file": path}], attempt=attempt)


class MemoryStore:
    def __init__(self, done=()):
        self.done, self.recorded = set(done), []

    def is_done(self, path):
        return path in self.done

    def record(self, outcome):
        self.recorded.append((outcome.path, outcome.ok, outcome.reason))


def test_failures_worth_another_try_are_retried_once_then_recorded():
    ex = ScriptedExecutor({"flaky": 1, "lost": 5})
    store = MemoryStore(done={"old"})
    pulled = []

    def walk():
        for p in ["old", "a", "flaky", "bad", "lost", "a"]:  # "a" listed twice
            pulled.append(p)
            yield p

    summary = run_batch(walk(), store, ex)
    assert (summary.done, summary.skipped, summary.failed, summary.retried) == (2, 1, 2, 2)
    assert sorted(store.recorded) == [("a", True, ""), ("bad", False, "not a video"),
                                      ("flaky", True, ""), ("lost", False, "lost worker 1")]
    assert ex.calls.count(("bad", 0)) == 1 and ("bad", 1) not in ex.calls  # a file that cannot be read: once
    assert ex.max_in_flight <= ex.capacity


def test_the_walk_is_pulled_only_as_workers_free_up():
    ex = ScriptedExecutor({})
    pulled = []

    def walk():
        for i in range(100):
            pulled.append(i)
            yield f"p{i}"

    seen_when_first_recorded = []
    store = MemoryStore()
    store.record = lambda o: seen_when_first_recorded.append(len(pulled))
    run_batch(walk(), store, ex)
    assert seen_when_first_recorded[0] <= ex.capacity + 1  # not the whole tree up front
    assert len(seen_when_first_recorded) == 100
