"""Habits of a desktop app (issue 21, item 9): the window's size and splitters come back, and the
log of a session names no patient (paths and file names carry names in real studies)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from echoviewer import applog
from echoviewer.io.identity import Identity
from tests.ui.conftest import wait_all_analysed
from tests.ui.fakes import FakeAnalyzer, FakeLoop, FakeLoopError

ROOT = Path(__file__).resolve().parents[2]


# Run in a process of its own: Qt moves a restored window onto its screen, and the shared test
# application's offscreen screen (800 x 800) is smaller than the window; this one gets 1920 x 1200.
GEOMETRY_SCRIPT = """
import json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from echoviewer.ui.main_window import MainWindow
from echoviewer.ui.settings import open_qsettings
from tests.ui.fakes import FakeAnalyzer

def window():
    w = MainWindow(analyzer_factory=lambda s: FakeAnalyzer(s), qsettings=open_qsettings(sys.argv[1]), reopen=None)
    w.show()
    app.processEvents()
    return w

first = window()
kept = json.loads(sys.argv[2])
first.resize(*kept["size"])
app.processEvents()
first.splitter.setSizes(kept["main"])
first.centre_splitter.setSizes(kept["centre"])
app.processEvents()
before = {"size": [first.width(), first.height()], "main": first.splitter.sizes(),
          "centre": first.centre_splitter.sizes()}
first.close()
second = window()
after = {"size": [second.width(), second.height()], "main": second.splitter.sizes(),
         "centre": second.centre_splitter.sizes()}
second.close()
print(json.dumps([before, after]))
"""


def test_window_size_and_splitters_come_back(tmp_path):
    screen = tmp_path / "screen.json"
    screen.write_text(json.dumps({"screens": [{"name": "big", "x": 0, "y": 0, "width": 1920, "height": 1200,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": f"offscreen:configfile={screen}",
           "ECHOVIEWER_HOME": str(tmp_path / "home")}
    wanted = {"size": [1500, 950], "main": [420, 640, 410], "centre": [430, 300]}
    r = subprocess.run([sys.executable, "-c", GEOMETRY_SCRIPT, str(tmp_path / "settings.ini"), json.dumps(wanted)],
                       env=env, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    before, after = json.loads(r.stdout.strip().splitlines()[-1])
    assert before["size"] == [1500, 950] and before["main"] != [290, 780, 330]  # not the defaults
    assert after == before


@pytest.fixture
def session_log(tmp_path):
    applog.stop()
    path = applog.setup(tmp_path / "logs", crash_trace=False)  # (faulthandler belongs to pytest here)
    yield path
    applog.stop()
    applog.log.setLevel(logging.NOTSET)


def test_the_log_follows_the_session_without_patient_names(make_window, tmp_path, qtbot, session_log):
    study = tmp_path / "DOE_JANE_19700101"
    study.mkdir()
    who = Identity(patient_name="DOE^JANE", patient_id="MRN42", study_date="19700101", sop_instance_uid="1.2")
    loops = [FakeLoop(study / f"DOE_JANE_a4c_{i}.dcm", n_frames=60, identity=who) for i in range(2)]
    bad = FakeLoopError(study / "DOE_JANE_broken.dcm", f"{study / 'DOE_JANE_broken.dcm'}: not a DICOM file")
    win = make_window(loops, [bad], factory=lambda s: FakeAnalyzer(s, fail_on="a4c_1"))
    assert win.open_study(study)
    wait_all_analysed(qtbot, win)
    win.close()
    text = session_log.read_text(encoding="utf-8")
    assert "opened study" in text and "analysed loop" in text and "failed" in text and "unreadable" in text
    assert applog.loop_ref(loops[0].path) in text and applog.loop_ref(loops[1].path) in text
    for secret in ("DOE", "JANE", "MRN42", "19700101", str(tmp_path)):
        assert secret not in text
