"""A phantom archive (8 files: 6 short loops, 2 unreadable, in nested folders) and the rows serial
`echoviewer analyze` writes for it, with the bundled demo weights."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from echoviewer.io.echonet_video import write_echonet_video
from echoviewer.synthetic.phantom import generate_phantom

UNREADABLE = ("broken.avi", "garbage.dcm")


def make_archive(root: Path, n: int = 6, frames: int = 48) -> Path:
    """``n`` phantom loops spread over root/, root/sub/ and root/sub/deeper/, plus two unreadable files."""
    for i in range(n):
        ph = generate_phantom(i, frames=frames, hr=130 + 5 * i, fps=50, ef_sd=0)
        folder = root / ("" if i < n // 2 else "sub" if i < n - 1 else "sub/deeper")
        folder.mkdir(parents=True, exist_ok=True)
        write_echonet_video(folder / f"loop{i}.avi", ph.frames, ph.fps)
    (root / UNREADABLE[0]).write_bytes(b"RIFF\x00\x00not really an avi")
    (root / "sub" / UNREADABLE[1]).write_bytes(b"\x00" * 300)
    return root


def run_cli(*args, home: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "ECHOVIEWER_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "echoviewer", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def read_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def row_key(row: dict) -> tuple:
    return row["file"], row["beat"]


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    return make_archive(tmp_path_factory.mktemp("archive"))


@pytest.fixture(scope="session")
def analyze_rows(archive, tmp_path_factory) -> list[dict]:
    """Serial `echoviewer analyze` of the archive (no cache), sorted by file and beat."""
    tmp = tmp_path_factory.mktemp("analyze")
    r = run_cli("analyze", str(archive), "--out", str(tmp / "report.csv"), "--device", "cpu", "--no-cache",
                "--quiet", home=tmp / "home")
    assert r.returncode == 0, r.stderr
    rows = read_rows(tmp / "report.csv")
    assert len({row["file"] for row in rows}) == 6
    return sorted(rows, key=row_key)
