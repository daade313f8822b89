"""`echoviewer gui`: argument parsing, the screenshot mode (in-process with fakes) and its failures."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
from pathlib import Path

from PySide6.QtGui import QImage

from echoviewer.ui import cli
from tests.ui.fakes import FakeAnalyzer, FakeLoop

ROOT = Path(__file__).resolve().parents[2]


def _env(tmp_path):
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # QSettings stay out of the user's
    env["ECHOVIEWER_HOME"] = str(tmp_path / "home")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def test_register_adds_the_gui_command():
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["gui", "study", "--screenshot", "s.png", "--device", "cpu",
                              "--seg-weights", "a.pt", "--ef-weights", "b.pt"])
    assert (args.path, args.screenshot, args.device, args.seg_weights, args.ef_weights) == \
        ("study", "s.png", "cpu", "a.pt", "b.pt")
    assert args.func is cli.run
    assert parser.parse_args(["gui"]).path is None


def test_screenshot_of_a_missing_folder_fails_with_one_line(tmp_path):
    out = tmp_path / "shot.png"
    r = subprocess.run([sys.executable, "-m", "echoviewer", "gui", str(tmp_path / "missing"), "--screenshot",
                        str(out)], capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT, timeout=120)
    assert r.returncode != 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip() and "propagateSizeHints" not in ln]
    assert lines == [f"echoviewer gui: no such file or folder: {tmp_path / 'missing'}"]
    assert not out.exists()


def test_screenshot_waits_for_the_first_analysis(make_window, study_dir, qapp, tmp_path):
    loops = [FakeLoop(study_dir / f"a4c_{i}.avi", n_frames=120, height=300, width=400) for i in range(2)]
    win = make_window(loops, factory=lambda s: FakeAnalyzer(s, delay=0.02))
    out = tmp_path / "shots" / "window.png"
    assert cli._screenshot(qapp, win, str(study_dir), out, timeout_s=30) == 0
    img = QImage(str(out))
    assert (img.width(), img.height()) == (win.width(), win.height())
    e = win.entries[str(loops[0].path)]
    assert e.analysis is not None  # it waited for the analysis ...
    assert win.timeline.marker_positions()["es"].shape[0] == len(e.analysis.beats)  # ... and the timeline


def test_screenshot_times_out(make_window, study_dir, qapp, tmp_path, capsys):
    gate = threading.Event()
    win = make_window([FakeLoop(study_dir / "a.avi")], factory=lambda s: FakeAnalyzer(s, gate=gate))
    out = tmp_path / "never.png"
    threading.Timer(1.0, gate.set).start()  # let the worker finish after the test's timeout
    assert cli._screenshot(qapp, win, str(study_dir), out, timeout_s=0.5) == 1
    assert "timed out after 0.5 s" in capsys.readouterr().err
    assert not out.exists()


def test_screenshot_reports_a_failed_analysis(make_window, study_dir, qapp, tmp_path, capsys):
    win = make_window([FakeLoop(study_dir / "bad.avi")], factory=lambda s: FakeAnalyzer(s, fail_on="bad"))
    assert cli._screenshot(qapp, win, str(study_dir), tmp_path / "x.png", timeout_s=30) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("echoviewer gui: analysis of bad.avi failed:") and "\n" not in err


def test_gui_screenshot_subprocess_on_a_real_folder(tmp_path):
    """`echoviewer gui PATH --screenshot` end to end (real readers; a fake analyzer plugged in)."""
    from tests.ui.test_real_io import write_avi

    study = tmp_path / "study"
    study.mkdir()
    write_avi(study / "a4c.avi", n=60)
    (study / "broken.avi").write_bytes(b"not a video" * 10)
    shot = tmp_path / "out" / "window.png"
    r = subprocess.run(
        [sys.executable, "-m", "echoviewer", "gui", str(study), "--screenshot", str(shot),
         "--analyzer-factory", "tests.ui.fakes:analyzer_factory"],
        capture_output=True, text=True, env=_env(tmp_path), cwd=ROOT, timeout=300,
    )
    assert r.returncode == 0, r.stderr
    img = QImage(str(shot))
    assert (img.width(), img.height()) == (1400, 900)
    # the window is dark-themed: most pixels are dark
    dark = sum(img.pixelColor(x, y).lightness() < 80 for x in range(0, 1400, 50) for y in range(0, 900, 50))
    assert dark > 0.6 * 28 * 18
