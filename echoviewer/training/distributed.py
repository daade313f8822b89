"""Data-parallel training under torchrun: the process group, the model wrapper, cross-rank reductions.

``torchrun --nproc_per_node N -m echoviewer train ...`` starts N processes with WORLD_SIZE, RANK and
LOCAL_RANK set; each trains a DistributedDataParallel copy of the model on its shard of the data
(gradients are averaged across ranks every step). Without those variables everything here is a
no-op and training runs in one process as before.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn

#: How long a collective waits for the other ranks before failing (a rank that died or hangs).
DEFAULT_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class DistEnv:
    """Where this process stands: ``world`` processes in all, this one ``rank`` (``local_rank`` on its node)."""

    world: int = 1
    rank: int = 0
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None  # None: not distributed

    @property
    def distributed(self) -> bool:
        return self.backend is not None

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def describe(self) -> dict:
        """What a manifest records about the run's parallelism."""
        return {"world_size": self.world, "backend": self.backend or "none", "device": self.device.type}


def torchrun_env(environ=None) -> tuple[int, int, int] | None:
    """(world, rank, local_rank) when started by torchrun (or srun with those variables set), else None."""
    env = os.environ if environ is None else environ
    if "WORLD_SIZE" not in env or "RANK" not in env:
        return None
    try:
        return int(env["WORLD_SIZE"]), int(env["RANK"]), int(env.get("LOCAL_RANK", 0))
    except ValueError:
        raise ValueError(f"torchrun environment not understood: WORLD_SIZE={env['WORLD_SIZE']!r} "
                         f"RANK={env['RANK']!r}") from None


@contextmanager
def session(device: torch.device, timeout_s: float = DEFAULT_TIMEOUT_S) -> Iterator[DistEnv]:
    """The process group for this run: gloo on CPU, nccl on CUDA (each rank on GPU LOCAL_RANK).

    Yields a single-process DistEnv (and starts nothing) outside torchrun. On leaving normally the
    ranks meet at a barrier (rank 0 has finished writing) before the group is destroyed; on an
    exception the group is destroyed at once, without waiting for ranks that will never come.
    """
    found = torchrun_env()
    if found is None:
        yield DistEnv(device=device)
        return
    if not dist.is_available():
        raise RuntimeError("this torch build has no torch.distributed: run without torchrun")
    world, rank, local_rank = found
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        device, backend = torch.device("cpu"), "gloo"  # (no DDP on MPS)
    kw = {"device_id": device} if backend == "nccl" else {}
    dist.init_process_group(backend, timeout=timedelta(seconds=timeout_s), **kw)
    env = DistEnv(world, rank, local_rank, device, backend)
    try:
        yield env
        dist.barrier()
    finally:
        dist.destroy_process_group()


def wrap(model: nn.Module, env: DistEnv) -> nn.Module:
    """The model on the run's device, wrapped in DistributedDataParallel when distributed."""
    model = model.to(env.device)
    if not env.distributed:
        return model
    ids = [env.device.index] if env.device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(model, device_ids=ids)


def mean_over_ranks(value: float, env: DistEnv) -> float:
    """The mean of ``value`` over all ranks (``value`` itself in one process)."""
    if not env.distributed:
        return float(value)
    t = torch.tensor([float(value)], dtype=torch.float64, device=env.device)
    dist.all_reduce(t)
    return float(t.item()) / env.world


def any_rank(flag: bool, env: DistEnv) -> bool:
    """True when ``flag`` is set on any rank, so that all ranks stop at the same step."""
    if not env.distributed:
        return bool(flag)
    t = torch.tensor([int(flag)], device=env.device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())
