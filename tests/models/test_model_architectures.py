from __future__ import annotations

import pytest
import torch

from echoviewer.models import (
    ARCHITECTURES,
    R2Plus1DMini,
    SegmentationLogits,
    UNetSmall,
    architecture_task,
    build_model,
    fuse_conv_bn,
    unwrap,
)


def _n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_official_segmentation_architecture(official_seg):
    model, _ = official_seg
    sd = model.state_dict()
    assert len(sd) == 362
    assert round(_n_params(model) / 1e6, 1) == 39.6
    assert tuple(sd["classifier.4.weight"].shape) == (1, 256, 1, 1)
    assert tuple(sd["classifier.4.bias"].shape) == (1,)
    assert "aux_classifier.0.weight" not in sd


def test_official_ef_architecture(official_ef):
    model, _ = official_ef
    sd = model.state_dict()
    assert len(sd) == 224
    assert round(_n_params(model) / 1e6, 1) == 31.3
    assert tuple(sd["fc.weight"].shape) == (1, 512)
    assert sd["stem.0.weight"].ndim == 5


def test_meta_build_has_same_signature(official_seg, official_ef):
    for (model, _), name in ((official_seg, "deeplabv3_resnet50"), (official_ef, "r2plus1d_18")):
        meta = build_model(name, device="meta")
        assert {k: v.shape for k, v in meta.state_dict().items()} == {k: v.shape for k, v in model.state_dict().items()}
        assert architecture_task(name) == ARCHITECTURES[name].task


def test_segmentation_wrapper_returns_tensor(official_seg):
    model, _ = official_seg
    x = torch.randn(1, 3, 112, 112)
    with torch.inference_mode():
        raw = model(x)
        out = SegmentationLogits(model)(x)
    assert isinstance(raw, dict) and isinstance(out, torch.Tensor)
    assert out.shape == (1, 1, 112, 112)
    torch.testing.assert_close(out, raw["out"])
    assert unwrap(SegmentationLogits(torch.nn.DataParallel(model))) is model


def test_unet_small():
    torch.manual_seed(0)
    model = build_model("unet_small").eval()
    assert isinstance(model, UNetSmall) and architecture_task("unet_small") == "segmentation"
    assert 0.05e6 <= _n_params(model) <= 1e6  # compact: speed on a 2-core CPU matters most
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())
    x = torch.randn(3, 3, 112, 112)
    with torch.inference_mode():
        y = model(x)
        y_wrapped = SegmentationLogits(model)(x)
        y_fused = fuse_conv_bn(model)(x)
    assert y.shape == (3, 1, 112, 112)
    torch.testing.assert_close(y_wrapped, y)
    torch.testing.assert_close(y_fused, y, atol=1e-3, rtol=1e-3)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fuse_conv_bn(model).modules())


def test_r2plus1d_mini():
    torch.manual_seed(0)
    model = build_model("r2plus1d_mini").eval()
    assert isinstance(model, R2Plus1DMini) and architecture_task("r2plus1d_mini") == "ef"
    assert 0.5e6 <= _n_params(model) <= 2e6
    x = torch.randn(2, 3, 32, 112, 112)
    with torch.inference_mode():
        y = model(x)
        y_fused = fuse_conv_bn(model)(x)
    assert y.shape == (2, 1)
    assert torch.all((y - 55).abs() < 5), y  # starts near a typical EF
    torch.testing.assert_close(y_fused, y, atol=1e-3, rtol=1e-4)
    # any clip length works (global pooling)
    with torch.inference_mode():
        assert model(torch.randn(1, 3, 16, 112, 112)).shape == (1, 1)


def test_demo_keys_do_not_look_official():
    from echoviewer.models.checkpoints import identify_architecture

    for name in ("unet_small", "r2plus1d_mini"):
        sd = build_model(name, device="meta").state_dict()
        assert identify_architecture(sd) == name


def test_unknown_architecture():
    with pytest.raises(KeyError, match="unknown architecture"):
        build_model("resnet9000")


def test_segef_mini_reads_the_clip_through_its_segmentation():
    from echoviewer.models.demo_arch import SegEFMini

    torch.manual_seed(0)
    model = build_model("segef_mini").eval()
    assert isinstance(model, SegEFMini) and architecture_task("segef_mini") == "ef"
    assert _n_params(model) < 0.5e6
    x = torch.randn(2, 3, 32, 112, 112)
    with torch.inference_mode():
        y = model(x)
        assert y.shape == (2, 1) and torch.allclose(y, torch.full_like(y, 55.0), atol=2.0)  # starts at EF_INIT
        torch.testing.assert_close(fuse_conv_bn(model)(x), y, atol=1e-3, rtol=1e-3)
    # features: a clip whose LV area halves from its largest to its smallest frame
    area = torch.linspace(2.0, 1.0, 32)
    series = torch.stack([area, torch.full((32,), 0.6)], dim=1)[None]
    feats = SegEFMini.features(series)
    assert feats.shape == (1, SegEFMini.n_features)
    assert feats[0, 1] == pytest.approx(0.5)  # area fraction
    assert feats[0, 0] == pytest.approx(0.75)  # area-length: volume ~ A^2 / L
