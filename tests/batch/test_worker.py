"""LoopWorker: one loop opened, analysed, closed; clear one-line failures."""

from echoviewer.batch.worker import LoopWorker, expected_key
from echoviewer.pipeline.results import AnalysisSettings


def test_a_path_the_worker_cannot_see_names_its_node_and_may_be_retried(archive, tmp_path):
    settings = AnalysisSettings(device="cpu")
    worker = LoopWorker(settings, threads=1, node="node-7")
    assert worker.key == expected_key(settings)  # the driver's key without loading a model
    out = worker.run(str(tmp_path / "elsewhere" / "loop.avi"))
    assert not out.ok and out.retry and "not reachable from node node-7" in out.reason
    out = worker.run(str(archive / "broken.avi"))
    assert not out.ok and not out.retry and "cannot open" in out.reason  # the file itself: no retry
    out = worker.run(str(archive / "loop0.avi"))
    assert out.ok and out.rows[-1]["beat"] == "mean" and len(out.sha256) == 64 and out.key == worker.key
