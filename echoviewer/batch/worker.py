"""One loop in a worker: opened, analysed with the worker's one ``Analyzer``, closed; its report rows
(``export.report.rows_for``, the rows `echoviewer analyze` writes) or one line saying why not.

The same ``LoopWorker`` runs in this process, in a local worker process and in a Ray actor.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from echoviewer.errors import one_line
from echoviewer.pipeline.results import AnalysisSettings


@dataclass
class Outcome:
    """What a worker sends back for one loop (small and picklable: report rows, no masks)."""

    path: str
    ok: bool
    rows: list[dict] = field(default_factory=list)  # export.report.rows_for: beats, then the summary row
    reason: str = ""                 # one line when not ok
    retry: bool = False              # worth another try (elsewhere): not a file that cannot be read
    sha256: str = ""                 # of the file's bytes
    key: str = ""                    # the worker's settings_key (its weights and settings)
    seconds: float = 0.0
    node: str = ""
    attempt: int = 0


def settings_key(seg_sha256: str, ef_sha256: str, settings: AnalysisSettings) -> str:
    """What besides a loop's bytes changes its rows: both weights' sha256 and the settings the
    analysis cache keys on (and the pipeline's version)."""
    from echoviewer.pipeline.cache import make_key

    return make_key("batch", seg_sha256, ef_sha256, settings.cache_fields())


def expected_key(settings: AnalysisSettings) -> str:
    """``settings_key`` of the weights these settings resolve to here, without loading a model
    (the driver's; each worker checks its own against it)."""
    from echoviewer.models.discovery import find_weights
    from echoviewer.paths import sha256_file

    return settings_key(sha256_file(find_weights("segmentation", settings.seg_weights)),
                        sha256_file(find_weights("ef", settings.ef_weights)), settings)


def set_threads(threads: int) -> None:
    """Cap this process' torch (and OpenCV) threads: N workers on a machine share its cores."""
    if threads <= 0:
        return
    os.environ["OMP_NUM_THREADS"] = str(threads)  # before torch's first import in a fresh worker
    import cv2
    import torch

    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)


class LoopWorker:
    """Loads the models once (``Analyzer``, no analysis cache: the batch's ledger is its memory)."""

    def __init__(self, settings: AnalysisSettings, threads: int = 0, node: str | None = None):
        set_threads(threads)
        from echoviewer.pipeline.analyzer import Analyzer

        self.analyzer = Analyzer(settings, use_cache=False)
        self.key = settings_key(self.analyzer.seg_info.sha256, self.analyzer.ef_info.sha256, settings)
        self.node = node or socket.gethostname()

    def describe(self) -> list[str]:
        """The weights and device, one line each, as `echoviewer analyze` prints them."""
        a = self.analyzer
        lines = [f"{i.task} weights: {i.name} [{i.architecture}] sha256 {i.short_sha}"
                 f"{' (demo — not for clinical use)' if i.demo else ''}" for i in (a.seg_info, a.ef_info)]
        return [*lines, f"device: {a.device}"]

    def run(self, path: str, attempt: int = 0) -> Outcome:
        from echoviewer.export.report import rows_for
        from echoviewer.io import LoopError, open_loop

        t0 = time.perf_counter()
        out = Outcome(path=path, ok=False, key=self.key, node=self.node, attempt=attempt)
        if not os.path.exists(path):
            # the driver found it: this worker's node does not see the same files
            out.reason, out.retry = f"not reachable from node {self.node} (no such file there)", True
            return out
        try:
            loop = open_loop(Path(path))
        except LoopError as exc:
            out.reason = exc.problem  # the file itself: another try would say the same
            return out
        try:
            out.sha256 = loop.content_hash()
            analysis = self.analyzer.analyze(loop)
            out.rows = rows_for(analysis, identity=loop.identity)
            out.ok = True
        except Exception as exc:  # one bad loop must not stop a batch
            out.reason, out.retry = f"analysis failed: {one_line(getattr(exc, 'problem', None) or exc)}", True
        finally:
            loop.close()
        out.seconds = time.perf_counter() - t0
        return out
