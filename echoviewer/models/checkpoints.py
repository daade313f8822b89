"""Reading, checking and writing model weights.

Two formats are accepted:

(a) the EchoNet-Dynamic checkpoint as the reference saves it: ``{"state_dict": {"module.<key>": tensor},
    "epoch", "best_loss", "loss", "opt_dict", ["scheduler_dict"], [EF: "period", "frames", "r2"]}``.
    Released as ``deeplabv3_resnet50_random.pt`` and ``r2plus1d_18_32_2_pretrained.pt``.
    The task is recognised from the keys. Mean/std were never stored: the stand-in values
    ``STANDIN_MEAN`` / ``STANDIN_STD`` are used and marked as such in ``WeightsInfo.provenance``.
    A plain state dict of a known architecture without a manifest is read the same way.

(b) the project's own: ``NAME.pt`` = plain state dict (tensors only) + ``NAME.json`` manifest
    (see ``manifest.py``) whose sha256 must match ``NAME.pt``. Written by ``save_weights``.

Nothing is ever unpickled with full pickle: ``torch.load(weights_only=True)``; only for format (a),
when the first attempt refuses a numpy scalar (the EF file's ``r2`` is typically ``np.float64``), it
retries with exactly ``NUMPY_SAFE_GLOBALS`` allowed. Own-format files get no allow-list at all.
"""

from __future__ import annotations

import datetime as _dt
import importlib
import json
import os
import pickle
import re
import subprocess
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from echoviewer.paths import atomic_write, sha256_file

from .architectures import ARCH_ATTR, ARCHITECTURES, TASKS, SegmentationLogits, build_model, unwrap
from .device import pick_device
from .discovery import find_weights
from .manifest import (
    FORMAT,
    OFFICIAL_NAMES,
    STANDIN_MEAN,
    STANDIN_STD,
    TASK_LABEL,
    WeightsError,
    WeightsInfo,
    manifest_path,
    read_manifest,
    validate_manifest,
)

__all__ = [
    "NUMPY_SAFE_GLOBALS",
    "OFFICIAL_NAMES",
    "load_model",
    "load_weights_file",
    "read_checkpoint",
    "identify_architecture",
    "save_weights",
]

_MEAN_STD_STANDIN_NOTE = (
    "stand-in: the reference never stored mean/std; commonly used values "
    "(32.49, 32.63, 32.93) / (49.87, 49.88, 50.13) on the 0-255 scale; override them in the settings"
)


def _numpy_safe_globals() -> list:
    """Exactly what unpickling a numpy float64 scalar needs (found by experiment, numpy 2.x, torch 2.14).

    A pickled ``np.float64`` is ``scalar(dtype('f8', False, True) + BUILD(state), raw bytes)``:
    * ``numpy._core.multiarray.scalar`` (numpy >= 2) / ``numpy.core.multiarray.scalar`` (numpy < 2,
      which saved the released checkpoints): the same function, registered under both names;
    * ``numpy.dtype`` (called to make the dtype);
    * ``numpy.dtypes.Float64DType`` (the dtype instance's type, needed for its BUILD step).
    ``_codecs.encode`` for the raw bytes is already allowed by torch. Nothing else is allowed: other
    numpy types (float32, int64, arrays) are refused, as the EchoNet checkpoints hold none.
    """
    import numpy as np

    # numpy >= 2 names the module numpy._core; numpy < 2 at runtime only has numpy.core
    multiarray = importlib.import_module("numpy._core.multiarray" if hasattr(np, "_core") else "numpy.core.multiarray")
    scalar = multiarray.scalar
    out: list = [
        (scalar, "numpy._core.multiarray.scalar"),
        (scalar, "numpy.core.multiarray.scalar"),
        np.dtype,
    ]
    dtypes = getattr(np, "dtypes", None)
    if dtypes is not None and hasattr(dtypes, "Float64DType"):
        out.append(dtypes.Float64DType)
    else:  # very old numpy: the dtype's class is np.dtype itself
        out.append(type(np.dtype("f8")))
    return out


NUMPY_SAFE_GLOBALS = _numpy_safe_globals()

_ZIP_MAGIC = b"PK\x03\x04"
_PICKLE_PROTO = b"\x80"


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------

def _refusal(path: Path, exc: BaseException) -> WeightsError:
    msg = str(exc)
    m = re.search(r"GLOBAL ([\w.]+)", msg)
    if m:
        return WeightsError(
            f"{path}: refused: its pickle references {m.group(1)}, which is not allowed "
            "(loading it could run code); only tensors and plain data are accepted", path)
    m = re.search(r"unrecognized function (\S+)|got <class '([^']+)'>", msg)
    if m:
        return WeightsError(
            f"{path}: refused: its pickle uses {m.group(1) or m.group(2)}, which is not allowed "
            "(loading it could run code); only tensors and plain data are accepted", path)
    if "invalid load key" in msg or "unpickling stack underflow" in msg:
        return WeightsError(f"{path}: truncated or corrupt checkpoint ({msg.splitlines()[0]})", path)
    return WeightsError(f"{path}: refused: {msg.splitlines()[-1] if msg else type(exc).__name__}", path)


def read_checkpoint(path: str | Path, allow_numpy: bool = True) -> Any:
    """``torch.load(path, map_location="cpu", weights_only=True)`` with clear one-line errors.

    allow_numpy: when the plain load refuses a numpy type, retry once with ``NUMPY_SAFE_GLOBALS``.
    Never falls back to full unpickling. Raises WeightsError.
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise WeightsError(f"{path}: is a folder, not a weights file", path)
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(4)
    except FileNotFoundError:
        raise WeightsError(f"{path}: no such file", path) from None
    except OSError as exc:
        raise WeightsError(f"{path}: cannot be read ({exc.strerror or exc})", path) from None
    if size == 0:
        raise WeightsError(f"{path}: is empty (0 bytes), not a checkpoint", path)
    if head == _ZIP_MAGIC:
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except (zipfile.BadZipFile, OSError, EOFError):
            raise WeightsError(f"{path}: truncated or corrupt checkpoint (damaged zip archive)", path) from None
        if not any(n.endswith("data.pkl") for n in names):
            raise WeightsError(f"{path}: is a zip archive but not a PyTorch checkpoint", path)
    elif not head.startswith(_PICKLE_PROTO):
        raise WeightsError(f"{path}: is not a PyTorch checkpoint (unrecognised file content)", path)

    def _load(safe: list | None) -> Any:
        if safe is None:
            return torch.load(path, map_location="cpu", weights_only=True)
        with torch.serialization.safe_globals(safe):
            return torch.load(path, map_location="cpu", weights_only=True)

    try:
        try:
            return _load(None)
        except pickle.UnpicklingError as exc:
            if not (allow_numpy and "numpy" in str(exc)):
                raise
        return _load(NUMPY_SAFE_GLOBALS)
    except pickle.UnpicklingError as exc:
        raise _refusal(path, exc) from None
    except (EOFError, zipfile.BadZipFile):
        raise WeightsError(f"{path}: truncated or corrupt checkpoint (unexpected end of data)", path) from None
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path}: truncated or corrupt checkpoint ({first})", path) from None
    except (ValueError, TypeError, KeyError, IndexError, AttributeError, OSError, MemoryError) as exc:
        raise WeightsError(f"{path}: could not be read as a PyTorch checkpoint ({type(exc).__name__}: {exc})",
                           path) from None


def _strip_prefix(sd: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in sd.items():
        out[k[len("module."):] if k.startswith("module.") else k] = v
    return out


def _is_tensor_dict(obj: Any) -> bool:
    return isinstance(obj, Mapping) and len(obj) > 0 and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items())


def _describe(obj: Any) -> str:
    if isinstance(obj, Mapping):
        keys = [str(k) for k in list(obj)[:4]]
        return f"a dict with keys {', '.join(keys)}{' …' if len(obj) > 4 else ''}" if keys else "an empty dict"
    return f"a {type(obj).__name__}"


def _split_checkpoint(obj: Any, path: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any], str]:
    """(state dict without 'module.', metadata, layout 'echonet' | 'state_dict')."""
    if isinstance(obj, Mapping) and "state_dict" in obj:
        sd = obj["state_dict"]
        if not _is_tensor_dict(sd):
            raise WeightsError(f"{path}: its 'state_dict' does not hold tensors ({_describe(sd)})", path)
        meta = {k: v for k, v in obj.items() if k not in ("state_dict", "opt_dict", "scheduler_dict")}
        return _strip_prefix(sd), meta, "echonet"
    if _is_tensor_dict(obj):
        return _strip_prefix(obj), {}, "state_dict"
    raise WeightsError(f"{path}: does not hold model weights (found {_describe(obj)})", path)


# Architecture signatures (key -> shape), built on the meta device (no allocation) once per process.
_SIGNATURES: dict[str, dict[str, tuple[int, ...]]] = {}


def _signature(arch: str) -> dict[str, tuple[int, ...]]:
    if arch not in _SIGNATURES:
        model = build_model(arch, device="meta")
        _SIGNATURES[arch] = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    return _SIGNATURES[arch]


def identify_architecture(sd: Mapping[str, torch.Tensor]) -> str | None:
    """Name of the architecture a (prefix-stripped) state dict belongs to, or None.

    EchoNet rule first: ``classifier.4.weight`` -> deeplabv3_resnet50; ``fc.weight`` + 5-D
    ``stem.0.weight`` -> r2plus1d_18. Otherwise an exact key match with a demo architecture.
    """
    if "classifier.4.weight" in sd:
        return "deeplabv3_resnet50"
    stem = sd.get("stem.0.weight")
    if "fc.weight" in sd and isinstance(stem, torch.Tensor) and stem.ndim == 5:
        return "r2plus1d_18"
    keys = set(sd)
    for name, spec in ARCHITECTURES.items():
        if not spec.official and set(_signature(name)) == keys:
            return name
    return None


def _fmt_keys(keys: list[str], n: int = 3) -> str:
    shown = ", ".join(keys[:n])
    return shown + (f" (+{len(keys) - n} more)" if len(keys) > n else "")


def _check_fits(arch: str, sd: Mapping[str, torch.Tensor], path: Path) -> None:
    sig = _signature(arch)
    missing = [k for k in sig if k not in sd]
    unexpected = [k for k in sd if k not in sig]
    wrong = [f"{k} {tuple(sd[k].shape)} vs {sig[k]}" for k in sig if k in sd and tuple(sd[k].shape) != sig[k]]
    if missing or unexpected or wrong:
        parts = []
        if wrong:
            parts.append(f"wrong shapes (file vs model): {_fmt_keys(wrong)}")
        if missing:
            parts.append(f"missing keys: {_fmt_keys(missing)}")
        if unexpected:
            parts.append(f"unexpected keys: {_fmt_keys(unexpected)}")
        raise WeightsError(f"{path}: does not fit architecture {arch}: " + "; ".join(parts), path)


def _instantiate(arch: str, sd: Mapping[str, torch.Tensor], path: Path, device: torch.device) -> nn.Module:
    """Build ``arch`` without initialising it and move the file's tensors in (strict)."""
    _check_fits(arch, sd, path)
    sd = {k: (v.float() if v.is_floating_point() else v) for k, v in sd.items()}
    model = build_model(arch, device="meta")
    model.load_state_dict(sd, strict=True, assign=True)
    if any(t.is_meta for t in list(model.parameters()) + list(model.buffers())):
        # a buffer outside the state dict: build for real instead (slower, same result)
        model = build_model(arch)
        model.load_state_dict(sd, strict=True)
    model = model.to(device).eval()
    if ARCHITECTURES[arch].task == "segmentation":
        model = SegmentationLogits(model).eval()
    return model


def _scalar(value: Any) -> Any:
    """numpy / tensor scalars -> plain Python numbers (for metrics and JSON)."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return value.item()
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__.startswith("numpy"):
        try:
            return item()
        except (TypeError, ValueError):
            return value
    return value


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r} (expected one of {', '.join(TASKS)})")


def _wrong_task(path: Path, found: str, wanted: str) -> WeightsError:
    return WeightsError(
        f"{path}: holds {TASK_LABEL[found]} weights, but {TASK_LABEL[wanted]} weights were asked for", path)


def load_weights_file(task: str, path: str | Path, device: torch.device | str = "cpu"
                      ) -> tuple[nn.Module, WeightsInfo]:
    """Load one weights file (no discovery). See ``load_model``."""
    _check_task(task)
    path = Path(path)
    if path.suffix.lower() == ".json":
        path = path.with_suffix(".pt")
    device = pick_device(device)
    mpath = manifest_path(path)
    if mpath.is_file() and path.suffix.lower() == ".pt":
        return _load_own(task, path, mpath, device)
    return _load_foreign(task, path, device)


def _load_own(task: str, path: Path, mpath: Path, device: torch.device) -> tuple[nn.Module, WeightsInfo]:
    man = read_manifest(mpath)
    if man["task"] != task:
        raise _wrong_task(path, man["task"], task)
    if not path.is_file():
        raise WeightsError(f"{path}: no such file (its manifest {mpath.name} exists)", path)
    digest = sha256_file(path)
    if digest != man["sha256"]:
        raise WeightsError(
            f"{path}: checksum mismatch (sha256 {digest[:12]}…, manifest {mpath.name} says {man['sha256'][:12]}…)",
            path)
    obj = read_checkpoint(path, allow_numpy=False)
    if not _is_tensor_dict(obj):
        raise WeightsError(f"{path}: does not hold a plain state dict of tensors (found {_describe(obj)})", path)
    sd = _strip_prefix(obj)
    model = _instantiate(man["architecture"], sd, path, device)
    info = WeightsInfo(
        path=path, name=str(man.get("name") or path.stem), task=task, architecture=man["architecture"],
        input_size=man["input_size"], mean=man["mean"], std=man["std"],
        frames=man["frames"] if task == "ef" else None, period=man["period"] if task == "ef" else None,
        sha256=digest, demo=man["demo"], official=False,
        provenance={"format": FORMAT, "mean_std": "from the manifest", **man["provenance"]},
        metrics=man["metrics"],
    )
    return model, info


def _load_foreign(task: str, path: Path, device: torch.device) -> tuple[nn.Module, WeightsInfo]:
    obj = read_checkpoint(path, allow_numpy=True)
    sd, meta, layout = _split_checkpoint(obj, path)
    arch = identify_architecture(sd)
    if arch is None:
        raise WeightsError(
            f"{path}: keys match no known architecture (first keys: {_fmt_keys(list(sd))}); "
            f"weights in the project's own format need a {path.with_suffix('.json').name} manifest beside them",
            path)
    found = ARCHITECTURES[arch].task
    if found != task:
        raise _wrong_task(path, found, task)
    model = _instantiate(arch, sd, path, device)
    frames = period = None
    if task == "ef":
        try:
            frames = int(_scalar(meta.get("frames", 32)))
            period = int(_scalar(meta.get("period", 2)))
        except (TypeError, ValueError):
            raise WeightsError(f"{path}: its 'frames' / 'period' entries are not integers", path) from None
    metrics = {k: _scalar(meta[k]) for k in ("best_loss", "loss", "r2") if k in meta}
    provenance: dict[str, Any] = {
        "source": "EchoNet-Dynamic checkpoint" if layout == "echonet" else "plain state dict without manifest",
        "released_name": path.name == OFFICIAL_NAMES[task],
        "mean_std": _MEAN_STD_STANDIN_NOTE,
    }
    if "epoch" in meta:
        provenance["epoch"] = _scalar(meta["epoch"])
    info = WeightsInfo(
        path=path, name=path.stem, task=task, architecture=arch, input_size=112,
        mean=STANDIN_MEAN, std=STANDIN_STD, frames=frames, period=period,
        sha256=sha256_file(path), demo=False, official=layout == "echonet" and ARCHITECTURES[arch].official,
        provenance=provenance, metrics=metrics,
    )
    return model, info


def load_model(task: str, path: str | Path | None = None, device: torch.device | str | None = "cpu", *,
               mean: tuple[float, float, float] | None = None, std: tuple[float, float, float] | None = None,
               ) -> tuple[nn.Module, WeightsInfo]:
    """Load weights for ``task`` ("segmentation" | "ef") -> (model in eval mode on ``device``, WeightsInfo).

    path None: discovery (``find_weights``); a folder: discovery inside it; a ``.json`` manifest: its
    ``.pt``. device None / "auto": ``pick_device()``. Segmentation models return plain (N,1,H,W) logits.
    mean / std (0-255 scale) override the file's values (recorded in ``info.provenance["mean_std"]``).
    Raises WeightsError (one line naming the file and the problem).
    """
    _check_task(task)
    dev = pick_device(device)
    model, info = load_weights_file(task, find_weights(task, explicit=path), dev)
    if mean is not None or std is not None:
        m = tuple(float(v) for v in (info.mean if mean is None else mean))
        s = tuple(float(v) for v in (info.std if std is None else std))
        if len(m) != 3 or len(s) != 3 or min(s) <= 0:
            raise ValueError(f"mean/std must be three numbers (std > 0), got {m} / {s}")
        info.mean, info.std = (m[0], m[1], m[2]), (s[0], s[1], s[2])
        info.provenance = {**info.provenance, "mean_std": "set by the caller"}
    return model, info


# ---------------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------------

def _git_commit() -> str | None:
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return (out.stdout.strip() or None) if out.returncode == 0 else None


def _json_default(value: Any) -> Any:
    value = _scalar(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        return tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def save_weights(model: nn.Module, path: str | Path, manifest_fields: Mapping[str, Any]) -> Path:
    """Write ``NAME.pt`` (plain state dict) and ``NAME.json`` (manifest with its sha256); returns the .pt path.

    manifest_fields: ``mean`` and ``std`` (0-255 scale) are required; ``architecture`` defaults to the
    model's own (or is recognised from its keys); ``task`` follows the architecture; ``input_size`` 112;
    EF ``frames`` / ``period`` 32 / 2; ``demo`` False; ``provenance`` (command, seed, data, ...; ``date``
    and ``git_commit`` are filled in when absent) and ``metrics`` dicts; other fields are kept.
    Both files are written atomically (temporary file + rename). Wrappers (SegmentationLogits,
    DataParallel) and ``module.`` prefixes are removed.
    """
    path = Path(path)
    if path.suffix.lower() == ".json":
        path = path.with_suffix(".pt")
    elif path.suffix.lower() != ".pt":
        path = path.with_name(path.name + ".pt")
    path.parent.mkdir(parents=True, exist_ok=True)
    fields = dict(manifest_fields)
    if "mean" not in fields or "std" not in fields:
        raise ValueError("save_weights: manifest_fields needs 'mean' and 'std' (0-255 scale)")

    bare = unwrap(model)
    sd = {k: v.detach().to("cpu").contiguous().clone() for k, v in _strip_prefix(bare.state_dict()).items()}
    arch = (fields.get("architecture") or getattr(bare, ARCH_ATTR, None)
            or getattr(bare, "architecture", None) or identify_architecture(sd))
    if arch not in ARCHITECTURES:
        raise ValueError(f"save_weights: unknown architecture {arch!r} (known: {', '.join(ARCHITECTURES)})")
    _check_fits(arch, sd, path)
    task = ARCHITECTURES[arch].task

    provenance = dict(fields.get("provenance") or {})
    provenance.setdefault("date", _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"))
    if "git_commit" not in provenance:
        provenance["git_commit"] = _git_commit()
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "architecture": arch,
        "task": task,
        "input_size": int(fields.get("input_size", 112)),
        "mean": [float(v) for v in fields["mean"]],
        "std": [float(v) for v in fields["std"]],
        "frames": int(fields.get("frames") or 32) if task == "ef" else None,
        "period": int(fields.get("period") or 2) if task == "ef" else None,
        "provenance": provenance,
        "metrics": dict(fields.get("metrics") or {}),
        "demo": bool(fields.get("demo", False)),
    }
    if fields.get("task") not in (None, task):
        raise ValueError(f"save_weights: architecture {arch} is a {task} model, not {fields['task']!r}")
    for k, v in fields.items():
        manifest.setdefault(k, v)
    manifest.pop("sha256", None)

    fd, tmp_pt = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(sd, f)
            f.flush()
            os.fsync(f.fileno())
        manifest["sha256"] = sha256_file(tmp_pt)
        validate_manifest(json.loads(json.dumps(manifest, default=_json_default)), manifest_path(path))
        text = json.dumps(manifest, indent=2, default=_json_default) + "\n"
        os.replace(tmp_pt, path)
    except BaseException:
        try:
            os.unlink(tmp_pt)
        except OSError:
            pass
        raise
    atomic_write(manifest_path(path), lambda f: f.write(text.encode("utf-8")), fsync=True)
    return path
