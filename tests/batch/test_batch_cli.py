"""`echoviewer batch` against serial `echoviewer analyze`: the same rows, local workers or Ray."""

import json
import sys

from echoviewer import cli
from echoviewer.batch.store import FAILURES, LEDGER, RESULTS
from echoviewer.export.report import COLUMNS
from tests.batch.conftest import UNREADABLE, read_rows, row_key, run_cli


def _check_matches_analyze(out, analyze_rows):
    rows = read_rows(out / RESULTS)
    assert list(rows[0]) == COLUMNS
    assert sorted(rows, key=row_key) == analyze_rows  # every column: same beats, frames, EF as printed
    assert len({row_key(r) for r in rows}) == len(rows)  # no row twice
    by_file: dict[str, list] = {}
    for r in rows:  # each loop's rows together: its beats, then its summary row
        by_file.setdefault(r["file"], []).append(r["beat"])
    assert all(beats[-1] == "mean" for beats in by_file.values())
    failures = read_rows(out / FAILURES)
    assert sorted(f["file"].rsplit("/", 1)[-1] for f in failures) == sorted(UNREADABLE)
    assert all(f["reason"] and "Traceback" not in f["reason"] for f in failures)


def test_two_local_workers_match_analyze_and_a_rerun_skips_everything(archive, analyze_rows, tmp_path):
    out = tmp_path / "out"
    r = run_cli("batch", str(archive), "--out", str(out), "--jobs", "2", "--device", "cpu", home=tmp_path / "h")
    assert r.returncode == 0, r.stderr
    assert "workers: 2 local processes" in r.stderr
    assert "done 6, skipped 0, failed 2" in r.stderr and "loops/min" in r.stderr
    _check_matches_analyze(out, analyze_rows)
    before = (out / RESULTS).read_bytes()
    r = run_cli("batch", str(archive), "--out", str(out), "--device", "cpu", home=tmp_path / "h")
    assert r.returncode == 0, r.stderr
    assert "done 0, skipped 6, failed 2" in r.stderr
    assert (out / RESULTS).read_bytes() == before
    assert len((out / LEDGER).read_text().splitlines()) == 6


def test_ray_local_with_two_actors_matches_analyze(archive, analyze_rows, tmp_path):
    """Starts its own local Ray cluster (a temporary folder) and stops it."""
    out = tmp_path / "out"
    r = run_cli("batch", str(archive), "--out", str(out), "--ray", "local", "--jobs", "2", "--device", "cpu",
                "--quiet", home=tmp_path / "h")
    assert r.returncode == 0, r.stderr
    assert "workers: 2 Ray actors" in r.stderr and "done 6, skipped 0, failed 2" in r.stderr
    _check_matches_analyze(out, analyze_rows)


def test_files_from_a_list_and_other_settings_refused(archive, analyze_rows, tmp_path):
    listed = [str(archive / "sub" / "deeper" / "loop5.avi")]
    lst = tmp_path / "shard.txt"
    lst.write_text(f"# shard 0\n{listed[0]}\n\n{listed[0]}\n")  # a path twice: its rows once
    out = tmp_path / "out"
    r = run_cli("batch", "--files-from", str(lst), "--out", str(out), "--device", "cpu", home=tmp_path / "h")
    assert r.returncode == 0, r.stderr
    rows = read_rows(out / RESULTS)
    assert sorted(rows, key=row_key) == [row for row in analyze_rows if row["file"] in listed]
    r = run_cli("batch", "--files-from", str(lst), "--out", str(out), "--device", "cpu", "--echonet-exact",
                home=tmp_path / "h")
    assert r.returncode == 2 and "other weights or settings" in r.stderr and "Traceback" not in r.stderr
    assert json.loads((out / "batch.json").read_text())["settings"]["echonet_exact"] is False


def test_ray_missing_says_how_to_install_it(archive, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    assert cli.main(["batch", str(archive), "--out", str(tmp_path / "out"), "--ray", "local"]) == 2
    err = capsys.readouterr().err
    assert "pip install echoviewer[cluster]" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()  # said before anything else happened
