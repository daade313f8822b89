"""atomic_write: files get the user's usual mode (mkstemp alone would make them private)."""

import os
import stat

from echoviewer.paths import atomic_write


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
