"""Edits survive SIGKILL during the autosave of a LARGE corrections state.

tests/annotations covers SIGKILL between edits, a full disk and a read-only folder. Here the state
is large (hundreds of beats, each with 120-point ED and ES tracings: a ~3 MB sidecar, so every save
takes a noticeable time) and the editing process is killed again and again: half of the kills are
aimed at the moment the save's temporary file appears (mid-write), half at random moments. After
every kill the sidecar must be the previous or the new complete JSON (never torn), and the next
process must reopen it with every edit whose save had returned.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from echoviewer.annotations.model import FORMAT
from echoviewer.annotations.store import beside_path, open_corrections

ROOT = Path(__file__).resolve().parents[2]
N_BEATS = 250
KILLS = 10

CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from echoviewer.annotations.model import Corrections
    from echoviewer.annotations.store import AutoSaver, load_state, save_state

    loop, n = sys.argv[1], int(sys.argv[2])
    state, _ = load_state(loop)
    if state is None:  # first run: a large state, saved once before any edit
        c = Corrections(None, user="child")
        th = np.linspace(0, 2 * np.pi, 120, endpoint=False)
        def tracing(i):
            pts = np.stack([56 + (18 + i % 5) * np.cos(th), 56 + 30 * np.sin(th)], 1).round(3).tolist()
            return {"contour": pts, "apex": [56.0, 26.0], "base_mid": [56.0, 86.0]}
        c.state["beats"] = [{"id": i, "ed_frame": i, "es_frame": i + 10, "origin": "model", "excluded": False,
                             "exclude_reason": None, "tracings": {"ed": tracing(i), "es": tracing(i + 1)},
                             "model": {"ed_frame": i, "es_frame": i + 10, "ef_model": 55.0, "included": True}}
                            for i in range(1, n + 1)]
        save_state(c.state, loop)
    else:
        c = Corrections(None, state=state, user="child")
    AutoSaver(c, loop)
    k = len(c.audit)
    print("ready", k, flush=True)
    while True:
        c.exclude(k % n + 1, f"edit {k + 1}")  # edit number k+1; its save has returned when we print
        k += 1
        print(k, flush=True)
""")


def _tmp_files(folder: Path, sidecar: Path) -> set[str]:
    prefix = f".{sidecar.name}."
    return {e.name for e in os.scandir(folder) if e.name.startswith(prefix) and e.name.endswith(".tmp")}


def _check_sidecar(sidecar: Path, acked: int) -> int:
    """The file on disk is complete JSON holding every acknowledged edit (and at most the one in flight)."""
    state = json.loads(sidecar.read_text(encoding="utf-8"))  # raises if torn
    assert state["format"] == FORMAT
    n = len(state["audit"])
    assert acked <= n <= acked + 1, (acked, n)
    assert [a["reason"] for a in state["audit"]] == [f"edit {i}" for i in range(1, n + 1)]
    beats = {b["id"]: b for b in state["beats"]}
    assert len(beats) == N_BEATS and all(len(b["tracings"]["ed"]["contour"]) == 120 for b in beats.values())
    for i in range(max(1, n - N_BEATS + 1), n + 1):  # the latest edit of each beat is what the beat says
        b = beats[(i - 1) % N_BEATS + 1]
        assert b["excluded"] and b["exclude_reason"] == f"edit {i}", (i, b["exclude_reason"])
    return n


def test_sigkill_during_large_autosaves_never_corrupts_or_loses_edits(tmp_path):
    study = tmp_path / "study"
    study.mkdir()
    loop = study / "loop.avi"
    loop.write_bytes(b"x")
    sidecar = beside_path(loop)
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    acked_total, mid_write, save_seconds = 0, 0, []
    for kill in range(KILLS):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(loop), str(N_BEATS)], stdout=subprocess.PIPE,
                                text=True, env=env, cwd=ROOT)
        acks: list[tuple[int, float]] = []

        def read(p=proc, acks=acks):
            for line in p.stdout:
                parts = line.split()
                acks.append((int(parts[-1]), time.monotonic()))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while len(acks) < 2 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.002)
        assert len(acks) >= 2, "the editing process did not get going"
        restored = acks[0][0]  # what the process reopened from the sidecar
        assert restored >= acked_total, f"reopening lost edits: {restored} < {acked_total}"
        save_seconds.append(acks[1][1] - acks[0][1])  # one edit + its save
        before = _tmp_files(study, sidecar)
        if kill % 2 == 0:  # aim at the write: kill as soon as a new temporary file shows up
            t_end = time.monotonic() + 10
            while not (_tmp_files(study, sidecar) - before) and time.monotonic() < t_end:
                time.sleep(0.0005)
        else:  # anywhere in the edit / serialise / write / rename cycle
            time.sleep(rng.uniform(0, 1.2 * (save_seconds[-1] if save_seconds else 0.3)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join(5)
        acked = acks[-1][0]
        if _tmp_files(study, sidecar) - before:
            mid_write += 1  # killed between creating the temporary file and renaming it
        acked_total = _check_sidecar(sidecar, acked)

    assert mid_write >= 1, "no kill landed during a write; the test did not exercise the window"
    # a last reopen through the public API restores everything
    c = open_corrections(None, loop)
    assert len(c.audit) == acked_total and len(c.beats) == N_BEATS
    print(f"{KILLS} kills, {mid_write} mid-write, {acked_total} edits kept, save ~{min(save_seconds):.2f} s")
