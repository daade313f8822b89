"""Decode the frames a viewer will show next, in a background thread.

The playing viewer asks for the next few frames after each one it draws; this thread reads them
into the loop's frame cache, so the frame tick finds them decoded. The decoders (Pillow's JPEG,
OpenCV's video, cv2 colour conversion) release the GIL while they work, so the decode leaves the
UI thread's 20 ms frame budget. Qt-free: any viewer (or a test) can use it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any


class FramePrefetcher:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._loop: Any = None
        self._todo: list[int] = []
        self._stopped = False
        self._thread: threading.Thread | None = None
        self._busy = False
        self._reading: Any = None  # the loop of the read in progress
        self._close_after: Any = None  # a loop to close once that read is done
        self.decoded = 0  # frames this thread read into a cache (for tests and benchmarks)

    def want(self, loop: Any, frames: Iterable[int]) -> None:
        """Read ``frames`` of ``loop`` in this order, replacing any earlier wish."""
        with self._cond:
            if self._stopped:
                return
            self._loop, self._todo = loop, [int(i) for i in frames]
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="frame-prefetch", daemon=True)
                self._thread.start()
            self._cond.notify()

    def idle(self) -> bool:
        """Nothing left to read (and no read in progress)."""
        with self._cond:
            return not self._todo and not self._busy

    def cancel(self, close: Any = None) -> None:
        """Drop the wishes. With ``close`` (a loop the viewer leaves), close it too, after the
        read of it in progress if there is one: closing first would let that read reopen it."""
        self.want(None, [])
        if close is None:
            return
        with self._cond:
            if self._busy and self._reading is close:
                self._close_after = close
                return
        close.close()

    def close(self, timeout: float = 2.0) -> None:
        with self._cond:
            self._stopped = True
            self._loop, self._todo = None, []
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                while not self._todo and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                loop, i = self._loop, self._todo.pop(0)
                self._busy, self._reading = True, loop
            is_cached = getattr(loop, "is_cached", None)
            try:
                if is_cached is not None and not is_cached(i):  # else not an io.Loop: no cache
                    loop.frame(i)
                    self.decoded += 1
            except Exception:  # noqa: BLE001 - the viewer reports a bad frame when it reaches it
                pass
            with self._cond:
                self._reading, done_with = None, self._close_after
                self._close_after = None
            if done_with is not None:
                done_with.close()
