"""Runs a model on numpy batches: device transfer, inference mode, and the fast paths.

Fast paths (``fast=True``), chosen per device at start-up:
- CPU with bf16 support (AVX-512 BF16 or AMX, checked through torch): bfloat16 autocast and the
  channels-last layout; oneDNN runs the convolutions in bf16 with float32 accumulation.
- CPU without it: float32, channels-last.
- CUDA: float16 autocast, channels-last, pinned host memory and non-blocking copies.
Every fast path is checked against float32 twice: by ``benchmarks/bench_analysis.py`` (mask Dice,
per-beat EF difference), and at run time on the first few inputs each model sees
(``run_checked``): weights whose outputs the fast path changes too much (e.g. logits that sit
near the threshold) run in float32 from then on. ``fast=False`` forces plain float32 everywhere.
"""

from __future__ import annotations

import numpy as np
import torch


def cpu_bf16_supported() -> bool:
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported"):
        fn = getattr(cpu, probe, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # an old torch or an odd platform: no fast path, never a crash
            pass
    return False


def choose_precision(device: torch.device, fast: bool) -> str:
    if not fast:
        return "fp32"
    if device.type == "cuda":
        return "fp16"
    if device.type == "cpu" and cpu_bf16_supported():
        return "bf16"
    return "fp32"


class InferenceEngine:
    def __init__(self, model: torch.nn.Module, device, fast: bool = True, batch_size: int | None = None,
                 precision: str | None = None):
        self.device = torch.device(device)
        self.fast = fast
        self.precision = precision or choose_precision(self.device, fast)
        self.model = model.to(self.device).eval()
        if fast:
            try:
                self.model = self.model.to(memory_format=torch.channels_last)
            except Exception:  # some modules refuse; the plain layout is still correct
                pass
        self.batch_size = batch_size or (64 if self.device.type == "cuda" else 32)
        self.checked = self.precision == "fp32"
        self.check_note = ""  # why the fast path was kept or refused, for the logs and benchmarks

    def run_checked(self, x: np.ndarray, agree, n_check: int) -> np.ndarray:
        """``run(x)``; the first time, also run ``x[:n_check]`` in float32 and keep the fast
        precision only if ``agree(fast_out, fp32_out)`` is true for it."""
        return self.check(x, self.run(x), agree, n_check)

    def check(self, x: np.ndarray, out: np.ndarray, agree, n_check: int) -> np.ndarray:
        """``out`` (= ``run(x)``) once the fast path is checked; the first time, runs the check
        above and returns ``out`` if it passes, else ``x`` run again in float32."""
        if self.checked:
            return out
        self.checked = True
        fast_precision = self.precision
        self.precision = "fp32"
        ref = self.run(x[:n_check])
        ok, note = agree(out[:n_check], ref)
        if ok:
            self.precision = fast_precision
            self.check_note = f"{fast_precision} kept: {note}"
            return out
        self.check_note = f"{fast_precision} refused, float32 used: {note}"
        return ref if len(ref) == len(x) else self.run(x)

    def _autocast(self):
        if self.precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        if self.precision == "fp16":
            return torch.autocast(self.device.type, dtype=torch.float16)
        return torch.autocast(self.device.type, enabled=False)

    @torch.inference_mode()
    def run(self, x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(np.ascontiguousarray(x))
        if self.device.type == "cuda":
            t = t.pin_memory().to(self.device, non_blocking=True)
        else:
            t = t.to(self.device)
        if self.fast and t.dim() == 4:
            t = t.contiguous(memory_format=torch.channels_last)
        elif self.fast and t.dim() == 5:
            t = t.contiguous(memory_format=torch.channels_last_3d)
        with self._autocast():
            y = self.model(t)
        return y.float().cpu().numpy()
