"""The real MainWindow driven through qtbot, with a fake analyzer and fake loops."""

from __future__ import annotations

import csv
import threading
import time

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QObject, QPoint, QPointF, Qt, QUrl, Slot
from PySide6.QtGui import QDropEvent, QImage, QWheelEvent

from echoviewer.session import LoopState
from echoviewer.ui.settings import UiSettings, recent_studies
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeAnalyzer, FakeLoop, FakeLoopError


def _loops(folder, n=2, frames=60, **kw):
    return [FakeLoop(folder / f"a4c_{i}.avi", n_frames=frames, **kw) for i in range(n)]


@pytest.fixture
def opened(make_window, study_dir, qtbot):
    loops = _loops(study_dir, frames=120)  # three beats of 40 frames
    errors = [FakeLoopError(study_dir / "broken.dcm", "not a DICOM file (no preamble)")]
    win = make_window(loops, errors)
    assert win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    qtbot.waitUntil(lambda: win.timeline.analysis is not None, timeout=5000)
    return win, loops


def test_open_study_lists_loops_and_unreadable_files(opened, study_dir):
    win, loops = opened
    lst = win.study_list
    assert lst.count() == 3
    texts = [lst.item(i).text() for i in range(3)]
    assert texts[0].startswith("a4c_0.avi\n2.4 s · 50 fps · 120 frames\nEF ")
    assert texts[1].startswith("a4c_1.avi")
    bad = win.entries[str(study_dir / "broken.dcm")]
    assert bad.state == LoopState.UNREADABLE
    assert "not a DICOM file (no preamble)" in texts[2] and "unreadable" in texts[2]
    assert "not a DICOM file (no preamble)" in lst.item(2).toolTip()
    assert not (lst.item(2).flags() & Qt.ItemFlag.ItemIsSelectable)  # greyed, cannot be opened
    assert win.stack.currentIndex() == 1
    assert win.current_key == str(loops[0].path)
    assert "1 unreadable file" in win.status_label.text() or "Analysis complete" in win.status_label.text()
    assert win.windowTitle() == "study"  # Qt appends " — EchoViewer" (the display name): not twice


def test_patient_identity_is_in_the_title_and_the_study_heading(make_window, study_dir, qtbot):
    from echoviewer.io.identity import Identity

    who = Identity(patient_name="DOE^JANE", patient_id="MRN42", study_date="20240131", sop_instance_uid="1.2")
    win = make_window([FakeLoop(study_dir / "a.dcm", n_frames=60, identity=who)])
    assert win.open_study(study_dir)
    assert win.windowTitle() == "study — DOE, JANE · ID MRN42 · 2024-01-31"
    assert "DOE, JANE · ID MRN42" in win.study_title.text()


def test_overlay_pixels_match_the_native_mask(opened):
    win, loops = opened
    a = win.entries[win.current_key].analysis
    lp = loops[0]
    for f in (0, 17, lp.n_frames - 1):
        win.player.seek(f)
        expected = lp.transform.mask_to_native(a.masks[f], (lp.height, lp.width))
        rgba = win.player.overlay.image
        assert rgba.shape == (lp.height, lp.width, 4)
        assert expected.any()
        assert np.array_equal(rgba[..., 3] > 0, expected)
        assert win.player.image.image.shape[:2] == (lp.height, lp.width)  # native resolution


def test_a_corrected_frame_shows_the_corrected_tracing_everywhere(opened):
    from echoviewer.analysis.tracing import mask_contour

    win, loops = opened
    e, lp = win.entries[win.current_key], loops[0]
    beat = e.corrections.beats[0]
    f = beat["ed_frame"]
    yy, xx = np.mgrid[:112, :112]
    drawn = ((xx - 56) / 18) ** 2 + ((yy - 60) / 30) ** 2 <= 1  # not the model's mask
    e.corrections.set_tracing(beat["id"], "ed", mask_contour(drawn), np.array([56.0, 31.0]), np.array([56.0, 89.0]))
    win.player.seek(f)
    traced = e.corrections.tracing(beat, "ed").rasterize()
    expected = lp.transform.mask_to_native(traced, (lp.height, lp.width))
    model = lp.transform.mask_to_native(e.analysis.masks[f], (lp.height, lp.width))
    assert not np.array_equal(expected, model)
    assert np.array_equal(win.player.overlay.image[..., 3] > 0, expected)  # on screen
    assert "corrected tracing" in win.player.info_label.text()
    png = win.exports.frame_image()  # the PNG export draws the same
    frame = lp.frame(f)
    assert (png[expected] != frame[expected][:, None]).any(axis=1).mean() > 0.9
    win.player.seek(f + 1)
    assert "corrected tracing" not in win.player.info_label.text()
    e.corrections.undo()
    win.player.seek(f)
    assert np.array_equal(win.player.overlay.image[..., 3] > 0, model)


def test_overlay_toggle_with_key_and_button(opened, qtbot):
    win, _ = opened
    assert win.player.overlay.isVisible()
    qtbot.keyClick(win, Qt.Key.Key_O)
    assert not win.player.overlay.isVisible() and not win.act.overlay.isChecked()
    win.act.overlay.trigger()  # the toolbar button
    assert win.player.overlay.isVisible() and win.player.contour.isVisible()


def test_timeline_markers_match_the_analysis(opened):
    win, _ = opened
    a = win.entries[win.current_key].analysis
    scale = a.cm_per_pixel_grid**2
    pos = win.timeline.marker_positions()
    ed = np.array([b.ed_frame for b in a.beats])
    es = np.array([b.es_frame for b in a.beats])
    np.testing.assert_allclose(pos["ed"][:, 0], ed / a.fps)
    np.testing.assert_allclose(pos["es"][:, 0], es / a.fps)
    np.testing.assert_allclose(pos["ed"][:, 1], a.areas[ed] * scale)
    np.testing.assert_allclose(pos["es"][:, 1], a.areas[es] * scale)
    np.testing.assert_allclose(pos["ef"][:, 1], [b.ef_model for b in a.beats])
    np.testing.assert_allclose(pos["ef"][:, 0], es / a.fps)
    # excluded beats are drawn hollow grey, flagged ones hollow orange
    spots = win.timeline.ef_scatter.points()
    brushes = [s.brush().style() for s in spots]
    assert brushes[0] != Qt.BrushStyle.NoBrush
    assert brushes[1] == Qt.BrushStyle.NoBrush and brushes[2] == Qt.BrushStyle.NoBrush
    lo, hi = win.timeline.band.getRegion()
    assert lo == pytest.approx(a.ef_mean - a.ef_sd) and hi == pytest.approx(a.ef_mean + a.ef_sd)


def test_summary_panel(opened):
    win, _ = opened
    a = win.entries[win.current_key].analysis
    s = win.summary
    assert s.ef_value.text() == f"{a.ef_mean:.1f} ± {a.ef_sd:.1f} %"
    assert s.category.text() == "preserved"
    assert s.beats_used.text().startswith("2 of 3 beats used")
    assert s._values["EDV"].text() == "100 mL" and s._values["ESV"].text() == "40 mL"
    assert s._values["Heart rate"].text() == "75 bpm"
    assert not s.demo_banner.isHidden() and "NOT FOR CLINICAL USE" in s.demo_banner.text()
    assert "fake-weights (sha256 0123456789ab)" in s.weights.text()  # the CLI's 12 digits
    assert "High beat-to-beat variance" in s.flags.text()
    assert s.beats.rowCount() == 3
    # the category table comes from the settings
    win.apply_settings(UiSettings(categories=[(90, "custom-low"), (None, "custom-high")]), persist=False)
    assert s.category.text() == "custom-low"


def test_keyboard_navigation(opened, qtbot):
    win, _ = opened
    p = win.player
    a = win.entries[win.current_key].analysis
    for focus in (win, win.study_list):
        focus.setFocus()
        qtbot.keyClick(focus, Qt.Key.Key_Home)
        assert p.current == 0
        qtbot.keyClick(focus, Qt.Key.Key_Right)
        qtbot.keyClick(focus, Qt.Key.Key_Right)
        assert p.current == 2
        qtbot.keyClick(focus, Qt.Key.Key_Left)
        assert p.current == 1
        qtbot.keyClick(focus, Qt.Key.Key_End)
        assert p.current == 119
        qtbot.keyClick(focus, Qt.Key.Key_Home)
        qtbot.keyClick(focus, Qt.Key.Key_BracketRight)
        assert p.current == a.beats[1].ed_frame
        qtbot.keyClick(focus, Qt.Key.Key_BracketRight)
        assert p.current == a.beats[2].ed_frame
        qtbot.keyClick(focus, Qt.Key.Key_BracketLeft)
        assert p.current == a.beats[1].ed_frame
        assert win.timeline.cursor.value() == pytest.approx(p.current / a.fps)
        qtbot.keyClick(focus, Qt.Key.Key_Space)
        assert p.playing
        qtbot.keyClick(focus, Qt.Key.Key_Space)
        assert not p.playing
    assert win.current_key == str(win.order[0])  # the list did not move


def test_phase_label_on_ed_es_and_between(opened):
    win, _ = opened
    a = win.entries[win.current_key].analysis
    b = a.beats[0]
    win.player.seek(b.ed_frame)
    assert win.player.phase_label.text() == "ED" and win.player.phase_label.isVisible()
    win.player.seek(b.es_frame)
    assert win.player.phase_label.text() == "ES"
    win.player.seek((b.ed_frame + b.es_frame) // 2)
    assert win.player.phase_label.text() == "systole"
    win.player.seek(b.es_frame + 2)
    assert win.player.phase_label.text() == "diastole"
    assert "0.46 s" in win.player.pos_label.text() or f"frame {b.es_frame + 3:>4}" in win.player.pos_label.text()


def test_playback_follows_the_clock_without_skipping(opened, qtbot):
    win, _ = opened
    p = win.player
    p.seek(0)
    seen = []
    p.frameChanged.connect(seen.append)
    t0 = time.perf_counter()
    p.play()
    qtbot.wait(700)
    p.pause()
    elapsed = time.perf_counter() - t0
    expected = elapsed * 50
    assert len(seen) >= 0.6 * expected  # kept up roughly
    assert abs(seen[-1] - expected) <= 6 or abs((seen[-1] + 120) - expected) <= 6  # no drift
    # every tick shows the next frame; the only gaps are the clock's own catch-up jumps (a machine
    # that fell more than max_lag frames behind), and they add up to what it counted as skipped
    steps = np.diff(np.array(seen)) % 120
    assert (steps >= 1).all()
    assert int((steps - 1).sum()) == p.clock.skipped
    assert ((steps == 1) | (steps > p.clock.max_lag + 1)).all()
    p.set_speed(2.0)
    assert p.speed_box.currentText() == "2×"


def test_wheel_over_slider_and_timeline_scrubs(opened, qtbot):
    win, _ = opened
    p = win.player
    p.seek(10)

    def wheel(widget, dy):
        pos = QPointF(widget.width() / 2, widget.height() / 2)
        ev = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, dy), Qt.MouseButton.NoButton,
                         Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
        widget.wheelEvent(ev)

    wheel(p.slider, 120)
    assert p.current == 11
    wheel(p.slider, -240)
    assert p.current == 9
    wheel(win.timeline, 360)
    assert p.current == 12


def test_click_on_the_timeline_seeks(opened, qtbot):
    win, _ = opened
    tl = win.timeline
    vb = tl.getPlotItem().vb
    target = 33
    scene_pt = vb.mapViewToScene(QPointF(target / 50.0, np.mean(vb.viewRange()[1])))
    view_pt = tl.mapFromScene(scene_pt)
    qtbot.mouseClick(tl.viewport(), Qt.MouseButton.LeftButton, pos=view_pt)
    assert win.player.current == target


def test_exports(opened, tmp_path):
    win, loops = opened
    out = tmp_path / "loop.csv"
    assert win.exports.export_report("loop", str(out)) == out
    rows = list(csv.DictReader(out.open()))
    a = win.entries[win.current_key].analysis
    assert {r["file"] for r in rows} == {str(loops[0].path)}
    beat_rows = [r for r in rows if r["beat"] not in ("mean", "")]
    assert [int(r["es_frame"]) for r in beat_rows] == [b.es_frame for b in a.beats]
    study = tmp_path / "study.csv"
    assert win.exports.export_report("study", str(study)) == study
    assert {r["file"] for r in csv.DictReader(study.open())} == {str(lp.path) for lp in loops}

    win.player.seek(20)
    png = win.exports.save_frame_png(str(tmp_path / "frame.png"))
    img = QImage(str(png))
    lp = loops[0]
    # native resolution, with the caption band added under the frame (the frame's pixels untouched)
    assert img.width() == lp.width and img.height() > lp.height
    mask = lp.transform.mask_to_native(a.masks[20], (lp.height, lp.width))
    ys, xs = np.nonzero(mask)
    cy, cx = int(ys.mean()), int(xs.mean())
    raw = lp.frame(20)[cy, cx]
    assert img.pixelColor(cx, cy).red() != raw  # overlay blended in
    assert img.pixelColor(2, 2).red() == lp.frame(20)[2, 2]  # untouched outside
    tl = win.exports.save_timeline_png(str(tmp_path / "timeline.png"))
    assert QImage(str(tl)).width() == win.timeline.width()


def test_export_before_analysis_says_so(make_window, study_dir, qtbot, tmp_path):
    gate = threading.Event()
    win = make_window(_loops(study_dir), factory=lambda s: FakeAnalyzer(s, gate=gate))
    win.open_study(study_dir)
    assert win.exports.export_report("loop", str(tmp_path / "x.csv")) is None
    assert "Nothing to export" in win.status_label.text()
    assert not (tmp_path / "x.csv").exists()
    gate.set()


def test_worker_failure_shows_an_error_without_crashing(make_window, study_dir, qtbot):
    loops = _loops(study_dir, n=3)
    win = make_window(loops, factory=lambda s: FakeAnalyzer(s, fail_on="a4c_1"))
    win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    bad = win.entries[str(loops[1].path)]
    assert bad.state == LoopState.FAILED
    assert "analysis failed: RuntimeError: model exploded on a4c_1.avi" in win.study_list.item_for(bad.key).text()
    assert win.entries[str(loops[2].path)].state == LoopState.DONE  # carried on
    assert "failed" in win.status_label.text()
    win.select_loop(bad.key)
    assert "model exploded" in win.summary.category.text()
    assert "analysis failed" in win.timeline.placeholder.toPlainText()
    win.player.seek(5)  # still a working player
    assert win.player.current == 5


def test_overlay_appears_live_while_the_worker_runs(make_window, study_dir, qtbot):
    gate = threading.Event()
    loops = _loops(study_dir, n=1, frames=60)

    class Stepper(FakeAnalyzer):
        def analyze(self, loop, progress=None, cancel=None, priority_frame=None):
            def slow(p):
                progress(p)
                gate.wait(5)
                gate.clear()

            return super().analyze(loop, slow, cancel, priority_frame)

    win = make_window(loops, factory=lambda s: Stepper(s, chunk=10))
    win.open_study(study_dir)
    e = win.entries[str(loops[0].path)]
    qtbot.waitUntil(lambda: e.have is not None and e.have.sum() == 10, timeout=5000)
    assert e.analysis is None
    # priority_frame was 0: frames 0..9 arrived first; the overlay shows on frame 3, not yet on 30
    win.player.seek(3)
    assert win.player.overlay.isVisible()
    expected = loops[0].transform.mask_to_native(e.masks[3], (loops[0].height, loops[0].width))
    assert np.array_equal(win.player.overlay.image[..., 3] > 0, expected)
    win.player.seek(30)
    assert not win.player.overlay.isVisible()
    assert "analysing" in win.study_list.item_for(e.key).text()
    for _ in range(20):
        gate.set()
        qtbot.wait(20)
        if e.analysis is not None:
            break
    qtbot.waitUntil(lambda: e.analysis is not None, timeout=5000)
    assert win.player.overlay.isVisible()


def test_selecting_a_loop_reprioritises_the_queue(make_window, study_dir, qtbot):
    gate = threading.Event()
    loops = _loops(study_dir, n=3, frames=40)
    made = []
    win = make_window(loops, factory=lambda s: made.append(FakeAnalyzer(s, chunk=4, gate=gate)) or made[-1])
    started = []
    win.worker.started.connect(started.append)
    win.open_study(study_dir)
    qtbot.waitUntil(lambda: started == [str(loops[0].path)], timeout=5000)
    win.player.seek(12)
    win.select_loop(str(loops[2].path))
    assert win.current_key == str(loops[2].path)
    gate.set()
    wait_all_analysed(qtbot, win)
    assert started[:3] == [str(loops[0].path), str(loops[2].path), str(loops[0].path)]
    assert made[0].cancelled == [str(loops[0].path)]


def test_settings_change_requeues_and_persists(make_window, study_dir, qtbot, qsettings):
    loops = _loops(study_dir, n=2)
    seen = []
    win = make_window(loops, factory=lambda s: seen.append(s) or FakeAnalyzer(s))
    win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    n_calls = sum(len(a.calls) for a in FakeAnalyzer.instances[-len(seen):])
    new = UiSettings(device="cpu", mean=(30.0, 30.0, 30.0), std=(50.0, 50.0, 50.0),
                     overlay_color=(0, 255, 0), overlay_opacity=0.6)
    win.apply_settings(new)
    assert all(e.analysis is None for e in win.entries.values())
    wait_all_analysed(qtbot, win)
    assert seen[-1].device == "cpu" and seen[-1].mean == (30.0, 30.0, 30.0)
    assert all(e.analysis.settings == seen[-1] for e in win.entries.values())
    assert n_calls == 2
    assert UiSettings.load(qsettings) == new
    # the overlay uses the new colour and opacity
    win.player.seek(0)
    px = win.player.overlay.image[win.player.overlay.image[..., 3] > 0][0]
    assert tuple(px) == (0, 255, 0, 153)
    # overlay-only changes do not re-analyse
    before = len(seen)
    win.apply_settings(UiSettings(device="cpu", mean=(30.0, 30.0, 30.0), std=(50.0, 50.0, 50.0),
                                  overlay_opacity=0.2))
    qtbot.wait(100)
    assert len(seen) == before and all(e.analysis is not None for e in win.entries.values())


def test_recent_studies_persist(make_window, study_dir, qsettings):
    win = make_window(_loops(study_dir))
    win.open_study(study_dir)
    assert recent_studies(qsettings)[0] == str(study_dir)
    win2 = make_window(_loops(study_dir))
    titles = [a.text() for a in win2.act.recent_menu.actions()]
    assert str(study_dir) in titles
    assert win2.empty.recent.count() == 1 and win2.stack.currentIndex() == 0


def test_drop_a_folder_opens_it(make_window, study_dir, qtbot):
    win = make_window(_loops(study_dir))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(study_dir))])
    ev = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    win.dropEvent(ev)
    assert win.study_path == str(study_dir) and win.study_list.count() == 2


def test_empty_state_and_demo_button(make_window, study_dir, qtbot, monkeypatch):
    import types

    demo_mod = types.ModuleType("echoviewer.synthetic.demo")
    demo_mod.ensure_demo_study = lambda: study_dir
    monkeypatch.setitem(__import__("sys").modules, "echoviewer.synthetic.demo", demo_mod)
    win = make_window(_loops(study_dir))
    assert win.stack.currentIndex() == 0 and win.empty.isVisible()
    qtbot.mouseClick(win.empty.demo_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.study_path == str(study_dir), timeout=5000)
    assert win.stack.currentIndex() == 1


def test_open_missing_folder_reports_error(make_window, tmp_path):
    win = make_window([])
    assert not win.open_study(tmp_path / "nope")
    assert "Not a folder" in win.status_label.text()

    def boom(folder):
        raise PermissionError("permission denied")

    win2 = make_window([], scan=boom)
    assert not win2.open_study(tmp_path)
    assert "permission denied" in win2.status_label.text()


def test_undecodable_frame_is_reported_not_fatal(make_window, study_dir, qtbot):
    class Flaky(FakeLoop):
        def frame(self, i):
            if i == 7:
                raise OSError("frame 7 cannot be decoded")
            return super().frame(i)

    loops = [Flaky(study_dir / "flaky.avi", n_frames=20)]
    win = make_window(loops)
    win.open_study(study_dir)
    win.player.seek(7)
    assert "frame 8: frame 7 cannot be decoded" in win.status_label.text()
    assert win.player.image.image.shape == (loops[0].height, loops[0].width) and not win.player.image.image.any()
    win.player.seek(8)
    assert win.player.image.image.any()


def test_the_shown_loop_is_selected_in_the_list(opened):
    win, loops = opened
    assert [it.data(Qt.ItemDataRole.UserRole) for it in win.study_list.selectedItems()] == [str(loops[0].path)]
    win.study_list.setCurrentRow(1)  # the user clicks the second loop
    assert win.current_key == str(loops[1].path)
    assert win.player.loop is loops[1]


def test_results_arriving_as_the_user_switches_loops_stay_with_their_loop(make_window, study_dir, qtbot):
    # A finished analysis is drawn a moment after it arrives (so a due frame goes first); by then
    # the user may have switched to another loop, which must keep showing its own state.
    gate = threading.Event()
    loops = _loops(study_dir, n=2, frames=60)

    class SecondWaits(FakeAnalyzer):
        def analyze(self, loop, progress=None, cancel=None, priority_frame=None):
            if loop.path == loops[1].path:
                gate.wait(10)
            return super().analyze(loop, progress, cancel, priority_frame)

    win = make_window(loops, factory=lambda s: SecondWaits(s))
    first, second = str(loops[0].path), str(loops[1].path)
    class Switcher(QObject):  # a receiver in the UI thread: runs right after the window's own handler
        @Slot(str, object)
        def on_finished(self, key, _a):
            if key == first:
                order.append(win.entries[first].analysis is not None)  # the window's handler ran
                win.select_loop(second)

    order, shown = [], []
    switcher = Switcher()
    win.analysisShown.connect(shown.append)
    win.worker.finished.connect(switcher.on_finished)
    win.open_study(study_dir)
    qtbot.waitUntil(lambda: win.entries[first].analysis is not None, timeout=5000)
    qtbot.wait(50)
    assert order == [True]
    assert win.current_key == second and shown == []  # the first loop's results were not drawn
    assert win.timeline.analysis is None and win.summary.analysis is None
    assert win.summary.title.text() == loops[1].path.name
    gate.set()
    wait_all_analysed(qtbot, win)
    win.select_loop(first)
    assert shown[-1] == first
    assert win.timeline.analysis is win.entries[first].analysis
    assert win.summary.analysis is win.entries[first].analysis


def test_timeline_draws_from_cached_pixmaps_without_stale_pixels(opened):
    """Each frame of playback moves the timeline's cursor. Everything else on the plot is painted
    from pixmaps cached per item, so the repaint blits instead of stroking curves, markers, axes
    and grid again; the caches must never show stale pixels."""
    from PySide6.QtWidgets import QGraphicsItem

    win, _ = opened
    tl = win.timeline
    cached = QGraphicsItem.CacheMode.DeviceCoordinateCache
    painted = [it for it in tl.scene().items()
               if not it.flags() & QGraphicsItem.GraphicsItemFlag.ItemHasNoContents and it.isVisible()]
    movers = {tl.cursor, *tl.cursor.childItems(), tl.ghost}
    for item in (tl.area_curve.curve, tl.ed_scatter, tl.es_scatter, tl.ef_scatter, *tl._ef_labels,
                 tl.getPlotItem().getAxis("bottom"), tl.getPlotItem().getAxis("left")):
        assert item in painted and item.cacheMode() == cached, item
    assert all(it.cacheMode() != cached for it in movers)

    def image():
        win.player.seek(37)  # the cursor moves over cached items; then the data change
        return tl.grab().toImage()

    for f in (5, 60, 90):
        win.player.seek(f)
        tl.grab()
    a = tl.analysis
    tl.set_partial(np.asarray(a.areas) * 0.5)  # ignored: an analysis is shown
    tl.set_analysis(a)
    with_caches = image()
    for item in tl.scene().items():
        item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
    assert image() == with_caches


def test_the_partial_curve_keeps_its_y_range_while_new_areas_fit_it(qtbot):
    """While a loop is analysed its dotted area curve grows 4 times a second. A new y range
    redraws every cached item of the plot, so the range changes only when the areas leave it or
    fill too little of it."""
    from echoviewer.ui.timeline import TimelineWidget

    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.set_loop(200, 50.0)
    vb = tl.getPlotItem().getViewBox()

    def show(areas):
        tl.set_partial(areas, 0.1)
        y = tl.partial_curve.getData()[1]
        lo, hi = vb.viewRange()[1]
        assert lo <= np.nanmin(y) and np.nanmax(y) <= hi  # always all on screen
        return lo, hi

    areas = np.full(200, np.nan)
    areas[96:104] = np.linspace(1000, 1400, 8)
    first = show(areas)
    areas[80:96] = np.linspace(1050, 1600, 16)  # more frames, a new maximum that still fits
    assert show(areas) == first
    areas[104:120] = 2400  # above: the range follows
    grown = show(areas)
    assert grown != first and grown[1] > first[1]
    small = np.full(200, np.nan)
    small[:10] = np.linspace(100, 120, 10)  # a range far too big for the data: set again
    lo, hi = show(small)
    assert hi - lo < 0.5 * (grown[1] - grown[0])
