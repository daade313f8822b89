"""Runs a model on numpy batches: device transfer, inference mode, and the fast paths.

Fast paths (``fast=True``), chosen per device at start-up by what the CPU has (``cpu_class``):
- CPU with bf16 (AMX or AVX-512 BF16): bfloat16 autocast and the channels-last layout; oneDNN runs
  the convolutions in bf16 with float32 accumulation.
- CPU without bf16 (AVX2 laptops, AVX-512 without BF16): the official architectures run as int8
  copies (``pipeline.quantize``: static quantization calibrated on phantoms, fbgemm's AVX2 /
  VNNI kernels); other models float32, channels-last.
- CUDA: float16 autocast, channels-last, pinned host memory and non-blocking copies.
Every fast path is checked against float32 twice: by ``benchmarks/bench_analysis.py`` (mask Dice,
per-beat EF difference), and at run time on the first few inputs each model sees
(``run_checked``): weights whose outputs the fast path changes too much (e.g. logits that sit
near the threshold) run in float32 from then on. ``fast=False`` forces plain float32 everywhere.
``ECHOVIEWER_CPU=amx|avx512_bf16|avx512|avx2|baseline`` forces the path of that CPU class (tests,
and a user whose CPU misreports).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import torch

from echoviewer.errors import one_line

#: CPU classes, fastest first, and what each runs. "amx" and "avx512_bf16" have bf16; "avx512"
#: and "avx2" int8 (VNNI where the CPU has it); "baseline" (no AVX2) float32.
CPU_CLASSES = ("amx", "avx512_bf16", "avx512", "avx2", "baseline")
CPU_ENV = "ECHOVIEWER_CPU"


def _probe(name: str) -> bool:
    fn = getattr(getattr(torch, "cpu", None), name, None)
    try:
        return bool(fn()) if fn is not None else False
    except Exception:  # an old torch or an odd platform: no fast path, never a crash
        return False


def cpu_class() -> str:
    """What this CPU can run fast: one of CPU_CLASSES (``ECHOVIEWER_CPU`` overrides the probe)."""
    forced = os.environ.get(CPU_ENV, "").strip().lower()
    if forced:
        if forced not in CPU_CLASSES:
            raise ValueError(f"{CPU_ENV}={forced!r}: expected one of {', '.join(CPU_CLASSES)}")
        return forced
    if _probe("_is_amx_tile_supported"):
        return "amx"
    if _probe("_is_avx512_bf16_supported"):
        return "avx512_bf16"
    if _probe("_is_avx512_supported"):
        return "avx512"
    if _probe("_is_avx2_supported"):
        return "avx2"
    return "baseline"


def cpu_bf16_supported() -> bool:
    return cpu_class() in ("amx", "avx512_bf16")


def choose_precision(device: torch.device, fast: bool, int8_ok: bool = False) -> str:
    """fp32, bf16, fp16 or int8 for a model on ``device``; ``int8_ok``: an int8 copy can be made."""
    if not fast:
        return "fp32"
    if device.type == "cuda":
        return "fp16"
    if device.type != "cpu":
        return "fp32"
    cls = cpu_class()
    if cls in ("amx", "avx512_bf16"):
        return "bf16"
    if cls in ("avx512", "avx2") and int8_ok:
        return "int8"
    return "fp32"


class InferenceEngine:
    def __init__(self, model: torch.nn.Module, device, fast: bool = True, batch_size: int | None = None,
                 precision: str | None = None, int8: Callable[[torch.nn.Module], torch.nn.Module] | None = None):
        """``int8(model)`` makes the model's int8 copy (None: the model has none); it is called
        here when int8 is the precision chosen, and a failure falls back to float32."""
        self.device = torch.device(device)
        self.fast = fast
        self.precision = precision or choose_precision(self.device, fast, int8_ok=int8 is not None)
        self.model = model.to(self.device).eval()
        self.int8_model: torch.nn.Module | None = None
        self.check_note = ""  # why the fast path was kept or refused, for the logs and benchmarks
        if self.precision == "int8":
            try:
                if int8 is None:
                    raise ValueError("no int8 copy of this model")
                self.int8_model = int8(self.model)
            except Exception as exc:  # e.g. a graph FX cannot trace: float32 is still right
                self.precision, self.check_note = "fp32", f"int8 unavailable, float32 used: {one_line(exc)}"
        if fast:
            try:
                self.model = self.model.to(memory_format=torch.channels_last)
            except Exception:  # some modules refuse; the plain layout is still correct
                pass
        self.batch_size = batch_size or (64 if self.device.type == "cuda" else 32)
        self.checked = self.precision == "fp32"

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
        self.int8_model = None  # not used again this session
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
        model = self.int8_model if self.precision == "int8" and self.int8_model is not None else self.model
        with self._autocast():
            y = model(t)
        return y.float().cpu().numpy()
