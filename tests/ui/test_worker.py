"""The worker bridge: queue order, progress chunks, failures, re-prioritising, cancel, settings."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from echoviewer.pipeline.results import AnalysisSettings, Cancelled
from echoviewer.ui.worker import AnalysisBridge, AnalysisWorker
from tests.ui.fakes import FakeAnalyzer, FakeLoop


class Recorder:
    def __init__(self, worker):
        self.events = []
        self.results = {}
        self.chunks = {}
        worker.started.connect(lambda k: self.events.append(("started", k)))
        worker.finished.connect(self._finished)
        worker.failed.connect(lambda k, m: self.events.append(("failed", k, m)))
        worker.cancelled.connect(lambda k: self.events.append(("cancelled", k)))
        worker.progress.connect(self._progress)

    def _finished(self, k, a):
        self.events.append(("finished", k))
        self.results[k] = a

    def _progress(self, k, p):
        if p.frames is not None:
            self.chunks.setdefault(k, []).append((np.asarray(p.frames), np.asarray(p.masks)))

    def of(self, kind):
        return [e[1] for e in self.events if e[0] == kind]


@pytest.fixture
def bridge(qtbot):
    made = []

    def make(factory, settings=None):
        w = AnalysisWorker(factory, settings or AnalysisSettings(), reopen=None)
        b = AnalysisBridge(w)
        rec = Recorder(w)
        b.start()
        made.append(b)
        return w, rec

    yield make
    for b in made:
        assert b.shutdown(10000)


def _loops(tmp_path, n=3, frames=24):
    return [FakeLoop(tmp_path / f"loop{i}.avi", n_frames=frames) for i in range(n)]


def test_analyses_every_loop_current_first_with_mask_chunks(bridge, qtbot, tmp_path):
    loops = _loops(tmp_path)
    w, rec = bridge(lambda s: FakeAnalyzer(s, chunk=5))
    w.submit(loops, first=str(loops[2].path), frame=7)
    qtbot.waitUntil(lambda: len(rec.results) == 3, timeout=10000)
    assert rec.of("started") == [str(loops[2].path), str(loops[0].path), str(loops[1].path)]
    # progress chunks carry every frame's mask, equal to the final masks
    for lp in loops:
        k = str(lp.path)
        frames = np.concatenate([f for f, _ in rec.chunks[k]])
        assert sorted(frames.tolist()) == list(range(lp.n_frames))
        for f, m in rec.chunks[k]:
            assert np.array_equal(m, rec.results[k].masks[f])
    assert rec.results[str(loops[0].path)].path == str(loops[0].path)


def test_the_loop_file_is_hashed_in_the_worker_thread_before_its_result_is_sent(bridge, qtbot, tmp_path):
    # The window matches saved corrections by the file's hash as a result arrives; hashed in the
    # UI thread it cost a frame's time.
    hashed = []

    class HashedLoop(FakeLoop):
        def content_hash(self):
            hashed.append(threading.current_thread() is threading.main_thread())
            return super().content_hash()

    loop = HashedLoop(tmp_path / "a.avi", n_frames=12)
    w, rec = bridge(lambda s: FakeAnalyzer(s))
    w.finished.connect(lambda k, a: rec.events.append(("hashed before finished", list(hashed))))
    w.submit([loop], first=str(loop.path))
    qtbot.waitUntil(lambda: str(loop.path) in rec.results, timeout=10000)
    assert hashed and hashed[0] is False  # in the worker thread
    assert ("hashed before finished", [False]) in rec.events


def test_priority_frame_reaches_the_analyzer(bridge, qtbot, tmp_path):
    loops = _loops(tmp_path, n=1)
    made = []
    w, rec = bridge(lambda s: made.append(FakeAnalyzer(s)) or made[-1])
    w.submit(loops, first=str(loops[0].path), frame=11)
    qtbot.waitUntil(lambda: len(rec.results) == 1, timeout=10000)
    assert made[0].calls == [(str(loops[0].path), 11)]


def test_failure_is_reported_and_the_queue_goes_on(bridge, qtbot, tmp_path):
    loops = _loops(tmp_path)
    w, rec = bridge(lambda s: FakeAnalyzer(s, fail_on="loop1"))
    w.submit(loops)
    qtbot.waitUntil(lambda: len(rec.results) == 2 and bool(rec.of("failed")), timeout=10000)
    failed = [e for e in rec.events if e[0] == "failed"]
    assert failed[0][1] == str(loops[1].path)
    assert "model exploded on loop1.avi" in failed[0][2] and "\n" not in failed[0][2]


def test_the_pipelines_cancelled_is_a_cancel_not_a_failure(bridge, qtbot, tmp_path):
    """A job the pipeline itself stops with its Cancelled (the worker asked nothing) is not an
    error; another exception that only shares the name is one (matched by type, not by name)."""
    loops = _loops(tmp_path, n=3)

    class Cancelled2(Exception):
        pass

    Cancelled2.__name__ = "Cancelled"

    class Stops(FakeAnalyzer):
        def analyze(self, loop, **kw):
            if loop is loops[0]:
                raise Cancelled()
            if loop is loops[1]:
                raise Cancelled2("not the pipeline's")
            return super().analyze(loop, **kw)

    w, rec = bridge(lambda s: Stops(s))
    w.submit(loops)
    qtbot.waitUntil(lambda: len(rec.results) == 1, timeout=10000)
    assert rec.of("cancelled") == [str(loops[0].path)] and rec.of("failed") == [str(loops[1].path)]


def test_factory_error_fails_each_job_without_killing_the_worker(bridge, qtbot, tmp_path):
    loops = _loops(tmp_path, n=2)

    def factory(s):
        raise OSError("weights file is truncated")

    w, rec = bridge(factory)
    w.submit(loops)
    qtbot.waitUntil(lambda: len(rec.of("failed")) == 2, timeout=10000)
    assert all("weights file is truncated" in e[2] for e in rec.events if e[0] == "failed")


def test_selecting_another_loop_cancels_and_requeues_the_current_one(bridge, qtbot, tmp_path):
    loops = _loops(tmp_path, n=3, frames=40)
    gate = threading.Event()
    made = []
    w, rec = bridge(lambda s: made.append(FakeAnalyzer(s, chunk=4, gate=gate)) or made[-1])
    w.submit(loops, first=str(loops[0].path))
    qtbot.waitUntil(lambda: rec.of("started") == [str(loops[0].path)], timeout=5000)
    w.prioritize(str(loops[2].path), frame=3)
    gate.set()
    qtbot.waitUntil(lambda: len(rec.results) == 3, timeout=10000)
    assert rec.of("cancelled") == [str(loops[0].path)]
    assert rec.of("started") == [str(loops[0].path), str(loops[2].path), str(loops[0].path), str(loops[1].path)]
    assert made[0].cancelled == [str(loops[0].path)]
    assert (str(loops[2].path), 3) in made[0].calls


def test_cancel_all_stops_the_job_and_clears_the_queue(bridge, qtbot, tmp_path):
    loops = _loops(tmp_path, n=3, frames=40)
    gate = threading.Event()
    w, rec = bridge(lambda s: FakeAnalyzer(s, chunk=4, gate=gate))
    w.submit(loops)
    qtbot.waitUntil(lambda: len(rec.of("started")) == 1, timeout=5000)
    w.cancel_all()
    gate.set()
    qtbot.waitUntil(lambda: bool(rec.of("cancelled")), timeout=5000)
    qtbot.wait(200)
    assert rec.results == {}
    assert w.pending() == [] and w.current() is None


def test_new_settings_reload_the_analyzer(bridge, qtbot, tmp_path):
    loops = _loops(tmp_path, n=1)
    seen = []
    w, rec = bridge(lambda s: seen.append(s) or FakeAnalyzer(s))
    w.submit(loops)
    qtbot.waitUntil(lambda: len(rec.results) == 1, timeout=10000)
    new = AnalysisSettings(device="cpu", mean=(1.0, 2.0, 3.0))
    w.set_settings(new)
    rec.results.clear()
    w.submit(loops)
    qtbot.waitUntil(lambda: len(rec.results) == 1, timeout=10000)
    assert seen == [AnalysisSettings(), new]
    assert rec.results[str(loops[0].path)].settings == new


def test_shutdown_while_busy_joins_quickly(qtbot, tmp_path):
    import time

    gate = threading.Event()
    w = AnalysisWorker(lambda s: FakeAnalyzer(s, chunk=2, gate=gate), AnalysisSettings(), reopen=None)
    b = AnalysisBridge(w)
    b.start()
    started = []
    w.started.connect(started.append)
    w.submit(_loops(tmp_path, n=2, frames=40))
    qtbot.waitUntil(lambda: bool(started), timeout=5000)
    t0 = time.perf_counter()
    threading.Timer(0.05, gate.set).start()
    assert b.shutdown(5000)
    assert time.perf_counter() - t0 < 3
    assert not b.thread.isRunning()


def test_analyzers_are_closed_when_replaced_reloaded_and_at_shutdown(qtbot, tmp_path):
    """A RemoteAnalyzer's close() ends its process: no analysis process outlives its use."""
    made, closed = [], []

    class Closable(FakeAnalyzer):
        def close(self):
            closed.append(self)

    def factory(s):
        made.append(Closable(s))
        return made[-1]

    w = AnalysisWorker(factory, AnalysisSettings(), reopen=None)
    b = AnalysisBridge(w)
    done = []
    w.finished.connect(lambda k, a: done.append(k))
    b.start()
    try:
        w.submit(_loops(tmp_path, n=1))
        qtbot.waitUntil(lambda: len(done) == 1, timeout=10000)
        w.set_settings(AnalysisSettings(fast=False))  # new settings: a new analyzer for the next job
        w.submit(_loops(tmp_path, n=2))
        qtbot.waitUntil(lambda: len(done) == 3, timeout=10000)
        assert len(made) == 2 and closed == [made[0]]
        w.reload()  # e.g. other CPU threads: same settings, new analyzer
        w.submit(_loops(tmp_path / "more", n=1))
        qtbot.waitUntil(lambda: len(done) == 4, timeout=10000)
        assert len(made) == 3 and closed == made[:2]
    finally:
        assert b.shutdown(5000)
    assert closed == made


def test_preload_builds_the_analyzer_before_any_job_and_failures_reach_the_first_job(qtbot, tmp_path):
    calls = []

    def factory(settings):
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            raise RuntimeError("weights missing")
        return FakeAnalyzer(settings)

    w = AnalysisWorker(factory, AnalysisSettings(), reopen=None, preload=True)
    b = AnalysisBridge(w)
    rec = Recorder(w)
    b.start()
    try:
        qtbot.waitUntil(lambda: len(calls) == 1, timeout=5000)  # loaded with no job queued
        assert calls[0] != threading.current_thread().name  # in the worker thread, not the UI thread
        loops = _loops(tmp_path, n=1)
        w.submit(loops)
        qtbot.waitUntil(lambda: bool(rec.of("finished")), timeout=10000)
        assert len(calls) == 2  # the failed preload was retried by the job, which then succeeded
    finally:
        assert b.shutdown(10000)


def test_closing_while_the_preloaded_models_still_load_does_not_wait_for_them(qtbot, tmp_path):
    """A RemoteAnalyzer loads in its own process; a stop must not wait for a slow or hung load."""
    polls, closed = [], []

    class Loading(FakeAnalyzer):
        def wait_ready(self, timeout):
            polls.append(timeout)
            time.sleep(timeout)
            return False  # never finishes loading

        def close(self):
            closed.append(self)

    w = AnalysisWorker(lambda s: Loading(s), AnalysisSettings(), reopen=None, preload=True)
    b = AnalysisBridge(w)
    b.start()
    qtbot.waitUntil(lambda: len(polls) >= 3, timeout=5000)
    t0 = time.perf_counter()
    assert b.shutdown(5000)
    assert time.perf_counter() - t0 < 1.0
    assert len(closed) == 1  # the loading process was ended


def test_the_early_analysis_process_is_adopted_only_with_the_same_settings(monkeypatch):
    """`prestart` starts the analysis process before the window; the worker's factory adopts it
    when the window asks for the same settings and threads, else closes it and starts another."""
    import echoviewer.pipeline.service as service
    from echoviewer.pipeline.results import AnalysisSettings
    from echoviewer.ui import worker as worker_mod

    made = []

    class Remote:
        def __init__(self, settings, threads=0):
            self.settings, self.threads, self.closed, self.alive = settings, threads, False, True
            made.append(self)

        def close(self):
            self.closed, self.alive = True, False

    monkeypatch.setattr(service, "RemoteAnalyzer", Remote)
    monkeypatch.setattr(worker_mod, "_prestarted", None)
    s = AnalysisSettings(device="cpu")
    worker_mod.prestart(s, threads=2)
    assert len(made) == 1
    assert worker_mod.default_analyzer_factory(AnalysisSettings(device="cpu"), threads=2) is made[0]
    assert worker_mod.default_analyzer_factory(s, threads=2) is made[1]  # adopted once only
    worker_mod.prestart(s, threads=2)
    other = worker_mod.default_analyzer_factory(AnalysisSettings(device="cpu", echonet_exact=True), threads=2)
    assert made[2].closed and other is made[3] and other.settings.echonet_exact
    worker_mod.prestart(s, threads=2)
    assert worker_mod.default_analyzer_factory(s, threads=1) is made[5] and made[4].closed
