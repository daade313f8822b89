"""int8 copies of the official architectures for CPUs without bf16 (AVX2 and AVX-512 without BF16).

Static post-training quantization (torch.ao, FX graph mode, the ``x86`` back end: fbgemm's AVX2 /
AVX-512 VNNI kernels and oneDNN), per-channel weights, calibrated on frames of the app's own
phantoms (deterministic), never on the loop being analysed (a result must not depend on which loop
a session saw first). The layers whose outputs are the result stay in float32: DeepLabV3's last
1x1 convolution (its logits are thresholded at 0, where int8's step would flip pixels) and
R(2+1)D's final linear layer (EF in percent: an int8 output step is ~0.4 points). Every quantized
model is still checked against float32 at run time on the first batch and clip it sees
(``InferenceEngine.check``), like every fast path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.fx import GraphModule

#: Changes when the recipe below changes (part of the quantized-model cache key).
RECIPE = "fx-x86-static-perchannel-v1"
#: Output layers kept in float32, by architecture (module names inside the bare model).
FLOAT_OUTPUTS = {"deeplabv3_resnet50": ("classifier.4",), "r2plus1d_18": ("fc",)}


def int8_available() -> bool:
    return "x86" in torch.backends.quantized.supported_engines


def supports_int8(architecture: str) -> bool:
    """Only the official architectures: the compact demo models are small enough that int8 gains
    nothing over their float32 time (decoding dominates)."""
    return architecture in FLOAT_OUTPUTS and int8_available()


def _prepared(model: nn.Module, architecture: str, example: torch.Tensor) -> GraphModule:
    """A copy of ``model`` with observers where int8 will go (the float32 outputs excepted)."""
    import copy

    from torch.ao.quantization import get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_fx

    torch.backends.quantized.engine = "x86"
    qmap = get_default_qconfig_mapping("x86")
    prefix = "model." if hasattr(model, "model") else ""  # SegmentationLogits wraps the bare model
    for name in FLOAT_OUTPUTS.get(architecture, ()):
        qmap.set_module_name(prefix + name, None)
    return prepare_fx(copy.deepcopy(model).eval(), qmap, (example,))


def quantize_int8(model: nn.Module, architecture: str, calibration: Sequence[np.ndarray]) -> nn.Module:
    """An int8 copy of ``model`` (its float32 self is untouched), calibrated on ``calibration``
    (normalised model inputs, e.g. (N,3,112,112) frames or (N,3,F,112,112) clips)."""
    from torch.ao.quantization.quantize_fx import convert_fx

    with torch.inference_mode(False), torch.no_grad():
        prepared = _prepared(model, architecture, torch.from_numpy(np.ascontiguousarray(calibration[0][:1])))
        for x in calibration:
            prepared(torch.from_numpy(np.ascontiguousarray(x)))
        return convert_fx(prepared).eval()


def int8_copy(model: nn.Module, architecture: str, key: str, input_shape: tuple[int, ...],
              calibrate: Callable[[], Sequence[np.ndarray]], cache: Path | None) -> nn.Module:
    """``quantize_int8`` once per weights file: the result's state dict is kept in ``cache`` under
    ``key`` (the weights' sha256, their normalisation, RECIPE, torch's version) and later sessions
    rebuild the int8 graph around it (a few seconds less than calibrating again). The file is read
    with ``weights_only=True``; a damaged one is made again."""
    from torch.ao.quantization.quantize_fx import convert_fx

    from echoviewer.paths import atomic_write

    path = None if cache is None else cache / f"{key}.pt"
    if path is not None and path.is_file():
        try:
            with torch.inference_mode(False), torch.no_grad():
                q: nn.Module = convert_fx(_prepared(model, architecture, torch.zeros(input_shape))).eval()
                q.load_state_dict(torch.load(path, map_location="cpu", weights_only=True), strict=True)
            return q
        except Exception:
            path.unlink(missing_ok=True)
    q = quantize_int8(model, architecture, calibrate())
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, lambda f: torch.save(q.state_dict(), f))
        except OSError:  # a read-only cache folder: calibrate again next time
            pass
    return q


def int8_key(sha256: str, mean, std, input_shape: tuple[int, ...]) -> str:
    import hashlib

    blob = f"{RECIPE}|{torch.__version__}|{sha256}|{list(mean)}|{list(std)}|{list(input_shape)}"
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


# -- calibration inputs ---------------------------------------------------------------------------
#: Phantom loops the int8 models are calibrated on: a dilated low-EF heart and a normal one, at
#: two brightnesses (activation ranges must cover what real loops show).
CALIBRATION_PHANTOMS = ((101, 30.0, 70.0), (202, 65.0, 90.0))  # (seed, EF, heart rate)
CALIBRATION_FRAMES = 70  # per phantom: a clip of 32 frames every 2nd fits, with room to shift


@cache
def calibration_grid() -> list[np.ndarray]:
    """(T,112,112,3) uint8 grid frames of each calibration phantom (deterministic)."""
    from echoviewer.synthetic.phantom import generate_phantom

    return [generate_phantom(seed, frames=CALIBRATION_FRAMES, fps=50.0, hr=hr, ef=ef, ef_sd=0.0).frames
            for seed, ef, hr in CALIBRATION_PHANTOMS]


def segmentation_calibration(grids: Sequence[np.ndarray], mean, std, per_loop: int = 8) -> list[np.ndarray]:
    """Normalised frame batches, ``per_loop`` frames spread over each phantom's cycle."""
    from echoviewer.pipeline.preprocess import normalise

    out = []
    for g in grids:
        idx = np.linspace(0, len(g) - 1, per_loop).round().astype(int)
        out.append(normalise(g[idx], mean, std))
    return out


def ef_calibration(grids: Sequence[np.ndarray], mean, std, spec) -> list[np.ndarray]:
    """One normalised clip per phantom, as the pipeline builds them (``ClipSpec``)."""
    from echoviewer.pipeline.preprocess import clip_batch, gather_clip, normalise

    return [clip_batch([gather_clip(normalise(g, mean, std), 0, spec)]) for g in grids]
