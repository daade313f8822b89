"""The typed report content: reported values, corrections side by side, identity, key beat."""

import csv
import io

import numpy as np
import pytest

from echoviewer.analysis.tracing import mask_contour
from echoviewer.annotations.model import Corrections
from echoviewer.export.report import report_text
from echoviewer.io.identity import Identity
from echoviewer.reports.content import identities_disagree, loop_report, study_report
from tests.annotations.conftest import analysis, ellipse  # noqa: F401  (fixture)


def _csv_rows(a, c=None):
    text = report_text([a], None if c is None else {a.path: c})
    return list(csv.DictReader(io.StringIO(text)))


def test_uncorrected_loop_reports_the_model_values(analysis):  # noqa: F811
    lr = loop_report("loop.avi", analysis, Corrections(analysis, user="t"))
    assert not lr.corrected and lr.reviewed is None and lr.reviews == []
    assert lr.ef == pytest.approx(56.0)
    assert [(b.ed_frame, b.es_frame) for b in lr.beats] == [(5, 20), (35, 50)]
    assert [b.reported(lr.corrected)[0] for b in lr.beats] == [55.0, 57.0]
    assert all(b.ef_corrected is None and not b.corrected for b in lr.beats)
    assert lr.category == "preserved"
    assert lr.beats[0].ed_tracing is analysis.beats[0].ed_tracing


def test_corrected_loop_reports_the_corrected_values_as_the_csv_does(analysis):  # noqa: F811
    c = Corrections(analysis, user="reviewer1")
    c.set_frame(1, "es", 18)
    c.set_tracing(1, "ed", mask_contour(ellipse(60, 55, 20, 34)), np.array([60.0, 21.0]), np.array([60.0, 89.0]))
    c.exclude(2, "ectopic beat")
    lr = loop_report("loop.avi", analysis, c)
    rows = _csv_rows(analysis, c)
    assert lr.corrected and lr.reviewed is not None
    b1, b2 = lr.beats
    assert (b1.ed_frame, b1.es_frame, b1.model_es_frame) == (5, 18, 20)
    assert b1.corrected and b2.corrected and not b2.included and b2.exclude_reason == "ectopic beat"
    assert f"{b1.ef_corrected:.2f}" == rows[0]["ef_corrected"]
    assert f"{b1.edv_corrected:.2f}" == rows[0]["edv_corrected"]
    assert f"{lr.ef:.2f}" == rows[-1]["ef_corrected"]
    assert lr.ef == pytest.approx(b1.ef_corrected)  # beat 2 excluded
    assert lr.key_beat() is b1
    assert [(r.user, r.edits) for r in lr.reviews] == [("reviewer1", 3)]
    # the corrected tracing is the one drawn
    assert b1.ed_tracing is not analysis.beats[0].ed_tracing


def test_deleted_and_added_beats(analysis):  # noqa: F811
    c = Corrections(analysis, user="t")
    c.delete_beat(2)
    new = c.add_beat(38, 52)
    lr = loop_report("loop.avi", analysis, c)
    assert [(b.deleted, b.included, b.model_ed_frame) for b in lr.beats] == [
        (False, True, 5), (True, False, 35), (False, True, None)]
    assert lr.beats[1].exclude_reason == "deleted" and lr.beats[2].corrected
    assert new and lr.summary.n_used == 2


def test_correction_can_move_a_loop_below_the_paper_threshold(analysis):  # noqa: F811
    c = Corrections(analysis, user="t")
    for beat in (1, 2):  # near-equal ED and ES tracings: EF close to 0
        c.set_tracing(beat, "ed", mask_contour(ellipse(60, 55, 12, 28)), np.array([60.0, 27.0]), np.array([60.0, 83.0]))
    lr = loop_report("loop.avi", analysis, c)
    assert lr.ef is not None and lr.ef < 50
    assert any("EF below 50" in f for f in lr.flags)
    assert not any("EF below 50" in f for f in loop_report("loop.avi", analysis).flags)


def test_identity_from_dicom_wins_and_entered_fills_gaps(analysis):  # noqa: F811
    read = Identity(patient_name="DOE^JANE", patient_id="123", sop_instance_uid="1.2.3")
    other = Identity(patient_name="ROE^RICHARD", patient_id="999", sop_instance_uid="1.2.4")
    a = loop_report("a.dcm", analysis, identity=read)
    b = loop_report("b.dcm", analysis, identity=other)
    avi = loop_report("c.avi", analysis)
    rep = study_report("study", [avi, a], entered=Identity.entered("Typed Name", "555", accession="ACC1"))
    assert rep.identity.patient_id == "123" and rep.identity.accession == "ACC1"
    assert rep.identity.display_name == "DOE, JANE"
    assert identities_disagree([a, b, avi]) == ["b.dcm"]
    assert rep.demo and "demo" in rep.demo_label
    assert [w.name for w in rep.weights] == ["seg"]  # same sha and task: listed once
