"""`echoviewer pacs …`: the contract scripts rely on, through both doors, against a real Orthanc."""

import json

import pydicom

from echoviewer.pacs.nodes import Node, PacsSettings, save_settings
from tests.pacs.conftest import ORTHANC_AET, OUR_AET, cli, one_error_line, write_secondary_capture, write_study

REQUIRED = {"StudyInstanceUID", "PatientID", "StudyDate", "NumberOfStudyRelatedInstances"}


def test_dimse_send_find_get(orthanc, tmp_path):
    uid, files = write_study(tmp_path / "in", "CLI-DIMSE", n_loops=3, study_date="20210607")
    write_secondary_capture(tmp_path / "in" / "sc.dcm", uid, "CLI-DIMSE")
    node = orthanc.dimse_args()

    r = cli("pacs", "echo", *node)
    assert r.returncode == 0 and r.stdout.startswith(f"{ORTHANC_AET}@127.0.0.1:{orthanc.dicom_port}: C-ECHO answered")

    r = cli("pacs", "send", str(tmp_path / "in"), *node)
    assert r.returncode == 0, r.stderr
    assert "stored 4 of 4" in r.stderr and "3 US loops, 1 key image" in r.stderr

    r = cli("pacs", "find", *node, "--patient-id", "CLI-DIMSE", "--modality", "US", "--date", "20210601-20210630",
            "--json")
    assert r.returncode == 0, r.stderr
    [study] = json.loads(r.stdout)
    assert REQUIRED <= set(study)
    assert (study["StudyInstanceUID"], study["PatientID"], study["StudyDate"]) == (uid, "CLI-DIMSE", "20210607")
    assert study["NumberOfStudyRelatedInstances"] == 4
    r = cli("pacs", "find", *node, "--patient-id", "CLI-DIMSE", "--date", "20200101-20201231", "--json")
    assert json.loads(r.stdout) == []

    out = tmp_path / "out"
    r = cli("pacs", "get", uid, *node, "--to", str(out))
    assert r.returncode == 0, r.stderr
    assert "3 instances retrieved" in r.stderr and "1 non-US instance skipped" in r.stderr
    got = {pydicom.dcmread(p).SOPInstanceUID for p in out.glob("*.dcm")}
    assert got == {pydicom.dcmread(f).SOPInstanceUID for f in files}


def test_dicomweb_send_find_get(orthanc, tmp_path):
    uid, files = write_study(tmp_path / "in", "CLI-WEB", n_loops=2)
    web = ["--dicomweb", orthanc.dicomweb, "--timeout", "10"]

    r = cli("pacs", "echo", *web)
    assert r.returncode == 0 and r.stdout.startswith(f"{orthanc.dicomweb}: QIDO-RS answered"), r.stderr
    r = cli("pacs", "send", *map(str, files), *web)
    assert r.returncode == 0 and "stored 2 of 2" in r.stderr, r.stderr
    r = cli("pacs", "find", *web, "--patient-id", "CLI-WEB", "--json")
    [study] = json.loads(r.stdout)
    assert REQUIRED <= set(study) and study["StudyInstanceUID"] == uid and study["NumberOfStudyRelatedInstances"] == 2
    r = cli("pacs", "get", uid, *web, "--to", str(tmp_path / "out"), "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["fetched"] == 2 and len(list((tmp_path / "out").glob("*.dcm"))) == 2


def test_a_saved_node_by_name(orthanc, tmp_path):
    save_settings(PacsSettings(calling_aet=OUR_AET, nodes=[orthanc.node(name="lab")]))
    r = cli("pacs", "nodes")
    assert r.returncode == 0 and "lab" in r.stdout and f"{ORTHANC_AET}@127.0.0.1:{orthanc.dicom_port}" in r.stdout
    r = cli("pacs", "echo", "--node", "lab")
    assert r.returncode == 0 and r.stdout.startswith("lab: C-ECHO answered"), r.stderr
    line = one_error_line(cli("pacs", "echo", "--node", "lab", "--called-aet", "WRONG"))
    assert line.startswith("error: lab: association rejected") and "'WRONG'" in line
    assert "no saved node named 'nope'" in one_error_line(cli("pacs", "echo", "--node", "nope"))


def test_failures_are_exit_2_and_one_line_naming_the_node(orthanc, tmp_path):
    node = orthanc.dimse_args()
    wrong = [a if a != ORTHANC_AET else "WRONG_AET" for a in node]
    line = one_error_line(cli("pacs", "echo", *wrong))
    assert line.startswith(f"error: WRONG_AET@127.0.0.1:{orthanc.dicom_port}: association rejected: Called AE title")

    line = one_error_line(cli("pacs", "find", "--host", "127.0.0.1", "--json"))
    assert "--called-aet" in line and "--dicomweb" in line
    assert "YYYYMMDD" in one_error_line(cli("pacs", "find", *node, "--date", "last week"))
    assert "no instances of study 1.2.3.99" in one_error_line(cli("pacs", "get", "1.2.3.99", *node, "--to",
                                                                   str(tmp_path / "x")))
    assert "no such file" in one_error_line(cli("pacs", "send", str(tmp_path / "missing.dcm"), *node))

    # a refused store: named, exit 2, and the file stays where it was
    _uid, files = write_study(tmp_path / "in", "CLI-REFUSED", n_loops=1)
    bad = pydicom.dcmread(files[0])
    del bad.StudyInstanceUID
    bad.SOPInstanceUID = bad.file_meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    bad.save_as(tmp_path / "in" / "bad.dcm", enforce_file_format=True)
    line = one_error_line(cli("pacs", "send", str(tmp_path / "in"), *node))
    assert line.startswith(f"error: {ORTHANC_AET}@127.0.0.1:{orthanc.dicom_port}: stored 1 of 2, refused 1 (bad.dcm: "
                           "refused: 0xA700")
    assert (tmp_path / "in" / "bad.dcm").is_file()


def test_node_defaults(tmp_path):
    """Settings give the calling AE title; an unusable saved file is not needed for explicit options."""
    save_settings(PacsSettings(calling_aet="FROMSETTINGS", nodes=[Node(name="x", host="127.0.0.1", port=1,
                                                                      called_aet="X")]))
    line = one_error_line(cli("pacs", "echo", "--node", "x", "--connect-timeout", "1"))
    assert line.startswith("error: x: connection refused at 127.0.0.1:1")
