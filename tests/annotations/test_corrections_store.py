import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from echoviewer.annotations import store
from echoviewer.annotations.model import Corrections
from echoviewer.annotations.store import AutoSaver, SaveError, beside_path, load_state, open_corrections


def test_autosave_after_each_edit_and_restore(analysis, tmp_path):
    loop = tmp_path / "loop.avi"
    loop.write_bytes(b"x")
    c = open_corrections(analysis, loop, user="sono")
    saver = AutoSaver(c, loop)
    c.set_frame(1, "es", 21)
    assert saver.path == beside_path(loop) and not saver.used_fallback
    assert json.loads(beside_path(loop).read_text())["beats"][0]["es_frame"] == 21
    c.exclude(2, "poor image")
    again = open_corrections(analysis, loop)
    assert again.beat(1)["es_frame"] == 21
    assert again.beat(2)["excluded"] and again.beat(2)["exclude_reason"] == "poor image"
    assert [a["action"] for a in again.audit] == ["move_es", "exclude"]
    assert again.audit[0]["user"] == "sono"


def test_reopening_removes_temp_files_of_interrupted_saves_but_not_fresh_ones(analysis, tmp_path):
    loop = tmp_path / "loop [1].avi"  # glob metacharacters in the name
    loop.write_bytes(b"x")
    c = open_corrections(analysis, loop)
    AutoSaver(c, loop)
    c.set_frame(1, "es", 21)
    side = beside_path(loop)
    stale = side.with_name(f".{side.name}.k1ll3d.tmp")  # what atomic_write leaves after a SIGKILL
    fresh = side.with_name(f".{side.name}.wr1t1ng.tmp")  # another instance saving right now
    other = tmp_path / ".other.avi.echoviewer.json.x.tmp"
    for p in (stale, fresh, other):
        p.write_text("{half")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    again = open_corrections(analysis, loop)
    assert again.beat(1)["es_frame"] == 21
    assert not stale.exists() and fresh.exists() and other.exists()


def test_unwritable_study_folder_falls_back_to_user_folder(analysis, tmp_path, monkeypatch):
    # Tests run as root in CI, where chmod cannot make a folder read-only: refuse writes beside the loop.
    loop = tmp_path / "ro" / "loop.avi"
    loop.parent.mkdir()
    real = store.atomic_write

    def refuse_beside(path, write, fsync=False):
        if path.parent == loop.parent:
            raise PermissionError(errno.EROFS, "Read-only file system", str(path))
        return real(path, write, fsync)

    monkeypatch.setattr(store, "atomic_write", refuse_beside)
    saved = []
    c = Corrections(analysis)
    AutoSaver(c, loop, on_saved=lambda p, fb: saved.append((p, fb)))
    c.set_frame(1, "ed", 6)
    path, fallback = saved[-1]
    assert fallback and str(path).startswith(str(tmp_path / "echoviewer-home"))
    assert not beside_path(loop).exists()
    state, where = load_state(loop)
    assert where == path and state["beats"][0]["ed_frame"] == 6


def test_disk_full_is_reported_and_previous_file_kept(analysis, tmp_path, monkeypatch):
    loop = tmp_path / "loop.avi"
    c = Corrections(analysis)
    errors = []
    AutoSaver(c, loop, on_error=errors.append)
    c.set_frame(1, "ed", 6)
    good = beside_path(loop).read_text()

    def full(path, write, fsync=False):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store, "atomic_write", full)
    c.set_frame(1, "ed", 7)
    assert errors and "disk is full" in str(errors[0]) and isinstance(errors[0], SaveError)
    assert beside_path(loop).read_text() == good
    assert c.beat(1)["ed_frame"] == 7  # the edit itself is kept in memory


CHILD = textwrap.dedent("""
    import sys
    from echoviewer.annotations.model import Corrections
    from echoviewer.annotations.store import AutoSaver
    c = Corrections(None, user="child")
    AutoSaver(c, sys.argv[1])
    for i in range(100000):
        c.add_beat(i, i + 1)
        print(i + 1, flush=True)   # printed only after the save returned
""")


@pytest.mark.parametrize("wait_lines", [5, 40, 150])
def test_sigkill_mid_editing_loses_no_completed_edit(tmp_path, wait_lines):
    loop = tmp_path / "loop.avi"
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(loop)], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    last = 0
    deadline = time.monotonic() + 60
    while last < wait_lines and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        last = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert last >= wait_lines, "child did not get going"
    state = json.loads(beside_path(loop).read_text())  # never corrupt
    assert len(state["beats"]) >= last  # every edit whose save completed is there
