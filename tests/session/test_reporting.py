"""The open study as report content: analysed loops with their live corrections, the rest named."""

from __future__ import annotations

import numpy as np

from echoviewer.io.identity import Identity
from echoviewer.session import StudySession
from echoviewer.session.reporting import session_identity, session_report
from tests.session.test_study_session import SETTINGS, analysis_of
from tests.ui.fakes import FakeLoop, FakeLoopError


def test_session_report_takes_live_corrections_and_names_what_is_left_out(tmp_path):
    d = tmp_path / "study"
    d.mkdir()
    dicom_id = Identity(patient_name="DOE^JANE", patient_id="42", sop_instance_uid="1.2.3")
    a, b, c = FakeLoop(d / "a.dcm", n_frames=120, identity=dicom_id), FakeLoop(d / "b.avi"), FakeLoop(d / "c.avi")
    s = StudySession(SETTINGS, user="tester")
    s.open(d, [a, b, c], [FakeLoopError(d / "x.dcm", "not a DICOM file")])
    s.started(str(a.path))
    s.finished(str(a.path), analysis_of(a))
    s.started(str(b.path))
    s.failed(str(b.path), "RuntimeError: boom")
    entry = s[str(a.path)]
    first = entry.analysis.beats[0]
    entry.corrections.set_frame(first.number, "es", first.es_frame - 2)

    rep = session_report(s, entered=Identity.entered("Typed", "999"))
    assert [lr.name for lr in rep.loops] == ["a.dcm"]
    lr = rep.loops[0]
    assert lr.corrected and lr.beats[0].es_frame == first.es_frame - 2 and lr.beats[0].corrected
    assert lr.reviews[0].user == "tester"
    why = {m.name: m.reason for m in rep.missing}
    assert why == {"b.avi": "analysis failed: RuntimeError: boom", "c.avi": "not analysed yet",
                   "x.dcm": "unreadable: x.dcm: not a DICOM file"}  # the fake error names its file
    assert rep.identity.patient_id == "42"  # the DICOM's identity wins over what was typed
    assert session_identity(s) is dicom_id
    assert np.isfinite(lr.ef)
