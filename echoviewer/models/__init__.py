"""Models: EchoNet-Dynamic and compact demo architectures, weights loading/saving, discovery, device.

Contract names (docs/architecture.md): WeightsInfo, WeightsError, load_model, find_weights, pick_device.
"""

from .architectures import ARCHITECTURES, SegmentationLogits, architecture_task, build_model, unwrap
from .checkpoints import NUMPY_SAFE_GLOBALS, OFFICIAL_NAMES, load_model, save_weights
from .demo_arch import R2Plus1DMini, UNetSmall, fuse_conv_bn
from .device import DeviceError, pick_device
from .discovery import DEMO_NAMES, available_weights, find_weights, search_dirs
from .manifest import FORMAT, STANDIN_MEAN, STANDIN_STD, WeightsError, WeightsInfo

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
