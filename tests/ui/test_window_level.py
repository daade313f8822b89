"""Window/level (issue 21, item 4): right-drag on the image, presets, reset; display only; a
right-click without a drag opens the image's menu; in correction mode right-click still deletes."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from echoviewer.ui.window_level import DEFAULT, PRESETS, WindowLevel
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeLoop

R = Qt.MouseButton.RightButton
NOMOD = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def win(make_window, study_dir, qtbot):
    loops = [FakeLoop(study_dir / f"a4c_{i}.avi", n_frames=120, height=240, width=320) for i in range(2)]
    w = make_window(loops)
    assert w.open_study(study_dir)
    wait_all_analysed(qtbot, w)
    qtbot.waitUntil(lambda: w.current_entry().corrections is not None, timeout=5000)
    w.loops = loops
    return w


def right_drag(qtbot, widget, start: QPoint, end: QPoint, steps: int = 5) -> None:
    qtbot.mousePress(widget, R, NOMOD, start)
    for k in range(1, steps + 1):
        qtbot.wait(15)  # pyqtgraph drops mouse moves closer than 10 ms apart
        qtbot.mouseMove(widget, start + (end - start) * (k / steps))
    qtbot.wait(15)
    qtbot.mouseRelease(widget, R, NOMOD, end)


def centre(win) -> QPoint:
    vp = win.player.view.viewport()
    return QPoint(vp.width() // 2, vp.height() // 2)


def test_right_drag_sets_window_level_for_display_only(win, qtbot):
    p, lp = win.player, win.loops[0]
    p.seek(30)
    raw = lp.frame(30).copy()
    range_before = p.vb.viewRange()
    c = centre(win)
    right_drag(qtbot, p.view.viewport(), c, c + QPoint(-60, -40))
    wl = p.window_level
    assert wl.width < DEFAULT.width and wl.level < DEFAULT.level  # left: more contrast; up: brighter
    assert p.image.levels is not None and tuple(np.asarray(p.image.levels, float)) == wl.levels()
    assert np.allclose(p.vb.viewRange(), range_before)  # right-drag no longer zooms the view
    # display only: the frame on screen, the loop's frames and the exported PNG keep their pixels
    assert np.array_equal(p.image.image, raw) and np.array_equal(lp.frame(30), raw)
    png = win.exports.frame_image()
    outside = ~lp.transform.mask_to_native(win.current_entry().analysis.masks[30], (lp.height, lp.width))
    assert np.array_equal(png[outside][:, 0], raw[outside])
    assert wl.label() in p.info_label.text()  # said beside the frame while it differs from the default
    p.seek(31)
    assert tuple(np.asarray(p.image.levels, float)) == wl.levels()  # kept while playing on
    qtbot.keyClick(win, Qt.Key.Key_W)
    assert p.window_level == DEFAULT and p.image.levels is None
    assert "W " not in p.info_label.text()


def test_presets_and_reset_from_the_view_menu(win, qtbot):
    p = win.player
    titles = [a.text() for a in win.act.wl_menu.actions() if not a.isSeparator()]
    assert titles[:len(PRESETS)] == [name for name, _ in PRESETS] and "Reset window/level" in titles[-1]
    brighter = dict(PRESETS)["Brighter"]
    win.act.wl_presets[1].trigger()
    assert p.window_level == brighter and win.act.wl_presets[1].isChecked()
    assert win.act.wl_reset.isEnabled()
    win.act.wl_reset.trigger()
    assert p.window_level == DEFAULT and win.act.wl_presets[0].isChecked() and not win.act.wl_reset.isEnabled()
    p.set_window_level(WindowLevel(100, 90))  # a right-drag's value: no preset is checked
    assert not any(a.isChecked() for a in win.act.wl_presets)


def test_a_right_click_without_drag_opens_the_image_menu(win, qtbot):
    vp = win.player.view.viewport()
    qtbot.mouseClick(vp, R, NOMOD, centre(win))
    menu = win.act.image_menu
    qtbot.waitUntil(menu.isVisible, timeout=2000)
    texts = [a.text() for a in menu.actions()]
    assert win.act.overlay in menu.actions() and win.act.fit in menu.actions()
    assert win.act.png_frame in menu.actions() and win.act.copy_frame in menu.actions()
    assert win.act.wl_reset in menu.actions() and any("Window/level" in t for t in texts)
    menu.close()
    assert win.player.window_level == DEFAULT  # a click is not a drag


def test_right_click_on_a_tracing_point_still_deletes_it_in_correction_mode(win, qtbot):
    qtbot.keyClick(win, Qt.Key.Key_E)
    win.seek(0)  # beat 1's ED: the editor shows its tracing
    ed = win.player.editor
    assert ed.isVisible()
    n = len(ed.points)
    pos = win.player.view.mapFromScene(ed.scene_pos_of(("point", 3)))
    qtbot.mouseClick(win.player.view.viewport(), R, NOMOD, pos)
    assert len(ed.points) == n - 1
    assert not win.act.image_menu.isVisible() and win.player.window_level == DEFAULT


def test_the_info_line_is_in_view_and_never_widens_the_window(win, qtbot):
    p = win.player
    p.set_window_level(dict(PRESETS)["Brighter"])
    qtbot.wait(20)
    label = p.info_label
    assert "W 170 · L 85" in label.text()
    assert label.isVisible() and label.width() >= label.fontMetrics().horizontalAdvance(label.text())
    width = win.width()
    label.setText("x" * 600)  # a line far longer than the header
    qtbot.wait(20)
    assert win.width() == width
