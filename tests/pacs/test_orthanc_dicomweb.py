"""DICOMweb against a real Orthanc (its DICOMweb plugin): QIDO-RS, WADO-RS, STOW-RS."""

import pydicom
import pytest

from echoviewer.pacs.model import PacsError, StudyQuery
from echoviewer.pacs.retrieve import retrieve_study
from tests.pacs.conftest import write_secondary_capture, write_study


def test_qido_echo(orthanc):
    assert orthanc.web_client().echo().startswith("QIDO-RS answered in")


def test_stow_then_qido_then_wado_keeps_the_files_as_stored(orthanc, tmp_path):
    syntaxes = ("jpeg_baseline", "rle", "jpeg2000")
    uid, files = write_study(tmp_path / "in", "WEB-1", n_loops=3, transfer_syntaxes=syntaxes, study_date="20220202")
    files.append(write_secondary_capture(tmp_path / "in" / "sc.dcm", uid, "WEB-1"))
    web = orthanc.web_client()
    report = web.store(files)
    assert len(report.stored) == 4 and not report.refused

    [match] = web.find_studies(StudyQuery(patient_id="WEB-1"))
    assert (match.study_uid, match.patient_id, match.n_instances) == (uid, "WEB-1", 4)
    assert set(match.modalities) == {"US", "OT"}
    assert [m.study_uid for m in web.find_studies(StudyQuery(patient_id="WEB-1", date_from="20220201",
                                                             date_to="20220203"))] == [uid]
    assert web.find_studies(StudyQuery(patient_id="WEB-1", date_from="20230101")) == []
    assert web.count_us(uid) == 3

    r = retrieve_study(web, uid, tmp_path / "out")
    assert (r.total, r.fetched, r.skipped) == (3, 3, 1)
    sent = {pydicom.dcmread(f).SOPInstanceUID: pydicom.dcmread(f) for f in files}
    for path in (tmp_path / "out").glob("*.dcm"):
        got = pydicom.dcmread(path)
        assert got.file_meta.TransferSyntaxUID == sent[got.SOPInstanceUID].file_meta.TransferSyntaxUID
        assert got.PixelData == sent[got.SOPInstanceUID].PixelData


def test_the_two_doors_see_the_same_archive(orthanc, tmp_path):
    uid, files = write_study(tmp_path / "in", "DOORS", n_loops=2)
    assert not orthanc.client().store(files).refused  # in through DIMSE
    assert [m.study_uid for m in orthanc.web_client().find_studies(StudyQuery(patient_id="DOORS"))] == [uid]
    r = retrieve_study(orthanc.web_client(), uid, tmp_path / "out")  # out through DICOMweb
    assert r.fetched == 2


def test_a_refused_stow_is_reported_per_file(orthanc, tmp_path):
    _uid, files = write_study(tmp_path / "in", "WEB-REFUSED", n_loops=1)
    bad = pydicom.dcmread(files[0])
    del bad.StudyInstanceUID
    bad.SOPInstanceUID = bad.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    bad_path = tmp_path / "bad.dcm"
    bad.save_as(bad_path, enforce_file_format=True)
    report = orthanc.web_client().store([bad_path, files[0]])
    assert [o.ok for o in report.outcomes] == [False, True]
    assert report.refused[0].message.startswith("refused")
    assert bad_path.is_file()


def test_a_wrong_url_is_one_line(orthanc):
    with pytest.raises(PacsError, match=r"test-orthanc-web: QIDO-RS failed: HTTP 404") as info:
        orthanc.web_client(dicomweb_url=orthanc.rest + "/no-such-root").echo()
    assert "\n" not in str(info.value)
