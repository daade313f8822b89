"""int8 copies of the official architectures for CPUs without bf16 (AVX2 and AVX-512 without BF16).

Static post-training quantization (torch.ao, FX graph mode, the ``onednn`` back end: on a 2-core
AVX2 CPU its int8 kernels ran DeepLabV3 2.3x and R(2+1)D 1.8x faster than float32 channels-last,
fbgemm's (the ``x86`` back end) 1.4x and 2.1x), per-channel weights, calibrated on frames of the app's own
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
RECIPE = "fx-onednn-static-perchannel-rr-v2"
#: The quantized back end the int8 models are packed for and run on.
ENGINE = "onednn"
#: Layers kept in float32, by architecture (module names inside the bare model): the outputs (see
#: above), and DeepLabV3's stem and first stage, whose int8 error the rest of the network amplified
#: (mask Dice against float32 on a phantom-trained DeepLabV3: 0.9888 all int8, 0.9903 with the stem
#: float, 0.9926 with the first stage too, for 31.0 -> 33.7 ms a frame).
FLOAT_LAYERS = {"deeplabv3_resnet50": ("backbone.conv1", "backbone.layer1", "classifier.4"), "r2plus1d_18": ("fc",)}


def int8_available() -> bool:
    return ENGINE in torch.backends.quantized.supported_engines


def supports_int8(architecture: str) -> bool:
    """Only the official architectures: the compact demo models are small enough that int8 gains
    nothing over their float32 time (decoding dominates)."""
    return architecture in FLOAT_LAYERS and int8_available()


def _prepared(model: nn.Module, architecture: str, example: torch.Tensor) -> GraphModule:
    """A copy of ``model`` with observers where int8 will go (the float32 outputs excepted)."""
    import copy

    from torch.ao.quantization import QConfig, get_default_qconfig_mapping
    from torch.ao.quantization.observer import HistogramObserver, default_per_channel_weight_observer
    from torch.ao.quantization.quantize_fx import prepare_fx

    torch.backends.quantized.engine = ENGINE
    # 7-bit activations: CPUs without VNNI multiply u8 x s8 pairs into int16, which 8 bits can
    # saturate (all-int8 DeepLabV3: Dice 0.9856 -> 0.9888 against float32 with reduce_range)
    activations = HistogramObserver.with_args(reduce_range=True)
    qmap = get_default_qconfig_mapping(ENGINE).set_global(
        QConfig(activation=activations, weight=default_per_channel_weight_observer))
    prefix = "model." if hasattr(model, "model") else ""  # SegmentationLogits wraps the bare model
    for name in FLOAT_LAYERS.get(architecture, ()):
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
