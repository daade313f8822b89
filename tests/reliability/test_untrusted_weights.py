"""Untrusted weights through the command line: `analyze --seg-weights FILE` / `--ef-weights FILE`.

A checkpoint whose pickle would run code is refused and the code never runs (the marker file the
payload would write stays absent); a file of the wrong task or architecture is refused with the
reason. Exit status 2, one `error:` line naming the file, no traceback. tests/models proves the
same for load_model in-process; this is the end-to-end version. The commands are started with the
other CLI runs of this folder on a shared pool (conftest.weights_runs).
"""

from __future__ import annotations

import pickle

import pytest
import torch

from tests.reliability.hostile import HOSTILE, WRONG, evil_checkpoint, evil_plain_pickle


def _check_refusal(r, path, words, report):
    assert r.returncode == 2, r.output[-3000:]
    assert "Traceback" not in r.output and "Fatal Python error" not in r.output, r.output[-3000:]
    errors = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1, r.stderr
    line = errors[0]
    assert path in line, line  # names the file
    for w in words:
        assert w in line.replace("ejection fraction", "EF"), line
    assert not report.exists()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_code_carrying_checkpoint_is_refused_and_never_runs(name, cli_pool, weights_runs):
    pool, (files, markers, root) = cli_pool, weights_runs
    r = pool.result(f"weights/{name}")
    _check_refusal(r, files[name], HOSTILE[name][2], root / f"{name}.csv")
    assert not markers[name].exists(), "the payload ran"


def test_the_hostile_files_really_are_hostile(tmp_path):
    """Control: full unpickling of the same files does run the payload."""
    for build in (lambda p, m: evil_checkpoint(p, m), lambda p, m: evil_checkpoint(p, m, legacy=True)):
        marker = tmp_path / "marker.txt"
        torch.load(build(tmp_path / "evil.pt", marker), weights_only=False)
        assert marker.read_text() == "pwned"
        marker.unlink()
    marker = tmp_path / "marker.txt"
    pickle.loads(evil_plain_pickle(tmp_path / "plain.pt", marker).read_bytes())
    assert marker.exists()


@pytest.mark.parametrize("name", list(WRONG))
def test_wrong_task_or_architecture_is_refused_with_the_reason(name, cli_pool, weights_runs):
    pool, (files, _, root) = cli_pool, weights_runs
    _check_refusal(pool.result(f"weights/{name}"), files[name], WRONG[name][2], root / f"{name}.csv")
