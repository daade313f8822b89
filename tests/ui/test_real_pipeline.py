"""The window with the real pipeline on a small phantom study made by `echoviewer synth`.

Skipped while the pipeline or its weights (official or demo) are not available.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

pipeline = pytest.importorskip("echoviewer.pipeline")


try:
    from echoviewer.pipeline import Analyzer  # noqa: F401
except Exception as exc:
    pytest.skip(f"echoviewer.pipeline.Analyzer not importable: {exc}", allow_module_level=True)


@pytest.fixture(scope="module")
def weights_dir(tmp_path_factory):
    """The installed weights (official or demo) when there are any; else randomly initialised demo
    architectures, which are enough to check that the window shows exactly what the pipeline returns."""
    from echoviewer.models import find_weights

    try:
        find_weights("segmentation")
        find_weights("ef")
        yield None
        return
    except Exception:
        pass
    try:
        import torch

        from echoviewer.models.architectures import build_model
        from echoviewer.models.checkpoints import save_weights
    except Exception as exc:
        pytest.skip(f"no weights and cannot make stand-in weights: {exc}")
    d = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    for arch, name in (("unet_small", "demo_segmentation.pt"), ("r2plus1d_mini", "demo_ef.pt")):
        save_weights(build_model(arch), d / name, {"mean": (32, 32, 32), "std": (50, 50, 50), "demo": True,
                                                 "provenance": {"note": "random init, UI test only"}})
    mp = pytest.MonkeyPatch()
    mp.setenv("ECHOVIEWER_WEIGHTS", str(d))
    yield d
    mp.undo()


def _env(tmp):
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    env["ECHOVIEWER_HOME"] = str(tmp / "home")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


@pytest.fixture(scope="module")
def phantom_study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("phantom")
    out = tmp / "synth"
    r = subprocess.run(
        [sys.executable, "-m", "echoviewer", "synth", str(out), "--videos", "2", "--frames", "60",
         "--size", "native", "--seed", "7", "--fps", "50"],
        capture_output=True, text=True, env=_env(tmp), cwd=ROOT, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    native = out / "Native"
    assert len(list(native.glob("*.avi"))) == 2
    return native


@pytest.mark.slow
def test_real_pipeline_results_in_the_window(phantom_study, weights_dir, qtbot, qsettings, tmp_path, monkeypatch):
    from echoviewer.session import LoopState
    from echoviewer.ui.main_window import MainWindow

    monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path / "home"))
    win = MainWindow(qsettings=qsettings, overrides={"device": "cpu"})  # the real Analyzer and scan_study
    qtbot.addWidget(win)
    win.show()
    shown = {}  # per loop: the EF markers the timeline plots and the summary panel's EF text
    try:
        assert win.open_study(phantom_study)
        assert len(win.order) == 2
        qtbot.waitUntil(lambda: all(e.state in (LoopState.DONE, LoopState.FAILED) for e in win.entries.values()),
                        timeout=600_000)
        for key in win.order:
            e = win.entries[key]
            assert e.state == LoopState.DONE, e.message
            win.select_loop(key)
            qtbot.waitUntil(lambda e=e: win.timeline.analysis is e.analysis, timeout=5000)
            a, lp = e.analysis, e.loop
            assert a.n_frames == lp.n_frames == win.player.n_frames
            # overlay = the pipeline's mask of that frame, mapped to native pixels
            frames = sorted({0, a.n_frames // 2, a.n_frames - 1} | {b.ed_frame for b in a.beats}
                            | {b.es_frame for b in a.beats})
            for f in frames:
                win.player.seek(f)
                expected = lp.transform.mask_to_native(a.masks[f], (lp.height, lp.width))
                if expected.any():
                    assert np.array_equal(win.player.overlay.image[..., 3] > 0, expected)
                else:
                    assert not win.player.overlay.isVisible()
            # the plotted beats = the analysis' beats
            pos = win.timeline.marker_positions()
            np.testing.assert_allclose(pos["ed"][:, 0], [b.ed_frame / a.fps for b in a.beats])
            np.testing.assert_allclose(pos["es"][:, 0], [b.es_frame / a.fps for b in a.beats])
            with_ef = [b for b in a.beats if b.ef_model is not None]
            np.testing.assert_allclose(pos["ef"][:, 1], [b.ef_model for b in with_ef])
            np.testing.assert_allclose(pos["ef"][:, 0], [b.es_frame / a.fps for b in with_ef])
            shown[a.path] = (pos["ef"][:, 1].tolist(), win.summary.ef_value.text())
            if a.demo:
                assert win.summary.demo_banner.isVisibleTo(win.summary)
        out = win.exports.export_report("study", str(tmp_path / "report.csv"))
        _check_report_rows(out, [win.entries[k].analysis for k in win.order], shown)
        # the analysis ran in its own process (it never holds this process' GIL), ended on close
        analyzer = win.worker._analyzer
        assert analyzer.alive and analyzer.pid not in (None, os.getpid())
    finally:
        win.shutdown()
    assert not analyzer.alive


def _check_report_rows(path, analyses, shown) -> None:
    """The study CSV: per loop, one row per beat with the analysis' frames and the EF the window
    showed, then its mean row with the EF the summary panel showed."""
    import csv

    rows = list(csv.DictReader(path.open()))
    assert any(a.beats for a in analyses)
    assert [r["file"] for r in rows] == [a.path for a in analyses for _ in range(len(a.beats) + 1)]
    for a in analyses:
        mine = [r for r in rows if r["file"] == a.path]
        beats, mean = mine[:-1], mine[-1]
        assert [(int(r["beat"]), int(r["ed_frame"]), int(r["es_frame"]), r["clip_mode"], int(r["included"]))
                for r in beats] == [(b.number, b.ed_frame, b.es_frame, b.clip_mode, int(b.included)) for b in a.beats]
        markers, ef_text = shown[a.path]
        assert [float(r["ef_model"]) for r in beats if r["ef_model"]] == pytest.approx(markers, abs=0.005)
        assert len(markers) == len([b for b in a.beats if b.ef_model is not None])
        assert mean["beat"] == "mean" and int(mean["beats_used"]) == len([b for b in a.beats if b.included])
        if a.ef_mean is None:
            assert mean["ef_model"] == "" and ef_text == "–"
        else:
            assert float(mean["ef_model"]) == pytest.approx(a.ef_mean, abs=0.005)
            assert ef_text.startswith(f"{a.ef_mean:.1f}")
        assert int(mean["n_frames"]) == a.n_frames and mean["corrected"] == "0"


@pytest.mark.slow
def test_gui_screenshot_subprocess(phantom_study, weights_dir, tmp_path):
    from PySide6.QtGui import QImage

    shot = tmp_path / "window.png"
    r = subprocess.run(
        [sys.executable, "-m", "echoviewer", "gui", str(phantom_study), "--screenshot", str(shot), "--device", "cpu"],
        capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT, timeout=700,
    )
    assert r.returncode == 0, r.stderr
    img = QImage(str(shot))
    assert (img.width(), img.height()) == (1400, 900)


def test_window_process_never_imports_torch_and_adopts_the_early_analysis(phantom_study, weights_dir, tmp_path):
    """`echoviewer gui PATH`: the analysis process starts before the window is built (it imports
    torch and loads the models meanwhile), the window draws the first LV overlay from it, and the
    window's own process never imports torch (fast to show; torch's DLLs never meet Qt's)."""
    import re
    import time

    r = subprocess.run(
        [sys.executable, "-m", "echoviewer", "gui", str(phantom_study), "--device", "cpu", "--timeout", "300",
         "--startup-trace", repr(time.time())],
        capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT, timeout=400,
    )
    assert r.returncode == 0, r.stderr
    m = re.search(r"STARTUP window ([\d.]+) s first-overlay ([\d.na]+) s torch-in-window (\w+)", r.stderr)
    assert m, r.stderr
    window, overlay = float(m.group(1)), float(m.group(2))
    assert 0 < window < overlay < 300  # painted, then an overlay arrived (nan if it never did)
    assert m.group(3) == "False"


@pytest.mark.slow
def test_real_pipeline_corrections_round_trip(phantom_study, weights_dir, qtbot, qsettings, tmp_path, monkeypatch):
    """Correction mode on the real pipeline's results: add a beat, trace it (redraw where the random
    weights found no LV), drag a point, undo/redo, autosave, restore in a new window, corrected CSV."""
    import csv
    import json

    from PySide6.QtCore import QPoint, Qt

    from echoviewer.session import LoopState
    from echoviewer.ui.main_window import MainWindow

    monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path / "home"))
    L, NOMOD = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier

    def window():
        w = MainWindow(qsettings=qsettings, overrides={"device": "cpu"})
        qtbot.addWidget(w)
        w.show()
        assert w.open_study(phantom_study)
        qtbot.waitUntil(lambda: all(e.state in (LoopState.DONE, LoopState.FAILED) for e in w.entries.values()),
                        timeout=600_000)
        qtbot.waitUntil(lambda: w.current_entry().corrections is not None, timeout=5000)
        return w

    win = window()
    sidecar = None
    try:
        e = win.current_entry()
        c = e.corrections
        lp = e.loop
        qtbot.keyClick(win, Qt.Key.Key_E)
        assert win.corrector.active
        n_before = len(c.beats)
        win.player.seek(2)
        qtbot.keyClick(win, Qt.Key.Key_A)
        assert len(c.beats) == n_before + 1
        new = c.beats[-1]
        assert new["origin"] == "user" and new["ed_frame"] == 2 and new["es_frame"] > 2
        ed, view, vp = win.player.editor, win.player.view, win.player.view.viewport()
        x0, y0, x1, y1 = lp.region
        cx, cy = (x0 + x1) / 2, y0 + 0.45 * (y1 - y0)
        for phase, size in (("ed", 1.0), ("es", 0.8)):
            win.player.seek(new[f"{phase}_frame"])
            assert ed.isVisible() and win.corrector.target[1:3] == (new["id"], phase)
            qtbot.keyClick(win, Qt.Key.Key_R)  # draw the LV outline from scratch
            assert ed.redrawing
            for t in np.linspace(0, 2 * np.pi, 14, endpoint=False):
                x = cx + size * 0.09 * (x1 - x0) * np.cos(t)
                y = cy + size * 0.22 * (y1 - y0) * np.sin(t)
                qtbot.mouseClick(vp, L, NOMOD, view.mapFromScene(ed.mapToScene(x, y)))
                qtbot.wait(5)
            qtbot.keyClick(win, Qt.Key.Key_Return)
            assert phase in c.beat(new["id"])["tracings"]
        v = next(v for v in c.values() if v.id == new["id"])
        assert v.edv > v.esv > 0 and 0 < v.ef < 100
        # drag the lateral wall of the ES tracing outwards: ESV up, EF down, one undo step
        i = int(np.argmax(ed.points[:, 0]))
        start = view.mapFromScene(ed.scene_pos_of(("point", i)))
        qtbot.mousePress(vp, L, NOMOD, start)
        for k in range(1, 5):
            qtbot.wait(15)
            qtbot.mouseMove(vp, start + QPoint(5 * k, 0))
        assert "LIVE" in win.summary.live_title.text()
        qtbot.wait(15)
        qtbot.mouseRelease(vp, L, NOMOD, start + QPoint(20, 0))
        v2 = next(v for v in c.values() if v.id == new["id"])
        assert v2.esv > v.esv and v2.ef < v.ef
        assert win.summary.live_ef.text() == f"EF {v2.ef:.1f} %"
        states = json.dumps(c.state["beats"])
        qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert next(v for v in c.values() if v.id == new["id"]).esv == pytest.approx(v.esv)
        qtbot.keyClick(win, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert json.dumps(c.state["beats"]) == states
        sidecar = lp.path.with_name(lp.path.name + ".echoviewer.json")
        assert json.loads(sidecar.read_text())["beats"] == c.state["beats"]
        out = win.exports.export_report("loop", str(tmp_path / "corrected.csv"))
        rows = list(csv.DictReader(out.open()))
        added = [r for r in rows if r["beat"] == str(new["id"])]
        assert (added and added[0]["corrected"] == "1"
                and float(added[0]["ef_corrected"]) == pytest.approx(v2.ef, abs=0.01))
        key = e.key
    finally:
        win.shutdown()
    assert sidecar is not None and sidecar.exists()
    win2 = window()  # reopening the study restores the corrections
    try:
        win2.select_loop(key)
        c2 = win2.entries[key].corrections
        assert json.dumps(c2.state["beats"]) == states
        assert "✎" in win2.study_list.item_for(key).text()
    finally:
        win2.shutdown()
