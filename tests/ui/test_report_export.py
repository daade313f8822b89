"""File → Export report…: the dialog's rules and the report written from the window's own state."""

from __future__ import annotations

import subprocess

import pytest
from PySide6.QtWidgets import QDialogButtonBox

from echoviewer.io.identity import Identity
from echoviewer.ui.report_dialog import ReportChoice
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeLoop


@pytest.fixture
def opened(make_window, study_dir, qtbot):
    win = make_window([FakeLoop(study_dir / "a4c.avi", n_frames=120)])
    assert win.open_study(study_dir)
    wait_all_analysed(qtbot, win)
    return win


def test_dialog_asks_for_a_patient_id_before_dicom_for_an_avi_study(opened, qtbot):
    win = opened
    assert win.act.clinical_report.isEnabled()
    win.act.clinical_report.trigger()
    dlg = win.reports.dialog
    assert dlg is not None and not dlg.patient_id.isReadOnly()  # no DICOM: the user types it
    ok = dlg.buttons.button(QDialogButtonBox.StandardButton.Ok)
    dlg.want_dicom.setChecked(True)
    assert not ok.isEnabled() and "patient ID" in dlg.problem.text()
    dlg.patient_id.setText("MRN7")
    assert ok.isEnabled() and dlg.problem.text() == ""
    choice = dlg.choice()
    assert choice.entered.patient_id == "MRN7" and choice.pdf and choice.dicom_dir
    dlg.reject()


def test_the_report_has_the_corrected_values_the_window_shows(opened, qtbot, tmp_path):
    win = opened
    e = win.entries[win.current_key]
    first = e.corrections.beats[0]
    e.corrections.set_frame(first["id"], "es", first["es_frame"] - 2)
    summary = e.corrections.summary()
    pdf = tmp_path / "out" / "r.pdf"
    with qtbot.waitSignal(win.reports.reported, timeout=60000) as sig:
        assert win.reports.export(ReportChoice(pdf=str(pdf), dicom_dir=None, entered=Identity()))
    assert not isinstance(sig.args[0], str), sig.args[0]
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60).stdout
    assert "a4c.avi" in text and f"{summary.ef_mean:.1f}" in text
    assert "Report written" in win.status_label.text()


def test_dicom_without_identity_is_refused_in_one_line(opened, tmp_path):
    win = opened
    assert not win.reports.export(ReportChoice(pdf=None, dicom_dir=str(tmp_path / "d"), entered=Identity()))
    assert "patient ID" in win.status_label.text() and not (tmp_path / "d").exists()
