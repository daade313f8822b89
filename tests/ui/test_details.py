"""Small things that were wrong (issue 21, item 10): the speed in the info line, beat-table values cut
short, an EF axis reading below 0 %, and a beat flag about EF clips in words a sonographer reads."""

from __future__ import annotations

import numpy as np
import pytest

from echoviewer.pipeline.preprocess import CLIP_NOTES
from echoviewer.pipeline.results import Beat
from echoviewer.ui.timeline import TimelineWidget
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeAnalyzer, FakeLoop, fake_analysis


@pytest.fixture
def long_loop(make_window, study_dir, qtbot):
    """A 12 s loop: beats end past frame 100 (three-digit frame numbers)."""
    win = make_window([FakeLoop(study_dir / "a4c_long.avi", n_frames=600)])
    assert win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    qtbot.waitUntil(lambda: win.summary.beats.rowCount() > 0, timeout=5000)
    return win


def test_the_speed_in_the_info_line_changes_with_the_speed_not_a_frame_later(long_loop, qtbot):
    p = long_loop.player
    assert "1×" in p.info_label.text()
    p.speed_box.setCurrentIndex(p.speed_box.findData(0.5))
    assert "0.5×" in p.info_label.text()
    p.set_speed(2.0)
    assert "2×" in p.info_label.text() and p.speed_box.currentData() == 2.0


def test_beat_table_values_are_never_cut(long_loop, qtbot):
    win = long_loop
    win.act.correct.trigger()  # correction mode: one more column (the corrected EF)
    c = win.current_entry().corrections
    beat = c.beats[-1]
    c.set_frame(beat["id"], "es", beat["es_frame"] - 1)  # a corrected loop shows the "✎ EF" column
    win.request_redraw()
    qtbot.wait(50)
    table = win.summary.beats
    assert table.columnCount() == 5
    assert win.summary.width() <= 360  # the panel at its usual width
    long_cells = 0
    for col in range(table.columnCount()):
        # as wide as Qt needs to draw its longest value whole ("111–…" before)
        assert table.columnWidth(col) >= table.sizeHintForColumn(col), f"column {col} cuts its values"
        for r in range(table.rowCount()):
            it = table.item(r, col)
            long_cells += len(it.text()) >= 7
            assert it.text() in it.toolTip()  # and each value in full in its tooltip
    assert long_cells >= 3  # "481–501" and the like were checked
    assert sum(table.columnWidth(c) for c in range(table.columnCount())) <= table.viewport().width()  # all in view


def test_the_ef_axis_never_reads_below_zero(make_window, qtbot, study_dir):
    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(800, 240)
    tl.show()
    lp = FakeLoop(study_dir / "x.avi", n_frames=120)
    a = fake_analysis(lp, np.stack([np.ones((112, 112), bool)] * 120))
    a.beats = [Beat(number=1, ed_frame=0, es_frame=20, ef_model=12.0, ef_seg=12.0),
               Beat(number=2, ed_frame=40, es_frame=60, ef_model=38.0, ef_seg=38.0)]
    a.ef_mean, a.ef_sd = 25.0, 18.0
    tl.set_analysis(a)
    lo, hi = tl.ef_vb.viewRange()[1]
    assert lo < 0  # the view reaches below 0 so the EF points sit above the area curve...
    axis = tl.getPlotItem().getAxis("right")
    ticks = [v for _spacing, values in axis.tickValues(lo, hi, 200) for v in values]
    assert ticks and min(ticks) >= 0  # ...but the axis never reads a negative EF


def test_a_moved_ef_clip_is_explained_in_the_beat_table(make_window, study_dir, qtbot):
    class Shifted(FakeAnalyzer):
        def analyze(self, loop, progress=None, cancel=None, priority_frame=None):
            a = super().analyze(loop, progress, cancel, priority_frame)
            a.beats[0].clip_mode = "shifted"
            a.beats[0].flags = [CLIP_NOTES["shifted"]]
            return a

    win = make_window([FakeLoop(study_dir / "a.avi", n_frames=120)], factory=lambda s: Shifted(s))
    assert win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    qtbot.waitUntil(lambda: win.summary.beats.rowCount() > 0, timeout=5000)
    assert "EF clip moved to fit inside the loop" in win.summary.beats.item(0, 0).toolTip()
    assert "clip shifted" not in win.summary.beats.item(0, 0).toolTip()


def test_no_window_text_asks_for_a_command_line_option():
    """Every string the window's modules show (ui/, but the `gui` command's own parser) names the
    app's menus and Settings, never an option of the command line."""
    import ast
    import re
    from pathlib import Path

    ui = Path(__file__).resolve().parents[2] / "echoviewer" / "ui"
    found = []
    for f in ui.glob("*.py"):
        if f.name == "cli.py":
            continue
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and \
                    re.search(r"(^|\s|\()--[a-z]", node.value):
                found.append(f"{f.name}: {node.value!r}")
    assert found == []
