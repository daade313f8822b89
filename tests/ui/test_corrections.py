"""Correction mode driven through qtbot: keys, timeline marker drags, tracing edits, undo/redo,
autosave and restore, exclusions, the corrected report and the EchoNet export (fake analyzer)."""

from __future__ import annotations

import copy
import csv
import errno
import json

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QDialogButtonBox, QToolBar

from echoviewer.analysis.tracing import tracing_from_mask
from echoviewer.annotations import store
from echoviewer.export.echonet_export import pick_beat
from echoviewer.ui.dialogs import PRESET_REASONS, ExportCorrectionsDialog
from echoviewer.ui.settings import SettingsDialog, UiSettings
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeLoop, fake_scan_factory

# fake loops: 120 frames at 50 fps, period 40 frames -> beats (ED, ES) = (0, 20), (40, 60), (80, 100);
# beat 3 is excluded by the (fake) analysis, beat 2 flagged.
L, R = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NOMOD, SHIFT = Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ShiftModifier


def _loops(folder, n=2):
    return [FakeLoop(folder / f"a4c_{i}.avi", n_frames=120, height=240, width=320) for i in range(n)]


def _open(make_window, study_dir, qtbot, loops=None):
    loops = loops or _loops(study_dir)
    win = make_window(loops)
    assert win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    qtbot.waitUntil(lambda: win.current_entry().corrections is not None, timeout=5000)
    return win, loops


@pytest.fixture
def win(make_window, study_dir, qtbot):
    w, _ = _open(make_window, study_dir, qtbot)
    return w


def corr(win):
    return win.current_entry().corrections


def beats(c):
    """The beats part of a Corrections state (what undo/redo must restore exactly)."""
    return copy.deepcopy(c.state["beats"])


def key(qtbot, win, k, mod=NOMOD):
    qtbot.keyClick(win, k, mod)


def enter_mode(qtbot, win):
    key(qtbot, win, Qt.Key.Key_E)
    assert win.corrector.active


def handle_pos(win, target) -> QPoint:
    return win.player.view.mapFromScene(win.player.editor.scene_pos_of(target))


def drag(qtbot, widget, start: QPoint, end: QPoint, steps=4, release=True, mod=NOMOD):
    qtbot.mousePress(widget, L, mod, start)
    for k in range(1, steps + 1):
        qtbot.wait(15)  # pyqtgraph drops mouse moves closer than 10 ms apart
        qtbot.mouseMove(widget, start + (end - start) * (k / steps))
    if release:
        qtbot.wait(15)
        qtbot.mouseRelease(widget, L, mod, end)


def lateral_point(win) -> int:
    """The contour handle furthest right (on the lateral wall)."""
    return int(np.argmax(win.player.editor.points[:, 0]))


def sidecar(loop):
    return loop.path.with_name(loop.path.name + ".echoviewer.json")


# -- mode ------------------------------------------------------------------------------------------
def test_correction_mode_by_key_and_toolbar_button(win, qtbot):
    assert not win.corrector.active and not win.player.mode_label.isVisible()
    key(qtbot, win, Qt.Key.Key_E)
    assert win.corrector.active and win.act.correct.isChecked()
    assert win.player.mode_label.isVisible() and win.timeline.editable
    assert win.summary.live.isVisible()  # the beat being edited, with its values
    key(qtbot, win, Qt.Key.Key_E)
    assert not win.corrector.active and not win.timeline.editable and not win.summary.live.isVisible()
    button = win.findChild(QToolBar, "mainToolbar").widgetForAction(win.act.correct)
    assert button.isCheckable()
    qtbot.mouseClick(button, L)
    assert win.corrector.active and button.isChecked()
    # the mode-only keys do nothing outside the mode
    qtbot.mouseClick(button, L)
    win.player.seek(25)
    key(qtbot, win, Qt.Key.Key_S)
    assert corr(win).beat(1)["es_frame"] == 20 and not corr(win).can_undo()


def test_editor_shows_the_model_tracing_on_ed_and_es_frames_only(win, qtbot):
    enter_mode(qtbot, win)
    ed, c = win.player.editor, corr(win)
    lp = win.current_entry().loop
    win.player.seek(10)
    assert not ed.isVisible() and win.player.overlay.isVisible()
    win.player.seek(20)  # ES of beat 1
    assert ed.isVisible() and win.corrector.target[1:] == (1, "es", 20)
    assert not win.player.overlay.isVisible()  # the editable contour replaces the model's overlay
    assert 16 <= len(ed.points) <= 24
    # initial long axis: tracing_from_mask(mask).axis, mapped to native pixels
    axis = tracing_from_mask(c.analysis.masks[20]).axis
    np.testing.assert_allclose(ed.apex, lp.transform.to_native_points(axis[:2]) + 0.5, atol=1e-9)
    np.testing.assert_allclose(ed.base, lp.transform.to_native_points(axis[2:]) + 0.5, atol=1e-9)
    # the handles lie on the model's contour (native mask boundary, within a native pixel or two)
    native = lp.transform.mask_to_native(c.analysis.masks[20], (lp.height, lp.width))
    ys, xs = np.nonzero(native)
    assert ed.points[:, 0].min() >= xs.min() - 2 and ed.points[:, 0].max() <= xs.max() + 3
    win.player.seek(40)  # ED of beat 2
    assert ed.isVisible() and win.corrector.target[1:] == (2, "ed", 40)
    assert win.player.phase_label.text() == "ED"


# -- tracing edits -----------------------------------------------------------------------------------
def test_drag_a_contour_point_recomputes_ef_live_and_commits_on_release(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    before = c.values()[0]
    win.player.seek(20)
    ed, vp = win.player.editor, win.player.view.viewport()
    i = lateral_point(win)
    n = len(ed.points)
    start = handle_pos(win, ("point", i))
    end = start + QPoint(30, 0)
    live_before = win.summary.live_ef.text()
    assert live_before == f"EF {before.ef:.1f} %"
    drag(qtbot, vp, start, end, release=False)
    # live: the LV at ES got larger -> ESV up, EF down, shown before anything is committed
    assert ed.dragging and not c.can_undo() and not c.audit
    assert "LIVE" in win.summary.live_title.text()
    live_ef = float(win.summary.live_ef.text().split()[1])
    assert live_ef < before.ef - 0.5
    qtbot.wait(15)
    qtbot.mouseRelease(vp, L, NOMOD, end)
    # committed: one undo step, the dragged point where the mouse let go (native resolution)
    assert [a["action"] for a in c.audit] == ["trace_es"]
    t = c.beat(1)["tracings"]["es"]
    assert len(t["contour"]) == n
    moved = win.corrector.to_grid(ed.points[i])
    np.testing.assert_allclose(t["contour"][i], moved, atol=2e-3)
    scene_end = win.player.view.mapToScene(end)
    item_end = ed.mapFromScene(scene_end)
    assert ed.points[i][0] == pytest.approx(item_end.x(), abs=0.6)  # not snapped to the grid
    after = c.values()[0]
    assert after.esv > before.esv and after.ef < before.ef - 0.5
    assert after.ef == pytest.approx(live_ef, abs=0.06)
    assert win.summary.live_ef.text() == f"EF {after.ef:.1f} %"
    assert "✎" in win.summary.beats.item(0, 0).text()
    assert win.summary.ef_value.text().startswith(f"{c.summary().ef_mean:.1f}")
    assert "model" in win.summary.model_line.text()


def test_a_drag_right_after_a_result_is_drawn_is_committed(win, qtbot):
    """A result for the loop on screen is drawn a moment after it arrives; the tracing the editor
    shows then must be the one an edit commits to (the deferred drawing used to leave the editor
    showing a tracing while the controller had forgotten its target: the next drag was dropped)."""
    enter_mode(qtbot, win)
    win.player.seek(20)
    e = win.current_entry()
    win.view.finished(e, e.analysis)  # as when the loop's result arrives
    qtbot.wait(30)  # ... and is drawn
    assert win.player.editor.isVisible() and win.corrector.target == (e.key, 1, "es", 20)
    start = handle_pos(win, ("point", lateral_point(win)))
    drag(qtbot, win.player.view.viewport(), start, start + QPoint(25, 0))
    assert [a["action"] for a in e.corrections.audit] == ["trace_es"]


def test_esc_cancels_a_drag_in_progress(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    win.player.seek(20)
    ed, vp = win.player.editor, win.player.view.viewport()
    geom = ed.geometry()
    live_before = win.summary.live_ef.text()
    start = handle_pos(win, ("point", lateral_point(win)))
    drag(qtbot, vp, start, start + QPoint(25, 10), release=False)
    assert win.summary.live_ef.text() != live_before
    key(qtbot, win, Qt.Key.Key_Escape)
    np.testing.assert_array_equal(ed.geometry()[0], geom[0])
    qtbot.mouseRelease(vp, L, NOMOD, start + QPoint(25, 10))
    assert not c.audit and not c.beat(1)["tracings"]
    np.testing.assert_array_equal(ed.geometry()[0], geom[0])
    assert win.summary.live_ef.text() == live_before
    assert "cancel" in win.status_label.text().lower()


def test_switching_loops_mid_drag_ends_the_drag_and_draws_the_new_loop_once(win, qtbot):
    """The user picks another loop while dragging a contour point: the drag ends uncommitted, the
    new loop's beats and tracing are shown, and its corrected view is drawn once (it was drawn
    twice, 10-15 ms each, on every loop switch)."""
    enter_mode(qtbot, win)
    first = win.current_entry()
    win.player.seek(20)
    vp = win.player.view.viewport()
    start = handle_pos(win, ("point", lateral_point(win)))
    drag(qtbot, vp, start, start + QPoint(25, 10), release=False)
    assert win.player.editor.busy
    drawn = []
    real = win.timeline.set_analysis
    win.timeline.set_analysis = lambda *a, **kw: (drawn.append(a[0]), real(*a, **kw))[1]
    other = win.entries[win.order[1]]
    win.select_loop(other.key)
    assert win.current_entry() is other and drawn == [other.analysis]
    qtbot.mouseRelease(vp, L, NOMOD, start + QPoint(25, 10))
    assert not first.corrections.audit and not first.corrections.beat(1)["tracings"]  # not committed
    assert not win.player.editor.busy and win.corrector.active
    win.player.seek(20)  # ES of the new loop's beat 1: its own tracing, editable
    assert win.player.editor.isVisible() and win.corrector.target == (other.key, 1, "es", 20)
    assert not other.corrections.audit


def test_axis_ends_are_draggable(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    win.player.seek(20)
    ed, vp = win.player.editor, win.player.view.viewport()
    before = c.values()[0].esv
    apex0 = ed.apex.copy()
    start = handle_pos(win, ("apex",))
    drag(qtbot, vp, start, start + QPoint(0, -12))
    t = c.beat(1)["tracings"]["es"]
    assert ed.apex[1] < apex0[1] - 3
    np.testing.assert_allclose(t["apex"], win.corrector.to_grid(ed.apex), atol=2e-3)
    assert c.values()[0].esv != pytest.approx(before)
    assert [a["action"] for a in c.audit] == ["trace_es"]


def test_insert_and_delete_points(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    win.player.seek(20)
    ed, view, vp = win.player.editor, win.player.view, win.player.view.viewport()
    n = len(ed.points)
    # Shift+click on the middle of an edge (on the lateral wall) inserts a point there
    i = lateral_point(win)
    mid = (ed.points[i] + ed.points[(i + 1) % n]) / 2
    pos = view.mapFromScene(ed.mapToScene(*mid))
    qtbot.mouseClick(vp, L, SHIFT, pos)
    assert len(ed.points) == n + 1 and len(c.beat(1)["tracings"]["es"]["contour"]) == n + 1
    np.testing.assert_allclose(ed.points[i + 1], mid, atol=1.0)
    # right-click on a point deletes it
    qtbot.mouseClick(vp, R, NOMOD, handle_pos(win, ("point", 3)))
    assert len(c.beat(1)["tracings"]["es"]["contour"]) == n
    # Delete removes the point under the mouse
    qtbot.mouseMove(vp, handle_pos(win, ("point", 2)))
    qtbot.wait(20)
    assert ed.hovered == ("point", 2)
    key(qtbot, win, Qt.Key.Key_Delete)
    assert len(c.beat(1)["tracings"]["es"]["contour"]) == n - 1
    # double-click on an edge inserts one too
    i = lateral_point(win)
    mid = (ed.points[i - 1] + ed.points[i]) / 2
    qtbot.mouseDClick(vp, L, NOMOD, view.mapFromScene(ed.mapToScene(*mid)))
    assert len(c.beat(1)["tracings"]["es"]["contour"]) == n
    assert [a["action"] for a in c.audit] == ["trace_es"] * 4
    # a click away from the tracing is no edit
    qtbot.mouseClick(vp, L, NOMOD, QPoint(5, 5))
    assert len(c.audit) == 4


def test_redraw_a_tracing_from_scratch(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    win.player.seek(20)
    ed, view, vp = win.player.editor, win.player.view, win.player.view.viewport()
    centre = ed.points.mean(axis=0)
    key(qtbot, win, Qt.Key.Key_R)
    assert ed.redrawing
    # Esc drops a redraw
    qtbot.mouseClick(vp, L, NOMOD, view.mapFromScene(ed.mapToScene(*centre)))
    key(qtbot, win, Qt.Key.Key_Escape)
    assert not ed.redrawing and not c.audit
    key(qtbot, win, Qt.Key.Key_R)
    angles = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    pts = centre + np.stack([14 * np.cos(angles), 30 * np.sin(angles)], axis=1)
    for x, y in pts:
        qtbot.mouseClick(vp, L, NOMOD, view.mapFromScene(ed.mapToScene(x, y)))
        qtbot.wait(5)
    key(qtbot, win, Qt.Key.Key_Return)
    assert not ed.redrawing
    t = c.beat(1)["tracings"]["es"]
    assert len(t["contour"]) == 12 and [a["action"] for a in c.audit] == ["trace_es"]
    # a long axis was found for the new outline: from near its top to near its bottom
    apex, base = win.corrector.to_display(t["apex"]), win.corrector.to_display(t["base_mid"])
    assert apex[1] < centre[1] - 15 and base[1] > centre[1] + 15
    assert c.values()[0].esv > 0


# -- beats ---------------------------------------------------------------------------------------------
def _marker_drag(qtbot, win, beat_id, phase, to_frame, release=True) -> QPoint:
    """Drag a beat's ED/ES marker along the timeline to a frame; returns where the mouse is."""
    tl = win.timeline
    start = tl.marker_widget_pos(beat_id, phase)
    end = QPoint(tl._widget_pos(to_frame).x(), start.y())
    drag(qtbot, tl.viewport(), start, end, release=release)
    return end


def test_move_es_by_dragging_its_marker_on_the_timeline(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    before = c.values()[0].ef
    end = _marker_drag(qtbot, win, 1, "es", 14, release=False)
    assert win.player.current == 14  # the player follows the drag
    assert c.beat(1)["es_frame"] == 20  # nothing committed yet
    qtbot.wait(15)
    qtbot.mouseRelease(win.timeline.viewport(), L, NOMOD, end)
    assert c.beat(1)["es_frame"] == 14
    assert [a["action"] for a in c.audit] == ["move_es"]
    a = win.current_entry().analysis
    np.testing.assert_allclose(win.timeline.marker_positions()["es"][0],
                               [14 / a.fps, a.areas[14] * a.cm_per_pixel_grid**2])
    assert c.values()[0].ef < before  # a larger LV than the true ES
    assert win.summary.beats.item(0, 1).text() == "1–15" and win.summary.beats.item(0, 0).text() == "✎ 1"
    assert win.player.editor.isVisible() and win.corrector.target[1:] == (1, "es", 14)
    # Esc during a marker drag puts it back
    end = _marker_drag(qtbot, win, 2, "ed", 45, release=False)
    key(qtbot, win, Qt.Key.Key_Escape)
    qtbot.mouseRelease(win.timeline.viewport(), L, NOMOD, end)
    assert c.beat(2)["ed_frame"] == 40 and len(c.audit) == 1


def test_set_ed_and_es_here_with_keys(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    win.player.seek(22)
    key(qtbot, win, Qt.Key.Key_S)
    assert c.beat(1)["es_frame"] == 22
    win.player.seek(3)
    key(qtbot, win, Qt.Key.Key_D)
    assert c.beat(1)["ed_frame"] == 3
    assert "ED frame 1 → 4" in win.status_label.text() and "saved" in win.status_label.text()  # counted from 1
    win.player.seek(27)  # nearer beat 1 (ends at 22) than beat 2 (starts at 40): ED after its ES is refused
    key(qtbot, win, Qt.Key.Key_D)
    assert c.beat(1)["ed_frame"] == 3 and "ED must come before its ES" in win.status_label.text()
    assert [a["action"] for a in c.audit] == ["move_es", "move_ed"]
    assert win.summary.beats.item(0, 1).text() == "4–23"


def test_undo_and_redo_keys_restore_exact_states(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    states = [beats(c)]
    win.player.seek(20)
    geom0 = win.player.editor.geometry()
    start = handle_pos(win, ("point", lateral_point(win)))
    drag(qtbot, win.player.view.viewport(), start, start + QPoint(20, 4))
    states.append(beats(c))
    geom1 = win.player.editor.geometry()
    win.player.seek(58)
    key(qtbot, win, Qt.Key.Key_S)
    states.append(beats(c))
    win.corrector.toggle_exclude("ectopic beat")
    states.append(beats(c))
    assert len({json.dumps(s) for s in states}) == 4
    for k in (2, 1, 0):
        key(qtbot, win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert beats(c) == states[k]
    assert not win.act.undo.isEnabled() and win.act.redo.isEnabled()  # nothing left to undo
    key(qtbot, win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert beats(c) == states[0]
    win.player.seek(20)
    np.testing.assert_allclose(win.player.editor.geometry()[0], geom0[0])  # the model's contour again
    for k in (1, 2, 3):
        key(qtbot, win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert beats(c) == states[k]
    win.player.seek(20)
    np.testing.assert_allclose(win.player.editor.geometry()[0], geom1[0], atol=1e-3)
    # the Edit menu and toolbar actions do the same
    win.act.undo.trigger()
    assert beats(c) == states[2]
    win.act.redo.trigger()
    assert beats(c) == states[3]
    actions = [a["action"] for a in c.audit]
    assert actions[:3] == ["trace_es", "move_es", "exclude"] and actions.count("undo") == 4


def test_exclude_with_a_reason_and_include_again(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    win.player.seek(45)  # beat 2
    key(qtbot, win, Qt.Key.Key_X)
    dlg = win.corrector.exclude_dialog
    assert dlg is not None and dlg.isVisible()
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()  # a reason is required
    assert [dlg.presets.item(i).text() for i in range(3)] == list(PRESET_REASONS[:3])
    dlg.presets.setCurrentRow(0)  # "ectopic beat"
    assert ok.isEnabled()
    qtbot.mouseClick(ok, L)
    assert c.beat(2)["excluded"] and c.beat(2)["exclude_reason"] == "ectopic beat"
    assert win.summary.beats_used.text().startswith("1 of 3 beats used")
    assert win.summary.beats.item(1, 4).text() == "excl." and "ectopic beat" in win.summary.beats.item(1, 0).toolTip()
    assert "excluded" in win.summary.live_vols.text()
    # cancelling the dialog changes nothing; X on an excluded beat includes it again
    key(qtbot, win, Qt.Key.Key_X)
    assert not c.beat(2)["excluded"]
    key(qtbot, win, Qt.Key.Key_X)
    win.corrector.exclude_dialog.reason.setText("  poor   image ")
    win.corrector.exclude_dialog.reject()
    assert not c.beat(2)["excluded"]
    assert [a["action"] for a in c.audit] == ["exclude", "include"]


def test_add_and_delete_a_beat(win, qtbot):
    enter_mode(qtbot, win)
    c = corr(win)
    win.player.seek(90)  # beat 3
    key(qtbot, win, Qt.Key.Key_Delete, SHIFT)
    assert [b["id"] for b in c.beats] == [1, 2]
    assert win.summary.beats.rowCount() == 2
    win.player.seek(80)
    key(qtbot, win, Qt.Key.Key_A)
    new = c.beats[-1]
    areas = c.analysis.areas
    es = 81 + int(np.argmin(areas[81:111]))  # the smallest LV area in the next 0.6 s
    assert 98 <= es <= 102
    assert new["origin"] == "user" and (new["ed_frame"], new["es_frame"]) == (80, es)
    assert len(win.timeline.marker_positions()["es"]) == 3
    assert f"Beat added: ED frame 81, ES frame {es + 1}" in win.status_label.text()
    key(qtbot, win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert len(c.beats) == 2
    key(qtbot, win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert [b["id"] for b in c.beats] == [1, 2, 3] and c.beat(3)["origin"] == "model"


# -- nothing lost --------------------------------------------------------------------------------------
def test_autosave_after_each_edit_and_restore_when_reopened(make_window, study_dir, qtbot):
    win, loops = _open(make_window, study_dir, qtbot)
    enter_mode(qtbot, win)
    c = corr(win)
    path = sidecar(loops[0])
    assert not path.exists()  # opening writes nothing
    win.player.seek(22)
    key(qtbot, win, Qt.Key.Key_S)
    assert json.loads(path.read_text())["beats"] == c.state["beats"]
    assert win.status_label.text().endswith("· saved") and win.save_label.text() == "✓ saved"
    win.player.seek(22)
    start = handle_pos(win, ("point", lateral_point(win)))
    drag(qtbot, win.player.view.viewport(), start, start + QPoint(18, 0))
    saved = json.loads(path.read_text())
    assert saved["beats"] == c.state["beats"] and "es" in saved["beats"][0]["tracings"]
    win.player.seek(45)  # beat 2
    win.corrector.toggle_exclude("poor image quality")
    saved = json.loads(path.read_text())
    assert saved["beats"] == c.state["beats"] and saved["beats"][1]["exclude_reason"] == "poor image quality"
    assert [a["action"] for a in saved["audit"]] == ["move_es", "trace_es", "exclude"]
    assert saved["loop"]["file"] == "a4c_0.avi" and saved["loop"]["sha256"] == "fake-a4c_0.avi"
    state, ef = copy.deepcopy(c.state["beats"]), c.summary().ef_mean
    contour = np.array(c.beat(1)["tracings"]["es"]["contour"])
    win.close()

    win2, _ = _open(make_window, study_dir, qtbot, loops=_loops(study_dir))  # a new window, same folder
    c2 = corr(win2)
    assert c2 is not c and c2.state["beats"] == state
    assert win2.save_label.text() == "✎ restored" and "restored 3 corrections" in win2.save_label.toolTip()
    assert win2.summary.ef_value.text().startswith(f"{ef:.1f}") and "✎" in win2.summary.model_line.text()
    assert "✎" in win2.study_list.item_for(win2.current_key).text()
    enter_mode(qtbot, win2)
    win2.player.seek(22)
    np.testing.assert_allclose(win2.corrector.to_grid(win2.player.editor.points), contour, atol=1e-6)
    # the other loop was never edited: no sidecar
    assert not sidecar(loops[1]).exists()


def test_read_only_study_saves_to_the_per_user_folder(win, qtbot, monkeypatch, study_dir):
    real = store.atomic_write

    def refuse_study(path, *a, **kw):
        if study_dir in path.parents:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path, *a, **kw)

    monkeypatch.setattr(store, "atomic_write", refuse_study)
    enter_mode(qtbot, win)
    win.player.seek(24)
    key(qtbot, win, Qt.Key.Key_S)
    fallback = store.fallback_path(win.current_entry().loop.path)
    assert fallback.exists() and json.loads(fallback.read_text())["beats"][0]["es_frame"] == 24
    assert f"saved to {fallback} (study folder is read-only)" in win.status_label.text()
    assert "per-user" in win.save_label.text()


def test_a_save_error_keeps_the_edit_in_memory(win, qtbot, monkeypatch):
    def full(path, *a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "atomic_write", full)
    enter_mode(qtbot, win)
    win.player.seek(24)
    key(qtbot, win, Qt.Key.Key_S)
    c = corr(win)
    assert c.beat(1)["es_frame"] == 24  # kept
    assert "the disk is full" in win.status_label.text() and "kept in memory" in win.status_label.text()
    assert "not saved" in win.save_label.text()
    assert win.summary.beats.item(0, 1).text() == "1–25"
    monkeypatch.undo()
    win.player.seek(25)
    key(qtbot, win, Qt.Key.Key_S)  # the next save writes everything
    saved = json.loads(sidecar(win.current_entry().loop).read_text())
    assert saved["beats"][0]["es_frame"] == 25 and [a["action"] for a in saved["audit"]] == ["move_es", "move_es"]


def test_audit_user_from_settings(win, qtbot):
    dlg = SettingsDialog(UiSettings(audit_user="Dr A. Sono"))
    qtbot.addWidget(dlg)
    assert dlg.audit_user.text() == "Dr A. Sono"
    dlg.audit_user.setText("  J.  Doe ")
    assert dlg.collect().audit_user == "J. Doe"
    win.apply_settings(UiSettings(audit_user="J. Doe"), persist=False)
    enter_mode(qtbot, win)
    win.player.seek(22)
    key(qtbot, win, Qt.Key.Key_S)
    assert corr(win).audit[-1]["user"] == "J. Doe"
    win.apply_settings(UiSettings(), persist=False)
    win.player.seek(23)
    key(qtbot, win, Qt.Key.Key_S)
    assert corr(win).audit[-1]["user"] == UiSettings().audit_name() != "J. Doe"


# -- reports and export --------------------------------------------------------------------------------
def test_csv_report_has_model_and_corrected_values(win, qtbot, tmp_path):
    enter_mode(qtbot, win)
    c = corr(win)
    win.player.seek(24)
    key(qtbot, win, Qt.Key.Key_S)
    win.player.seek(45)
    win.corrector.toggle_exclude("foreshortened")
    out = win.exports.export_report("loop", str(tmp_path / "r.csv"))
    rows = list(csv.DictReader(out.open()))
    b1, b2, b3, mean = rows
    vals = {v.id: v for v in c.values()}
    assert (b1["es_frame"], b1["es_frame_corrected"], b1["corrected"]) == ("20", "24", "1")
    assert float(b1["ef_corrected"]) == pytest.approx(vals[1].ef, abs=0.006)
    assert b1["ef_model"] == f"{c.analysis.beats[0].ef_model:.2f}"
    assert (b2["corrected"], b2["exclude_reason"]) == ("1", "foreshortened")
    assert b3["corrected"] == "0" and b3["exclude_reason"] == "excluded by the analysis"
    assert float(mean["ef_corrected"]) == pytest.approx(c.summary().ef_mean, abs=0.006)
    assert mean["ef_model"] == f"{c.analysis.ef_mean:.2f}"
    # the other loop, uncorrected, in the study report
    study = win.exports.export_report("study", str(tmp_path / "s.csv"))
    other = [r for r in csv.DictReader(study.open()) if r["file"].endswith("a4c_1.avi")]
    assert {r["corrected"] for r in other} == {"0"}


def test_export_corrections(win, qtbot, tmp_path, monkeypatch, study_dir):
    loops = [win.entries[k].loop for k in win.order]
    monkeypatch.setattr("echoviewer.io.scan_study", fake_scan_factory(loops))
    dlg = ExportCorrectionsDialog(str(tmp_path / "x"))
    qtbot.addWidget(dlg)
    dlg.split.setCurrentText("VAL")
    dlg.include_uncorrected.setChecked(True)
    assert dlg.values() == (str(tmp_path / "x"), "VAL", True, False)
    dlg.deidentify.setChecked(True)  # a de-identified export gets a folder of its own
    assert dlg.values() == (str(tmp_path / "x_deidentified"), "VAL", True, True)
    dlg.deidentify.setChecked(False)
    assert dlg.folder.text() == str(tmp_path / "x")
    dlg.folder.setText("  ")
    assert not dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled()  # no folder, no export
    # File > Export corrections…, then Cancel: nothing is written
    win.act.export_corr.trigger()
    dlg = win.exports.export_dialog
    assert dlg is not None and dlg.isVisible()
    assert dlg.folder.text() == str(study_dir.with_name("study_echonet"))  # beside the study
    qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Cancel), L)
    qtbot.waitUntil(lambda: win.exports.export_dialog is None, timeout=5000)
    assert not study_dir.with_name("study_echonet").exists()
    enter_mode(qtbot, win)
    win.player.seek(24)
    key(qtbot, win, Qt.Key.Key_S)
    # again, through the dialog's Export button, into a folder of our choosing
    out = tmp_path / "dataset"
    win.act.export_corr.trigger()
    dlg = win.exports.export_dialog
    dlg.folder.setText(str(out))
    dlg.split.setCurrentText("VAL")
    with qtbot.waitSignal(win.exports.exported, timeout=20000) as sig:
        qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), L)
    res = sig.args[0]
    assert win.exports.export_dialog is None
    assert res.out_dir == out and res.exported == [str(loops[0].path)] and res.skipped[0][0] == str(loops[1].path)
    assert sorted(p.name for p in out.iterdir()) == ["ExportAudit.json", "FileList.csv", "Videos", "VolumeTracings.csv"]
    assert [p.name for p in (out / "Videos").iterdir()] == ["a4c_0.avi"]
    rows = list(csv.DictReader((out / "FileList.csv").open()))
    assert len(rows) == 1 and rows[0]["Split"] == "VAL" and rows[0]["FileName"] == "a4c_0"
    assert float(rows[0]["EF"]) == pytest.approx(pick_beat(corr(win).values()).ef, abs=1e-5)  # the traced beat's
    audit = json.loads((out / "ExportAudit.json").read_text())
    assert audit["loops"][0]["audit"][0]["action"] == "move_es"
    assert "Exported 1 loop" in win.status_label.text()
    assert win.exports.message_box is not None and "Skipped 1" in win.exports.message_box.text()
    # and de-identified: hashed names, no file or folder name in any exported file
    win.act.export_corr.trigger()
    dlg = win.exports.export_dialog
    dlg.folder.setText(str(tmp_path / "research"))
    dlg.deidentify.setChecked(True)
    with qtbot.waitSignal(win.exports.exported, timeout=20000) as sig:
        qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), L)
    out = tmp_path / "research_deidentified"
    assert not isinstance(sig.args[0], str), sig.args[0]
    assert sig.args[0].out_dir == out
    videos = [p.name for p in (out / "Videos").iterdir()]
    assert len(videos) == 1 and videos[0].startswith("EV_")
    for f in out.rglob("*"):
        if f.is_file():
            assert b"a4c_0" not in f.read_bytes() and str(study_dir).encode() not in f.read_bytes(), f


# -- the controller's interface ---------------------------------------------------------------------
def test_the_controller_needs_only_its_host_interface(qtbot, study_dir):
    """CorrectionController drives a host that has exactly CorrectionHost's members (no window):
    anything else it reached for would raise AttributeError."""
    from echoviewer.pipeline.results import AnalysisSettings
    from echoviewer.session import StudySession
    from echoviewer.ui.correction import CorrectionController
    from echoviewer.ui.player import CinePlayer
    from echoviewer.ui.summary import SummaryPanel
    from echoviewer.ui.timeline import TimelineWidget
    from tests.ui.fakes import fake_analysis, grid_mask

    class Host:
        def __init__(self):
            self.session = StudySession(AnalysisSettings(), user="tester")
            self.player, self.timeline, self.summary = CinePlayer(), TimelineWidget(), SummaryPanel()
            self.messages, self.redraws = [], 0

        def current_entry(self):
            return self.session.current

        def seek(self, frame):
            self.player.seek(frame)

        def set_status(self, text, error=False):
            self.messages.append(text)

        def show_error(self, text):
            self.messages.append(text)

        def request_redraw(self):
            self.redraws += 1
            values = self.current_entry().corrections.values()
            self.player.set_beats(values)
            controller.draw(values)

        def actions_changed(self):
            pass

    host = Host()
    for w in (host.player, host.timeline, host.summary):
        qtbot.addWidget(w)
    controller = CorrectionController(host)
    host.player.frameChanged.connect(controller.on_frame)  # (the window's wiring)
    loop = FakeLoop(study_dir / "a4c.avi", n_frames=120, height=240, width=320)
    key = str(loop.path)
    host.session.open(study_dir, [loop])
    e = host.session.select(key)
    host.player.set_loop(loop, e.mask)
    host.session.started(key)
    host.session.finished(key, fake_analysis(loop, np.stack([grid_mask(i, loop.fps) for i in range(120)])))
    controller.set_active(True)
    assert controller.active and host.redraws == 1 and host.player.mode_label.isVisibleTo(host.player)
    host.player.seek(20)  # ES of beat 1: its tracing is editable
    assert host.player.editor.isVisible() and controller.target == (key, 1, "es", 20)
    host.player.seek(24)
    assert controller.set_frame_here("es")
    assert e.corrections.beat(1)["es_frame"] == 24 and host.redraws == 2
    assert host.messages[-1] == "Beat 1: ES frame 21 → 25 · saved"
    assert controller.undo() and e.corrections.beat(1)["es_frame"] == 20
    controller.set_active(False)
    assert not controller.active and host.messages[-1] == "Correction mode off"
