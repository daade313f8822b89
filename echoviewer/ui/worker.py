"""The one bridge between the Qt UI and the Qt-free pipeline.

An :class:`AnalysisWorker` (a QObject living in its own QThread) takes loops from a queue (the
loop on screen first, then the rest of the study) and runs ``analyzer.analyze(loop, progress=,
cancel=, priority_frame=)`` on each. It only relies on that interface: the analyzer comes from a
factory ``factory(settings) -> analyzer`` (by default a ``pipeline.service.RemoteAnalyzer``,
which runs ``pipeline.Analyzer`` in a child process so that the analysis never holds the UI
process' GIL), so tests can hand in a fake. An analyzer with a ``close()`` is closed when it is
replaced (new settings) and when the worker stops.

Signals (delivered to the UI thread through queued connections):

* ``started(path)``
* ``progress(path, Progress)`` — with ``frames`` / ``masks`` chunks during the segment stage
* ``finished(path, LoopAnalysis)``
* ``failed(path, message)`` — one line; the worker carries on with the next loop
* ``cancelled(path)`` — the job was cancelled (and requeued if it was only re-prioritised)
* ``idle()`` — the queue is empty

Calls from the UI thread (``submit``, ``prioritize``, ``cancel_all``, ``set_settings``, ``stop``)
only touch the queue under a lock; cancellation is cooperative (the pipeline checks ``cancel()``
between batches and raises ``Cancelled``).
"""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import inspect
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from echoviewer.errors import one_line
from echoviewer.pipeline.results import Cancelled

AnalyzerFactory = Callable[[Any], Any]


#: An analysis process started before the window was built: (settings, threads, RemoteAnalyzer).
_prestarted: tuple[Any, int, Any] | None = None


def prestart(settings, threads: int = 0) -> None:
    """Start the analysis process now: it imports torch and loads the models (2-3 s) while Qt
    starts and the window is built, instead of after. The window's worker adopts it when its
    settings are the same (``default_analyzer_factory``)."""
    global _prestarted
    from echoviewer.pipeline.service import RemoteAnalyzer

    _prestarted = (settings, int(threads), RemoteAnalyzer(settings, threads=threads))


def default_analyzer_factory(settings, threads: int = 0):
    """The real pipeline, in a child process (see ``echoviewer.pipeline.service`` for why): the
    one started early by ``prestart`` if its settings match, else a new one."""
    global _prestarted
    from echoviewer.pipeline.service import RemoteAnalyzer

    early, _prestarted = _prestarted, None
    if early is not None:
        made_with, made_threads, analyzer = early
        if made_with == settings and made_threads == int(threads) and analyzer.alive:
            return analyzer
        analyzer.close()
    return RemoteAnalyzer(settings, threads=threads)


def default_reopen(loop):
    """The loop the analyzer reads. ``echoviewer.io.Loop`` serialises ``frame()`` and decodes
    ``grid_frames()`` through its own handle, so the worker shares the UI's object (and so sees
    the same frame count and grid transform). A hook for readers that are not thread-safe."""
    return loop


@dataclass
class Job:
    key: str  # str(loop.path): identifies the loop in every signal
    loop: Any
    priority_frame: int | None = None


class AnalysisWorker(QObject):
    started = Signal(str)
    progress = Signal(str, object)
    finished = Signal(str, object)
    failed = Signal(str, str)
    cancelled = Signal(str)
    idle = Signal()
    stopped = Signal()

    def __init__(
        self,
        analyzer_factory: AnalyzerFactory | None = None,
        settings: Any = None,
        reopen: Callable[[Any], Any] | None = default_reopen,
        preload: bool = False,  # build the analyzer (load the models) as soon as the thread starts
    ):
        super().__init__()
        self._factory = analyzer_factory or default_analyzer_factory
        self._settings = settings
        self._reopen = reopen or (lambda loop: loop)
        self._cond = threading.Condition()
        self._queue: list[Job] = []
        self._current: Job | None = None
        self._cancel = False
        self._requeue_current = False
        self._requeue_pos = 0
        self._discard = False
        self._stopping = False
        self._analyzer = None
        self._analyzer_settings: Any = None
        self._preload = preload
        self._reload = False

    # -- called from the UI thread ------------------------------------------------------------
    def submit(self, loops: Iterable[Any], first: str | None = None, frame: int | None = None) -> None:
        """Replace the queue with ``loops`` (the one whose key is ``first`` goes first).

        A loop being analysed stays running if it is still wanted (and is ``first`` or no
        ``first`` is given); otherwise it is cancelled, and requeued if still wanted.
        """
        loops = list(loops)
        keys = [str(loop.path) for loop in loops]
        with self._cond:
            running = self._current.key if self._current else None
            self._queue = [Job(k, loop) for k, loop in zip(keys, loops) if k != running]
            if first is not None:
                self._move_to_front(first, frame)
            if running is not None:
                if running not in keys:
                    self._cancel_current(requeue=False, discard=True)
                elif first is not None and first != running:
                    self._cancel_current(requeue=True, position=1)
                elif self._cancel and self._requeue_current:
                    self._requeue_pos = 0  # already cancelled (new settings): it goes first
            self._cond.notify_all()

    def prioritize(self, key: str, frame: int | None = None) -> None:
        """Analyse ``key`` next; a different loop in progress is cancelled and requeued."""
        with self._cond:
            if self._current is not None and self._current.key == key:
                return
            if not self._move_to_front(key, frame):
                return  # not queued: already done or failed
            if self._current is not None:
                self._cancel_current(requeue=True, position=1)
            self._cond.notify_all()

    def cancel_all(self) -> None:
        with self._cond:
            self._queue.clear()
            if self._current is not None:
                self._cancel_current(requeue=False, discard=True)
            self._cond.notify_all()

    def set_settings(self, settings: Any) -> None:
        """New analysis settings: the models are reloaded before the next job."""
        with self._cond:
            self._settings = settings
            if self._current is not None:
                self._cancel_current(requeue=True, position=0, discard=True)
            self._cond.notify_all()

    def reload(self) -> None:
        """Build a new analyzer before the next job (e.g. other CPU threads); results stay valid."""
        with self._cond:
            self._reload = True

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._queue.clear()
            self._cancel = True
            self._requeue_current = False
            self._discard = True
            self._cond.notify_all()

    def pending(self) -> list[str]:
        with self._cond:
            return [j.key for j in self._queue]

    def current(self) -> str | None:
        with self._cond:
            return self._current.key if self._current else None

    def _move_to_front(self, key: str, frame: int | None) -> bool:
        for i, j in enumerate(self._queue):
            if j.key == key:
                job = self._queue.pop(i)
                job.priority_frame = frame
                self._queue.insert(0, job)
                return True
        return False

    def _cancel_current(self, requeue: bool, position: int = 0, discard: bool = False) -> None:
        self._cancel = True
        self._requeue_current = requeue
        self._requeue_pos = position
        self._discard = self._discard or discard

    # -- the worker thread ----------------------------------------------------------------------
    def _is_cancel_requested(self) -> bool:
        return self._cancel

    @Slot()
    def run(self) -> None:
        if self._preload:
            # Loading the models takes seconds; doing it before the user opens a study makes the
            # first overlay appear within the first batch. A failure here is reported by the first job.
            try:
                analyzer = self._get_analyzer(self._settings)
                wait = getattr(analyzer, "wait_ready", None)  # a RemoteAnalyzer loads in its process
                while wait is not None and not self._stopping and not wait(0.1):
                    pass
            except Exception:
                self._close_analyzer()
        while True:
            with self._cond:
                while not self._queue and not self._stopping:
                    self._cond.wait()
                if self._stopping:
                    break
                job = self._queue.pop(0)
                self._current = job
                self._cancel = False
                self._requeue_current = False
                self._discard = False
                settings = self._settings
            self._run_job(job, settings)
            with self._cond:
                self._current = None
                empty = not self._queue and not self._stopping
            if empty:
                self.idle.emit()
        self._close_analyzer()
        self.stopped.emit()
        thread = self.thread()
        if thread is not None:
            thread.quit()

    def _get_analyzer(self, settings):
        if self._analyzer is None or self._analyzer_settings != settings or self._reload:
            self._reload = False
            self._close_analyzer()
            self._analyzer_settings = settings
            self._analyzer = self._factory(settings)
        return self._analyzer

    def _close_analyzer(self) -> None:
        analyzer, self._analyzer = self._analyzer, None
        close = getattr(analyzer, "close", None)  # a RemoteAnalyzer ends its process
        if close is not None:
            try:
                close()
            except Exception:
                pass

    def _run_job(self, job: Job, settings) -> None:
        key = job.key
        self.started.emit(key)

        def progress(p) -> None:
            self.progress.emit(key, p)

        try:
            analyzer = self._get_analyzer(settings)
            loop = self._reopen(job.loop)
            kwargs = _priority_kwargs(analyzer.analyze, job.priority_frame)
            result = analyzer.analyze(loop, progress=progress, cancel=self._is_cancel_requested, **kwargs)
            _warm_content_hash(job.loop)
            if self._discard:  # finished just as it was cancelled, but its settings are stale
                raise Cancelled()
        except BaseException as exc:
            if self._cancel or isinstance(exc, Cancelled):
                with self._cond:
                    if self._requeue_current and not self._stopping:
                        # behind the job that displaced it (position 1), or first (new settings)
                        pos = min(self._requeue_pos, len(self._queue))
                        self._queue.insert(pos, Job(key, job.loop))
                self.cancelled.emit(key)
                return
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self.failed.emit(key, one_line(exc))
            return
        self.finished.emit(key, result)


def _warm_content_hash(loop) -> None:
    """Hash the loop's file here (the Loop caches it): the window needs the hash to match saved
    corrections as the result arrives, and hashing reads the file (hashlib and reads release the
    GIL, so here it costs the UI thread nothing; there it took 2-5 ms of a frame)."""
    content_hash = getattr(loop, "content_hash", None)
    if content_hash is not None:
        try:
            content_hash()
        except Exception:
            pass


def _priority_kwargs(fn, frame: int | None) -> dict:
    if frame is None:
        return {}
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    if "priority_frame" in params:
        return {"priority_frame": int(frame)}
    if "priority_frames" in params:
        return {"priority_frames": [int(frame)]}
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return {"priority_frame": int(frame)}
    return {}


class AnalysisBridge(QObject):
    """Owns the worker and its thread; the main window talks to this."""

    def __init__(self, worker: AnalysisWorker, parent: QObject | None = None):
        super().__init__(parent)
        self.worker = worker
        self.thread = QThread()
        self.thread.setObjectName("echoviewer-analysis")
        worker.moveToThread(self.thread)
        self.thread.started.connect(worker.run)
        self._started = False

    def start(self) -> None:
        if not self._started:
            self._started = True
            self.thread.start(QThread.Priority.LowPriority)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Stop the worker (cancelling the job in progress) and join its thread."""
        self.worker.stop()
        if not self._started:
            return True
        ok = self.thread.wait(timeout_ms)
        if not ok:
            self.thread.quit()
            ok = self.thread.wait(5000)
        return ok
