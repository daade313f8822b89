"""The frozen app: build it with packaging/build.sh, then run `dist/echoviewer/echoviewer --selftest`.

Off by default: on a 2-core machine the build takes 3-5 minutes (5 min from scratch, 3 min with
PyInstaller's cache in build/) plus about 1.5 minutes of tests, and writes 4.4 GB with the CUDA
torch. Set ECHOVIEWER_TEST_FREEZE=1 to run it. ECHOVIEWER_FROZEN_APP=PATH tests an existing build
instead of building (e.g. dist/echoviewer/echoviewer).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from echoviewer.paths import sha256_file

from .conftest import DEMO_FILES, ROOT, repo_demo_weights

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("ECHOVIEWER_TEST_FREEZE") != "1" and not os.environ.get("ECHOVIEWER_FROZEN_APP"),
        reason="frozen-app build is slow (3-5 min + 1.5 min of tests, 4.4 GB): "
               "set ECHOVIEWER_TEST_FREEZE=1 to build and test it "
               "(or ECHOVIEWER_FROZEN_APP=path/to/echoviewer to test an existing build)"),
]


def _env(tmp: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("ECHOVIEWER_WEIGHTS", "PYTHONPATH", "PYTHONHOME")}
    env["ECHOVIEWER_HOME"] = str(tmp / "home")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


@pytest.fixture(scope="module")
def frozen_app(tmp_path_factory, request) -> tuple[Path, Path]:
    """(executable, folder of the demo weights it bundles)."""
    given = os.environ.get("ECHOVIEWER_FROZEN_APP")
    if given:
        exe = Path(given).resolve()
        assert exe.is_file(), f"ECHOVIEWER_FROZEN_APP={given}: no such file"
        return exe, exe.parent / "_internal" / "weights"
    weights = repo_demo_weights()
    env = dict(os.environ)
    if weights is None:  # untrained demo-format weights: the build and the plumbing are what is tested
        weights = request.getfixturevalue("demo_format_weights")
    env["ECHOVIEWER_BUNDLE_WEIGHTS"] = str(weights)
    t0 = time.monotonic()
    r = subprocess.run(["bash", "packaging/build.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=3600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]
    print(f"frozen build: {time.monotonic() - t0:.0f} s; {r.stdout.strip().splitlines()[-1]}")
    exe = ROOT / "dist" / "echoviewer" / ("echoviewer.exe" if os.name == "nt" else "echoviewer")
    return exe, weights


def test_frozen_selftest(frozen_app, tmp_path):
    exe, weights = frozen_app
    bundled = exe.parent / "_internal" / "weights"
    for n in DEMO_FILES:
        assert (bundled / n).is_file(), f"{n} not bundled"
    assert (exe.parent / "weights" / "README.txt").is_file()  # the user weights folder beside the exe
    trained = repo_demo_weights() is not None and sha256_file(bundled / "demo_segmentation.pt") == \
        sha256_file(repo_demo_weights() / "demo_segmentation.pt")
    args = [] if trained else ["--min-beats", "0"]
    r = subprocess.run([str(exe), "--selftest", *args], env=_env(tmp_path), capture_output=True, text=True,
                       timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith("selftest OK: A4C_normal.avi: "), line
    assert "4 loops read, 4 DICOM codecs" in line and "frozen" in line and "on cpu" in line
    assert f"sha256 seg {sha256_file(bundled / 'demo_segmentation.pt')[:12]}" in line
    assert "demo weights — not for clinical use" in line
    assert f"weights from {bundled.resolve()}" in line  # the bundled weights, not a developer's folder


def test_frozen_cli_subcommands(frozen_app, tmp_path):
    exe, _ = frozen_app
    r = subprocess.run([str(exe), "--version"], env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.startswith("echoviewer "), r.stdout + r.stderr
    r = subprocess.run([str(exe), "info", str(tmp_path / "missing")], env=_env(tmp_path), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode != 0 and "Traceback" not in r.stderr, r.stderr


def test_frozen_window_starts_on_double_click(frozen_app, tmp_path):
    """No arguments (a double-click): the window starts (offscreen here) and keeps running."""
    exe, _ = frozen_app
    log = tmp_path / "gui.log"
    with open(log, "w") as fh:
        p = subprocess.Popen([str(exe)], env=_env(tmp_path), stdout=fh, stderr=subprocess.STDOUT)
        try:
            rc = p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
    assert rc is None, f"the app exited with {rc} on start:\n{log.read_text()[-4000:]}"


def test_frozen_window_analyses_a_study(frozen_app, tmp_path):
    """`echoviewer synth` then `echoviewer gui --screenshot` on it, offscreen: Qt's plugins, the
    worker thread and the bundled weights all work in the frozen build."""
    exe, _ = frozen_app
    study, shot = tmp_path / "study", tmp_path / "shot.png"
    r = subprocess.run([str(exe), "synth", str(study), "--videos", "1", "--seed", "1"], env=_env(tmp_path),
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
    r = subprocess.run([str(exe), "gui", "--screenshot", str(shot), str(study / "Videos")], env=_env(tmp_path),
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr[-4000:]
    from PIL import Image

    assert Image.open(shot).size[0] > 600
