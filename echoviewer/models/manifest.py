"""WeightsInfo, WeightsError and the project's own weights manifest (``NAME.json`` beside ``NAME.pt``).

Manifest (``format: "echoviewer-weights/1"``)::

    {"format": "echoviewer-weights/1", "architecture": "unet_small", "task": "segmentation",
     "input_size": 112, "mean": [r, g, b], "std": [r, g, b],          # 0-255 scale
     "frames": null | int, "period": null | int,                      # EF models
     "provenance": {"command": ..., "seed": ..., "data": ..., "date": ..., "git_commit": ...},
     "metrics": {...}, "sha256": "<hex of NAME.pt>", "demo": true | false}
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from echoviewer.errors import one_line

__all__ = [
    "FORMAT",
    "OFFICIAL_NAMES",
    "STANDIN_MEAN",
    "STANDIN_STD",
    "WeightsError",
    "WeightsInfo",
    "manifest_path",
    "read_manifest",
    "validate_manifest",
]

FORMAT = "echoviewer-weights/1"

#: Commonly used stand-in normalisation for the EchoNet-Dynamic weights (0-255 scale). The reference
#: never stored mean/std (it recomputed them from training videos), so these are not the exact values.
STANDIN_MEAN = (32.49, 32.63, 32.93)
STANDIN_STD = (49.87, 49.88, 50.13)

#: Hex digits of a weights file's sha256 shown to people (the full hash goes into reports' metadata).
SHA_DIGITS = 12

TASK_LABEL = {"segmentation": "segmentation", "ef": "EF"}

#: The released EchoNet-Dynamic file names, per task (discovery looks for them first).
OFFICIAL_NAMES = {
    "segmentation": "deeplabv3_resnet50_random.pt",
    "ef": "r2plus1d_18_32_2_pretrained.pt",
}


class WeightsError(Exception):
    """A weights file cannot be used. The message is one line naming the file and the problem."""

    def __init__(self, message: str, path: str | Path | None = None):
        super().__init__(one_line(message))
        self.path = None if path is None else str(path)


@dataclass
class WeightsInfo:
    path: Path | None
    name: str
    task: str                                  # "segmentation" | "ef"
    architecture: str                          # "deeplabv3_resnet50" | "r2plus1d_18" | "unet_small" | "r2plus1d_mini"
    input_size: int
    mean: tuple[float, float, float]           # 0-255 scale
    std: tuple[float, float, float]
    frames: int | None                         # EF models
    period: int | None
    sha256: str
    demo: bool
    official: bool                             # the EchoNet-Dynamic checkpoint format
    provenance: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)

    @property
    def short_sha(self) -> str:
        """The first SHA_DIGITS hex digits: what every window, CLI line and report shows."""
        return self.sha256[:SHA_DIGITS] or "?"

    @property
    def sha_label(self) -> str:
        """'name (sha256 1a2b3c4d5e6f)'."""
        return f"{self.name} (sha256 {self.short_sha})"

    @property
    def label(self) -> str:
        """Short text for the UI / report, with ``echoviewer.DEMO_LABEL`` for demo weights."""
        from echoviewer import DEMO_LABEL

        text = f"{self.name} ({self.architecture})"
        return f"{text} [{DEMO_LABEL}]" if self.demo else text

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary (for reports and the analysis cache key)."""
        return {
            "path": None if self.path is None else str(self.path),
            "name": self.name, "task": self.task, "architecture": self.architecture,
            "input_size": self.input_size, "mean": list(self.mean), "std": list(self.std),
            "frames": self.frames, "period": self.period, "sha256": self.sha256,
            "demo": self.demo, "official": self.official,
            "provenance": self.provenance, "metrics": self.metrics,
        }


def manifest_path(pt_path: str | Path) -> Path:
    """``NAME.json`` beside ``NAME.pt``."""
    return Path(pt_path).with_suffix(".json")


def read_manifest(path: str | Path) -> dict[str, Any]:
    """Read and validate a manifest; raises WeightsError naming the file."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WeightsError(f"{path}: unreadable weights manifest ({exc})", path) from None
    return validate_manifest(data, path)


def _triple(value: Any, key: str, path: Path) -> tuple[float, float, float]:
    try:
        out = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        out = ()
    if len(out) != 3 or not all(math.isfinite(v) for v in out):
        raise WeightsError(f"{path}: manifest field {key!r} must be three numbers, got {value!r}", path)
    if key == "std" and not all(v > 0 for v in out):
        raise WeightsError(f"{path}: manifest field 'std' must be positive, got {value!r}", path)
    return out[0], out[1], out[2]


def _opt_int(value: Any, key: str, path: Path) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise WeightsError(f"{path}: manifest field {key!r} must be a positive integer, got {value!r}", path)
    return value


def validate_manifest(data: Any, path: str | Path) -> dict[str, Any]:
    """Check a manifest dict; returns a normalised copy. Raises WeightsError naming ``path``."""
    from .architectures import ARCHITECTURES, TASKS  # torch: not for processes that only read results

    path = Path(path)
    if not isinstance(data, dict):
        raise WeightsError(f"{path}: not a weights manifest (expected a JSON object)", path)
    if data.get("format") != FORMAT:
        raise WeightsError(f"{path}: unsupported manifest format {data.get('format')!r} (expected {FORMAT!r})", path)
    arch = data.get("architecture")
    if arch not in ARCHITECTURES:
        raise WeightsError(
            f"{path}: unknown architecture {arch!r} (known: {', '.join(ARCHITECTURES)})", path)
    task = data.get("task", ARCHITECTURES[arch].task)
    if task not in TASKS:
        raise WeightsError(f"{path}: unknown task {task!r} (expected one of {', '.join(TASKS)})", path)
    if task != ARCHITECTURES[arch].task:
        raise WeightsError(
            f"{path}: architecture {arch!r} is a {ARCHITECTURES[arch].task} model, but the manifest says task {task!r}",
            path)
    sha = data.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64:
        raise WeightsError(f"{path}: manifest has no valid sha256 of the weights file", path)
    input_size = _opt_int(data.get("input_size", 112), "input_size", path)
    frames = _opt_int(data.get("frames"), "frames", path)
    period = _opt_int(data.get("period"), "period", path)
    if task == "ef":
        frames = frames or 32
        period = period or 2
    for key in ("provenance", "metrics"):
        if not isinstance(data.get(key, {}), dict):
            raise WeightsError(f"{path}: manifest field {key!r} must be an object", path)
    out = dict(data)
    out.update(
        task=task, input_size=input_size, frames=frames, period=period,
        mean=_triple(data.get("mean"), "mean", path), std=_triple(data.get("std"), "std", path),
        sha256=sha.lower(), demo=bool(data.get("demo", False)),
        provenance=dict(data.get("provenance") or {}), metrics=dict(data.get("metrics") or {}),
    )
    return out
