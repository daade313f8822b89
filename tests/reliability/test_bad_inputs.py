"""Every file of the generated bad-input corpus through the real command line, in fresh interpreters.

For each case: `echoviewer info PATH`, `echoviewer info PATH --json` and `echoviewer analyze ... --out
r.csv` with untrained compact weights (unusable files and a few valid ones one file per process, the
other valid / damaged ones in one `analyze FOLDER` run). Unusable files: exit 2 and one line naming
the file and the reason. Valid (however odd) loops: exit 0 and report rows; loops too short or
featureless for a beat carry the "no beats found" flag. Damaged files that may still be readable:
analysed or skipped with one line. A file whose later frame is broken opens (info: 0) but is not
analysed (2). Never a traceback, never past the time limit (CLI_TIMEOUT_S per process).

The commands are all started at the beginning of the session on a small pool
(tests/reliability/conftest.py: bad_input_runs); each test checks one.
"""

from __future__ import annotations

import csv
import json
import re

import pytest

from tests.reliability.conftest import run_cli
from tests.reliability.corpus import CASES

NAMES = list(CASES)


@pytest.fixture
def runs(cli_pool, bad_input_runs):
    out, in_batch = bad_input_runs
    return cli_pool, out, in_batch


#: what `analyze` may print on stderr; anything else (a library's log line, a warning) is noise
ANALYZE_LINES = re.compile(r"^(segmentation weights: |ef weights: |device: |skipped |error: |report: |analysed "
                           r"|\S+: \d+% \(\d+/\d+ frames\)$|\S+: EF )")


def _common(r, name):
    assert r.returncode is not None, f"{name}: {' '.join(r.args[:1])} did not finish within {r.limit:g} s"
    assert r.seconds < r.limit
    assert "Traceback" not in r.output, r.output[-3000:]
    assert "Fatal Python error" not in r.output, r.output[-3000:]
    assert r.returncode in (0, 2), f"exit status {r.returncode}: {r.output[-2000:]}"
    if r.args[0] == "info":  # everything goes to stdout; nothing else may reach the terminal
        assert r.stderr == "", r.stderr
    else:
        noise = [ln for ln in r.stderr.splitlines() if not ANALYZE_LINES.match(ln)]
        assert not noise, noise


@pytest.mark.parametrize("case", NAMES)
def test_info(case, runs, corpus):
    batch = runs[0]
    c, path = CASES[case], str(corpus[case])
    r = batch.result(f"{case}/info")
    _common(r, case)
    if c.expect == "bad" or (c.expect == "either" and r.returncode == 2):
        assert r.returncode == 2
        lines = [ln for ln in r.stdout.splitlines() if ln.startswith("error: ")]
        assert len(lines) == 1 and lines[0].startswith(f"error: {path}: "), r.stdout
        if c.reason:
            assert c.reason in lines[0].lower(), lines[0]
        assert r.stdout.rstrip().endswith("0 loop(s), 1 error(s)")
    else:
        assert r.returncode == 0, r.output
        assert r.stdout.rstrip().endswith("1 loop(s), 0 error(s)")
        if c.shape:
            n, w, h = c.shape
            row = [ln for ln in r.stdout.splitlines() if ln.startswith(path)]
            assert len(row) == 1 and row[0].split()[1:3] == [str(n), f"{w}x{h}"], r.stdout


@pytest.mark.parametrize("case", NAMES)
def test_info_json(case, runs, corpus):
    batch = runs[0]
    c, path = CASES[case], str(corpus[case])
    r = batch.result(f"{case}/info_json")
    _common(r, case)
    doc = json.loads(r.stdout)  # one JSON document on stdout, whatever the file
    assert set(doc) == {"loops", "errors"}
    if r.returncode == 2:
        assert c.expect not in ("ok", "late"), doc
        assert doc["loops"] == [] and len(doc["errors"]) == 1
        err = doc["errors"][0]
        assert err["path"] == path and err["message"] == f"{path}: {err['reason']}"
        assert "\n" not in err["message"] and err["reason"].strip()
        if c.reason:
            assert c.reason in err["reason"].lower(), err
    else:
        assert c.expect != "bad", doc
        assert doc["errors"] == [] and len(doc["loops"]) == 1
        lp = doc["loops"][0]
        assert lp["path"] == path and lp["frames"] >= 1 and lp["fps"] > 0
        if c.shape:
            assert (lp["frames"], lp["width"], lp["height"]) == c.shape, lp


@pytest.mark.parametrize("case", NAMES)
def test_analyze(case, runs, corpus):
    batch, out, in_batch = runs
    c = CASES[case]
    if case in in_batch:  # analysed with the others in one `analyze FOLDER` run
        r, path, report = batch.result("batch/analyze"), str(in_batch[case]), out / "batch.csv"
        _common(r, "batch")
        assert r.returncode == 0, r.output[-3000:]
    else:
        r, path, report = batch.result(f"{case}/analyze"), str(corpus[case]), out / f"{case}.csv"
        _common(r, case)
    mine = [ln for ln in r.stderr.splitlines() if ln.startswith(f"skipped {path}: ")]
    rows = [row for row in csv.DictReader(report.open()) if row["file"] == path] if report.exists() else []
    if mine or r.returncode == 2:
        assert c.expect in ("bad", "late", "either"), r.output[-3000:]
        # one line about this file, naming it once: why it was skipped (unreadable, or failed while decoding)
        assert len(mine) == 1 and mine[0].count(path) == 1, r.stderr
        assert [ln for ln in r.stderr.splitlines() if path in ln and not ln.startswith("error: no ")] == mine
        if c.expect in ("bad", "late") and c.reason:
            assert c.reason in mine[0].lower(), mine[0]
        if c.expect == "late":
            assert "analysis failed" in mine[0]
        if r.returncode == 2:
            assert "error: no readable loops" in r.stderr or "error: no loop could be analysed" in r.stderr
            assert not report.exists()
        if c.expect == "bad":  # refused before anything is loaded: exactly two lines
            assert r.stderr.splitlines() == [mine[0], f"error: no readable loops in {path}"], r.stderr
        assert rows == []
        return
    assert c.expect not in ("bad", "late"), r.output[-3000:]
    assert r.returncode == 0 and f"report: {report}" in r.stderr
    if case not in in_batch:
        assert "analysed 1 of 1 loops" in r.stderr
    assert rows and rows[-1]["beat"] == "mean"
    beats = rows[:-1]
    assert [row["beat"] for row in beats] == [str(k) for k in range(1, len(beats) + 1)]
    summary = rows[-1]
    if c.shape:
        assert int(summary["n_frames"]) == c.shape[0]
    if c.no_beats:
        assert beats == [] and "no beats found" in summary["flags"]
        assert summary["ef_model"] == "" and summary["beats_used"] == "0" and summary["hr_bpm"] == ""
    for row in beats:  # whatever an untrained model says, the numbers are well-formed
        assert (0 <= int(row["ed_frame"]) < int(summary["n_frames"])
                and 0 <= int(row["es_frame"]) < int(summary["n_frames"]))
        if row["ef_model"]:
            float(row["ef_model"])
        assert row["clip_mode"] in ("full", "padded", "shifted", "dropped")


@pytest.mark.parametrize("case", [n for n in NAMES if CASES[n].expect == "late"])
def test_analyze_quiet_still_says_why(case, runs, corpus):
    """Regression: with --quiet the reason a loop failed during analysis was not printed at all."""
    pool, out, _ = runs
    path = str(corpus[case])
    r = pool.result(f"{case}/analyze_quiet")
    _common(r, case)
    assert r.returncode == 2
    assert r.stderr.splitlines()[-2:] == [
        [ln for ln in r.stderr.splitlines() if ln.startswith(f"skipped {path}: analysis failed: ")][0],
        "error: no loop could be analysed"], r.stderr
    assert CASES[case].reason in r.stderr.lower() and "%" not in r.stderr  # the reason, no progress bar


def test_info_on_the_whole_corpus_folder(corpus, corpus_dir, tmp_path):
    """One scan over every corpus file (and the seed files beside them): every file is a loop or an error."""
    r = run_cli(["info", str(corpus_dir), "--json"], tmp_path / "home")
    _common(r, "corpus folder")
    doc = json.loads(r.stdout)
    files = [p for p in corpus_dir.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(doc["loops"]) + len(doc["errors"]) == len(files)
    reported = {d["path"] for d in doc["loops"]} | {e["path"] for e in doc["errors"]}
    for name, path in corpus.items():
        assert str(path) in reported, name
        if CASES[name].expect in ("ok", "late"):
            assert str(path) in {d["path"] for d in doc["loops"]}, name
        if CASES[name].expect == "bad":
            assert str(path) in {e["path"] for e in doc["errors"]}, name
    assert r.returncode == 0
