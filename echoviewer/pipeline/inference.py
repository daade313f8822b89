"""Runs a model on numpy batches: device transfer, inference mode, and the fast paths."""

from __future__ import annotations

import numpy as np
import torch


class InferenceEngine:
    def __init__(self, model: torch.nn.Module, device: torch.device, fast: bool = True, batch_size: int | None = None):
        self.device = torch.device(device)
        self.fast = fast
        self.model = model.to(self.device).eval()
        if fast:
            try:
                self.model = self.model.to(memory_format=torch.channels_last)
            except Exception:  # some modules refuse; plain layout still correct
                pass
        self.batch_size = batch_size or (64 if self.device.type == "cuda" else 32)

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
        y = self.model(t)
        return y.float().cpu().numpy()
