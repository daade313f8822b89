import numpy as np
import pytest

from echoviewer.analysis.metrics import dice
from echoviewer.pipeline import analyzer as analyzer_mod
from echoviewer.pipeline.analyzer import Analyzer, Cancelled, frame_order
from echoviewer.pipeline.results import AnalysisSettings


def _oracle(analyzer, masks, monkeypatch):
    """Route segmentation through the phantom's true masks (see conftest.OracleSegmentation)."""
    seen = []
    real = analyzer._segment_batches

    def batches(grid, order, cancel, **_):
        bs = analyzer.seg_engine.batch_size
        for i in range(0, len(order), bs):
            if cancel and cancel():
                raise Cancelled()
            idx = np.sort(order[i : i + bs])
            seen.append(idx)
            yield idx, masks[idx]

    monkeypatch.setattr(analyzer, "_segment_batches", batches)
    return seen, real


def test_frame_order_puts_playhead_first():
    order = frame_order(100, 60)
    assert sorted(order.tolist()) == list(range(100))
    assert set(order[:33].tolist()) == set(range(44, 77))
    assert order[:5].tolist() == [60, 59, 61, 58, 62]  # nearest first: the first batch holds the playhead
    assert frame_order(10, None).tolist() == list(range(10))


def test_pipeline_with_true_masks_finds_every_beat_and_its_ef(random_weights, phantom, phantom_loop, monkeypatch):
    seg, ef = random_weights
    a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"), use_cache=False)
    _oracle(a, phantom.truth.masks, monkeypatch)
    res = a.analyze(phantom_loop)
    t = phantom.truth
    found = [b.es_frame for b in res.beats]
    for es in t.es_frames:
        assert min(abs(es - f) for f in found) <= 2, (t.es_frames, found)
    assert len(res.beats) == len(t.es_frames)
    for b in res.beats:
        assert b.ed_frame < b.es_frame or b.number == 1
        assert b.ef_seg is not None and abs(b.ef_seg - 45) < 6  # method of disks on the true masks
        assert b.ef_model is not None  # untrained EF model: any number, but one per included beat
        assert b.edv > b.esv > 0
    assert res.volume_unit == "mL" and res.cm_per_pixel_grid == pytest.approx(t.cm_per_pixel)
    assert abs(res.hr_bpm - 75) < 6
    assert np.array_equal(res.areas, res.masks.reshape(len(res.masks), -1).sum(1))
    assert dice(res.masks, t.masks) == 1.0


def test_progress_reports_mask_chunks_playhead_first(random_weights, phantom_loop):
    seg, ef = random_weights
    a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef), use_cache=False)
    reports = []
    a.analyze(phantom_loop, progress=reports.append, priority_frame=80)
    seg_reports = [p for p in reports if p.stage == "segment"]
    assert 80 in seg_reports[0].frames.tolist()
    assert seg_reports[-1].done == seg_reports[-1].total == phantom_loop.n_frames
    covered = np.concatenate([p.frames for p in seg_reports]).tolist()
    assert sorted(set(covered)) == list(range(phantom_loop.n_frames))
    # a frame comes twice only where the float32 check refused this CPU's fast path for the first batch
    repeated = {f for f in covered if covered.count(f) > 1}
    assert repeated <= set(seg_reports[0].frames.tolist())
    assert all(p.masks.shape == (len(p.frames), 112, 112) for p in seg_reports)
    assert reports[-1].stage == "done"


@pytest.mark.parametrize("fast_agrees", [True, False])
def test_the_playhead_masks_come_first_and_before_the_float32_check(random_weights, phantom_loop, monkeypatch,
                                                                    fast_agrees):
    """The viewer's first overlay waits for a small first batch around the playhead, in the fast
    precision; the session's float32 check runs after it is sent, and when the fast path is refused
    the float32 masks of that batch follow and replace it."""
    seg, ef = random_weights
    a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"), use_cache=False)
    eng = a.seg_engine
    eng.precision, eng.checked = "bf16", False  # the fast path as on a CPU with bf16
    monkeypatch.setattr(analyzer_mod, "_masks_agree", lambda f, r: (fast_agrees, "forced"))
    reports, checked_after = [], []
    real_check = eng.check
    monkeypatch.setattr(eng, "check", lambda *args: (checked_after.append(len(reports)), real_check(*args))[1])
    res = a.analyze(phantom_loop, progress=reports.append, priority_frame=50)
    seg_reports = [p for p in reports if p.stage == "segment"]
    first = seg_reports[0]
    assert first.frames.tolist() == [48, 49, 50, 51] and first.done == analyzer_mod.FIRST_BATCH
    assert checked_after == [1]  # the check ran once, after the first batch had been sent
    assert eng.precision == ("bf16" if fast_agrees else "fp32")
    if fast_agrees:
        assert seg_reports[1].frames.tolist() != first.frames.tolist()
    else:
        again = seg_reports[1]  # the same frames again, float32, counted once
        assert again.frames.tolist() == first.frames.tolist() and again.done == first.done
        assert np.array_equal(again.masks, res.masks[again.frames])
    assert seg_reports[-1].done == phantom_loop.n_frames
    got = np.zeros(phantom_loop.n_frames, bool)
    for p in seg_reports:
        got[p.frames] = True
    assert got.all()


@pytest.mark.parametrize("fast_agrees", [True, False])
def test_cancel_between_batches(random_weights, phantom_loop, monkeypatch, fast_agrees):
    """Cancelled after the first batch: no more batches, and the float32 check (0.2 s with the
    official model) is left to the next job, whatever its outcome would have been."""
    seg, ef = random_weights
    a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"), use_cache=False)
    eng = a.seg_engine
    eng.precision, eng.checked = "bf16", False  # the fast path as on a CPU with bf16
    monkeypatch.setattr(analyzer_mod, "_masks_agree", lambda f, r: (fast_agrees, "forced"))
    batches = []
    with pytest.raises(Cancelled):
        a.analyze(phantom_loop, progress=batches.append, cancel=lambda: len(batches) >= 1)
    assert len(batches) == 1
    assert not eng.checked and eng.precision == "bf16"
    a.analyze(phantom_loop)
    assert eng.checked and eng.precision == ("bf16" if fast_agrees else "fp32")


def test_cache_hit_and_invalidation(random_weights, phantom, phantom_loop, monkeypatch):
    seg, ef = random_weights
    a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef))
    first = a.analyze(phantom_loop)
    calls = []
    monkeypatch.setattr(a, "segment", lambda *args, **kw: calls.append(1) or (_ for _ in ()).throw(AssertionError))
    again = a.analyze(phantom_loop)  # served from the cache: segment() never runs
    assert not calls
    assert np.array_equal(again.masks, first.masks) and again.ef_mean == first.ef_mean
    # the region the grid was cut from, for a viewer to adopt, survives the cache
    assert first.region == phantom_loop.region and first.region_source == phantom_loop.region_source
    assert again.region == first.region and again.region_source == first.region_source
    assert [b.es_frame for b in again.beats] == [b.es_frame for b in first.beats]
    # a setting that changes results changes the key
    b = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, mean=(1.0, 1.0, 1.0), std=(2.0, 2.0, 2.0)))
    assert b.cache_key(phantom_loop) != a.cache_key(phantom_loop)
    # so does different loop content
    from echoviewer.io.loop import Loop

    other = Loop.from_frames(phantom.frames[::-1].copy(), fps=phantom.fps)
    assert a.cache_key(other) != a.cache_key(phantom_loop)


def test_damaged_cache_entry_is_a_miss(random_weights, phantom_loop):
    from echoviewer.pipeline import cache

    seg, ef = random_weights
    a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef))
    a.analyze(phantom_loop)
    key = a.cache_key(phantom_loop)
    (cache.cache_dir() / f"{key}.json").write_text("{not json")
    assert cache.load(key, a.seg_info, a.ef_info, a.settings) is None
    assert a.analyze(phantom_loop).n_frames == phantom_loop.n_frames


def test_echonet_exact_drops_late_beats_default_shifts_them(random_weights, phantom, monkeypatch):
    from echoviewer.io.loop import Loop

    seg, ef = random_weights
    n = int(phantom.truth.es_frames[-1]) + 8  # the loop ends soon after its last ES
    loop = Loop.from_frames(phantom.frames[:n].copy(), fps=phantom.fps)
    modes = {}
    for exact in (True, False):
        a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, echonet_exact=exact), use_cache=False)
        _oracle(a, phantom.truth.masks[:n], monkeypatch)
        res = a.analyze(loop)
        modes[exact] = {b.es_frame: (b.clip_mode, b.included, b.ef_model) for b in res.beats}
    late = [es for es in modes[False] if max(es - 32, 0) + 63 > n]
    assert late, "phantom should end with a beat whose clip overruns"
    for es in late:
        assert modes[True][es][:2] == ("dropped", False) and modes[True][es][2] is None
        assert modes[False][es][:2] == ("shifted", True) and modes[False][es][2] is not None
