"""Progress that never contradicts itself (issue 21, item 8): the study list and the status bar show
one number for the loop being analysed, and the timeline of a loop being analysed shows that loop's
axes, not the previous loop's."""

from __future__ import annotations

import re
import threading

from PySide6.QtWidgets import QProgressBar

from echoviewer.session import LoopState
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeAnalyzer, FakeLoop


class Stepped(FakeAnalyzer):
    """Waits for the test before each chunk of every loop but the first."""

    def __init__(self, settings, gate: threading.Event, **kw):
        super().__init__(settings, chunk=10, **kw)
        self.step = gate

    def analyze(self, loop, progress=None, cancel=None, priority_frame=None):
        if loop.path.name.startswith("a_"):
            return super().analyze(loop, progress, cancel, priority_frame)

        def slow(p):
            progress(p)
            self.step.wait(5)
            self.step.clear()

        return super().analyze(loop, slow, cancel, priority_frame)


def bar_percent_for(win, name: str) -> int | None:
    """The percent a visible status-bar progress bar shows for the loop ``name`` (None: no bar names it)."""
    for bar in win.statusBar().findChildren(QProgressBar):
        if bar.isVisible() and name in bar.text():
            m = re.search(r"(\d+)\s*%", bar.text().replace(name, ""))
            return int(m.group(1)) if m else None
    return None


def list_percent(win, key: str) -> int | None:
    m = re.search(r"analysing (\d+) %", win.study_list.item_for(key).text())
    return int(m.group(1)) if m else None


def test_the_list_and_the_status_bar_show_the_same_percent(make_window, study_dir, qtbot):
    gate = threading.Event()
    loops = [FakeLoop(study_dir / "b_slow.avi", n_frames=60)]
    win = make_window(loops, factory=lambda s: Stepped(s, gate))
    win.open_study(study_dir)
    e = win.entries[str(loops[0].path)]
    qtbot.waitUntil(lambda: e.state == LoopState.ANALYSING and e.percent > 0, timeout=5000)
    # an export starts meanwhile: it has a bar of its own (its range and text are not a percent)
    win.progress.setRange(0, 3)
    win.progress.setFormat("export %v/%m")
    win.progress.setValue(1)
    win.progress.show()
    seen = set()
    for _ in range(8):
        qtbot.waitUntil(lambda: list_percent(win, e.key) == e.percent, timeout=5000)
        assert bar_percent_for(win, e.name) == list_percent(win, e.key) == e.percent
        seen.add(e.percent)
        gate.set()
        qtbot.waitUntil(lambda p=e.percent: e.percent != p or e.analysis is not None, timeout=5000)
        if e.analysis is not None:
            break
    assert len(seen) >= 3  # followed it as it grew
    gate.set()
    wait_all_analysed(qtbot, win)
    assert win.progress.text() == "export 1/3"  # the export's bar kept its own


def test_the_timeline_of_a_loop_being_analysed_has_its_own_axes(make_window, study_dir, qtbot):
    gate = threading.Event()
    done = FakeLoop(study_dir / "a_long.avi", n_frames=200, cm_per_pixel=0.05)  # 4 s, in cm²
    waiting = FakeLoop(study_dir / "b_short.avi", n_frames=40, cm_per_pixel=None)  # 0.8 s, uncalibrated
    win = make_window([done, waiting], factory=lambda s: Stepped(s, gate))
    win.open_study(study_dir)
    tl = win.timeline
    qtbot.waitUntil(lambda: tl.analysis is not None, timeout=5000)
    pi = tl.getPlotItem()
    old_y, old_ef = pi.vb.viewRange()[1], tl.ef_vb.viewRange()[1]
    assert pi.getAxis("left").labelText == "LV area (cm²)"
    win.select_loop(str(waiting.path))
    qtbot.wait(50)
    x = pi.vb.viewRange()[0]
    assert x[1] < 1.0  # the new loop's 0.8 s, not the previous 4 s
    assert pi.getAxis("left").labelText != "LV area (cm²)"  # not the previous loop's unit
    assert pi.vb.viewRange()[1] != old_y and tl.ef_vb.viewRange()[1] != old_ef
    assert tl.ef_vb.viewRange()[1] == [0, 100]
    for _ in range(10):
        gate.set()
        qtbot.wait(30)
    wait_all_analysed(qtbot, win)
