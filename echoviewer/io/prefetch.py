"""Decode the frames a viewer will show next, in a background thread.

The playing viewer asks for the next few frames after each one it draws; this thread reads them
into the loop's frame cache, so the frame tick finds them decoded. The decoders (Pillow's JPEG,
OpenCV's video, cv2 colour conversion) release the GIL while they work, so the decode leaves the
UI thread's 20 ms frame budget. Qt-free: any viewer (or a test) can use it.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable
from typing import Any

#: Added to the thread's nice value (Linux): when the two cores are busy it yields to the UI
#: thread, which draws the frames it decodes, and still comes before the analysis (nice 10).
PREFETCH_NICE = 5


def _lower_this_threads_priority(by: int) -> None:
    # a nice value belongs to a thread on Linux only; elsewhere PRIO_PROCESS would take a pid
    if not sys.platform.startswith("linux"):
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + by)
    except OSError:
        pass


class FramePrefetcher:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._loop: Any = None
        self._todo: list[int] = []
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.native_id: int | None = None  # the thread's, once started
        self._prepare: Any = None  # a loop whose geometry to work out before any frame
        self._reading: Any = None  # the loop of the read in progress
        self._close_after: Any = None  # a loop to close once that read is done
        self.decoded = 0  # frames this thread read into a cache (for tests and benchmarks)

    def want(self, loop: Any, frames: Iterable[int]) -> None:
        """Read ``frames`` of ``loop`` in this order, replacing any earlier wish."""
        with self._cond:
            if self._stopped:
                return
            self._loop, self._todo = loop, [int(i) for i in frames]
            self._start()
            self._cond.notify()

    def prepare(self, loop: Any) -> None:
        """Work out ``loop``'s geometry (``prepare_geometry()``: region detection decodes frames
        spread over the loop) before the next frame read, off the caller's thread."""
        if getattr(loop, "prepare_geometry", None) is None:
            return
        with self._cond:
            if self._stopped:
                return
            self._prepare = loop
            self._start()
            self._cond.notify()

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="frame-prefetch", daemon=True)
            self._thread.start()

    def idle(self) -> bool:
        """Nothing left to read or prepare (and no read in progress)."""
        with self._cond:
            return not self._todo and self._prepare is None and self._reading is None

    def cancel(self, leaving: Any = None) -> None:
        """Drop the wishes (frames and geometry). With ``leaving`` (a loop the viewer leaves),
        close it too, after the read of it in progress if there is one: closing first would let
        that read reopen it."""
        self.want(None, [])
        with self._cond:
            self._prepare = None
        if leaving is None:
            return
        with self._cond:
            if self._reading is leaving:
                self._close_after = leaving
                return
        leaving.close()

    def close(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stopped = True
            self._loop, self._todo = None, []
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        _lower_this_threads_priority(PREFETCH_NICE)
        self.native_id = threading.get_native_id()
        while True:
            with self._cond:
                while not self._todo and self._prepare is None and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                if self._prepare is not None:
                    loop, i, self._prepare = self._prepare, None, None
                else:
                    loop, i = self._loop, self._todo.pop(0)
                self._reading = loop
            is_cached = getattr(loop, "is_cached", None)
            try:
                if i is None:
                    loop.prepare_geometry()
                elif is_cached is not None and not is_cached(i):  # else not an io.Loop: no cache
                    loop.frame(i)
                    self.decoded += 1
            except Exception:
                pass
            with self._cond:
                self._reading, done_with = None, self._close_after
                self._close_after = None
            if done_with is not None:
                done_with.close()
