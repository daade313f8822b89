"""`echoviewer synth` through a real subprocess."""

import os
import subprocess
import sys
from pathlib import Path

from echoviewer.dataset.echonet import read_echonet_dataset

REPO = Path(__file__).resolve().parents[2]


def test_cli_synth(tmp_path):
    out = tmp_path / "cli"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    r = subprocess.run([sys.executable, "-m", "echoviewer", "synth", str(out), "--videos", "3", "--seed", "1"],
                       capture_output=True, text=True, cwd=REPO, env=env, timeout=240)
    assert r.returncode == 0, r.stderr
    assert sum(line.startswith("[") for line in r.stderr.splitlines()) == 3
    assert len(list((out / "Videos").glob("*.avi"))) == 3
    assert len(read_echonet_dataset(out)) == 3
    bad = subprocess.run([sys.executable, "-m", "echoviewer", "synth", str(tmp_path / "x"), "--videos", "0"],
                         capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert bad.returncode == 2
