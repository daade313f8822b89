"""The window on a real study folder read by echoviewer.io (the analyzer is still a fake)."""

from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeAnalyzer

io = pytest.importorskip("echoviewer.io")
if not hasattr(io, "scan_study"):
    pytest.skip("echoviewer.io.scan_study not written yet", allow_module_level=True)


def write_avi(path, n=40, size=(120, 160), fps=50.0):
    h, w = size
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    assert vw.isOpened()
    yy, xx = np.mgrid[0:h, 0:w]
    for i in range(n):
        r = 25 + 10 * np.cos(2 * np.pi * i / 40)
        img = np.full((h, w), 20, np.uint8)
        img[((xx - w / 2) / (0.6 * r)) ** 2 + ((yy - h / 2) / r) ** 2 <= 1] = 200
        vw.write(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR))
    vw.release()


class OwnCopyAnalyzer(FakeAnalyzer):
    """Opens its own copy of each file, as the app's analysis process does."""

    def analyze(self, loop, **kw):
        with io.open_loop(loop.path) as own:
            return super().analyze(own, **kw)


@pytest.fixture
def real_window(make_window):
    """real_window(analyzer=FakeAnalyzer) -> a shown MainWindow that scans with echoviewer.io."""
    from echoviewer.ui.main_window import _default_scan

    return lambda analyzer=FakeAnalyzer: make_window(factory=lambda s: analyzer(s), scan=_default_scan)


@pytest.fixture
def real_study(study_dir):
    write_avi(study_dir / "a4c_1.avi")
    write_avi(study_dir / "a4c_2.avi", n=30)
    (study_dir / "broken.avi").write_bytes(b"this is not a video" * 20)
    return study_dir


def test_real_study_folder(real_study, real_window, qtbot):
    win = real_window()
    assert win.open_study(real_study)
    keys = [win.entries[k].name for k in win.order]
    assert keys == ["a4c_1.avi", "a4c_2.avi", "broken.avi"]
    bad = win.entries[str(real_study / "broken.avi")]
    assert bad.state == "unreadable" and bad.message  # the reader's one-line reason
    row = win.study_list.item_for(bad.key)
    assert "unreadable: " + bad.message in row.text()
    assert str(real_study / "broken.avi") in row.toolTip() and bad.message in row.toolTip()
    wait_all_analysed(qtbot, win)
    e = win.entries[str(real_study / "a4c_1.avi")]
    lp = e.loop
    assert isinstance(lp, io.Loop)
    row = win.study_list.item_for(e.key)
    assert "40 frames" in row.text() and "50 fps" in row.text()
    win.player.seek(10)
    img = win.player.image.image
    assert img.shape[:2] == (lp.height, lp.width)
    assert np.array_equal(img, lp.frame(10))
    expected = lp.transform.mask_to_native(e.analysis.masks[10], (lp.height, lp.width))
    assert np.array_equal(win.player.overlay.image[..., 3] > 0, expected)
    assert not row.icon().isNull()


def test_opening_a_file_opens_its_folder_with_that_loop_first(real_study, real_window, qtbot):
    started = []
    win = real_window()
    win.worker.started.connect(started.append)
    assert win.open_study(real_study / "a4c_2.avi")
    assert win.study_path == str(real_study) and len(win.order) == 3
    assert win.current_key == str(real_study / "a4c_2.avi")
    wait_all_analysed(qtbot, win)
    assert started[0] == str(real_study / "a4c_2.avi")  # analysed first


def test_playing_decodes_the_next_frames_ahead_of_the_playhead(real_study, real_window, qtbot):
    from echoviewer.ui.player import PREFETCH_AHEAD

    win = real_window()
    assert win.open_study(real_study / "a4c_1.avi")
    loop = win.player.loop
    loop.drop_cache()
    win.player.seek(10)
    win.player.play()
    qtbot.waitUntil(lambda: win.player.prefetch.decoded >= PREFETCH_AHEAD, timeout=5000)
    win.player.pause()
    qtbot.waitUntil(win.player.prefetch.idle, timeout=5000)
    now = win.player.current
    ahead = [(now + k) % loop.n_frames for k in range(1, PREFETCH_AHEAD + 1)]
    assert all(loop.is_cached(i) for i in ahead)  # decoded before the tick that shows them
    win.player.set_loop(None)  # another loop: the old one's wishes are dropped
    assert win.player.prefetch._todo == []
    win.shutdown()
    assert not win.player.prefetch._thread.is_alive()


def test_only_the_loop_on_screen_keeps_its_file_and_decoded_frames(real_study, real_window, qtbot):
    """Viewing loop after loop must not pile up every loop's frame cache (up to 256 MB each), nor
    keep files open that the user may want to move."""

    def held(path):
        if not os.path.isdir("/proc/self/fd"):  # Linux only; the caches are checked everywhere
            return None
        links = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                links.add(os.readlink(f"/proc/self/fd/{fd}"))
            except OSError:
                pass
        return str(path) in links

    win = real_window(OwnCopyAnalyzer)
    assert win.open_study(real_study / "a4c_1.avi")
    first = win.player.loop
    other = win.entries[str(real_study / "a4c_2.avi")]
    qtbot.waitUntil(lambda: not win.study_list.thumbnails_pending(), timeout=5000)  # its thumbnail is read ...
    # (the analyzer runs in this process here, unlike the app's, and holds its own copy of the file
    # while it analyses it: wait for it, so that only the window's handles are counted)
    wait_all_analysed(qtbot, win)
    assert held(other.loop.path) in (False, None) and not other.loop.is_cached(0)  # ... and let go
    for f in (30, 3, 4, 5):
        win.player.seek(f)
    assert all(first.is_cached(f) for f in (3, 4, 5))
    assert held(first.path) in (True, None)
    win.study_list.setCurrentRow(win.order.index(str(real_study / "a4c_2.avi")))  # the user picks another loop
    second = win.player.loop
    assert second is not first and second.path.name == "a4c_2.avi"
    assert not any(first.is_cached(f) for f in range(first.n_frames))
    assert held(first.path) in (False, None)
    assert second.is_cached(win.player.current)
    win.player.seek(7)
    assert np.array_equal(win.player.image.image, second.frame(7))
    win.study_list.setCurrentRow(0)  # back: opened and decoded again on demand
    assert win.player.loop is first
    win.player.seek(31)
    assert np.array_equal(win.player.image.image, first.frame(31)) and first.is_cached(31)


def test_showing_a_loop_never_detects_its_region_on_the_ui_thread(real_study, real_window, qtbot, monkeypatch):
    """Region detection decodes frames spread over the loop: 0.12-0.17 s of UI freeze per loop
    switch for the demo's 640x480 AVIs. The window leaves it to the prefetch thread while a loop's
    analysis runs, and takes an analysed loop's region from its analysis."""
    import threading

    from echoviewer.io import loop as loop_mod

    detected = []  # (thread, path) of each detection in the window's own loops
    real_detect = loop_mod.detect_region

    def spy(frames, *a, **kw):
        detected.append(threading.current_thread())
        return real_detect(frames, *a, **kw)

    with io.open_loop(real_study / "a4c_2.avi") as fresh:  # what a detection here finds
        want = (fresh.region, fresh.region_source)
    gate = threading.Event()  # the first loop's analysis waits until its region is known
    win = real_window(lambda s: OwnCopyAnalyzer(s, gate=gate))
    monkeypatch.setattr(loop_mod, "detect_region", spy)
    assert win.open_study(real_study / "a4c_1.avi")
    first = win.player.loop
    qtbot.waitUntil(lambda: first.region_source != "pending", timeout=5000)
    assert len(detected) == 1 and detected[0] is not threading.main_thread()
    window_detections = len(detected)
    gate.set()
    wait_all_analysed(qtbot, win)
    detected.clear()  # the analyzer's own copies detect theirs; the window's loops must not
    other = win.entries[str(real_study / "a4c_2.avi")]
    assert (other.loop.region, other.loop.region_source) == want  # adopted when its analysis ended
    win.select_loop(str(real_study / "a4c_2.avi"))
    assert win.player.loop is other.loop and win.player.overlay.isVisible()
    lp = other.loop
    expected = lp.transform.mask_to_native(other.analysis.masks[win.player.current], (lp.height, lp.width))
    assert np.array_equal(win.player.overlay.image[..., 3] > 0, expected)
    assert window_detections == 1 and not detected  # adopted from the analysis, not detected again
