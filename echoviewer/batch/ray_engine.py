"""Ray as the engine past one machine: ``--ray local`` starts a cluster here (a temporary folder, the
dashboard on 127.0.0.1 only), ``--ray ADDRESS`` joins one. Each actor loads the models once (CPU
actors set their torch threads; GPU actors take a GPU or a fraction of one) and analyses one loop
per task; outcomes come back to the driver, which alone writes. Every node must see the files at the
same paths (a shared filesystem); a worker that cannot open one says so, naming its node, and the
loop is tried once more (another actor may be on another node) before it is recorded as failed.

Ray is optional: ``pip install echoviewer[cluster]``."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections import deque

from echoviewer.batch.executors import default_threads
from echoviewer.batch.worker import LoopWorker, Outcome
from echoviewer.errors import one_line
from echoviewer.pipeline.results import AnalysisSettings

NEEDS_RAY = "Ray is not installed: pip install echoviewer[cluster]"


class RayUnavailable(Exception):
    pass


def import_ray():
    try:
        import ray
    except ImportError:
        raise RayUnavailable(NEEDS_RAY) from None
    return ray


class _Actor:
    """The Ray actor: one ``LoopWorker`` named after its node."""

    def __init__(self, settings: AnalysisSettings, threads: int):
        import ray

        self.worker = LoopWorker(settings, threads, node=f"{socket.gethostname()} ({ray.util.get_node_ip_address()})")

    def describe(self) -> list[str]:
        return self.worker.describe()

    def run(self, path: str, attempt: int) -> Outcome:
        return self.worker.run(path, attempt)


class RayExecutor:
    """``actors`` 0: one per GPU of the cluster when it has GPUs (and ``gpus`` is not 0), else its
    CPUs shared out at ``threads`` each. ``gpus``: the fraction of a GPU per actor (None: 1 when the
    cluster has GPUs and the device is not "cpu", else 0)."""

    def __init__(self, address: str, settings: AnalysisSettings, actors: int = 0, threads: int = 0,
                 gpus: float | None = None):
        ray = self.ray = import_ray()
        self._tmp: str | None = None
        if address == "local":
            cpus = os.cpu_count() or 1
            threads = threads or (default_threads(actors) if actors else 1)
            # a short path: Ray's sockets live below it (and a Unix socket path has ~100 characters)
            self._tmp = tempfile.mkdtemp(prefix="evray-", dir="/tmp" if os.path.isdir("/tmp") else None)
            ray.init(num_cpus=max(cpus, actors * threads), _temp_dir=self._tmp, dashboard_host="127.0.0.1",
                     log_to_driver=False, configure_logging=False)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        res = ray.cluster_resources()
        if gpus is None:
            gpus = 1.0 if res.get("GPU", 0) > 0 and not str(settings.device or "").startswith("cpu") else 0.0
        threads = threads or 1
        if not actors:
            actors = int(res.get("GPU", 0) / gpus) if gpus else int(res.get("CPU", 1) // threads)
        self.settings, self.threads, self.gpus = settings, threads, gpus
        self._cls = ray.remote(_Actor).options(num_cpus=threads, num_gpus=gpus)
        self.actors = [self._new_actor() for _ in range(max(1, actors))]
        self.capacity = 2 * len(self.actors)  # one queued behind each running loop
        self._load: dict = {a: 0 for a in self.actors}
        self._pending: dict = {}  # ObjectRef -> (actor, path, attempt)
        self._ready: deque[Outcome] = deque()

    def _new_actor(self):
        return self._cls.remote(self.settings, self.threads)

    def describe(self) -> list[str]:
        # waits for one actor to load the models: a bad weights file fails here, once
        try:
            lines = self.ray.get(self.actors[0].describe.remote())
        except self.ray.exceptions.RayError as exc:
            raise RuntimeError(f"the Ray workers could not load the models: {_cause(exc)}") from None
        gpu = f", {self.gpus:g} GPU" if self.gpus else ""
        return [*lines, f"workers: {len(self.actors)} Ray actors, {self.threads} thread(s){gpu} each"]

    def submit(self, path: str, attempt: int) -> None:
        actor = min(self.actors, key=self._load.__getitem__)
        self._load[actor] += 1
        self._pending[actor.run.remote(path, attempt)] = (actor, path, attempt)

    def next_outcome(self) -> Outcome:
        ray = self.ray
        ready, _ = ray.wait(list(self._pending), num_returns=1)
        ref = ready[0]
        actor, path, attempt = self._pending.pop(ref)
        self._load[actor] = max(0, self._load.get(actor, 1) - 1)
        try:
            return ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            self._replace(actor)
            return Outcome(path, ok=False, reason=f"the Ray worker was lost: {_cause(exc)}", retry=True,
                           attempt=attempt)
        except ray.exceptions.RayError as exc:
            return Outcome(path, ok=False, reason=f"Ray: {_cause(exc)}", retry=True, attempt=attempt)

    def _replace(self, actor) -> None:
        """A dead actor's queued loops fail with it (the driver retries them); a new one takes its place."""
        if actor not in self._load:
            return
        del self._load[actor]
        self.actors.remove(actor)
        try:
            self.ray.kill(actor, no_restart=True)
        except Exception:  # already gone
            pass
        fresh = self._new_actor()
        self.actors.append(fresh)
        self._load[fresh] = 0

    def close(self) -> None:
        try:
            self.ray.shutdown()
        finally:
            if self._tmp:
                shutil.rmtree(self._tmp, ignore_errors=True)


def _cause(exc: BaseException) -> str:
    text = one_line(exc)
    return text[:300]
