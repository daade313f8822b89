import numpy as np

from echoviewer.io import open_loop
from echoviewer.io.echonet_format import write_echonet_video
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
