"""Analysis → Evaluate on a labelled dataset…: `echoviewer evaluate` in its own process, progress in
the status bar, the report opened; a folder that is not EchoNet format gets one line."""

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
    assert "Evaluate on a labelled dataset…" in [a.text().replace("&", "") for a in win.act.evaluate.parent()
                                                  .findChildren(type(win.act.evaluate))]
    win.act.evaluate.trigger()
    dlg = win.evaluation.dialog
    assert dlg is not None
    dlg.dataset.setText(str(data))
    dlg.split.setCurrentText("ALL")
    out = dlg.values()[1]
    assert out == str(tmp_path / "labelled_evaluation")
    with qtbot.waitSignal(win.evaluation.finished, timeout=300000) as sig:
        dlg.accept()
        qtbot.waitUntil(lambda: win.evaluation.running, timeout=5000)
        assert win.progress.isVisible()
    report = sig.args[0]
    assert not isinstance(report, str), report
    assert win.opened_reports == [report] and report.name == "report.html"
    metrics = json.loads((report.parent / "metrics.json").read_text())
    assert metrics["n_loops"] == 2
    assert "Evaluation done: 2 loops" in win.status_label.text()
    assert not win.progress.isVisible()


def test_a_folder_that_is_not_echonet_format_gets_one_line(win, qtbot, tmp_path):
    with qtbot.waitSignal(win.evaluation.finished, timeout=120000) as sig:
        assert win.evaluation.start(str(tmp_path), str(tmp_path / "out"))
    assert sig.args[0].startswith("error: ") and "FileList.csv" in sig.args[0]
    assert "Evaluation failed" in win.status_label.text() and win.opened_reports == []
