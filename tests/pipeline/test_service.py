"""The analyzer in a child process (what the window uses): same results, cancellation, crashes."""

import os
import signal
import time

import numpy as np
import pytest

from echoviewer.io.echonet_video import write_echonet_video
from echoviewer.io.loop import Loop
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings, Cancelled
from echoviewer.pipeline.service import AnalysisError, RemoteAnalyzer


@pytest.fixture(scope="module")
def loop_file(phantom, tmp_path_factory):
    path = tmp_path_factory.mktemp("service") / "loop.avi"
    write_echonet_video(path, phantom.frames, phantom.fps)
    return path


@pytest.fixture(scope="module")
def remote(random_weights):
    seg, ef = random_weights
    r = RemoteAnalyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"))
    yield r
    r.close()


def test_child_process_gives_the_in_process_results_with_progress(remote, random_weights, loop_file):
    from echoviewer.io import open_loop

    seen = []
    res = remote.analyze(open_loop(loop_file), progress=seen.append, priority_frame=40)
    assert remote.alive and remote.pid != os.getpid()
    seg, ef = random_weights
    local = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"), use_cache=False)
    ref = local.analyze(open_loop(loop_file), priority_frame=40)  # same first batch: same precision check
    assert np.array_equal(res.masks, ref.masks)
    assert res.region == ref.region and len(res.region) == 4 and res.region_source == ref.region_source
    assert [(b.ed_frame, b.es_frame) for b in res.beats] == [(b.ed_frame, b.es_frame) for b in ref.beats]
    np.testing.assert_allclose([b.ef_model for b in res.beats], [b.ef_model for b in ref.beats], atol=1e-4)
    chunks = [p for p in seen if p.stage == "segment" and p.masks is not None]
    assert chunks and 40 in chunks[0].frames  # the playhead's frames came first
    # each frame's last chunk holds its final mask (the first batch comes twice where this CPU's
    # fast path is refused by the float32 check: fast masks, then float32 ones)
    shown = np.zeros_like(res.masks)
    got = np.zeros(len(res.masks), bool)
    for p in chunks:
        shown[p.frames] = p.masks
        got[p.frames] = True
    assert got.all() and np.array_equal(shown, res.masks)


def _variant(phantom, path, skip):
    """Another loop (other bytes, so not a cache hit of an earlier job)."""
    write_echonet_video(path, phantom.frames[skip:], phantom.fps)
    return path


def test_cancel_stops_the_job_and_the_next_one_runs(remote, phantom, tmp_path):
    copy = _variant(phantom, tmp_path / "other.avi", 1)
    calls = []
    with pytest.raises(Cancelled):
        remote.analyze(str(copy), progress=calls.append, cancel=lambda: len(calls) >= 1)
    assert remote.alive  # cancelled between batches: the process and its models stay
    assert remote.analyze(str(copy)).n_frames == phantom.n_frames - 1  # _variant skipped 1 frame


def test_a_killed_child_fails_the_job_with_one_line_and_the_next_job_starts_a_new_one(remote, phantom, tmp_path):
    copy = _variant(phantom, tmp_path / "crash.avi", 2)
    first = remote.pid
    with pytest.raises(AnalysisError) as err:
        remote.analyze(str(copy), progress=lambda p: os.kill(first, signal.SIGKILL))
    msg = str(err.value)
    assert "\n" not in msg and "crash.avi" in msg and "SIGKILL" in msg
    assert not remote.alive
    res = remote.analyze(str(copy))
    assert res.n_frames == phantom.n_frames - 2 and remote.alive and remote.pid != first


def test_unloadable_weights_are_reported_and_leave_no_process(tmp_path, loop_file):
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"not a checkpoint at all")
    r = RemoteAnalyzer(AnalysisSettings(seg_weights=str(bad), device="cpu"))
    with pytest.raises(AnalysisError) as err:
        r.analyze(str(loop_file))
    assert "garbage.pt" in str(err.value) and "\n" not in str(err.value)
    assert not r.alive


def test_closing_while_the_models_load_returns_at_once(random_weights):
    seg, ef = random_weights
    r = RemoteAnalyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"))
    assert not r.wait_ready(0.01)  # importing torch alone takes longer than this
    t = time.perf_counter()
    r.close()
    assert time.perf_counter() - t < 5 and not r.alive


def test_a_loop_without_a_file_is_refused_clearly(remote, phantom):
    lp = Loop.from_frames(phantom.frames[:4], fps=50, path="<in memory>")
    with pytest.raises(AnalysisError, match="can only open loop files"):
        remote.analyze(lp)


def test_masks_cross_the_pipe_packed_and_come_back_identical():
    import pickle

    from echoviewer.pipeline.results import Progress
    from echoviewer.pipeline.service import _pack, _unpack

    rng = np.random.default_rng(0)
    masks = np.zeros((130, 112, 112), bool)
    masks[:, 30:80, 40:70] = True
    masks[rng.random(masks.shape) < 0.001] = True  # not just one box: any bit pattern survives
    p = Progress("segment", 130, 130, frames=np.arange(130), masks=masks)
    wire = pickle.dumps(_pack(p))
    assert len(wire) < masks.nbytes / 20  # 1.6 MB of bools: a few tens of kB on the pipe
    back = _unpack(pickle.loads(wire))
    assert back.masks.dtype == bool and back.masks.shape == masks.shape
    assert np.array_equal(back.masks, masks)
    assert p.masks is masks  # the sender's object is not changed
    assert _unpack(_pack(Progress("ef", 0, 3))).masks is None


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="per-thread nice values are read from Linux /proc")
def test_every_thread_of_the_analysis_process_is_niced(remote, loop_file):
    from echoviewer.pipeline.service import CHILD_NICE

    remote.analyze(loop_file)  # torch's and the decoder's threads exist after a job
    pid = remote.pid
    tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    assert len(tids) > 1
    main = os.getpriority(os.PRIO_PROCESS, pid)
    assert main >= CHILD_NICE
    assert {os.getpriority(os.PRIO_PROCESS, t) for t in tids} == {main}


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="open files are read from Linux /proc")
def test_the_analysis_process_lets_go_of_each_file_after_its_job(remote, phantom, tmp_path):
    """A loop file the user wants to move or delete (Windows refuses while it is open) is not held
    by the analysis process once its job is done, nor are its decoded frames."""
    from echoviewer.io.dicom_write import write_ultrasound_dicom

    # no region tags: the reader opens the file for single frames to detect the image region
    path = tmp_path / "held.dcm"
    write_ultrasound_dicom(path, phantom.frames[2:], phantom.fps)
    remote.analyze(path)

    def open_files():
        out = set()
        for fd in os.listdir(f"/proc/{remote.pid}/fd"):
            try:
                out.add(os.readlink(f"/proc/{remote.pid}/fd/{fd}"))
            except OSError:
                pass  # closed meanwhile
        return out

    assert str(path) not in open_files()
