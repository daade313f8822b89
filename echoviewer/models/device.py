"""Choosing the torch device."""

from __future__ import annotations

import torch

__all__ = ["DeviceError", "pick_device", "mps_available"]


class DeviceError(ValueError):
    """The requested device does not exist on this machine (one clear line)."""


def mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    try:
        return bool(mps is not None and mps.is_available())
    except Exception:  # pragma: no cover - platform specific
        return False


def pick_device(requested: str | torch.device | None = None) -> torch.device:
    """The device to run models on.

    None, "" or "auto": "cuda" when available, then "mps" (Apple silicon), else "cpu".
    An explicit choice ("cpu", "cuda", "cuda:1", "mps", or a torch.device) is honoured, and raises
    DeviceError with a clear message when it is not available here.
    """
    if requested is None or (isinstance(requested, str) and requested.strip().lower() in ("", "auto")):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        dev = requested if isinstance(requested, torch.device) else torch.device(str(requested).strip().lower())
    except (RuntimeError, ValueError, TypeError):
        raise DeviceError(f"unknown device {requested!r} (use auto, cpu, cuda, cuda:N or mps)") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {requested!r} requested, but CUDA is not available on this machine "
                              "(no NVIDIA GPU, driver or CUDA build of torch); use cpu or auto")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise DeviceError(f"device {requested!r} requested, but only {count} CUDA device(s) exist "
                              f"(cuda:0 … cuda:{count - 1})")
        return dev
    if dev.type == "mps":
        if not mps_available():
            raise DeviceError(f"device {requested!r} requested, but Apple MPS is not available on this machine; "
                              "use cpu or auto")
        return dev
    raise DeviceError(f"unsupported device {requested!r} (use auto, cpu, cuda, cuda:N or mps)")
