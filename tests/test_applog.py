"""The app's log and crash trace (issue 21, item 9): a rotating log in the log folder without patient
data, and faulthandler's trace of a native crash in the app or in its analysis process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from echoviewer import applog

ROOT = Path(__file__).resolve().parents[1]


def _run(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    e = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-c", code], env=e, capture_output=True, text=True, timeout=120)


def test_loop_refs_name_no_file_and_stay_the_same():
    p = "/data/DOE_JANE_19700101/DOE_JANE_a4c.dcm"
    ref = applog.loop_ref(p)
    assert ref == applog.loop_ref(p) and ref.endswith(".dcm") and "DOE" not in ref and "JANE" not in ref
    assert ref != applog.loop_ref("/data/DOE_JANE_19700101/other.dcm")
    text = applog.redact(f"{p}: not a DICOM file; DOE_JANE_a4c.dcm again in /data/DOE_JANE_19700101",
                         [p], "/data/DOE_JANE_19700101")
    assert "DOE" not in text and "JANE" not in text and ref in text and "not a DICOM file" in text


def test_a_native_crash_leaves_a_trace_and_the_next_session_says_so(tmp_path):
    crash = _run(f"from echoviewer import applog; applog.setup({str(tmp_path)!r}); "
                 "import faulthandler; faulthandler._sigsegv()")
    assert crash.returncode != 0
    trace = (tmp_path / applog.CRASH_NAME).read_text()
    assert "Segmentation fault" in trace and "<string>" in trace  # the Python stack at the crash
    again = _run(f"from echoviewer import applog; applog.setup({str(tmp_path)!r})")
    assert again.returncode == 0, again.stderr
    log = (tmp_path / applog.LOG_NAME).read_text()
    assert "previous session ended in a crash" in log and "EchoViewer" in log
    third = _run(f"from echoviewer import applog; applog.setup({str(tmp_path)!r})")
    assert third.returncode == 0
    assert (tmp_path / applog.LOG_NAME).read_text().count("previous session ended in a crash") == 1


def test_the_analysis_process_traces_its_crash_into_the_same_file(tmp_path):
    crash_file = tmp_path / applog.CRASH_NAME
    r = _run("from echoviewer import applog; applog.child_crash_trace(); import faulthandler; faulthandler._sigsegv()",
             env={applog.CRASH_ENV: str(crash_file)})
    assert r.returncode != 0
    assert "Segmentation fault" in crash_file.read_text()


def test_the_service_child_enables_the_trace():
    """The analysis child (pipeline/service.py) starts the trace before it loads anything."""
    src = (ROOT / "echoviewer" / "pipeline" / "service.py").read_text()
    serve = src.split("def _serve(", 1)[1]
    assert serve.index("child_crash_trace()") < serve.index("import torch")


def test_the_log_rotates(tmp_path):
    r = _run(f"""
from echoviewer import applog
applog.MAX_BYTES = 2000
applog.setup({str(tmp_path)!r}, crash_trace=False)
for i in range(200):
    applog.log.info('line %d of the log, long enough to fill it quickly', i)
""")
    assert r.returncode == 0, r.stderr
    files = sorted(p.name for p in tmp_path.glob(applog.LOG_NAME + "*"))
    assert applog.LOG_NAME in files and f"{applog.LOG_NAME}.1" in files
    assert len(files) <= applog.BACKUPS + 1
