"""Frames read ahead in a background thread, and Loop.frame from several threads."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest

from echoviewer.io import Loop, open_loop
from echoviewer.io.loop import ArraySource
from echoviewer.io.prefetch import PREFETCH_NICE, FramePrefetcher

from .conftest import write_video


def _wait(cond, timeout=5.0) -> bool:
    done = threading.Event()
    for _ in range(int(timeout / 0.01)):
        if cond():
            return True
        done.wait(0.01)
    return cond()


def test_prefetcher_reads_the_wanted_frames_into_the_loop_cache(tmp_path, colour_frames):
    loop = open_loop(write_video(tmp_path / "a.avi", colour_frames))
    p = FramePrefetcher()
    try:
        p.want(loop, [3, 4, 5])
        assert _wait(lambda: all(loop.is_cached(i) for i in (3, 4, 5)))
        assert p.decoded == 3
        assert not loop.is_cached(6)
        # what the viewer then gets from the cache is what a direct read decodes
        fresh = open_loop(loop.path)
        for i in (3, 4, 5):
            assert np.array_equal(loop.frame(i), fresh.frame(i))
        p.want(loop, [4, 5])  # already cached: nothing decoded again
        assert _wait(p.idle)
        assert p.decoded == 3
    finally:
        p.close()
    assert p._thread is not None and not p._thread.is_alive()


def test_a_bad_frame_does_not_stop_the_prefetcher(grey_frames):
    loop = Loop.from_frames(grey_frames)
    p = FramePrefetcher()
    try:
        p.want(loop, [999, 2])  # out of range, then a good one
        assert _wait(lambda: loop.is_cached(2))
        p.want(object(), [1])  # not a Loop: ignored
        p.want(loop, [1])
        assert _wait(lambda: loop.is_cached(1))
    finally:
        p.close()


class _GatedSource(ArraySource):
    """Frame 5 decodes only when the test opens the gate."""

    def __init__(self, frames):
        super().__init__(frames)
        self.gate, self.entered = threading.Event(), threading.Event()

    def read(self, i):
        if i == 5:
            self.entered.set()
            assert self.gate.wait(10)
        return super().read(i)


def _read_from_another_thread(loop, i):
    """Frame ``i`` as another thread reads it, or None if that read is still waiting after 5 s."""
    got = []
    reader = threading.Thread(target=lambda: got.append(loop.frame(i)), daemon=True)
    reader.start()
    reader.join(5)
    return None if reader.is_alive() else got[0]


def _loop(src) -> Loop:
    f = src.frames
    return Loop(path="<memory>", kind="array", n_frames=len(f), height=f.shape[1], width=f.shape[2], fps=30.0,
                fps_source="given", cm_per_pixel=None, source=src)


def test_cached_frames_are_served_while_another_thread_decodes(grey_frames):
    src = _GatedSource(grey_frames)
    loop = _loop(src)
    first = loop.frame(0)
    decoder = threading.Thread(target=loop.frame, args=(5,))
    decoder.start()
    assert src.entered.wait(5)  # frame 5 is being decoded, and stays so until the gate opens
    assert _read_from_another_thread(loop, 0) is first  # did not wait for the decode
    src.gate.set()
    decoder.join(5)
    assert loop.is_cached(5) and np.array_equal(loop.frame(5), grey_frames[5])


def test_a_loop_left_while_its_frame_is_read_is_closed_after_that_read(grey_frames):
    """The viewer leaves a loop while the prefetcher decodes one of its frames: closing it at once
    would let that read put a frame (and, for files, an open handle) back; it closes after."""
    src = _GatedSource(grey_frames)
    closed = []
    src.close = lambda: closed.append("closed")
    loop = _loop(src)
    loop.frame(0)
    p = FramePrefetcher()
    try:
        p.want(loop, [5, 6])
        assert src.entered.wait(5)
        p.cancel(leaving=loop)
        assert closed == [] and loop.is_cached(0)  # not yet: frame 5 is still being read
        src.gate.set()
        assert _wait(p.idle)
        assert closed == ["closed"]
        # closed after the read, which had cached frame 5: so no frame is left; 6 was not read
        assert not loop.is_cached(5) and not loop.is_cached(0) and not loop.is_cached(6)
        other = Loop.from_frames(grey_frames)
        other.frame(1)
        p.cancel(leaving=other)  # nothing in flight: closed at once
        assert not other.is_cached(1)
    finally:
        p.close()


def test_the_prefetcher_works_out_a_loops_region_off_the_callers_thread(grey_frames):
    """Region detection decodes frames spread over the loop (0.1 s for a 640x480 AVI): the viewer
    hands it to the prefetch thread, and meanwhile reads cached frames without waiting for it."""
    src = _GatedSource(grey_frames)
    loop = _loop(src)
    first = loop.frame(0)
    p = FramePrefetcher()
    try:
        p.prepare(loop)
        assert src.entered.wait(5)  # the detection is decoding its samples (frame 5 among them)
        assert loop.region_source == "pending" and not p.idle()
        assert _read_from_another_thread(loop, 0) is first  # not held up by the detection
        src.gate.set()
        assert _wait(p.idle)
        assert loop.region_source != "pending" and loop.transform is not None
        # a wish dropped before the thread reaches it is not carried out
        busy, later = _GatedSource(grey_frames), _loop(ArraySource(grey_frames))
        p.want(_loop(busy), [5])
        assert busy.entered.wait(5)
        p.prepare(later)
        p.cancel()
        busy.gate.set()
        assert _wait(p.idle)
        assert later.region_source == "pending"
    finally:
        p.close()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_the_prefetch_thread_yields_the_cpu_to_the_ui_thread(grey_frames):
    loop = Loop.from_frames(grey_frames)
    p = FramePrefetcher()
    try:
        p.want(loop, [1])
        assert _wait(lambda: loop.is_cached(1))
        mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        assert os.getpriority(os.PRIO_PROCESS, p.native_id) == min(mine + PREFETCH_NICE, 19)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine  # the caller's is unchanged
    finally:
        p.close()
