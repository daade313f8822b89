"""The window with a real Orthanc: PACS nodes (Test button), File → Open from PACS… (search, retrieve
with progress and cancel, the study opens), File → Send results to PACS… (the outputs land in the
same study; refused or unsent results stay in the outbox). The analyzer is the UI tests' fake."""

from __future__ import annotations

import os
from pathlib import Path

import pydicom
import pytest
from PySide6.QtWidgets import QMessageBox

from echoviewer.pacs.nodes import Node, PacsSettings, load_settings, save_settings
from tests.pacs.conftest import OUR_AET, tiny_frames, write_secondary_capture, write_study
from tests.ui.conftest import _themed, make_window, qsettings, wait_all_analysed  # noqa: F401  (fixtures)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def window(make_window, orthanc):  # noqa: F811
    """A shown window that scans with echoviewer.io, the test Orthanc saved as node 'test-orthanc'."""
    from echoviewer.ui.main_window import _default_scan

    save_settings(PacsSettings(calling_aet=OUR_AET, nodes=[orthanc.node()], cache_limit_mb=1000))
    return make_window(scan=_default_scan)


def seed(orthanc, tmp_path, patient_id, n_loops=2, non_us=True, **kw):
    uid, files = write_study(tmp_path / patient_id, patient_id, n_loops=n_loops, **kw)
    if non_us:
        files.append(write_secondary_capture(tmp_path / patient_id / "sc.dcm", uid, patient_id))
    assert not orthanc.client().store(files).refused  # the app's own sending code
    return uid


def search(qtbot, win, patient_id):
    dlg = win.pacs_open.open_dialog()
    dlg.node.setCurrentText("test-orthanc")
    dlg.patient_id.setText(patient_id)
    with qtbot.waitSignal(win.pacs_open.searched, timeout=20000) as found:
        dlg.search_button.click()
    assert isinstance(found.args[0], list), found.args[0]
    return dlg


def test_nodes_dialog_tests_and_saves_a_node(qtbot, orthanc, monkeypatch):
    from echoviewer.ui.pacs_nodes import NodesDialog

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    dlg = NodesDialog(PacsSettings(calling_aet=OUR_AET))
    qtbot.addWidget(dlg)
    dlg.add_node()
    f = dlg.form
    f.name.setText("lab")
    f.host.setText("127.0.0.1")
    f.port.setValue(orthanc.dicom_port)
    f.called_aet.setText("WRONG")
    f.timeout.setValue(5)
    dlg.test_node()
    qtbot.waitUntil(lambda: dlg.test_result.text().startswith("✗"), timeout=15000)
    assert "association rejected" in dlg.test_result.text()
    f.called_aet.setText("ORTHANC")
    dlg.test_node()
    qtbot.waitUntil(lambda: dlg.test_result.text().startswith("✓"), timeout=15000)
    assert "C-ECHO answered" in dlg.test_result.text()

    dlg.add_node()  # a DICOMweb node, tested by QIDO
    f.name.setText("web")
    f.protocol.setCurrentIndex(f.protocol.findData("dicomweb"))
    f.url.setText(orthanc.dicomweb)
    dlg.test_node()
    qtbot.waitUntil(lambda: dlg.test_result.text().startswith("✓"), timeout=15000)
    assert "QIDO-RS answered" in dlg.test_result.text()

    dlg.add_node()  # incomplete: OK refuses, saying which node and why
    dlg.accept()
    assert warnings and warnings[-1].startswith("PACS 1: host is empty") and dlg.result() == 0
    dlg.remove_node()
    dlg.accept()
    saved = load_settings()
    assert [n.name for n in saved.nodes] == ["lab", "web"] and saved.calling_aet == OUR_AET
    assert saved.node("lab").port == orthanc.dicom_port and saved.node("lab").called_aet == "ORTHANC"
    assert saved.node("web").protocol == "dicomweb" and saved.node("web").dicomweb_url == orthanc.dicomweb


def test_open_from_pacs_retrieves_into_the_cache_and_opens_the_study(qtbot, window, orthanc, tmp_path):
    uid = seed(orthanc, tmp_path, "WIN-OPEN", n_loops=2)
    dlg = search(qtbot, window, "WIN-OPEN")
    assert dlg.table.rowCount() == 1
    row = [dlg.table.item(0, c).text() for c in range(dlg.table.columnCount())]
    assert row == ["TEST, WIN-OPEN", "WIN-OPEN", "2024-01-15", "Echo", "ACCWIN-OPEN", "2"]  # US instances only

    with qtbot.waitSignal(window.pacs_open.retrieved, timeout=30000) as got:
        dlg.retrieve_button.click()
    result = got.args[0]
    assert not isinstance(result, str), result
    assert result.folder.parent == Path(os.environ["ECHOVIEWER_HOME"]) / "pacs-cache"
    assert window.study_path == str(result.folder)
    assert len(window.entries) == 2 and all(e.readable for e in window.entries.values())
    assert window.status_label.text() == ("Opened from PACS: 2 instances retrieved from test-orthanc, "
                                          "1 non-US instance skipped")
    assert window.pacs_open.dialog is None  # closed once the study opened
    assert {pydicom.dcmread(p).StudyInstanceUID for p in result.folder.glob("*.dcm")} == {uid}


def test_cancel_in_the_window_then_retrieve_again_resumes(qtbot, window, orthanc, tmp_path, monkeypatch):
    seed(orthanc, tmp_path, "WIN-CANCEL", n_loops=12, non_us=False)
    dlg = search(qtbot, window, "WIN-CANCEL")
    # cancel as soon as the third instance is in (the dialog's progress is driven from the thread)
    real = dlg.set_progress

    def progress_then_cancel(done, total):
        real(done, total)
        if done >= 3 and dlg.busy == "retrieve":
            dlg.close_button.click()  # "Cancel" while retrieving

    monkeypatch.setattr(dlg, "set_progress", progress_then_cancel)
    with qtbot.waitSignal(window.pacs_open.retrieved, timeout=30000) as got:
        dlg.retrieve_button.click()
    assert isinstance(got.args[0], str) and got.args[0].endswith(": cancelled")
    assert "Retrieve cancelled" in dlg.message.text() and window.study_path is None
    assert dlg.isVisible() and dlg.busy == ""

    monkeypatch.setattr(dlg, "set_progress", real)
    with qtbot.waitSignal(window.pacs_open.retrieved, timeout=30000) as got:
        dlg.retrieve_button.click()
    result = got.args[0]
    assert result.already >= 3 and result.already + result.fetched == 12
    assert len(window.entries) == 12


def test_an_unreachable_node_is_one_line_in_the_dialog(qtbot, window, orthanc, tmp_path):
    s = load_settings()
    s.nodes.append(Node(name="down", host="127.0.0.1", port=1, called_aet="X", connect_timeout=1))
    save_settings(s)
    dlg = window.pacs_open.open_dialog()
    dlg.set_nodes(load_settings())
    window.pacs_open.settings = load_settings()
    dlg.node.setCurrentText("down")
    with qtbot.waitSignal(window.pacs_open.searched, timeout=15000) as found:
        dlg.search_button.click()
    assert found.args[0].startswith("down: connection refused")
    assert dlg.message.text() == found.args[0]
    dlg.dates.setText("not a date")
    with qtbot.waitSignal(window.pacs_open.searched, timeout=5000) as found:
        dlg.search_button.click()
    assert "YYYYMMDD" in found.args[0]


def test_send_results_lands_in_the_same_study(qtbot, window, orthanc, tmp_path):
    # a beat per loop at least (the fake analyzer's heart beats every 0.8 s): something to report
    uid = seed(orthanc, tmp_path, "WIN-SEND", n_loops=2, non_us=False, frames=tiny_frames(5, n=48), fps=50.0)
    dlg = search(qtbot, window, "WIN-SEND")
    with qtbot.waitSignal(window.pacs_open.retrieved, timeout=30000):
        dlg.retrieve_button.click()
    wait_all_analysed(qtbot, window)
    assert window.act.send_pacs.isEnabled()
    before = {s["MainDicomTags"]["SeriesInstanceUID"] for s in orthanc.study_series(uid)}

    with qtbot.waitSignal(window.pacs_send.sent, timeout=120000) as sent:
        assert window.pacs_send.send(load_settings(), "test-orthanc")
    result = sent.args[0]
    assert not isinstance(result, str), result
    assert result.kept is None and not result.report.refused
    text = window.status_label.text()
    assert text.startswith("Sent SR, Encapsulated PDF, ") and text.endswith(" to test-orthanc: all stored")
    series = [s for s in orthanc.study_series(uid) if s["MainDicomTags"]["SeriesInstanceUID"] not in before]
    modalities = sorted(s["MainDicomTags"].get("Modality", "") for s in series)
    assert "SR" in modalities and "DOC" in modalities and len(series) >= 3, modalities
    assert not any((Path(os.environ["ECHOVIEWER_HOME"]) / "pacs-outbox").glob("*/*"))  # sent: nothing kept


def test_results_for_a_node_that_is_down_stay_in_the_outbox(qtbot, window, orthanc, tmp_path, make_orthanc):
    seed(orthanc, tmp_path, "WIN-DOWN", n_loops=1, non_us=False, frames=tiny_frames(6, n=48), fps=50.0)
    dlg = search(qtbot, window, "WIN-DOWN")
    with qtbot.waitSignal(window.pacs_open.retrieved, timeout=30000):
        dlg.retrieve_button.click()
    wait_all_analysed(qtbot, window)
    other = make_orthanc()
    settings = load_settings()
    settings.nodes.append(other.node(name="gone"))
    other.stop()
    with qtbot.waitSignal(window.pacs_send.sent, timeout=120000) as sent:
        window.pacs_send.send(settings, "gone")
    msg = sent.args[0]
    assert isinstance(msg, str) and msg.startswith("gone: connection refused") and "kept in" in msg
    kept = Path(msg.rsplit("kept in ", 1)[1])
    assert kept.parent == Path(os.environ["ECHOVIEWER_HOME"]) / "pacs-outbox"
    assert len(list(kept.glob("*"))) >= 3  # SR, PDF, key images: nothing lost
    assert window.status_label.text() == f"Not sent: {msg}"
