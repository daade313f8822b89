"""The batch's output folder: results.csv and failures.csv written as loops finish, and the
done-ledger that makes a run resumable after a crash, a SIGKILL or a lost node.

Only the driver writes here (one writer, no concurrent appends). A finished loop's rows are appended
to results.csv and made durable (flush + fsync) *before* its line is appended to the ledger
(done.jsonl, also fsynced): a loop is done when, and only when, its ledger line is whole. On start,
``ResultStore`` reconciles: rows of loops without a ledger line (a half-written loop, a loop written
just before the kill) are dropped by rewriting results.csv, so a killed run loses at most the loops
in flight, never a counted row, and a rerun never writes a loop's rows twice.

A loop is keyed by its file's sha256 and the settings key (both weights' sha256 and the settings
that change results; one per folder, in batch.json). A rerun skips a ledger path whose size and
modification time are unchanged; when they changed, the file is hashed again and analysed again
only if its bytes changed (then its old rows are dropped). Failures are not done: a rerun tries them
again, and failures.csv lists those of the latest run.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from echoviewer.export.report import COLUMNS, row_writer
from echoviewer.paths import atomic_write, sha256_file

RESULTS, FAILURES, LEDGER, SETTINGS = "results.csv", "failures.csv", "done.jsonl", "batch.json"
FAILURE_COLUMNS = ["file", "reason"]


class StoreError(Exception):
    """The output folder cannot take this run (other settings, other columns); one line."""


@dataclass
class Done:
    path: str
    sha256: str
    size: int
    mtime_ns: int
    rows: int


def _stat(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _header_line(columns: list[str]) -> str:
    return ",".join(columns) + "\n"


class ResultStore:
    def __init__(self, out: str | os.PathLike, key: str, about: dict | None = None):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.key = key
        self._check_settings(about or {})
        self.done: dict[str, Done] = self._read_ledger()
        self.dropped = 0  # rows dropped by the reconciliation (a half-written loop, changed files)
        self._reconcile()
        self._results = open(self.out / RESULTS, "a", encoding="utf-8", newline="")
        self._rows = row_writer(self._results)
        self._ledger = open(self.out / LEDGER, "a", encoding="utf-8")
        failures = self.out / FAILURES
        atomic_write(failures, lambda f: f.write(_header_line(FAILURE_COLUMNS).encode()))
        self._failures = open(failures, "a", encoding="utf-8", newline="")
        self._fail_rows = csv.writer(self._failures, lineterminator="\n")

    # -- start: settings, ledger, results ---------------------------------------------------------
    def _check_settings(self, about: dict) -> None:
        path = self.out / SETTINGS
        if path.exists():
            try:
                theirs = json.loads(path.read_text(encoding="utf-8")).get("key")
            except (OSError, ValueError, AttributeError):
                theirs = None
            if theirs != self.key:
                raise StoreError(f"{self.out} holds results of other weights or settings ({path.name}); "
                                 f"write this run to another folder")
            return
        blob = json.dumps({"key": self.key, **about}, indent=1, default=str)
        atomic_write(path, lambda f: f.write(blob.encode()), fsync=True)

    def _read_ledger(self) -> dict[str, Done]:
        done: dict[str, Done] = {}
        path = self.out / LEDGER
        if not path.exists():
            return done
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.endswith("\n"):
                    break  # torn by a kill: that loop is not done
                try:
                    d = Done(**json.loads(line))
                except (ValueError, TypeError):
                    break
                done[d.path] = d  # the last line of a path wins
        for p, d in list(done.items()):
            now = _stat(p)
            if now is None or now == (d.size, d.mtime_ns):
                continue  # unchanged, or not reachable now (its rows stay)
            try:
                same = sha256_file(p) == d.sha256
            except OSError:
                continue
            if same:  # touched, not changed
                d.size, d.mtime_ns = now
            else:
                del done[p]
        return done

    def _reconcile(self) -> None:
        results = self.out / RESULTS
        header = _header_line(COLUMNS)
        if not results.exists():
            self.done.clear()  # no rows: nothing is done
            atomic_write(results, lambda f: f.write(header.encode()), fsync=True)
            self._write_ledger()
            return
        counts: Counter[str] = Counter()
        junk = 0
        for file in self._row_files(results, header):
            if file is None:
                junk += 1
            else:
                counts[file] += 1
        for p, d in list(self.done.items()):
            if counts[p] < d.rows:  # its rows are not all there: not done
                del self.done[p]
        extra = sum(n - (self.done[p].rows if p in self.done else 0) for p, n in counts.items())
        if junk or extra:
            self._rewrite_results(results, header, counts)
            self.dropped = junk + extra
        self._write_ledger()

    @staticmethod
    def _row_files(results: Path, header: str):
        """The ``file`` of each row of results.csv in order; None for a torn or malformed line."""
        with open(results, encoding="utf-8", newline="") as f:
            first = f.readline()
            if first != header:
                raise StoreError(f"{results} has other columns than this version writes; "
                                 f"write this run to another folder")
            for line in f:
                fields = next(csv.reader([line]), []) if line.endswith("\n") else []
                yield fields[0] if len(fields) == len(COLUMNS) else None

    def _rewrite_results(self, results: Path, header: str, counts: Counter[str]) -> None:
        """Keep, of each done loop, its last ``rows`` rows; drop everything else."""
        skip = {p: n - self.done[p].rows for p, n in counts.items() if p in self.done}

        def write(out) -> None:
            out.write(header.encode())
            for line, file in zip(self._lines(results), self._row_files(results, header)):
                if file is None or file not in self.done:
                    continue
                if skip[file] > 0:
                    skip[file] -= 1
                    continue
                out.write(line.encode())

        atomic_write(results, write, fsync=True)

    @staticmethod
    def _lines(results: Path):
        with open(results, encoding="utf-8", newline="") as f:
            f.readline()
            yield from f

    def _write_ledger(self) -> None:
        text = "".join(json.dumps(asdict(d)) + "\n" for d in self.done.values())
        atomic_write(self.out / LEDGER, lambda f: f.write(text.encode()), fsync=True)

    # -- during the run ---------------------------------------------------------------------------
    def is_done(self, path: str) -> bool:
        d = self.done.get(path)
        if d is None:
            return False
        now = _stat(path)
        return now is None or now == (d.size, d.mtime_ns)

    def record(self, outcome) -> None:
        """A worker's ``Outcome``: its rows then its ledger line, or its failure row; each durable."""
        if not outcome.ok:
            self._fail_rows.writerow([outcome.path, outcome.reason])
            _sync(self._failures)
            return
        if outcome.key != self.key:
            raise StoreError(f"a worker on node {outcome.node} has other weights or settings than this run "
                             f"(its key {outcome.key[:12]}…, the run's {self.key[:12]}…)")
        for row in outcome.rows:
            self._rows.writerow(row)
        _sync(self._results)
        size, mtime_ns = _stat(outcome.path) or (0, 0)
        d = Done(outcome.path, outcome.sha256, size, mtime_ns, len(outcome.rows))
        self._ledger.write(json.dumps(asdict(d)) + "\n")
        _sync(self._ledger)
        self.done[d.path] = d

    def close(self) -> None:
        for f in (self._results, self._ledger, self._failures):
            f.close()


def _sync(f) -> None:
    f.flush()
    os.fsync(f.fileno())
