"""Model-grid frames of a loop, decoded in a background thread while the models run.

The analyzer asks for batches of frame indices; each call waits only until those frames are
decoded, so segmentation starts after the first batch rather than after the whole file. Frames
wanted early (around the viewer's playhead) that the sequential decoder will not reach soon are
decoded directly by random access.
"""

from __future__ import annotations

import threading

import numpy as np

#: Random access is used for wanted frames further than this past the sequential decoder.
RANDOM_ACCESS_AHEAD = 48


class GridFeeder:
    def __init__(self, loop):
        self.loop = loop
        self.n = int(loop.n_frames)
        cached = getattr(loop, "_grid", None)
        self._cond = threading.Condition()
        self._error: BaseException | None = None
        self._random: set[int] = set()
        self._go = threading.Event()  # cleared by pause(): the decoder waits before its next frame
        self._go.set()
        if cached is not None:
            self.arr = cached
            self.ready = self.n = len(cached)
            self.done = True
            return
        self.arr = np.zeros((self.n, 112, 112, 3), dtype=np.uint8)
        self.ready = 0  # frames [0, ready) are decoded
        self.done = False
        self._stop = False
        self._thread = threading.Thread(target=self._decode, name="grid-decoder", daemon=True)
        self._thread.start()

    def _warp(self, frame: np.ndarray) -> np.ndarray:
        g = self.loop.transform.warp_to_grid(frame)
        return g[..., None] if g.ndim == 2 else g

    def _decode(self) -> None:
        try:
            k = 0
            for frame in self.loop.iter_frames():
                self._go.wait()
                if self._stop or k >= self.n:
                    break
                if k not in self._random:
                    self.arr[k] = self._warp(frame)
                k += 1
                if k % 8 == 0:
                    with self._cond:
                        self.ready = k
                        self._cond.notify_all()
            with self._cond:
                if k == 0:
                    raise RuntimeError(f"{self.loop.path}: no frame could be decoded")
                self.n = self.ready = k  # a file may hold fewer frames than its header says
                self.done = True
                self._cond.notify_all()
        except BaseException as exc:  # surfaced to the caller by wait()
            with self._cond:
                self._error = exc
                self.done = True
                self._cond.notify_all()

    def prefetch(self, idx: np.ndarray) -> None:
        """Decode wanted frames far ahead of the sequential decoder by random access."""
        if self.done:
            return
        for i in idx:
            i = int(i)
            if i >= self.ready + RANDOM_ACCESS_AHEAD and i not in self._random:
                self.arr[i] = self._warp(self.loop.frame(i))
                self._random.add(i)

    def get(self, idx: np.ndarray) -> np.ndarray:
        """Frames ``idx`` (sorted) on the grid, waiting for the decoder as needed."""
        idx = np.asarray(idx)
        need = [int(i) for i in idx if int(i) not in self._random]
        if need:
            self._wait_for(max(need) + 1)
        idx = idx[idx < self.n]
        return self.arr[idx]

    def _wait_for(self, count: int) -> None:
        with self._cond:
            while self.ready < count and not self.done:
                self._cond.wait(0.5)
            if self._error is not None:
                raise self._error

    def pause(self) -> None:
        """Stop decoding until resume(). For the batch a viewer waits for: the decoder's Python
        code, run between the model's layers, took the GIL from it often enough to make the
        official DeepLabV3's first 4 frames take 0.5 s instead of 0.15 s. Frames already returned
        by get() stay valid; get() of others would wait for resume()."""
        self._go.clear()

    def resume(self) -> None:
        self._go.set()

    def all(self) -> np.ndarray:
        self._wait_for(self.n)
        with self._cond:
            return self.arr[: self.n]

    def close(self) -> None:
        self._stop = True
        self._go.set()
