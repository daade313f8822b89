"""ResultStore: a loop is done when its ledger line is whole; anything else is dropped on restart."""

import json
import os

import pytest

from echoviewer.batch.store import FAILURES, LEDGER, RESULTS, ResultStore, StoreError
from echoviewer.batch.worker import Outcome
from echoviewer.paths import sha256_file
from tests.batch.conftest import read_rows

KEY = "k" * 32


def _loop(tmp_path, name: str, content: bytes = b"loop bytes") -> str:
    p = tmp_path / "archive" / name
    p.parent.mkdir(exist_ok=True)
    p.write_bytes(content)
    return str(p)


def _outcome(path: str, beats: int = 1) -> Outcome:
    rows = [{"file": path, "beat": str(i + 1), "ef_model": "55.00"} for i in range(beats)]
    rows.append({"file": path, "beat": "mean", "ef_model": "55.00"})
    return Outcome(path, ok=True, rows=rows, sha256=sha256_file(path), key=KEY)


def test_rows_without_a_ledger_line_and_torn_lines_are_dropped_on_restart(tmp_path):
    a, b = _loop(tmp_path, "a.avi"), _loop(tmp_path, "b.avi", b"other")
    store = ResultStore(tmp_path / "out", KEY)
    store.record(_outcome(a, beats=2))
    # killed after b's rows reached the disk, before its ledger line; then a torn row
    for row in _outcome(b).rows:
        store._rows.writerow(row)
    store._results.write(f"{b},3,1")
    store.close()
    store = ResultStore(tmp_path / "out", KEY)
    assert set(store.done) == {a} and store.dropped == 3
    assert store.is_done(a) and not store.is_done(b)
    store.record(_outcome(b))
    store.close()
    rows = read_rows(tmp_path / "out" / RESULTS)
    assert [(r["file"], r["beat"]) for r in rows] == [(a, "1"), (a, "2"), (a, "mean"), (b, "1"), (b, "mean")]


def test_a_torn_ledger_line_is_not_done_and_the_ledger_is_rewritten_whole(tmp_path):
    a, b = _loop(tmp_path, "a.avi"), _loop(tmp_path, "b.avi", b"other")
    store = ResultStore(tmp_path / "out", KEY)
    store.record(_outcome(a))
    store._ledger.write(json.dumps({"path": b})[:10])  # killed while writing b's line (b's rows are there)
    for row in _outcome(b).rows:
        store._rows.writerow(row)
    store.close()
    store = ResultStore(tmp_path / "out", KEY)
    assert set(store.done) == {a} and store.dropped == 2
    store.close()
    lines = (tmp_path / "out" / LEDGER).read_text().splitlines()
    assert [json.loads(line)["path"] for line in lines] == [a]
    assert {r["file"] for r in read_rows(tmp_path / "out" / RESULTS)} == {a}


def test_a_ledger_line_whose_rows_are_missing_is_not_done(tmp_path):
    a = _loop(tmp_path, "a.avi")
    store = ResultStore(tmp_path / "out", KEY)
    store.record(_outcome(a, beats=2))
    store.close()
    results = tmp_path / "out" / RESULTS
    lines = results.read_text().splitlines(keepends=True)
    results.write_text("".join(lines[:-1]))  # its summary row lost (a restored backup, an editor)
    store = ResultStore(tmp_path / "out", KEY)
    assert not store.done and read_rows(results) == []
    store.close()


def test_a_changed_file_is_analysed_again_a_touched_one_is_not(tmp_path):
    a, b = _loop(tmp_path, "a.avi"), _loop(tmp_path, "b.avi", b"other")
    store = ResultStore(tmp_path / "out", KEY)
    store.record(_outcome(a))
    store.record(_outcome(b))
    store.close()
    st = os.stat(a)
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # same bytes, new time
    with open(b, "ab") as f:
        f.write(b" changed")
    store = ResultStore(tmp_path / "out", KEY)
    assert store.is_done(a) and not store.is_done(b)
    store.close()
    assert {r["file"] for r in read_rows(tmp_path / "out" / RESULTS)} == {a}


def test_failures_are_retried_by_a_rerun_and_other_settings_are_refused(tmp_path):
    bad = _loop(tmp_path, "bad.avi")
    store = ResultStore(tmp_path / "out", KEY)
    store.record(Outcome(bad, ok=False, reason="cannot open the video"))
    store.close()
    assert read_rows(tmp_path / "out" / FAILURES) == [{"file": bad, "reason": "cannot open the video"}]
    store = ResultStore(tmp_path / "out", KEY)
    assert not store.is_done(bad) and read_rows(tmp_path / "out" / FAILURES) == []
    with pytest.raises(StoreError, match="other weights or settings"):
        store.record(Outcome(bad, ok=True, rows=[], key="other"))
    store.close()
    with pytest.raises(StoreError, match="other weights or settings"):
        ResultStore(tmp_path / "out", "another key")
