"""The CSV report with corrections: model and corrected values side by side."""

import csv
import io

import numpy as np
import pytest

from echoviewer.analysis.tracing import mask_contour
from echoviewer.annotations.model import Corrections
from echoviewer.export.report import COLUMNS, report_text, rows_for, write_report
from tests.annotations.conftest import analysis, ellipse  # noqa: F401  (fixture)

CONTRACT = [
    "file", "beat", "ed_frame", "es_frame", "ef_model", "ef_seg", "ef_area_length", "edv", "esv",
    "volume_unit", "hr_bpm", "fps", "n_frames", "clip_start", "clip_mode", "included", "flags",
    "ef_sd", "beats_used", "method", "seg_weights", "seg_weights_sha256", "ef_weights",
    "ef_weights_sha256", "weights_note", "mean", "std", "device",
]
NEW = ["corrected", "ef_corrected", "edv_corrected", "esv_corrected", "ed_frame_corrected",
       "es_frame_corrected", "exclude_reason"]


def _read(text):
    return list(csv.DictReader(io.StringIO(text)))


def test_columns_keep_the_cli_contract_first():
    assert COLUMNS[: len(CONTRACT)] == CONTRACT
    assert set(NEW) <= set(COLUMNS[len(CONTRACT):])


def test_without_corrections_new_columns_are_empty(analysis):  # noqa: F811
    rows = _read(report_text([analysis]))
    assert [r["beat"] for r in rows] == ["1", "2", "mean"]
    assert all(r["corrected"] == "0" for r in rows)
    assert all(r[c] == "" for r in rows for c in NEW[1:])


def test_corrected_columns(analysis, tmp_path):  # noqa: F811
    c = Corrections(analysis, user="t")
    model = {v.id: v for v in c.values()}
    c.set_frame(1, "es", 18)
    c.set_tracing(1, "ed", mask_contour(ellipse(60, 55, 20, 34)), np.array([60.0, 21.0]), np.array([60.0, 89.0]))
    c.exclude(2, "ectopic beat")
    out = write_report([analysis], tmp_path / "r.csv", corrections_by_path={analysis.path: c})
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0].keys()) == COLUMNS
    b1, b2, mean = rows
    vals = {v.id: v for v in c.values()}
    # model columns unchanged
    assert (b1["beat"], b1["ed_frame"], b1["es_frame"], b1["ef_model"]) == ("1", "5", "20", "55.00")
    # corrected side by side
    assert b1["corrected"] == "1" and b1["es_frame_corrected"] == "18" and b1["ed_frame_corrected"] == "5"
    assert float(b1["ef_corrected"]) == pytest.approx(vals[1].ef, abs=0.006)
    assert float(b1["edv_corrected"]) == pytest.approx(vals[1].edv, abs=0.006)
    assert float(b1["edv_corrected"]) > model[1].edv
    assert b1["exclude_reason"] == ""
    assert b2["corrected"] == "1" and b2["exclude_reason"] == "ectopic beat"
    assert float(b2["ef_corrected"]) == pytest.approx(vals[2].ef, abs=0.006)
    assert mean["beat"] == "mean" and mean["corrected"] == "1"
    assert float(mean["ef_corrected"]) == pytest.approx(c.summary().ef_mean, abs=0.006)
    assert mean["beats_used_corrected"] == "1"
    assert mean["ef_model"] == "56.00"  # the model's mean stays


def test_added_and_deleted_beats(analysis):  # noqa: F811
    c = Corrections(analysis)
    c.delete_beat(2)
    new = c.add_beat(30, 48)
    rows = rows_for(analysis, c)
    beats = [r for r in rows if r["beat"] != "mean"]
    assert [r["beat"] for r in beats] == [1, new, 2]  # by ED frame: 5, 30, 35
    added, deleted = beats[1], beats[2]
    assert added["corrected"] == 1 and added["ed_frame_corrected"] == 30 and added["es_frame_corrected"] == 48
    assert "ef_model" not in added and added["ef_corrected"]
    assert deleted["corrected"] == 1 and deleted["exclude_reason"] == "deleted" and deleted["ef_model"] == "57.00"
    assert "ef_corrected" not in deleted
    assert beats[0]["corrected"] == 0


def test_a_loop_nobody_corrected_has_empty_correction_columns(analysis):  # noqa: F811
    rows = _read(report_text([analysis], {analysis.path: Corrections(analysis, user="t")}))
    assert all(r["corrected"] == "0" for r in rows)
    assert all(r[c] == "" for r in rows for c in NEW[1:] + ["included_corrected"])


def test_an_excluded_beat_says_so_in_included_corrected(analysis):  # noqa: F811
    c = Corrections(analysis, user="t")
    c.exclude(2, "ectopic beat")
    b1, b2, _ = _read(report_text([analysis], {analysis.path: c}))
    assert (b2["included"], b2["included_corrected"], b2["exclude_reason"]) == ("1", "0", "ectopic beat")
    assert b1["included_corrected"] == "1"


def test_patient_columns_come_from_the_identity(analysis):  # noqa: F811
    from echoviewer.io.identity import Identity

    ident = Identity(patient_name="DOE^JANE", patient_id="MRN1", study_date="20240131", accession="A9")
    rows = _read(report_text([analysis], identities_by_path={analysis.path: ident}))
    assert {(r["patient_id"], r["patient_name"], r["study_date"], r["accession"]) for r in rows} == {
        ("MRN1", "DOE, JANE", "2024-01-31", "A9")}
    assert {r["patient_id"] for r in _read(report_text([analysis]))} == {""}
