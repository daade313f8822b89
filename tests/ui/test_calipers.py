"""Calipers on the real window (issue 21, item 5), driven with the mouse and keys through qtbot:
distance, area and LV trace volume in cm / cm² / mL on a calibrated loop (px otherwise), drawn on
their frame only, listed in the summary panel, undoable, deletable and saved with the corrections."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PySide6.QtCore import Qt

from echoviewer.analysis.calipers import measure
from echoviewer.annotations.model import Corrections
from echoviewer.ui.calipers import label_text
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeLoop

L, R = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NOMOD, SHIFT = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier


def _open(make_window, study_dir, qtbot, cm_per_pixel=0.05):
    loop = FakeLoop(study_dir / "a4c.avi", n_frames=120, height=240, width=320, cm_per_pixel=cm_per_pixel)
    win = make_window([loop])
    assert win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    qtbot.waitUntil(lambda: win.current_entry().corrections is not None, timeout=5000)
    win.player.seek(30)
    return win, loop


@pytest.fixture
def win(make_window, study_dir, qtbot):
    return _open(make_window, study_dir, qtbot)


def click_native(qtbot, win, x, y, button=L):
    """Click the image at native pixel centre (x, y)."""
    view = win.player.view
    pos = view.mapFromScene(win.calipers.layer.mapToScene(x + 0.5, y + 0.5))
    qtbot.mouseClick(view.viewport(), button, NOMOD, pos)
    qtbot.wait(5)


def stored(win):
    return win.current_entry().corrections.measurements


def test_distance_caliper_by_key_and_clicks_shows_its_value_in_cm(win, qtbot):
    w, loop = win
    layer = w.calipers.layer
    assert w.act.measure_distance.isEnabled() and not layer.labels()
    qtbot.keyClick(w, Qt.Key.Key_M)
    assert layer.placing and layer.kind == "distance"
    click_native(qtbot, w, 100, 100)
    click_native(qtbot, w, 160, 180)  # a 3-4-5 triangle: 100 px = 5 cm at 0.05 cm/px
    assert not layer.placing
    (m,) = stored(w)
    assert m["kind"] == "distance" and m["frame"] == 30 and m["cm_per_pixel"] == 0.05
    value = measure("distance", m["points"], 0.05)
    assert value.unit == "cm" and value.value == pytest.approx(5.0, abs=0.05)
    assert np.allclose(m["points"], [(100, 100), (160, 180)], atol=1.0)  # screen pixels round a little
    assert layer.labels() == [label_text("distance", value.text())] and value.text() in layer.labels()[0]
    assert w.calipers.list.texts() == [f"Distance · frame 31 · {value.text()}"] and w.calipers.list.isVisible()
    assert value.text() in w.status_label.text()
    # drawn on its own frame only
    w.player.seek(31)
    assert layer.labels() == []
    w.player.seek(30)
    assert layer.labels() == [label_text("distance", value.text())]
    # saved beside the loop, undone and redone like any correction
    side = json.loads(loop.path.with_name(loop.path.name + ".echoviewer.json").read_text())
    assert side["measurements"][0]["points"] == m["points"]
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert stored(w) == [] and layer.labels() == [] and not w.calipers.list.isVisible()
    qtbot.keyClick(w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | SHIFT)
    assert len(stored(w)) == 1 and len(layer.labels()) == 1


def test_area_and_lv_trace_close_with_enter_and_double_click(win, qtbot):
    w, _ = win
    layer = w.calipers.layer
    qtbot.keyClick(w, Qt.Key.Key_M, SHIFT)
    assert layer.kind == "area" and not w.act.finish.isEnabled()
    for x, y in ((100, 100), (140, 100), (140, 140), (100, 140)):  # 40 px square: 2 x 2 cm
        click_native(qtbot, w, x, y)
    assert w.act.finish.isEnabled()
    qtbot.keyClick(w, Qt.Key.Key_Return)
    (area,) = stored(w)
    a = Corrections.value_of(area)
    assert area["kind"] == "area" and a.unit == "cm²" and a.value == pytest.approx(4.0, rel=0.05)
    # the LV trace: from one hinge round the apex to the other (half an ellipse, a = 30, b = 80 px)
    qtbot.keyClick(w, Qt.Key.Key_T)
    assert layer.kind == "volume"
    t = np.linspace(np.pi, 2 * np.pi, 17)
    pts = np.stack([160 + 30 * np.cos(t), 200 + 80 * np.sin(t)], axis=1)
    for x, y in pts[:-1]:
        click_native(qtbot, w, x, y)
    view = w.player.view
    last = view.mapFromScene(layer.mapToScene(pts[-1][0] + 0.5, pts[-1][1] + 0.5))
    qtbot.mouseClick(view.viewport(), L, NOMOD, last)
    qtbot.mouseDClick(view.viewport(), L, NOMOD, last)  # closes it (and does not fit the image)
    assert not layer.placing
    vol = stored(w)[-1]
    v = Corrections.value_of(vol)
    exact = 2 / 3 * math.pi * 30**2 * 80 * 0.05**3  # half an ellipsoid of revolution, mL
    assert vol["kind"] == "volume" and v.unit == "mL" and v.value == pytest.approx(exact, rel=0.06)
    assert sorted(layer.labels()) == sorted([label_text("area", a.text()), label_text("volume", v.text())])
    assert [e["action"] for e in w.current_entry().corrections.audit] == ["add_measurement"] * 2
    # measurements do not make the loop corrected
    assert not any(b.corrected for b in w.current_entry().corrections.values())


def test_esc_right_click_and_delete(win, qtbot):
    w, _ = win
    layer = w.calipers.layer
    qtbot.keyClick(w, Qt.Key.Key_M)
    click_native(qtbot, w, 50, 50)
    qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert not layer.placing and stored(w) == []
    qtbot.keyClick(w, Qt.Key.Key_M, SHIFT)
    click_native(qtbot, w, 50, 50)
    click_native(qtbot, w, 90, 50)
    click_native(qtbot, w, 200, 200, button=R)  # not a point: removes the last one
    assert len(layer.draft) == 1
    w.player.seek(40)  # a measurement belongs to its frame: leaving it drops the one being placed
    assert not layer.placing
    w.player.seek(30)
    qtbot.keyClick(w, Qt.Key.Key_M)
    click_native(qtbot, w, 10, 10)
    click_native(qtbot, w, 40, 50)
    qtbot.keyClick(w, Qt.Key.Key_M)
    click_native(qtbot, w, 60, 10)
    click_native(qtbot, w, 60, 30)
    assert [len(m["points"]) for m in stored(w)] == [2, 2]
    first = stored(w)[0]["id"]
    lst = w.calipers.list
    lst.list.item(0).setSelected(True)
    qtbot.mouseClick(lst.delete_btn, L)
    assert [m["id"] for m in stored(w)] == [stored(w)[0]["id"]] and stored(w)[0]["id"] != first
    w.act.delete_measurement.trigger()  # nothing selected now: the last one on this frame
    assert stored(w) == [] and not w.act.delete_measurement.isEnabled()


def test_an_uncalibrated_loop_measures_in_pixels(make_window, study_dir, qtbot):
    w, _ = _open(make_window, study_dir, qtbot, cm_per_pixel=None)
    qtbot.keyClick(w, Qt.Key.Key_M)
    assert "in pixels" in w.status_label.text()
    click_native(qtbot, w, 100, 100)
    click_native(qtbot, w, 130, 140)
    (m,) = stored(w)
    v = Corrections.value_of(m)
    assert m["cm_per_pixel"] is None and v.unit == "px" and v.value == pytest.approx(50.0, abs=1.0)
    assert w.calipers.layer.labels() == [v.text()]


def test_the_image_menu_and_the_measure_menu_hold_the_calipers(win):
    w, _ = win
    image = w.act.image_menu.actions()
    menus = {a.text(): a.menu() for a in w.menuBar().actions()}
    for a in (w.act.measure_distance, w.act.measure_area, w.act.measure_volume, w.act.delete_measurement):
        assert a in image and a in menus["&Measure"].actions()
