"""Hypothesis fuzzing of the readers, in-process (a few hundred inputs; the 10,000-input run with a
subprocess pool and per-input timeouts is benchmarks/fuzz_readers.py).

Each input is a small valid seed file (every DICOM transfer syntax / photometric the reader supports,
OpenCV and hand-written MJPG AVIs, an MP4) with hypothesis-chosen byte mutations, or random bytes
behind a plausible magic. open_loop + frame(0) + grid_frames() + frame(last) must return the
documented arrays or raise LoopError (one line naming the file); nothing else. A watchdog ends the
run with a traceback dump if one input hangs.
"""

from __future__ import annotations

import faulthandler
import os
import sys
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.fuzz import OPS, SEED_NAMES, apply_ops, check_file, make_seeds

#: Per-input bound. Reading a 6-frame seed takes milliseconds; generous for a loaded CI machine.
DEADLINE = timedelta(seconds=10)
#: A hang in C code cannot be interrupted: the watchdog dumps the stacks and exits after this.
WATCHDOG_S = 300

DICOM_SEEDS = [n for n, ext in SEED_NAMES if ext == ".dcm"]
VIDEO_SEEDS = [n for n, ext in SEED_NAMES if ext != ".dcm"]

ops_strategy = st.lists(
    st.tuples(st.sampled_from(OPS), st.integers(0, 2**20), st.integers(0, 2**32 - 1), st.binary(max_size=16)),
    min_size=1, max_size=4,
)
COMMON = settings(deadline=DEADLINE, derandomize=True, print_blob=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    return make_seeds(tmp_path_factory.mktemp("fuzz_seeds"))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz_inputs")


@pytest.fixture(autouse=True)
def _watchdog():
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True, file=sys.stderr)
    yield
    faulthandler.cancel_dump_traceback_later()


def _check(data: bytes, path) -> None:
    path.write_bytes(data)
    try:
        outcome, detail = check_file(path)
    finally:
        os.unlink(path)
    assert outcome in ("loop", "loop_error"), detail


def test_seeds_are_valid(seeds, scratch):
    for name, data in seeds.items():
        path = scratch / name
        path.write_bytes(data)
        assert check_file(path)[0] == "loop", name


@settings(COMMON, max_examples=250)
@given(name=st.sampled_from(DICOM_SEEDS), ops=ops_strategy)
def test_mutated_dicom(seeds, scratch, name, ops):
    _check(apply_ops(seeds[name], ops), scratch / f"in{name[-4:]}")


@settings(COMMON, max_examples=120)
@given(name=st.sampled_from(VIDEO_SEEDS), ops=ops_strategy, ext=st.sampled_from([None, ".avi", ".mp4", ".dcm", ""]))
def test_mutated_video(seeds, scratch, name, ops, ext):
    ext = os.path.splitext(name)[1] if ext is None else ext
    _check(apply_ops(seeds[name], ops), scratch / f"in{ext}")


@settings(COMMON, max_examples=60)
@given(magic=st.sampled_from([b"", bytes(128) + b"DICM", b"RIFF\x00\x10\x00\x00AVI LIST",
                              b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00", b"\x08\x00\x05\x00CS\x0a\x00"]),
       body=st.binary(max_size=4096), ext=st.sampled_from([".dcm", ".avi", ".mp4", ""]))
def test_random_bytes_behind_a_magic(scratch, magic, body, ext):
    _check(magic + body, scratch / f"rand{ext}")


CHECK_ALL = """
import sys
from pathlib import Path
from tests.reliability.fuzz import check_file
for p in sorted(Path(sys.argv[1]).iterdir()):
    outcome, detail = check_file(p)
    print(p.name, outcome, detail.replace(chr(10), ' '), flush=True)
"""


def test_damaged_jpeg_headers_do_not_kill_the_process(seeds, tmp_path):
    """Regression: GDCM (the only JPEG-lossless decoder here; once also a fallback for JPEG baseline)
    aborts or segfaults the whole process on some damaged JPEG headers instead of raising. ~450
    deterministic header damages of JPEG-lossless and JPEG-baseline frames, checked in a child
    process (so that a regression shows up as a failed test, not a dead test run)."""
    import subprocess

    from tests.reliability.fuzz import jpeg_header_damage

    folder = tmp_path / "damaged"
    folder.mkdir()
    n = 0
    for name in ("jpeg_lossless_mono.dcm", "jpeg_lossless_rgb.dcm", "jpeg_mono.dcm", "jpeg_ybr422.dcm"):
        for _, data in jpeg_header_damage(seeds[name]):
            (folder / f"{n:04d}_{name}").write_bytes(data)
            n += 1
    assert n > 300
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run([sys.executable, "-c", CHECK_ALL, str(folder)], capture_output=True, text=True,
                       timeout=300, cwd=root)
    lines = r.stdout.splitlines()
    assert r.returncode == 0, (f"the process died (status {r.returncode}) after {len(lines)} of {n} inputs, "
                               f"on {sorted(os.listdir(folder))[len(lines)]}: {r.stderr[-2000:]}")
    assert len(lines) == n
    bad = [ln for ln in lines if ln.split(" ", 2)[1] not in ("loop", "loop_error")]
    assert not bad, bad[:5]
