"""Shared fixtures: the official architectures are built (and saved) once per session."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from echoviewer.models import architectures


def _randomise_bn(model: torch.nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=g) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)


def save_reference_style(model: torch.nn.Module, path, extra: dict | None = None, **save_kw) -> None:
    """Save like the EchoNet-Dynamic reference: DataParallel-prefixed state_dict plus training state."""
    dp = torch.nn.DataParallel(model)
    optim = torch.optim.SGD(dp.parameters(), lr=1e-5, momentum=0.9, weight_decay=1e-4)
    first = next(iter(dp.parameters()))
    optim.state[first]["momentum_buffer"] = torch.zeros_like(first)  # a bit of optimizer state
    scheduler = torch.optim.lr_scheduler.StepLR(optim, 15)
    ckpt = {
        "epoch": 44,
        "state_dict": dp.state_dict(),
        "opt_dict": optim.state_dict(),
        "scheduler_dict": scheduler.state_dict(),
        "best_loss": 0.0713,
        "loss": 0.0702,
    }
    ckpt.update(extra or {})
    torch.save(ckpt, path, **save_kw)


@pytest.fixture(scope="session")
def official_seg(tmp_path_factory):
    """(model in eval mode, path of a reference-style deeplabv3_resnet50_random.pt)."""
    torch.manual_seed(0)
    model = architectures.deeplabv3_resnet50()
    _randomise_bn(model, 1)
    model.eval()
    path = tmp_path_factory.mktemp("official_seg") / "deeplabv3_resnet50_random.pt"
    save_reference_style(model, path)
    yield model, path
    path.unlink(missing_ok=True)  # 160 MB: do not keep it among pytest's retained temp dirs


@pytest.fixture(scope="session")
def official_ef(tmp_path_factory):
    """(model in eval mode, path of a reference-style r2plus1d_18_32_2_pretrained.pt)."""
    torch.manual_seed(1)
    model = architectures.r2plus1d_18()
    _randomise_bn(model, 2)
    model.eval()
    path = tmp_path_factory.mktemp("official_ef") / "r2plus1d_18_32_2_pretrained.pt"
    save_reference_style(model, path, {"period": 2, "frames": 32, "r2": np.float64(0.8)})
    yield model, path
    path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def reference_saver():
    """The save_reference_style function, for tests that write their own reference-style files."""
    return save_reference_style
