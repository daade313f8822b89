"""DIMSE against a real Orthanc: C-ECHO, C-FIND, C-GET and C-MOVE, C-STORE, and what they refuse."""

import time

import pydicom
import pytest

from echoviewer.pacs.model import PacsError, StudyQuery
from echoviewer.pacs.retrieve import retrieve_study
from tests.pacs.conftest import write_secondary_capture, write_study

SYNTAXES = ("jpeg_baseline", "rle", "jpeg2000", "jpeg_lossless", "explicit_le", "implicit_le")


def test_echo(orthanc):
    assert orthanc.client().echo().startswith("C-ECHO answered in")


def test_a_wrong_called_ae_title_is_rejected_at_once_in_one_line(orthanc):
    t0 = time.monotonic()
    with pytest.raises(PacsError) as info:
        orthanc.client(called_aet="NOT_ORTHANC").echo()
    text = str(info.value)
    assert text.startswith("test-orthanc: association rejected: ") and "called ae title not recognised" in text.lower()
    assert "'NOT_ORTHANC'" in text and "\n" not in text
    assert time.monotonic() - t0 < 5


def test_find_by_patient_date_and_modality(orthanc, tmp_path):
    a, files_a = write_study(tmp_path / "a", "FIND-A", n_loops=2, study_date="20230310")
    b, files_b = write_study(tmp_path / "b", "FIND-B", n_loops=1, study_date="20230420")
    c = orthanc.client()
    assert not c.store(files_a + files_b).refused

    [match] = c.find_studies(StudyQuery(patient_id="FIND-A"))
    assert (match.study_uid, match.patient_name, match.study_date, match.n_instances) == \
        (a, "TEST^FIND-A", "20230310", 2)
    assert match.modalities == ["US"] and match.accession == "ACCFIND-A" and match.description == "Echo"
    wild = {m.study_uid for m in c.find_studies(StudyQuery(patient_id="FIND-*"))}
    assert wild == {a, b}
    april = c.find_studies(StudyQuery(patient_id="FIND-*", date_from="20230401", date_to="20230430"))
    assert [m.study_uid for m in april] == [b]
    assert c.find_studies(StudyQuery(patient_id="FIND-*", modality="MR")) == []
    assert c.count_us(a) == 2


@pytest.mark.parametrize("method", ["get", "move"])
def test_retrieve_keeps_every_transfer_syntax_as_stored(orthanc, tmp_path, method):
    """Each loop comes back in the syntax it was sent in, pixel data byte for byte: the archive
    found a presentation context for each and never transcoded."""
    pid = f"SYNTAX-{method}"
    uid, files = write_study(tmp_path / "in", pid, n_loops=len(SYNTAXES), transfer_syntaxes=SYNTAXES)
    assert not orthanc.client().store(files).refused
    c = orthanc.client(retrieve=method)
    seen = []
    r = retrieve_study(c, uid, tmp_path / "out", progress=lambda d, t: seen.append((d, t)))
    assert (r.total, r.fetched, r.already, r.skipped) == (len(SYNTAXES), len(SYNTAXES), 0, 0)
    assert seen[0] == (0, len(SYNTAXES)) and seen[-1] == (len(SYNTAXES), len(SYNTAXES))
    sent = {pydicom.dcmread(f).SOPInstanceUID: pydicom.dcmread(f) for f in files}
    for path in (tmp_path / "out").glob("*.dcm"):
        got = pydicom.dcmread(path)
        orig = sent[got.SOPInstanceUID]
        assert got.file_meta.TransferSyntaxUID == orig.file_meta.TransferSyntaxUID
        assert got.PixelData == orig.PixelData
        assert got.PatientID == pid and got.StudyInstanceUID == uid


def test_non_us_instances_are_skipped_and_counted(orthanc, tmp_path):
    uid, files = write_study(tmp_path / "in", "MIXED", n_loops=2)
    files.append(write_secondary_capture(tmp_path / "in" / "sc.dcm", uid, "MIXED"))
    assert not orthanc.client().store(files).refused
    r = retrieve_study(orthanc.client(), uid, tmp_path / "out")
    assert (r.total, r.fetched, r.skipped) == (2, 2, 1)
    assert len(list((tmp_path / "out").glob("*.dcm"))) == 2


def test_a_refused_store_is_reported_and_the_others_still_go(orthanc, tmp_path):
    uid, files = write_study(tmp_path / "in", "REFUSED", n_loops=2)
    bad = pydicom.dcmread(files[0])
    del bad.StudyInstanceUID  # Orthanc refuses an instance it cannot file (0xA700)
    bad.SOPInstanceUID = bad.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    bad_path = tmp_path / "in" / "bad.dcm"
    bad.save_as(bad_path, enforce_file_format=True)
    before = bad_path.read_bytes()
    not_dicom = tmp_path / "in" / "notes.txt"
    not_dicom.write_text("not DICOM")

    report = orthanc.client().store([bad_path, *files, not_dicom])
    assert {o.path.name: o.ok for o in report.outcomes} == {"bad.dcm": False, files[0].name: True,
                                                            files[1].name: True, "notes.txt": False}
    refused = {o.path.name: o.message for o in report.refused}
    assert refused["bad.dcm"].startswith("refused: 0xA700")
    assert refused["notes.txt"].startswith("not a DICOM file")
    assert "stored 2 of 4, refused 2 (" in report.summary()
    assert bad_path.read_bytes() == before  # the file stays, untouched
    assert orthanc.client().count_us(uid) == 2


def test_retrieve_of_an_unknown_study_says_so(orthanc, tmp_path):
    with pytest.raises(PacsError, match=r"test-orthanc: no instances of study 1\.2\.3\.4"):
        retrieve_study(orthanc.client(), "1.2.3.4", tmp_path / "out")


def test_our_ae_title_unknown_to_the_node(orthanc):
    """Orthanc lets only registered modalities search: an unknown calling AE title gets an answer
    that names the problem, not a hang."""
    from echoviewer.pacs.client import open_client

    c = open_client(orthanc.node(), "STRANGER")
    t0 = time.monotonic()
    with pytest.raises(PacsError) as info:
        c.find_studies(StudyQuery(patient_id="*"))
    assert str(info.value) == ("test-orthanc: the node closed the association during C-FIND (does it allow C-FIND "
                               "from our AE title 'STRANGER'? is it still running?)")
    assert time.monotonic() - t0 < 5  # told at once, not after the 10 s timeout
