"""`echoviewer selftest`, unfrozen: the same check the frozen app runs with --selftest (always on)."""

from __future__ import annotations

import os
import subprocess
import sys
from argparse import Namespace

import pytest

from echoviewer import DEMO_LABEL
from echoviewer.commands import selftest as st
from echoviewer.paths import sha256_file

from .conftest import ROOT, hiding_sitecustomize, repo_demo_weights, spec_constants


def _args(**kw) -> Namespace:
    base = dict(study=None, loop=None, out=None, device="cpu", seg_weights=None, ef_weights=None,
                min_beats=1, no_codecs=False)
    base.update(kw)
    return Namespace(**base)


def test_selftest_command_unfrozen(tmp_path, demo_format_weights):
    """`python -m echoviewer selftest` with the modules the frozen build leaves out hidden, and
    without Qt: exit 0 and one summary line naming the beats, the weights' sha256 and the demo label.

    Uses the repository's trained demo weights when they are there (then at least one beat must
    be found), else untrained demo-format weights (then zero beats is allowed)."""
    weights = repo_demo_weights()
    extra = []
    env = dict(os.environ)
    env.pop("ECHOVIEWER_WEIGHTS", None)
    if weights is None:
        weights = demo_format_weights
        env["ECHOVIEWER_WEIGHTS"] = str(weights)
        extra = ["--min-beats", "0"]
    hidden = spec_constants()["EXCLUDES"] + ["PySide6", "pyqtgraph"]
    site = hiding_sitecustomize(tmp_path / "site", hidden)
    env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])
    env["ECHOVIEWER_HOME"] = str(tmp_path / "home")  # no user demo study: generated into a temp folder
    out = tmp_path / "kept.csv"
    r = subprocess.run([sys.executable, "-m", "echoviewer", "selftest", "--out", str(out), *extra],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    line = r.stdout.strip().splitlines()[-1]
    assert line.startswith("selftest OK: A4C_normal.avi: "), line
    assert "4 loops read, 4 DICOM codecs" in line
    assert f"sha256 seg {sha256_file(weights / 'demo_segmentation.pt')[:12]}" in line
    assert f"ef {sha256_file(weights / 'demo_ef.pt')[:12]}" in line
    assert "demo weights — not for clinical use" in line and "on cpu" in line
    assert f"weights from {weights}" in line
    assert "Traceback" not in r.stderr
    assert out.is_file() and DEMO_LABEL in out.read_text(encoding="utf-8")
    assert not (tmp_path / "home" / "demo-study").exists()  # side-effect free
    assert not (tmp_path / "home" / "cache").exists()


def test_selftest_failures_are_one_line(tmp_path, capsys):
    assert st.run(_args(study=str(tmp_path / "missing"))) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"selftest FAILED: {tmp_path / 'missing'}: no such file or folder"]

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.avi").write_bytes(b"RIFF\x00\x00not an avi")
    assert st.run(_args(study=str(bad))) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("selftest FAILED: cannot read x.avi")


def test_missing_demo_weights_names_the_folders(tmp_path, monkeypatch):
    from echoviewer.models import discovery

    monkeypatch.setattr(discovery, "search_dirs", lambda: [tmp_path / "nowhere"])
    with pytest.raises(st.SelftestError, match=r"no demo segmentation weights \(demo_segmentation.pt\) found; "
                                               r"looked in .*nowhere"):
        st.demo_weights("segmentation")


def test_check_report_catches_a_wrong_report(tmp_path, demo_format_weights, phantom_loop):
    """The report checks fail on a missing summary row, a wrong sha256 and a missing demo label."""
    from echoviewer.export.report import report_text
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings

    seg, ef = demo_format_weights / "demo_segmentation.pt", demo_format_weights / "demo_ef.pt"
    a = Analyzer(AnalysisSettings(seg_weights=str(seg), ef_weights=str(ef), device="cpu"),
                 use_cache=False).analyze(phantom_loop)
    text = report_text([a])
    good = tmp_path / "good.csv"
    good.write_text(text, encoding="utf-8")
    assert st.check_report(good, a, seg, ef, min_beats=0)["beat"] == "mean"

    def fails(new_text: str, match: str, **kw) -> None:
        p = tmp_path / "bad.csv"
        p.write_text(new_text, encoding="utf-8")
        with pytest.raises(st.SelftestError, match=match):
            st.check_report(p, a, seg, ef, **{"min_beats": 0, **kw})

    lines = text.splitlines(keepends=True)
    fails("".join(lines[:-1]), "0 summary rows")
    fails(text.replace(a.seg_info.sha256, "0" * 64), "seg_weights_sha256 000000000000")
    fails(text.replace(DEMO_LABEL, ""), "weights_note")
    fails(text, f"only {len(a.beats)} beats found", min_beats=len(a.beats) + 1)


@pytest.fixture
def phantom_loop():
    from echoviewer.io.loop import Loop
    from echoviewer.synthetic.phantom import generate_phantom

    ph = generate_phantom(3, hr=90, fps=50, n_beats=3, ef=50, ef_sd=0)
    return Loop.from_frames(ph.frames, fps=ph.fps, cm_per_pixel=ph.truth.cm_per_pixel, path="<phantom3>")
