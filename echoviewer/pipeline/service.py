"""The analyzer in a child process, behind the same ``analyze()`` call as :class:`Analyzer`.

Why a process: the window plays loops while the worker analyses others. In a thread of the UI
process, the analysis' Python code (decoding, tracing, the models' Python layers, garbage
collection) shares the GIL with the UI thread and delays repaints by 40-80 ms; a niced child
process only competes for CPU, which the scheduler gives to the UI first (see
``benchmarks/bench_ui.py``). A crash in a native decoder or an out-of-memory kill then ends the
child, not the app: the job fails with one line and the next job starts a new child.

Protocol over a pipe: the parent sends ``("analyze", job, path, priority_frame)`` or
``("stop",)``; the child answers ``("ready",)`` / ``("error", text)`` once after loading the
models, then per job any number of ``("progress", job, Progress)`` and exactly one of
``("done", job, LoopAnalysis)``, ``("failed", job, text)``, ``("cancelled", job)``. Cancellation
is a shared event the child's pipeline polls between batches.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import multiprocessing as mp
import os
import sys
import time
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np

from echoviewer.errors import one_line

if TYPE_CHECKING:
    from multiprocessing.connection import Connection
    from multiprocessing.process import BaseProcess
    from multiprocessing.synchronize import Event
from echoviewer.pipeline.results import AnalysisSettings, Cancelled

#: Nice value of the child: the UI thread gets a core as soon as a repaint is due.
CHILD_NICE = 10
#: How long a cancelled job may take to reach its next batch boundary before its process is killed.
CANCEL_GRACE_S = 10.0
START_TIMEOUT_S = 300.0


class AnalysisError(Exception):
    """An analysis or model-loading failure reported by the child, already one line."""


# -- masks on the wire -----------------------------------------------------------------------------
class _PackedMasks:
    """Boolean masks as zlib-compressed bits. A loop's masks are 1.6-2 MB as bytes but a few
    kB packed: the parent's worker thread then reads each message in one go instead of in
    dozens of pipe-sized pieces, each of which took the GIL from the UI thread mid-repaint."""

    __slots__ = ("shape", "data")

    def __init__(self, masks: np.ndarray):
        self.shape = tuple(masks.shape)
        self.data = zlib.compress(np.packbits(np.asarray(masks, dtype=bool), axis=None).tobytes(), 1)

    def unpack(self) -> np.ndarray:
        bits = np.frombuffer(zlib.decompress(self.data), dtype=np.uint8)
        n = int(np.prod(self.shape))
        return np.unpackbits(bits, count=n).view(bool).reshape(self.shape)


def _pack(obj):
    """A Progress or LoopAnalysis with its masks packed (the child's side)."""
    masks = getattr(obj, "masks", None)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type) and isinstance(masks, np.ndarray) \
            and masks.dtype == bool:
        return dataclasses.replace(obj, masks=_PackedMasks(masks))
    return obj


def _unpack(obj):
    masks = getattr(obj, "masks", None)
    if isinstance(masks, _PackedMasks):
        return dataclasses.replace(obj, masks=masks.unpack())
    return obj


# -- the child ------------------------------------------------------------------------------------
def _child_main(conn, cancel_event, settings: AnalysisSettings, threads: int, nice: int) -> None:
    try:
        _serve(conn, cancel_event, settings, threads, nice)
    finally:
        # Everything is sent and the cache files are written atomically; skip interpreter
        # teardown, whose C++ static destructors abort ("terminate called ...") while a decoder
        # or compute thread is still winding down.
        conn.close()
        os._exit(0)


def _renice_all_threads(nice: int) -> None:
    """Nice this process' threads: on Linux a nice value belongs to a thread, and threads already
    running (OpenBLAS' pool, started by importing numpy while the child unpickled its target) kept
    0. Threads started later inherit the main thread's."""
    if not hasattr(os, "setpriority"):
        return
    try:
        tids = [int(t) for t in os.listdir("/proc/self/task")]
    except OSError:
        tids = [0]
    for tid in tids:
        try:
            os.setpriority(os.PRIO_PROCESS, tid, nice)
        except OSError:
            pass


def _send_progress(conn, job, p) -> None:
    conn.send(("progress", job, _pack(p)))


def _serve(conn, cancel_event, settings: AnalysisSettings, threads: int, nice: int) -> None:
    from echoviewer.applog import child_crash_trace

    child_crash_trace()  # a decoder that crashes this process leaves its trace in the app's crash file
    if nice > 0:
        _renice_all_threads(nice)
    try:
        import torch

        if threads > 0:
            torch.set_num_threads(threads)
        from echoviewer.io import open_loop
        from echoviewer.pipeline.analyzer import Analyzer

        analyzer = Analyzer(settings)
        # The readers' imports (OpenCV, pydicom and its decoders: 0.1 s) now, not in the first job,
        # which is the loop the user is waiting to see.
        import echoviewer.io.dicom
        import echoviewer.io.video  # noqa: F401
    except Exception as exc:
        conn.send(("error", one_line(exc)))
        return
    conn.send(("ready",))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return  # the parent went away
        if msg[0] != "analyze":
            return
        _, job, path, priority_frame = msg
        try:
            with open_loop(path) as loop:  # closes the file and frees its decoded frames after the job
                result = analyzer.analyze(
                    loop, progress=functools.partial(_send_progress, conn, job), cancel=cancel_event.is_set,
                    priority_frame=priority_frame,
                )
            conn.send(("done", job, _pack(result)))
        except Cancelled:
            conn.send(("cancelled", job))
        except Exception as exc:
            conn.send(("failed", job, one_line(exc)))


# -- the parent -----------------------------------------------------------------------------------
class RemoteAnalyzer:
    """Starts a child process that loads the models (``wait_ready``; ``analyze`` waits for it
    too) and runs ``analyze(loop, progress=, cancel=, priority_frame=)`` jobs in it. Not
    thread-safe: one caller (the UI's worker thread, or an export thread) at a time. ``close()``
    ends the child, also while it is still loading."""

    def __init__(self, settings: AnalysisSettings | None = None, threads: int = 0, nice: int | None = None):
        self.settings = settings or AnalysisSettings()
        self._threads = int(threads or 0)
        self._nice = CHILD_NICE if nice is None else int(nice)
        self._ctx = mp.get_context("spawn")  # fork is unsafe once Qt and torch threads exist
        self._proc: BaseProcess | None = None
        self._conn: Connection | None = None
        self._cancel: Event | None = None
        self._jobs = 0
        self._ready = False
        self._started_at = 0.0
        # The answers hold WeightsInfo objects: import their package now, not while unpickling
        # the first result, where its 10 ms of imports held the GIL during a repaint.
        import echoviewer.models.manifest  # noqa: F401

        self._start()

    def _start(self) -> None:
        parent, child = self._ctx.Pipe()
        self._cancel = self._ctx.Event()  # new each time: a killed child may have held the old one's lock
        proc = self._ctx.Process(target=_child_main, name="echoviewer-analysis", daemon=True,
                                 args=(child, self._cancel, self.settings, self._threads, self._nice))
        with _main_file_hidden():
            proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        self._ready = False
        self._started_at = time.monotonic()

    @property
    def ready(self) -> bool:
        """The child has loaded its models."""
        return self._ready and self.alive

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the models to load: True once loaded, False if not yet.
        Raises AnalysisError (and ends the child) if loading failed or took over START_TIMEOUT_S.
        Short timeouts let a caller stay responsive to a stop request while a model loads."""
        if self._proc is None:
            self._start()
        if self._ready:
            return True
        what = "loading the models"
        conn, _ = self._channel()
        if not conn.poll(timeout):
            if not self.alive:
                raise self._died(what)
            if time.monotonic() - self._started_at > START_TIMEOUT_S:
                self.close()
                raise AnalysisError(f"{what}: the analysis process did not answer within {START_TIMEOUT_S:.0f} s")
            return False
        msg = self._receive(what)
        if msg[0] != "ready":
            self.close()
            raise AnalysisError(msg[1] if msg[0] == "error" else f"unexpected answer {msg[0]!r}")
        self._ready = True
        return True

    def _channel(self) -> tuple[Connection, Event]:
        """The pipe to the running child and its cancel event (``_start`` made both)."""
        if self._conn is None or self._cancel is None:
            raise AnalysisError("the analysis process is not running")
        return self._conn, self._cancel

    def _receive(self, what: str):
        """The child's next message, known to be waiting; ``what`` (a path, or what it was doing)
        prefixes errors."""
        conn, _ = self._channel()
        try:
            return conn.recv()
        except (EOFError, OSError):
            raise self._died(what) from None

    def _died(self, what: str) -> AnalysisError:
        proc = self._proc
        if proc is not None:
            proc.join(2.0)  # reap it, for its exit status
        code = proc.exitcode if proc is not None else None
        self.close()
        return AnalysisError(f"{what}: the analysis process stopped unexpectedly ({_exit_text(code)})")

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def analyze(self, loop: Any, progress=None, cancel=None, priority_frame: int | None = None):
        path = getattr(loop, "path", loop)
        if not os.path.isfile(str(path)):
            raise AnalysisError(f"{path}: the analysis process can only open loop files")
        if not self.alive:
            self._start()  # the previous child crashed or was killed
        while not self.wait_ready(0.05):
            if cancel is not None and cancel():
                raise Cancelled()
        self._jobs += 1
        job = self._jobs
        conn, cancel_event = self._channel()
        cancel_event.clear()
        conn.send(("analyze", job, str(path), None if priority_frame is None else int(priority_frame)))
        cancelled_at = None
        while True:
            if cancelled_at is None and cancel is not None and cancel():
                cancel_event.set()
                cancelled_at = time.monotonic()
            if cancelled_at is not None and time.monotonic() - cancelled_at > CANCEL_GRACE_S:
                self.close()  # stuck between batches (a hung decoder): the next job starts a new child
                raise Cancelled()
            if not conn.poll(0.05):
                if not self.alive:
                    raise self._died(str(path))
                continue
            msg = self._receive(str(path))
            kind, msg_job = msg[0], msg[1]
            if msg_job != job:
                continue  # a late message of an earlier, abandoned job
            if kind == "progress":
                if progress is not None and cancelled_at is None:
                    progress(_unpack(msg[2]))
            elif kind == "done":
                return _unpack(msg[2])
            elif kind == "cancelled":
                raise Cancelled()
            else:
                raise AnalysisError(msg[2])

    def close(self, timeout: float = 3.0) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if proc is None or conn is None:
            return
        if proc.is_alive() and self._cancel is not None:
            self._cancel.set()
        try:
            conn.send(("stop",))
        except (OSError, ValueError):
            pass
        proc.join(timeout)
        if proc.is_alive():
            proc.terminate()
            proc.join(2.0)
        if proc.is_alive():
            proc.kill()
            proc.join(2.0)
        conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@contextlib.contextmanager
def _main_file_hidden():
    """spawn re-runs the parent's ``__main__`` file in the child; a main read from stdin or a
    notebook has a ``__file__`` that is no file, and the child would die on it. The child needs
    nothing from ``__main__`` (its target lives in this module), so hide such a name while starting."""
    main = sys.modules.get("__main__")
    name = getattr(main, "__file__", None)
    if main is None or name is None or os.path.isfile(name):
        yield
        return
    del main.__file__
    try:
        yield
    finally:
        main.__file__ = name


def _exit_text(code: int | None) -> str:
    if code is None:
        return "no exit status"
    if code < 0:
        import signal

        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"
