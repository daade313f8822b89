"""write_dicom_objects: SR + Encapsulated PDF + key images of one study, safely named; and one real
demo-study loop analysed with the demo weights, end to end."""

import io
import re

import numpy as np
import pydicom
from reportlab.pdfgen import canvas

from echoviewer.io import open_loop
from echoviewer.io.identity import Identity
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.reports.content import loop_report, study_report
from echoviewer.reports.dicom_common import study_context
from echoviewer.reports.dicom_out import write_dicom_objects
from echoviewer.synthetic.demo import ensure_demo_study
from tests.annotations.conftest import analysis  # noqa: F401  (fixture)
from tests.reports.dicom_helpers import (
    EDV,
    EF,
    ESV,
    MEAN,
    PATIENT,
    csv_rows,
    dciodvfy,
    dsrdump,
    not_dicomdir,
    read_groups,
    source_dicom,
    with_volumes,
)

IOD = {"SR": "ComprehensiveSR", "PDF": "EncapsulatedPDF", "KEY": "SCImage"}


def _pdf():
    buf = io.BytesIO()
    canvas.Canvas(buf).save()
    return buf.getvalue()


def _pictures(n=2):
    return [(np.full((40, 60, 3), 40 * i, np.uint8), f"picture {i}") for i in range(n)]


def test_one_export_is_one_study_with_a_series_per_kind_and_no_patient_data_in_names(analysis, tmp_path):  # noqa: F811
    _, ident = source_dicom(tmp_path)
    report = study_report("s", [loop_report("loop.dcm", with_volumes(analysis), identity=ident)])
    paths = write_dicom_objects(report, tmp_path / "out", _pdf(), _pictures())
    kinds = [p.name.split("_")[0] for p in paths]
    assert kinds == ["SR", "PDF", "KEY", "KEY"]
    for p in paths:
        assert re.fullmatch(r"(SR|PDF|KEY)_[0-9a-f]{12}\.dcm", p.name)
        assert not any(PATIENT[k].split("^")[0].lower() in p.name.lower()
                       for k in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber"))
        assert not_dicomdir(dciodvfy(p, IOD[p.name.split("_")[0]])) == []
    datasets = [pydicom.dcmread(p, stop_before_pixels=True) for p in paths]
    assert {ds.StudyInstanceUID for ds in datasets} == {ident.study_uid}
    series = {kind: ds.SeriesInstanceUID for kind, ds in zip(kinds, datasets)}
    assert len(set(series.values())) == 3 and ident.series_uid not in series.values()
    assert len({ds.SOPInstanceUID for ds in datasets}) == 4
    assert {ds.SeriesNumber for ds in datasets} == {9001, 9002, 9003}
    assert all(ds.PatientName == PATIENT["PatientName"] for ds in datasets)


def test_video_study_objects_share_one_new_study(analysis, tmp_path):  # noqa: F811
    report = study_report("s", [loop_report("a.avi", analysis)], entered=Identity.entered("DOE^JOHN", "P1"))
    paths = write_dicom_objects(report, tmp_path, _pdf(), _pictures(1))
    uids = {pydicom.dcmread(p, stop_before_pixels=True).StudyInstanceUID for p in paths}
    assert len(uids) == 1 and len(paths) == 3
    # a caller can keep the made-up study for a later export
    ctx = study_context(report)
    assert ctx.study_uid_is_new and ctx.study_uid not in uids
    again = write_dicom_objects(report, tmp_path / "again", ctx=study_context(report, study_uid=uids.pop()))
    assert pydicom.dcmread(again[0]).StudyInstanceUID == pydicom.dcmread(paths[0]).StudyInstanceUID
    for p in paths:
        dciodvfy(p, IOD[p.name.split("_")[0]])


def test_demo_study_dicom_loop_analysed_with_the_demo_weights(tmp_path):
    loop = open_loop(ensure_demo_study(tmp_path / "demo") / "A4C_dicom.dcm")
    a = Analyzer(AnalysisSettings(device="cpu")).analyze(loop)
    assert a.demo and a.volume_unit == "mL" and a.beats
    report = study_report("demo", [loop_report("A4C_dicom.dcm", a, loop=loop)])
    sr_path, pdf_path = write_dicom_objects(report, tmp_path / "out", _pdf())
    assert not_dicomdir(dciodvfy(sr_path, "ComprehensiveSR")) == []
    dciodvfy(pdf_path, "EncapsulatedPDF")
    assert "demo" in dsrdump(sr_path)
    groups, rows = read_groups(sr_path), csv_rows(a)
    for n, row in enumerate(rows[:-1], start=1):
        g = groups[f"A4C_dicom.dcm beat {n}"]
        for code, column in ((EF, "ef_model"), (EDV, "edv"), (ESV, "esv")):
            assert f"{g.values[(code, None)].value:.2f}" == row[column]
        frames = [int(row["ed_frame"]) + 1, int(row["es_frame"]) + 1]
        assert g.values[(EF, None)].images == [(loop.identity.sop_instance_uid, frames)]
    assert f"{groups['A4C_dicom.dcm summary'].values[(EF, MEAN)].value:.2f}" == rows[-1]["ef_model"]
    ds = pydicom.dcmread(sr_path)
    assert ds.StudyInstanceUID == loop.identity.study_uid and ds.PatientName == "DEMO^PHANTOM"
    assert "demo" in ds.SeriesDescription
