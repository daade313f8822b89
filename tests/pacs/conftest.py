"""A real PACS for the tests: Orthanc (Debian's `orthanc` + `orthanc-dicomweb`) on free ports of
127.0.0.1 with a temporary configuration and storage, DICOMweb on, remote HTTP access off, stopped
at the end. The app's AE title is a registered modality (C-FIND/GET/MOVE from it are allowed, and
C-MOVE sends to its storage SCP); the called AE title is checked, so a wrong one is rejected.

``orthanc`` is one server for the whole session (fast); ``make_orthanc()`` starts private ones for
the tests that stop or kill their server. Phantom studies go in through the app's own sending code.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

ORTHANC = shutil.which("Orthanc") or "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
ORTHANC_AET = "ORTHANC"
OUR_AET = "ECHOVIEWER"
START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class OrthancServer:
    folder: Path
    dicom_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    move_port: int = field(default_factory=free_port)  # our storage SCP, the C-MOVE destination
    tls: dict | None = None  # make_certificates(): DICOM TLS with a certificate of our test CA
    proc: subprocess.Popen | None = None

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.rest}/dicom-web"

    def config(self) -> dict:
        return {
            "Name": "echoviewer-tests",
            "StorageDirectory": str(self.folder / "storage"),
            "IndexDirectory": str(self.folder / "storage"),
            "HttpPort": self.http_port,
            "DicomPort": self.dicom_port,
            "DicomAet": ORTHANC_AET,
            "DicomServerEnabled": True,
            "DicomCheckCalledAet": True,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": False,
            "OrthancExplorerEnabled": False,
            "WebDavEnabled": False,
            "Plugins": [DICOMWEB_PLUGIN],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
            "DicomModalities": {"echoviewer": [OUR_AET, "127.0.0.1", self.move_port]},
            "DicomAlwaysAllowStore": True,
            "SaveJobs": False,
            "ConcurrentJobs": 1,
            "HttpThreadsCount": 4,
            "DicomThreadsCount": 2,
            "StableAge": 1,
            "DicomScpTimeout": 10,
            "DicomScuTimeout": 10,
            "HttpTimeout": 10,
            # (Orthanc 1.10 crashes with DICOM TLS and HTTPS on together: HTTPS is tested apart)
            **({"DicomTlsEnabled": True, "DicomTlsCertificate": self.tls["cert"],
                "DicomTlsPrivateKey": self.tls["key"], "DicomTlsTrustedCertificates": self.tls["ca"],
                "DicomTlsRemoteCertificateRequired": False} if self.tls else {}),
        }

    def start(self) -> OrthancServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        cfg = self.folder / "orthanc.json"
        cfg.write_text(json.dumps(self.config(), indent=1))
        log = open(self.folder / "orthanc.log", "ab")
        self.proc = subprocess.Popen([ORTHANC, str(cfg)], stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.folder)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Orthanc exited ({self.proc.returncode}):\n{self.log_tail()}")
            if self._answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"Orthanc did not start within {START_TIMEOUT_S} s:\n{self.log_tail()}")

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.rest}/system", timeout=1) as r:
                if r.status != 200:
                    return False
            with socket.create_connection(("127.0.0.1", self.dicom_port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self, timeout: float = 15) -> None:
        """Terminate (Orthanc shuts down cleanly on SIGTERM), killed after ``timeout``."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join((self.folder / "orthanc.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    # -- REST ---------------------------------------------------------------------------------
    def get(self, path: str):
        with urllib.request.urlopen(f"{self.rest}{path}", timeout=10) as r:
            return json.loads(r.read())

    def study_series(self, study_uid: str) -> list[dict]:
        """The series of a study as Orthanc's REST API lists them (MainDicomTags, Instances)."""
        query = {"Level": "Study", "Query": {"StudyInstanceUID": study_uid}}
        req = urllib.request.Request(f"{self.rest}/tools/find", method="POST", data=json.dumps(query).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            ids = json.loads(r.read())
        assert len(ids) == 1, f"Orthanc holds {len(ids)} studies with UID {study_uid}"
        return self.get(f"/studies/{ids[0]}/series?expand")

    def instance_count(self) -> int:
        return int(self.get("/statistics")["CountInstances"])

    # -- nodes --------------------------------------------------------------------------------
    def node(self, **kw):
        from echoviewer.pacs.nodes import Node

        base = dict(name="test-orthanc", host="127.0.0.1", port=self.dicom_port, called_aet=ORTHANC_AET,
                    move_port=self.move_port, connect_timeout=3.0, timeout=10.0)
        base.update(kw)
        return Node(**base)

    def web_node(self, **kw):
        from echoviewer.pacs.nodes import Node

        base = dict(name="test-orthanc-web", protocol="dicomweb", dicomweb_url=self.dicomweb,
                    connect_timeout=3.0, timeout=10.0)
        base.update(kw)
        return Node(**base)

    def client(self, **kw):
        from echoviewer.pacs.client import open_client

        return open_client(self.node(**kw), OUR_AET)

    def web_client(self, **kw):
        from echoviewer.pacs.client import open_client

        return open_client(self.web_node(**kw), OUR_AET)

    def dimse_args(self) -> list[str]:
        """The CLI's node options for this server."""
        return ["--host", "127.0.0.1", "--port", str(self.dicom_port), "--called-aet", ORTHANC_AET,
                "--calling-aet", OUR_AET, "--timeout", "10", "--connect-timeout", "3"]


def make_certificates(folder: Path) -> dict:
    """A test CA and a server certificate it signed for 127.0.0.1 (openssl); PEM paths."""
    folder.mkdir(parents=True, exist_ok=True)
    f = {k: str(folder / n) for k, n in (("ca", "ca.pem"), ("ca_key", "ca.key"), ("key", "server.key"),
                                         ("csr", "server.csr"), ("cert", "server.pem"), ("ext", "san.cnf"))}
    Path(f["ext"]).write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for cmd in (
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f["ca_key"], "-out", f["ca"], "-days", "2",
         "-subj", "/CN=EchoViewer test CA"],
        ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f["key"], "-out", f["csr"], "-subj", "/CN=127.0.0.1"],
        ["x509", "-req", "-in", f["csr"], "-CA", f["ca"], "-CAkey", f["ca_key"], "-CAcreateserial", "-out", f["cert"],
         "-days", "2", "-extfile", f["ext"]],
    ):
        subprocess.run(["openssl", *cmd], check=True, capture_output=True, timeout=60)
    return f


@pytest.fixture(scope="session")
def orthanc(tmp_path_factory):
    if not (os.access(ORTHANC, os.X_OK) and Path(DICOMWEB_PLUGIN).is_file()):
        pytest.fail("Orthanc and its DICOMweb plugin are needed: run scripts/system-deps.sh "
                    "(apt-get install orthanc orthanc-dicomweb)")
    server = OrthancServer(tmp_path_factory.mktemp("orthanc")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def make_orthanc(tmp_path):
    """make_orthanc(tls=None) -> a private, started OrthancServer (stopped at the end of the test);
    ``tls=make_certificates(folder)`` for DICOM TLS."""
    started: list[OrthancServer] = []

    def make(tls: dict | None = None) -> OrthancServer:
        s = OrthancServer(tmp_path / f"orthanc{len(started)}", tls=tls).start()
        started.append(s)
        return s

    yield make
    for s in started:
        s.stop()


# -- phantom studies ------------------------------------------------------------------------------
def tiny_frames(seed: int, n: int = 6, h: int = 48, w: int = 64) -> np.ndarray:
    """Small grey frames (the network tests move files; they need not look like a heart)."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 255, (h, w), dtype=np.uint8)
    return np.stack([np.roll(base, i, axis=1) for i in range(n)])


def write_study(folder: Path, patient_id: str, n_loops: int = 2, study_uid: str | None = None,
                transfer_syntaxes: tuple[str, ...] = ("jpeg_baseline",), frames=None, fps: float = 30.0,
                study_date: str = "20240115", **identity) -> tuple[str, list[Path]]:
    """A US study of ``n_loops`` loops (one per syntax, cycling), identity in every header.
    Returns (StudyInstanceUID, files)."""
    from pydicom.uid import generate_uid

    from echoviewer.io.dicom_write import write_ultrasound_dicom

    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid or generate_uid()
    files = []
    for i in range(n_loops):
        ts = transfer_syntaxes[i % len(transfer_syntaxes)]
        photometric = "YBR_FULL_422" if ts in ("jpeg_baseline", "explicit_le", "implicit_le") else "RGB"
        data = frames if frames is not None else tiny_frames(zlib.crc32(f"{patient_id}{i}".encode()))
        kw = dict(PatientID=patient_id, PatientName=identity.pop("PatientName", f"TEST^{patient_id}"),
                  StudyInstanceUID=study_uid, StudyDate=study_date, AccessionNumber=f"ACC{patient_id}"[:16],
                  StudyDescription="Echo", SeriesInstanceUID=generate_uid(), SeriesNumber=i + 1, InstanceNumber=1)
        kw.update(identity)
        files.append(write_ultrasound_dicom(folder / f"loop{i}_{ts}.dcm", data, fps, transfer_syntax=ts,
                                            photometric=photometric, **kw))
    return study_uid, files


def write_secondary_capture(path: Path, study_uid: str, patient_id: str) -> Path:
    """A non-US object (Secondary Capture) in a study: retrieve skips and counts it."""
    import pydicom
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
    ds.PatientID, ds.PatientName, ds.StudyInstanceUID = patient_id, f"TEST^{patient_id}", study_uid
    ds.SeriesInstanceUID, ds.Modality, ds.SeriesNumber, ds.InstanceNumber = generate_uid(), "OT", 99, 1
    ds.ConversionType = "WSD"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.Rows, ds.Columns = 1, "MONOCHROME2", 8, 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = bytes(64)
    pydicom.dcmwrite(path, ds, enforce_file_format=True)
    return path


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`echoviewer ...` in a subprocess (this worktree's code, this test's user folder)."""
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return subprocess.run([sys.executable, "-m", "echoviewer", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def one_error_line(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    return lines[0]


def rest_ok(server: OrthancServer, path: str) -> bool:
    try:
        server.get(path)
        return True
    except urllib.error.URLError:
        return False
