"""Model architectures: the EchoNet-Dynamic ones (torchvision) and the compact demo ones.

Every architecture has a name (stored in weight manifests and in ``WeightsInfo.architecture``)
and a task ("segmentation" or "ef"). ``build_model(name)`` returns the bare module, randomly
initialised; the loader wraps segmentation models in ``SegmentationLogits`` so that they all
return a plain logits tensor.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch
from torch import nn

from .demo_arch import R2Plus1DMini, SegEFMini, UNetSmall

__all__ = [
    "TASKS",
    "ArchitectureSpec",
    "ARCHITECTURES",
    "build_model",
    "architecture_task",
    "deeplabv3_resnet50",
    "r2plus1d_18",
    "SegmentationLogits",
    "unwrap",
]

TASKS = ("segmentation", "ef")
#: Attribute naming the architecture of a built model: a plain tag on any nn.Module (torchvision's
#: too), set with setattr because nn.Module's own attribute typing only knows tensors and modules.
ARCH_ATTR = "echoviewer_architecture"


def deeplabv3_resnet50() -> nn.Module:
    """EchoNet-Dynamic segmentation model: DeepLabV3-ResNet50, one output channel (362 entries, 39.6 M params)."""
    from torchvision.models.segmentation import deeplabv3_resnet50 as tv_deeplab

    model = tv_deeplab(weights=None, weights_backbone=None, aux_loss=False)
    model.classifier[-1] = nn.Conv2d(256, 1, kernel_size=1)
    return model


def r2plus1d_18() -> nn.Module:
    """EchoNet-Dynamic EF model: R(2+1)D-18 with a 1-output head (224 entries, 31.3 M params)."""
    from torchvision.models.video import r2plus1d_18 as tv_r2plus1d

    model = tv_r2plus1d(weights=None)
    model.fc = nn.Linear(512, 1)
    return model


@dataclass(frozen=True)
class ArchitectureSpec:
    name: str
    task: str
    build: Callable[[], nn.Module]
    official: bool          # an EchoNet-Dynamic architecture
    description: str


ARCHITECTURES: dict[str, ArchitectureSpec] = {
    spec.name: spec
    for spec in (
        ArchitectureSpec("deeplabv3_resnet50", "segmentation", deeplabv3_resnet50, True,
                         "EchoNet-Dynamic DeepLabV3-ResNet50"),
        ArchitectureSpec("r2plus1d_18", "ef", r2plus1d_18, True,
                         "EchoNet-Dynamic R(2+1)D-18"),
        ArchitectureSpec("unet_small", "segmentation", UNetSmall, False,
                         "compact demo U-Net"),
        ArchitectureSpec("r2plus1d_mini", "ef", R2Plus1DMini, False,
                         "compact demo R(2+1)D"),
        ArchitectureSpec("segef_mini", "ef", SegEFMini, False,
                         "compact demo EF: per-frame LV segmentation + MLP on the clip's area/length series"),
    )
}


def _spec(name: str) -> ArchitectureSpec:
    try:
        return ARCHITECTURES[name]
    except KeyError:
        raise KeyError(f"unknown architecture {name!r} (known: {', '.join(ARCHITECTURES)})") from None


def architecture_task(name: str) -> str:
    """'segmentation' or 'ef' for a known architecture name; KeyError otherwise."""
    return _spec(name).task


#: The initialisers that constructors call (directly or through reset_parameters()).
_INITIALISERS = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_",
)
_no_init_lock = threading.Lock()


@contextlib.contextmanager
def _no_init() -> Iterator[None]:
    """Constructors skip their random initialisation (the weights loaded next overwrite it).

    On the meta device each initialiser went through ``torch._refs``, which imports
    ``torch._dynamo`` (1.5-2 s at start-up) for nothing. The lock keeps another thread from
    building a model uninitialised meanwhile."""
    def keep(tensor, *args, **kwargs):
        return tensor

    with _no_init_lock:
        saved = {n: getattr(nn.init, n) for n in _INITIALISERS if hasattr(nn.init, n)}
        try:
            for n in saved:
                setattr(nn.init, n, keep)
            yield
        finally:
            for n, fn in saved.items():
                setattr(nn.init, n, fn)


def build_model(name: str, device: torch.device | str | None = None) -> nn.Module:
    """The bare architecture ``name`` (DeepLabV3 still returns a dict here), randomly initialised.

    ``device="meta"`` builds it without allocating or initialising weights (fast, and no import
    of torch's compiler); load a state dict into it with ``load_state_dict(..., assign=True)``.
    """
    spec = _spec(name)
    if device is None:
        model = spec.build()
    elif str(device) == "meta":
        with _no_init(), torch.device("meta"):
            model = spec.build()
    else:
        with torch.device(device):
            model = spec.build()
    setattr(model, ARCH_ATTR, spec.name)
    return model


class SegmentationLogits(nn.Module):
    """Wraps any segmentation model so that forward returns the (N,1,H,W) logits tensor.

    torchvision's DeepLabV3 returns ``{"out": logits}``; plain tensors pass through. The wrapped
    model is ``.model``; its state dict keys are prefixed ``model.`` (``save_weights`` unwraps).
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model
        self.architecture = getattr(model, ARCH_ATTR, None) or getattr(model, "architecture", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        if isinstance(out, dict):
            out = out["out"]
        return out


def unwrap(model: nn.Module) -> nn.Module:
    """The bare architecture inside SegmentationLogits / DataParallel / DistributedDataParallel."""
    while True:
        if isinstance(model, SegmentationLogits):
            model = model.model
        elif isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
            model = model.module
        else:
            return model
