"""The DICOM SR of a study: valid (dciodvfy, dsrdump), the CSV report's numbers, the right references."""

import numpy as np
import pydicom
import pytest

from echoviewer.analysis.tracing import mask_contour
from echoviewer.annotations.model import Corrections
from echoviewer.io.identity import Identity
from echoviewer.reports.content import loop_report, study_report
from echoviewer.reports.dicom_common import DicomOutputError, study_context
from echoviewer.reports.dicom_out import save_dataset
from echoviewer.reports.dicom_sr import METHOD_OF_DISKS, build_sr
from tests.annotations.conftest import analysis, ellipse  # noqa: F401  (fixture)
from tests.reports.dicom_helpers import (
    EDV,
    EF,
    ESV,
    MEAN,
    PATIENT,
    SD,
    csv_rows,
    dciodvfy,
    dsrdump,
    not_dicomdir,
    read_groups,
    source_dicom,
    with_volumes,
)


def _write_sr(report, tmp_path, **kw):
    return save_dataset(build_sr(report, **kw), tmp_path / "sr.dcm")


def test_model_only_loop_round_trips_the_csv_values_and_references_the_frames(analysis, tmp_path):  # noqa: F811
    src, ident = source_dicom(tmp_path)
    a = with_volumes(analysis)
    path = _write_sr(study_report("study", [loop_report("loop.dcm", a, identity=ident)]), tmp_path)

    assert not_dicomdir(dciodvfy(path, "ComprehensiveSR")) == []
    assert "Left Ventricular Ejection Fraction" in dsrdump(path)
    groups, rows = read_groups(path), csv_rows(a)
    assert list(groups) == ["loop.dcm summary", "loop.dcm beat 1", "loop.dcm beat 2"]
    for n, row in enumerate(rows[:-1], start=1):
        g = groups[f"loop.dcm beat {n}"]
        for code, column in ((EF, "ef_model"), (EDV, "edv"), (ESV, "esv")):
            assert f"{g.values[(code, None)].value:.2f}" == row[column]
        ed, es = int(row["ed_frame"]) + 1, int(row["es_frame"]) + 1  # DICOM frame numbers
        assert g.values[(EF, None)].images == [(ident.sop_instance_uid, [ed, es])]
        assert g.values[(EDV, None)].images == [(ident.sop_instance_uid, [ed])]
        assert g.values[(ESV, None)].images == [(ident.sop_instance_uid, [es])]
        # the model's EF names the video model; volumes: method of disks on the segmentation
        assert g.values[(EF, None)].method is None
        assert g.values[(EF, None)].algorithm_version == a.ef_info.sha256
        assert g.values[(EDV, None)].method == METHOD_OF_DISKS.value
        assert g.values[(EDV, None)].unit == "ml" and g.values[(EF, None)].unit == "%"
        assert any(c.startswith("Not corrected by a person") for c in g.comments)
    mean_row, summary = rows[-1], groups["loop.dcm summary"]
    assert f"{summary.values[(EF, MEAN)].value:.2f}" == mean_row["ef_model"]
    assert f"{summary.values[(EF, SD)].value:.2f}" == mean_row["ef_sd"]
    assert f"{summary.values[(EDV, MEAN)].value:.2f}" == mean_row["edv"]
    assert f"{summary.values[(ESV, MEAN)].value:.2f}" == mean_row["esv"]
    assert summary.images == [ident.sop_instance_uid]

    ds = pydicom.dcmread(path)
    for keyword, value in PATIENT.items():
        assert str(ds[keyword].value) == value, keyword
    assert ds.StudyInstanceUID == ident.study_uid and ds.StudyDate == ident.study_date
    assert ds.SeriesInstanceUID != ident.series_uid and ds.SOPInstanceUID != ident.sop_instance_uid
    assert ds.Manufacturer == "EchoViewer" and a.seg_info.sha256 in list(ds.SoftwareVersions)
    evidence = ds.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    assert evidence.SeriesInstanceUID == ident.series_uid
    assert [i.ReferencedSOPInstanceUID for i in evidence.ReferencedSOPSequence] == [ident.sop_instance_uid]
    assert (ds.CompletionFlag, ds.VerificationFlag, ds.PreliminaryFlag) == ("COMPLETE", "UNVERIFIED", "PRELIMINARY")


def test_corrected_loop_reports_the_corrected_values_and_who_corrected(analysis, tmp_path):  # noqa: F811
    _, ident = source_dicom(tmp_path)
    a = with_volumes(analysis)
    c = Corrections(a, user="reviewer1")
    c.set_frame(1, "es", 18)
    c.set_tracing(1, "ed", mask_contour(ellipse(60, 55, 20, 34)), np.array([60.0, 21.0]), np.array([60.0, 89.0]))
    c.exclude(2, "ectopic beat")
    path = _write_sr(study_report("study", [loop_report("loop.dcm", a, c, identity=ident)]), tmp_path)

    dciodvfy(path, "ComprehensiveSR")
    dump = dsrdump(path)
    assert "reviewer1" in dump  # a person observer
    groups, rows = read_groups(path), csv_rows(a, c)
    for n, row in enumerate(rows[:-1], start=1):
        g = groups[f"loop.dcm beat {n}"]
        for code, column in ((EF, "ef_corrected"), (EDV, "edv_corrected"), (ESV, "esv_corrected")):
            assert f"{g.values[(code, None)].value:.2f}" == row[column]
            assert g.values[(code, None)].method == METHOD_OF_DISKS.value
        ed, es = int(row["ed_frame_corrected"]) + 1, int(row["es_frame_corrected"]) + 1
        assert g.values[(EF, None)].images == [(ident.sop_instance_uid, [ed, es])]
    beat1, beat2 = groups["loop.dcm beat 1"], groups["loop.dcm beat 2"]
    assert beat1.values[(EF, None)].images[0][1] == [6, 19]  # ES moved from index 20 to 18
    assert beat1.values[(EF, None)].algorithm_version is None  # traced by a person, not by a model
    assert any(t.startswith("Corrected by a person (reviewer1:") for t in beat1.comments)
    assert "Not used in the loop's mean: ectopic beat." in beat2.comments
    mean_row, summary = rows[-1], groups["loop.dcm summary"]
    assert f"{summary.values[(EF, MEAN)].value:.2f}" == mean_row["ef_corrected"]
    assert f"{summary.values[(EDV, MEAN)].value:.2f}" == mean_row["edv_corrected"]
    assert (EF, SD) not in summary.values  # one beat used: no s.d., as in the CSV
    assert mean_row["ef_sd_corrected"] == ""


def test_deleted_beats_are_left_out_and_added_ones_reported(analysis, tmp_path):  # noqa: F811
    _, ident = source_dicom(tmp_path)
    c = Corrections(with_volumes(analysis), user="t")
    c.delete_beat(2)
    c.add_beat(38, 52)
    groups = read_groups(_write_sr(study_report("s", [loop_report("loop.dcm", analysis, c, identity=ident)]),
                                   tmp_path))
    assert list(groups) == ["loop.dcm summary", "loop.dcm beat 1", "loop.dcm beat 3"]
    assert groups["loop.dcm beat 3"].values[(EF, None)].images == [(ident.sop_instance_uid, [39, 53])]


def test_uncalibrated_loop_reports_ef_only(analysis, tmp_path):  # noqa: F811
    _, ident = source_dicom(tmp_path)
    a = with_volumes(analysis)
    a.volume_unit = "px3"
    path = _write_sr(study_report("s", [loop_report("loop.dcm", a, identity=ident)]), tmp_path)
    dciodvfy(path, "ComprehensiveSR")
    groups = read_groups(path)
    assert {k for g in groups.values() for k in g.values} == {(EF, None), (EF, MEAN), (EF, SD), ("8867-4", None)}


def test_video_study_takes_the_entered_patient_a_new_study_and_names_the_file(analysis, tmp_path):  # noqa: F811
    entered = Identity.entered("Jane Doe", "555", patient_sex="female", study_date="2024-03-01")
    report = study_report("s", [loop_report("A4C.avi", with_volumes(analysis))], entered=entered)
    path = _write_sr(report, tmp_path)
    assert not_dicomdir(dciodvfy(path, "ComprehensiveSR")) == []
    dsrdump(path)
    ds = pydicom.dcmread(path)
    assert (str(ds.PatientName), ds.PatientID, ds.PatientSex, ds.StudyDate) == ("Jane Doe^", "555", "F", "20240301")
    assert ds.StudyInstanceUID and "CurrentRequestedProcedureEvidenceSequence" not in ds  # nothing to reference
    groups = read_groups(path)
    assert all(v.images == [] for g in groups.values() for v in g.values.values())
    assert any("video file A4C.avi" in t for t in groups["A4C.avi beat 1"].comments)
    assert groups["A4C.avi beat 1"].values[(EF, None)].value == 55.0


def test_no_dicom_output_without_a_patient_or_with_two(analysis, tmp_path):  # noqa: F811
    with pytest.raises(DicomOutputError, match="patient"):
        study_context(study_report("s", [loop_report("a.avi", analysis)]))
    _, one = source_dicom(tmp_path)
    other = Identity(patient_name="ROE^RICHARD", patient_id="999", sop_instance_uid="1.2.3")
    loops = [loop_report("a.dcm", analysis, identity=one), loop_report("b.dcm", analysis, identity=other)]
    with pytest.raises(DicomOutputError, match="b.dcm"):
        build_sr(study_report("s", loops))
