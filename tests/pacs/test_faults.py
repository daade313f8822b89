"""Faults against the real server: stopped, killed mid-retrieve, a retrieve cancelled or its process
killed halfway (each resumed: only what is missing is fetched), and peers that never answer (a
plain socket: the one thing Orthanc cannot be made to do). Every case ends in one line, in bounded time."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from echoviewer.pacs.model import Cancelled, PacsError
from echoviewer.pacs.retrieve import retrieve_study
from tests.pacs.conftest import cli, one_error_line, tiny_frames, write_study


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    srv.close()


def test_a_stopped_server_is_one_line_at_once(make_orthanc):
    server = make_orthanc()
    node_args = server.dimse_args()
    dimse, web = server.client(), server.web_client()
    assert dimse.echo() and web.echo()
    server.stop()
    for client, door in ((dimse, "DIMSE"), (web, "DICOMweb")):
        t0 = time.monotonic()
        with pytest.raises(PacsError, match="connection refused") as info:
            client.echo()
        assert time.monotonic() - t0 < 3, door
        assert "\n" not in str(info.value) and str(info.value).startswith(client.label + ": ")
    line = one_error_line(cli("pacs", "echo", *node_args))
    assert line.startswith("error: ORTHANC@127.0.0.1:") and "connection refused" in line


def test_a_peer_that_never_answers_times_out(silent_server):
    from echoviewer.pacs.client import open_client
    from echoviewer.pacs.nodes import Node

    dimse = open_client(Node(name="mute", host="127.0.0.1", port=silent_server, called_aet="X", timeout=1.0), "ME")
    t0 = time.monotonic()
    with pytest.raises(PacsError, match="mute: no answer to the association request within 1 s"):
        dimse.echo()
    assert time.monotonic() - t0 < 4
    web = open_client(Node(name="mute-web", protocol="dicomweb", dicomweb_url=f"http://127.0.0.1:{silent_server}/dw",
                           timeout=1.0), "ME")
    t0 = time.monotonic()
    with pytest.raises(PacsError, match="mute-web: no answer to QIDO-RS within 1 s"):
        web.echo()
    assert time.monotonic() - t0 < 4


@pytest.mark.parametrize("method", ["get", "move"])
def test_cancel_stops_a_retrieve_at_once_and_the_next_one_resumes(orthanc, tmp_path, method):
    uid, files = write_study(tmp_path / "in", f"CANCEL-{method}", n_loops=12)
    assert not orthanc.client().store(files).refused
    cancel = threading.Event()

    def progress(done, total):
        if done >= 3:
            cancel.set()

    t0 = time.monotonic()
    with pytest.raises(Cancelled, match="test-orthanc: cancelled"):
        retrieve_study(orthanc.client(retrieve=method), uid, tmp_path / "out", progress=progress, cancel=cancel)
    assert time.monotonic() - t0 < 5
    kept = len(list((tmp_path / "out").glob("*.dcm")))
    assert 3 <= kept < 12
    r = retrieve_study(orthanc.client(retrieve=method), uid, tmp_path / "out")
    assert (r.already, r.fetched) == (kept, 12 - kept)
    assert orthanc.client().echo()  # the aborted association left the server well


def test_server_killed_mid_retrieve_then_resume_fetches_only_what_is_missing(make_orthanc, tmp_path):
    server = make_orthanc()
    uid, files = write_study(tmp_path / "in", "KILLED", n_loops=10)
    assert not server.client().store(files).refused
    seen = []

    def progress(done, total):
        seen.append(done)
        if done == 4:
            server.kill()  # SIGKILL, mid C-GET

    t0 = time.monotonic()
    with pytest.raises(PacsError) as info:
        retrieve_study(server.client(), uid, tmp_path / "out", progress=progress)
    assert time.monotonic() - t0 < 15
    assert "test-orthanc: " in str(info.value) and "\n" not in str(info.value)
    kept = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out").glob("*.dcm")}
    assert 4 <= len(kept) < 10

    server.start()  # same storage, same ports
    r = retrieve_study(server.client(), uid, tmp_path / "out")
    assert (r.already, r.fetched, r.total) == (len(kept), 10 - len(kept), 10)
    assert all((tmp_path / "out" / name).stat().st_mtime_ns == t for name, t in kept.items())  # not fetched again


def test_cli_killed_mid_retrieve_then_resume_fetches_only_what_is_missing(orthanc, tmp_path):
    n = 40
    uid, files = write_study(tmp_path / "in", "CLI-KILLED", n_loops=n, frames=tiny_frames(1, n=12, h=96, w=128))
    assert not orthanc.client().store(files).refused
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.Popen([sys.executable, "-m", "echoviewer", "pacs", "get", uid, "--to", str(out),
                             *orthanc.dimse_args()], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(list(out.glob("*.dcm"))) < 5:
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("*.dcm")}
    assert 5 <= len(kept) < n, "the retrieve was not interrupted halfway"

    r = cli("pacs", "get", uid, "--to", str(out), "--json", *orthanc.dimse_args())
    assert r.returncode == 0, r.stderr
    import json

    result = json.loads(r.stdout)
    assert (result["already_present"], result["fetched"], result["us_instances"]) == (len(kept), n - len(kept), n)
    assert all((out / name).stat().st_mtime_ns == t for name, t in kept.items())
    assert not list(out.glob(".*.tmp"))  # no half-written file left


def test_dicom_tls_with_the_nodes_ca_file_and_without(make_orthanc, tmp_path):
    """DICOM TLS against Orthanc with a certificate of a test CA: with the node's CA file echo, store
    and retrieve work; without it the handshake fails in one line, never a hang."""
    from tests.pacs.conftest import make_certificates

    certs = make_certificates(tmp_path / "certs")
    server = make_orthanc(tls=certs)
    client = server.client(tls=True, ca_file=certs["ca"])
    assert client.echo().startswith("C-ECHO answered")
    uid, files = write_study(tmp_path / "in", "TLS", n_loops=1)
    assert not client.store(files).refused
    assert retrieve_study(client, uid, tmp_path / "out").fetched == 1
    t0 = time.monotonic()
    with pytest.raises(PacsError, match="test-orthanc: TLS handshake failed"):
        server.client(tls=True).echo()  # the system's CAs do not know ours
    assert time.monotonic() - t0 < 5


def test_https_dicomweb_checks_the_certificate_against_the_ca_file(tmp_path):
    """HTTPS for DICOMweb (a small HTTPS server here: Orthanc 1.10 crashes with DICOM TLS and HTTPS
    both on, and one more Orthanc only for this would cost seconds)."""
    import http.server
    import ssl

    from echoviewer.pacs.client import open_client
    from echoviewer.pacs.nodes import Node
    from tests.pacs.conftest import make_certificates

    certs = make_certificates(tmp_path / "certs")

    class Qido(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "application/dicom+json")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Qido)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs["cert"], certs["key"])
    httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"https://127.0.0.1:{httpd.server_address[1]}/dicom-web"
        ok = open_client(Node(name="https", protocol="dicomweb", dicomweb_url=url, tls=True, ca_file=certs["ca"],
                              timeout=5), "ME")
        assert ok.echo().startswith("QIDO-RS answered")
        bad = open_client(Node(name="https", protocol="dicomweb", dicomweb_url=url, tls=True, timeout=5), "ME")
        with pytest.raises(PacsError, match=r"https: TLS: .*certificate verify failed.*\(is the CA file right\?\)"):
            bad.echo()
    finally:
        httpd.shutdown()
        httpd.server_close()
