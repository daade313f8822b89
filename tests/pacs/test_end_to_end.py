"""The whole path through the CLI a lab's scripts use, against a real Orthanc: send 3 phantom studies
→ find → get → analyse and report → send the results → Orthanc's REST API shows the new series (SR,
Encapsulated PDF, key images as Secondary Capture) in the same study, and only there."""

from __future__ import annotations

import json

import pytest
from pydicom.uid import generate_uid

from tests.pacs.conftest import cli

SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."
ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"


def write_phantom_study(folder, patient_id: str, seed: int, n_loops: int = 1) -> str:
    """An analysable study: rendered phantom loops as native ultrasound DICOM with one identity."""
    from echoviewer.synthetic.dataset import write_dicom
    from echoviewer.synthetic.phantom import generate_phantom

    folder.mkdir(parents=True, exist_ok=True)
    study_uid = generate_uid()
    for i in range(n_loops):
        ph = generate_phantom(seed + i, size="native", native_size=(320, 240), frames=96, fps=50, hr=75)
        write_dicom(folder / f"a4c_{i}.dcm", ph, PatientID=patient_id, PatientName=f"PHANTOM^{patient_id}",
                    StudyInstanceUID=study_uid, SeriesInstanceUID=generate_uid(), AccessionNumber=f"A{seed}",
                    StudyDate="20240301", StudyID=str(seed))
    return study_uid


def sop_classes(orthanc, series: dict) -> list[str]:
    """The SOP Class UID of each instance of a series, from Orthanc's REST API (instance metadata)."""
    import urllib.request

    out = []
    for instance in series["Instances"]:
        with urllib.request.urlopen(f"{orthanc.rest}/instances/{instance}/metadata/SopClassUid", timeout=10) as r:
            out.append(r.read().decode().strip())
    return out


@pytest.mark.slow
def test_send_find_get_report_send_back(orthanc, tmp_path):
    node = orthanc.dimse_args()
    studies = {}
    for k, pid in enumerate(("E2E-1", "E2E-2", "E2E-3")):
        studies[pid] = write_phantom_study(tmp_path / "lab" / pid, pid, seed=100 + 10 * k)

    # 1. the phantom studies go in through the app's own `pacs send`
    r = cli("pacs", "send", *(str(tmp_path / "lab" / pid) for pid in studies), *node)
    assert r.returncode == 0 and "stored 3 of 3" in r.stderr, r.stderr

    # 2. find
    r = cli("pacs", "find", *node, "--patient-id", "E2E-*", "--modality", "US", "--date", "20240301", "--json")
    assert r.returncode == 0, r.stderr
    found = {s["PatientID"]: s for s in json.loads(r.stdout)}
    assert {pid: s["StudyInstanceUID"] for pid, s in found.items()} == studies
    assert found["E2E-1"]["NumberOfStudyRelatedInstances"] == 1

    # 3. get the first study
    uid = found["E2E-1"]["StudyInstanceUID"]
    retrieved = tmp_path / "retrieved"
    r = cli("pacs", "get", uid, *node, "--to", str(retrieved))
    assert r.returncode == 0 and "1 instance retrieved" in r.stderr, r.stderr
    before = {pid: {s["ID"] for s in orthanc.study_series(u)} for pid, u in studies.items()}

    # 4. analyse and report (SR, Encapsulated PDF, key images)
    # the bundled demo weights (deterministic; untrained ones may find no beat, so no EF to report)
    out = tmp_path / "results"
    r = cli("report", str(retrieved), "--dicom", str(out), "--device", "cpu", "--quiet", timeout=600)
    assert r.returncode == 0, r.stderr
    written = sorted(out.glob("*"))
    assert written, "the report wrote no DICOM object"

    # 5. send the results back
    r = cli("pacs", "send", str(out), *node)
    assert r.returncode == 0, r.stderr
    assert f"stored {len(written)} of {len(written)}" in r.stderr

    # 6. Orthanc's REST API: new series in the same study, with the three kinds of object
    new = [s for s in orthanc.study_series(uid) if s["ID"] not in before["E2E-1"]]
    classes = [c for s in new for c in sop_classes(orthanc, s)]
    assert any(c.startswith(SR_PREFIX) for c in classes), classes
    assert ENCAPSULATED_PDF in classes, classes
    assert any(c.startswith(SECONDARY_CAPTURE_PREFIX) for c in classes), classes
    assert len(classes) == len(written)
    for s in new:
        assert s["ParentStudy"] == orthanc.study_series(uid)[0]["ParentStudy"]
    # the other studies did not change
    for pid in ("E2E-2", "E2E-3"):
        assert {s["ID"] for s in orthanc.study_series(studies[pid])} == before[pid]
