"""Settings: QSettings round trip and the dialog's validation."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QTableWidgetItem

from echoviewer.analysis.ef_categories import DEFAULT_CATEGORIES
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.ui.settings import SettingsDialog, UiSettings, add_recent_study, recent_studies


def test_defaults_and_analysis_settings(qsettings):
    s = UiSettings.load(qsettings)  # empty file
    assert s == UiSettings()
    assert s.categories == DEFAULT_CATEGORIES
    assert s.analysis_settings() == AnalysisSettings()  # automatic weights, automatic device
    s2 = UiSettings(device="cuda", seg_weights="/w/seg.pt", mean=(1.0, 2.0, 3.0))
    a = s2.analysis_settings()
    assert (a.device, a.seg_weights, a.ef_weights, a.mean, a.std) == ("cuda", "/w/seg.pt", None, (1.0, 2.0, 3.0), None)


def test_round_trip_through_qsettings(qsettings):
    s = UiSettings(device="cpu", seg_weights="/a.pt", ef_weights="/b.pt", mean=(30.0, 31.0, 32.0),
                   std=(50.0, 50.0, 51.0), categories=[(35, "low"), (None, "ok")], overlay_color=(10, 200, 30),
                   overlay_opacity=0.45, torch_threads=2)
    s.save(qsettings)
    assert UiSettings.load(qsettings) == s
    qsettings.setValue("ef/categories", "garbage")
    qsettings.setValue("analysis/device", "tpu")
    bad = UiSettings.load(qsettings)
    assert bad.categories == DEFAULT_CATEGORIES and bad.device == "auto"


def test_recent_list_is_most_recent_first_and_capped(qsettings, tmp_path):
    for i in range(12):
        add_recent_study(qsettings, str(tmp_path / f"s{i}"))
    add_recent_study(qsettings, str(tmp_path / "s3"))
    r = recent_studies(qsettings)
    assert r[0] == str(tmp_path / "s3") and len(r) == 10 and len(set(r)) == 10


def test_dialog_collects_edits(qtbot, tmp_path):
    w = tmp_path / "seg.pt"
    w.write_bytes(b"x")
    dlg = SettingsDialog(UiSettings())
    qtbot.addWidget(dlg)
    dlg.device.setCurrentText("cpu")
    dlg.seg.edit.setText(str(w))
    dlg.mean.setText("32.5, 32.6, 32.9")
    dlg.std.setText("50")
    dlg.opacity.setValue(55)
    dlg.table.setItem(0, 0, QTableWidgetItem("39"))
    dlg.table.setItem(2, 1, QTableWidgetItem("normal"))
    dlg.threads.setValue(1)
    s = dlg.collect()
    assert s.device == "cpu" and s.seg_weights == str(w) and s.ef_weights == ""
    assert s.mean == (32.5, 32.6, 32.9) and s.std == (50.0, 50.0, 50.0)
    assert s.overlay_opacity == pytest.approx(0.55) and s.torch_threads == 1
    assert s.categories == [(39.0, "reduced"), (49.0, "mildly reduced"), (None, "normal")]


@pytest.mark.parametrize(
    "field, value, message",
    [("mean", "1, 2", "Normalisation mean"), ("std", "0, 1, 1", "must be positive"),
     ("seg", "/no/such/file.pt", "no such file"), ("cat", "abc", "not a number"), ("cat", "60", "must increase")],
)
def test_dialog_rejects_bad_input(qtbot, field, value, message):
    dlg = SettingsDialog(UiSettings())
    qtbot.addWidget(dlg)
    if field == "mean":
        dlg.mean.setText(value)
    elif field == "std":
        dlg.std.setText(value)
    elif field == "seg":
        dlg.seg.edit.setText(value)
    else:
        dlg.table.setItem(0, 0, QTableWidgetItem(value))
    with pytest.raises(ValueError, match=message):
        dlg.collect()
