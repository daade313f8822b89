"""atomic_write: files get the user's usual mode (mkstemp alone would make them private); the per-user
folders: $ECHOVIEWER_HOME, else an existing ~/.echoviewer, else the OS's places (platformdirs)."""

import os
import stat
import sys
from pathlib import Path

import pytest

from echoviewer.paths import atomic_write, user_cache_dir, user_dir, user_log_dir


def _mode(p):
    return stat.S_IMODE(p.stat().st_mode)


def test_new_files_get_the_umask_mode_and_replaced_files_keep_theirs(tmp_path):
    old = os.umask(0o027)
    try:
        p = tmp_path / "report.csv"
        atomic_write(p, lambda f: f.write(b"a"))
        assert _mode(p) == 0o640
        p.chmod(0o604)
        atomic_write(p, lambda f: f.write(b"b"))
        assert _mode(p) == 0o604 and p.read_bytes() == b"b"
        key = tmp_path / "secret.key"
        atomic_write(key, lambda f: f.write(b"k"), mode=0o600)
        assert _mode(key) == 0o600
    finally:
        os.umask(old)


# -- per-user folders (issue 21, item 9) ------------------------------------------------------------
@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    """A home folder without ~/.echoviewer, XDG folders inside it, no ECHOVIEWER_HOME."""
    monkeypatch.delenv("ECHOVIEWER_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("USERPROFILE", str(tmp_path))
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    return tmp_path


def test_echoviewer_home_comes_first(fresh_home, monkeypatch):
    (fresh_home / ".echoviewer").mkdir()
    monkeypatch.setenv("ECHOVIEWER_HOME", str(fresh_home / "elsewhere"))
    assert user_dir() == fresh_home / "elsewhere"
    assert user_cache_dir() == fresh_home / "elsewhere" / "cache"
    assert user_log_dir() == fresh_home / "elsewhere" / "logs"


def test_an_existing_dot_echoviewer_stays_in_use(fresh_home):
    (fresh_home / ".echoviewer").mkdir()
    assert user_dir() == fresh_home / ".echoviewer"
    assert user_cache_dir() == fresh_home / ".echoviewer" / "cache"  # its cached analyses stay valid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG folders are Linux's")
def test_new_users_get_the_os_folders(fresh_home):
    assert user_dir() == fresh_home / "data" / "EchoViewer"
    assert user_cache_dir() == fresh_home / "cache" / "EchoViewer"
    assert user_log_dir() == fresh_home / "state" / "EchoViewer" / "log"
    assert not (fresh_home / ".echoviewer").exists()  # nothing creates the old folder


def test_new_users_get_a_folder_that_is_not_dot_echoviewer(fresh_home):
    assert user_dir() != Path(fresh_home) / ".echoviewer"
    assert "EchoViewer" in user_dir().parts
