"""Models: EchoNet-Dynamic and compact demo architectures, weights loading/saving, discovery, device.

Contract names (docs/architecture.md): WeightsInfo, WeightsError, load_model, find_weights, pick_device.
"""

from typing import TYPE_CHECKING

#: Where each public name lives. Loaded on first use (PEP 562): most of them import torch, and a
#: process that only reads results or parses settings (the window) must not pay 2-4 s for it.
_WHERE = {
    "architectures": ("ARCHITECTURES", "SegmentationLogits", "architecture_task", "build_model", "unwrap"),
    "checkpoints": ("NUMPY_SAFE_GLOBALS", "load_model", "save_weights"),
    "demo_arch": ("R2Plus1DMini", "UNetSmall", "fuse_conv_bn"),
    "device": ("DeviceError", "pick_device"),
    "discovery": ("DEMO_NAMES", "available_weights", "find_weights", "search_dirs"),
    "manifest": ("FORMAT", "OFFICIAL_NAMES", "STANDIN_MEAN", "STANDIN_STD", "WeightsError", "WeightsInfo"),
}
_MODULE_OF = {name: module for module, names in _WHERE.items() for name in names}

if TYPE_CHECKING:
    from .architectures import ARCHITECTURES, SegmentationLogits, architecture_task, build_model, unwrap
    from .checkpoints import NUMPY_SAFE_GLOBALS, load_model, save_weights
    from .demo_arch import R2Plus1DMini, UNetSmall, fuse_conv_bn
    from .device import DeviceError, pick_device
    from .discovery import DEMO_NAMES, available_weights, find_weights, search_dirs
    from .manifest import FORMAT, OFFICIAL_NAMES, STANDIN_MEAN, STANDIN_STD, WeightsError, WeightsInfo


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ARCHITECTURES",
    "DEMO_NAMES",
    "DeviceError",
    "FORMAT",
    "NUMPY_SAFE_GLOBALS",
    "OFFICIAL_NAMES",
    "R2Plus1DMini",
    "STANDIN_MEAN",
    "STANDIN_STD",
    "SegmentationLogits",
    "UNetSmall",
    "WeightsError",
    "WeightsInfo",
    "architecture_task",
    "available_weights",
    "build_model",
    "find_weights",
    "fuse_conv_bn",
    "load_model",
    "pick_device",
    "save_weights",
    "search_dirs",
    "unwrap",
]
