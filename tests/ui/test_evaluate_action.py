"""Analysis → Evaluate on a labelled dataset…: `echoviewer evaluate` in its own process, progress in
the status bar, the report opened; a folder that is not EchoNet format gets one line; cancel and the
window's close stop the child."""

from __future__ import annotations

import json

import pytest

from echoviewer.synthetic.dataset import write_dataset
from tests.ui.fakes import FakeLoop

pytestmark = pytest.mark.slow


@pytest.fixture
def win(make_window, study_dir):
    w = make_window([FakeLoop(study_dir / "a.avi")])
    w.opened_reports = []
    w.evaluation.open_report = w.opened_reports.append  # no browser in tests
    return w


def test_evaluate_from_the_menu_opens_the_report(win, qtbot, tmp_path):
    data = tmp_path / "labelled"
    write_dataset(data, 2, seed=5, frames=64)
    menu = next(m for m in win.menuBar().findChildren(type(win.menuBar().addMenu("x")))
                if m.title().replace("&", "") == "Analysis")
    assert win.act.evaluate in menu.actions()
    win.act.evaluate.trigger()
    dlg = win.evaluation.dialog
    assert dlg is not None and dlg.isVisible()
    assert not dlg.buttons.button(dlg.buttons.StandardButton.Ok).isEnabled()  # no dataset yet
    dlg.dataset.setText(str(data))
    dlg.split.setCurrentText("ALL")
    out = dlg.values()[1]
    assert out == str(tmp_path / "labelled_evaluation")
    progress_seen = []
    win.evaluation._read = (lambda read: lambda line: (progress_seen.append(line), read(line)))(win.evaluation._read)
    with qtbot.waitSignal(win.evaluation.finished, timeout=300000) as sig:
        dlg.accept()
        assert win.evaluation.running and win.progress.isVisible()
    report = sig.args[0]
    assert not isinstance(report, str), report
    assert win.opened_reports == [report] and report.name == "report.html"
    metrics = json.loads((report.parent / "metrics.json").read_text())
    assert metrics["n_loops"] == 2
    assert any(line.startswith("[1/") for line in progress_seen), progress_seen
    assert "Evaluation done: 2 loops" in win.status_label.text()
    assert not win.progress.isVisible() and not win.evaluation.running
    win.act.evaluate.trigger()  # the next time, the dataset is filled in
    assert win.evaluation.dialog.dataset.text() == str(data)
    win.evaluation.dialog.reject()


def test_a_folder_that_is_not_echonet_format_gets_one_line(win, qtbot, tmp_path):
    with qtbot.waitSignal(win.evaluation.finished, timeout=120000) as sig:
        assert win.evaluation.start(str(tmp_path), str(tmp_path / "out"))
        assert not win.evaluation.start(str(tmp_path), str(tmp_path / "out2"))  # one at a time
    msg = sig.args[0]
    assert msg.startswith("error: ") and "FileList.csv" in msg and "\n" not in msg
    assert "Evaluation failed" in win.status_label.text() and win.opened_reports == []


def test_cancel_stops_the_evaluation(win, qtbot, tmp_path):
    data = tmp_path / "labelled"
    write_dataset(data, 3, seed=6, frames=64)
    with qtbot.waitSignal(win.evaluation.finished, timeout=120000) as sig:
        assert win.evaluation.start(str(data), str(tmp_path / "out"), "ALL")
        win.evaluation.cancel()
    assert sig.args[0] == "error: cancelled"
    assert not win.evaluation.running and not win.progress.isVisible()
    assert not (tmp_path / "out" / "report.html").exists() and win.opened_reports == []


def test_closing_the_window_stops_the_child(win, qtbot, tmp_path):
    data = tmp_path / "labelled"
    write_dataset(data, 3, seed=7, frames=64)
    assert win.evaluation.start(str(data), str(tmp_path / "out"), "ALL")
    qtbot.waitUntil(lambda: win.evaluation._proc is not None, timeout=10000)
    child = win.evaluation._proc
    win.close()
    assert child.wait(timeout=20) == -9  # killed, not left running after the window
