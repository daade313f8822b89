"""Encapsulated PDF and Secondary Capture key images: valid, in the source study, in their own series."""

import io

import numpy as np
import pydicom
import pytest
from reportlab.pdfgen import canvas

from echoviewer.reports.content import loop_report, study_report
from echoviewer.reports.dicom_common import study_context
from echoviewer.reports.dicom_out import save_dataset
from echoviewer.reports.dicom_pdf import ENCAPSULATED_PDF_STORAGE, encapsulated_pdf
from echoviewer.reports.dicom_sc import KeyImage, secondary_captures
from tests.annotations.conftest import analysis  # noqa: F401  (fixture)
from tests.reports.dicom_helpers import PATIENT, dciodvfy, not_dicomdir, source_dicom


def _pdf(text="EF report", pad=""):
    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue() + pad.encode()


@pytest.fixture
def context(analysis, tmp_path):  # noqa: F811
    _, ident = source_dicom(tmp_path)
    return study_context(study_report("s", [loop_report("loop.dcm", analysis, identity=ident)])), ident


@pytest.mark.parametrize("pad", ["", "\n"])  # even and odd lengths
def test_encapsulated_pdf_holds_the_pdf_in_the_source_study(context, tmp_path, pad):
    ctx, ident = context
    pdf = _pdf(pad=pad)
    path = save_dataset(encapsulated_pdf(pdf, ctx, "LV EF report", [ident]), tmp_path / "pdf.dcm")
    assert not_dicomdir(dciodvfy(path, "EncapsulatedPDF")) == []
    ds = pydicom.dcmread(path)
    assert ds.SOPClassUID == ENCAPSULATED_PDF_STORAGE and ds.Modality == "DOC"
    assert bytes(ds.EncapsulatedDocument)[: ds.EncapsulatedDocumentLength] == pdf
    assert ds.EncapsulatedDocumentLength == len(pdf)
    assert (ds.MIMETypeOfEncapsulatedDocument, ds.DocumentTitle, ds.BurnedInAnnotation) == (
        "application/pdf", "LV EF report", "YES")
    assert ds.ConceptNameCodeSequence[0].CodeValue == "42148-7"
    assert ds.StudyInstanceUID == ident.study_uid and ds.SeriesInstanceUID != ident.series_uid
    assert str(ds.PatientName) == PATIENT["PatientName"] and ds.AccessionNumber == PATIENT["AccessionNumber"]
    assert ds.SourceInstanceSequence[0].ReferencedSOPInstanceUID == ident.sop_instance_uid


def test_encapsulated_pdf_refuses_what_is_not_a_pdf(context):
    with pytest.raises(ValueError, match="PDF"):
        encapsulated_pdf(b"<html></html>", context[0])


def test_key_images_are_valid_secondary_captures_of_the_study(context, tmp_path):
    ctx, ident = context
    rng = np.random.default_rng(1)
    pictures = [rng.integers(0, 256, (90, 120, 3), dtype=np.uint8) for _ in range(2)]
    scs = secondary_captures([(pictures[0], "Beat 1 end-diastole"),
                              KeyImage(pictures[1], "Beat 1 end-systole", ident, 19)], ctx)
    paths = [save_dataset(sc, tmp_path / f"sc{i}.dcm") for i, sc in enumerate(scs)]
    for path in paths:
        assert not_dicomdir(dciodvfy(path, "SCImage")) == []
    first, second = (pydicom.dcmread(p) for p in paths)
    for ds, picture in zip((first, second), pictures):
        assert np.array_equal(ds.pixel_array, picture)  # lossless
        assert ds.PhotometricInterpretation == "RGB" and ds.BurnedInAnnotation == "YES"
        assert ds.StudyInstanceUID == ident.study_uid and ds.PatientID == PATIENT["PatientID"]
    assert first.SeriesInstanceUID == second.SeriesInstanceUID != ident.series_uid
    assert [first.InstanceNumber, second.InstanceNumber] == [1, 2]
    assert first.ImageComments == "Beat 1 end-diastole" and "SourceImageSequence" not in first
    ref = second.SourceImageSequence[0]
    assert (ref.ReferencedSOPInstanceUID, ref.ReferencedFrameNumber) == (ident.sop_instance_uid, 20)


def test_key_images_must_be_rgb_uint8(context):
    with pytest.raises(ValueError, match="RGB"):
        secondary_captures([(np.zeros((10, 10), np.uint8), "grey")], context[0])
