import time

import numpy as np

from echoviewer.io import Loop, open_loop
from echoviewer.io.echonet_video import write_echonet_video
from echoviewer.io.loop import ArraySource
from echoviewer.pipeline.feeder import GridFeeder


def test_feeder_matches_grid_frames_and_serves_far_frames_first(tmp_path, phantom):
    path = tmp_path / "a.avi"
    write_echonet_video(path, phantom.frames, phantom.fps)
    feeder = GridFeeder(open_loop(path))
    far = np.array([len(phantom.frames) - 3, len(phantom.frames) - 1])
    feeder.prefetch(far)  # decoded by random access, before the sequential decoder gets there
    early = feeder.get(far)
    everything = feeder.all()
    reference = open_loop(path).grid_frames()
    assert everything.shape == reference.shape
    assert np.array_equal(everything, reference)
    assert np.array_equal(early, reference[far])


class _SlowSource(ArraySource):
    """Decodes a frame every 5 ms, so a test can watch the decoder's progress."""

    def iter_frames(self):
        for i in range(self.n_frames):
            time.sleep(0.005)
            yield self.read(i)


def _slow_loop(phantom):
    f = phantom.frames
    return Loop(path="<memory>", kind="array", n_frames=len(f), height=f.shape[1], width=f.shape[2],
                fps=phantom.fps, fps_source="given", cm_per_pixel=None, source=_SlowSource(f))


def test_the_decoder_waits_while_the_viewers_first_batch_is_segmented(random_weights, phantom, monkeypatch):
    """The first batch (the frames the viewer waits for) runs alone: the decoder's Python code
    would take the GIL from the model between layers; the later batches overlap decoding again."""
    from echoviewer.pipeline import analyzer as analyzer_mod
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings

    feeders = []

    class Recorded(GridFeeder):
        def __init__(self, loop):
            super().__init__(loop)
            feeders.append(self)

    monkeypatch.setattr(analyzer_mod, "GridFeeder", Recorded)
    seg, ef = random_weights
    a = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef, device="cpu"), use_cache=False)
    seen = []  # (batch size, frames decoded when the batch started, ... when it ended)
    real_run = a.seg_engine.run

    def run(x):
        before = feeders[0].ready
        time.sleep(0.1)  # 20 frames' worth of decoding
        out = real_run(x)
        seen.append((len(x), before, feeders[0].ready))
        return out

    monkeypatch.setattr(a.seg_engine, "run", run)
    res = a.analyze(_slow_loop(phantom), priority_frame=0)
    first, second = seen[0], seen[1]
    assert first[0] == analyzer_mod.FIRST_BATCH and first[1] == first[2] < len(phantom.frames)  # paused
    assert second[2] > second[1]  # decoding again beside the next batch
    assert res.n_frames == len(phantom.frames) and feeders[0].done


def test_closing_a_paused_feeder_ends_its_decoder(phantom):
    feeder = GridFeeder(_slow_loop(phantom))
    feeder.pause()
    feeder.close()
    feeder._thread.join(2)
    assert not feeder._thread.is_alive()
