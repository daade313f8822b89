"""Kill test: SIGKILL the batch driver mid-run, rerun, compare with an uninterrupted run."""

import os
import signal
import subprocess
import sys
import time

from echoviewer.batch.store import LEDGER, RESULTS
from tests.batch.conftest import read_rows, row_key


def test_sigkill_mid_run_then_rerun_gives_the_same_rows_once(archive, analyze_rows, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "ECHOVIEWER_HOME": str(tmp_path / "h")}
    cmd = [sys.executable, "-m", "echoviewer", "batch", str(archive), "--out", str(out), "--device", "cpu", "--quiet"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    ledger = out / LEDGER
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if ledger.exists() and len(ledger.read_bytes().splitlines()) >= 2:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    time.sleep(0.3)  # into the next loop
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    done_before = len(ledger.read_bytes().splitlines())
    assert 2 <= done_before < 6

    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert f"skipped {done_before}," in r.stderr and f"done {6 - done_before}," in r.stderr
    rows = read_rows(out / RESULTS)
    assert len({row_key(row) for row in rows}) == len(rows)  # no row twice
    assert sorted(rows, key=row_key) == analyze_rows  # nothing lost, same numbers
