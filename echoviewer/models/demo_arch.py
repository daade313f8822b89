"""Compact demo architectures: the app's bundled demo weights use these.

They are small enough to run comfortably on a 2-core CPU and to ship inside the app
(a few MB each), and they keep the EchoNet-Dynamic interfaces:

* ``UNetSmall`` ("unet_small"): (N,3,112,112) normalised frames -> (N,1,112,112) LV logits.
* ``R2Plus1DMini`` ("r2plus1d_mini"): (N,3,F,112,112) normalised clip -> (N,1) EF in percent.

Every convolution is followed by BatchNorm, so an eval-mode copy can be fused
(``fuse_conv_bn``) for inference.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

__all__ = ["UNetSmall", "R2Plus1DMini", "fuse_conv_bn", "EF_INIT"]

#: The EF regressor's output bias starts here (a typical EF, %), so training starts sensibly.
EF_INIT = 55.0


def _conv_bn_relu(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class _Double(nn.Sequential):
    def __init__(self, cin: int, cout: int):
        super().__init__(_conv_bn_relu(cin, cout), _conv_bn_relu(cout, cout))


class _Up(nn.Module):
    """Bilinear x2 upsampling, concatenation with the skip, two 3x3 convs."""

    def __init__(self, cin: int, cskip: int, cout: int):
        super().__init__()
        self.conv = _Double(cin + cskip, cout)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = nn.functional.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv(torch.cat([x, skip], dim=1))


class UNetSmall(nn.Module):
    """Four-scale U-Net on the half-resolution frame (56 -> 28 -> 14 -> 7), about 0.1 M parameters.

    The 112 input is average-pooled to 56 first and the logits are upsampled back to 112: the LV
    boundary loses well under a pixel while the network costs a quarter (speed on a 2-core CPU
    is the point of the demo model).
    """

    architecture = "unet_small"
    task = "segmentation"

    def __init__(self, widths: tuple[int, int, int, int] = (16, 16, 32, 64)):
        super().__init__()
        w1, w2, w3, w4 = widths
        self.enc1 = _Double(3, w1)
        self.enc2 = _Double(w1, w2)
        self.enc3 = _Double(w2, w3)
        self.bottom = _Double(w3, w4)
        self.up3 = _Up(w4, w3, w3)
        self.up2 = _Up(w3, w2, w2)
        self.up1 = _Up(w2, w1, w1)
        self.head = nn.Conv2d(w1, 1, kernel_size=1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = nn.functional.max_pool2d
        size = x.shape[-2:]
        e1 = self.enc1(nn.functional.avg_pool2d(x, 2))
        e2 = self.enc2(pool(e1, 2))
        e3 = self.enc3(pool(e2, 2))
        b = self.bottom(pool(e3, 2))
        d3 = self.up3(b, e3)
        d2 = self.up2(d3, e2)
        d1 = self.up1(d2, e1)
        return nn.functional.interpolate(self.head(d1), size=size, mode="bilinear", align_corners=False)


def _conv2plus1d(cin: int, cout: int, mid: int, stride=(1, 1, 1), k: int = 3, t: int = 3) -> list[nn.Module]:
    """(2+1)D factorised conv: spatial (1,k,k) -> BN -> ReLU -> temporal (t,1,1) -> BN."""
    return [
        nn.Conv3d(cin, mid, (1, k, k), stride=(1, stride[1], stride[2]), padding=(0, k // 2, k // 2), bias=False),
        nn.BatchNorm3d(mid),
        nn.ReLU(inplace=True),
        nn.Conv3d(mid, cout, (t, 1, 1), stride=(stride[0], 1, 1), padding=(t // 2, 0, 0), bias=False),
        nn.BatchNorm3d(cout),
    ]


class _Block(nn.Module):
    """Residual block of two (2+1)D convs (as in torchvision's R(2+1)D BasicBlock)."""

    def __init__(self, cin: int, cout: int, stride=(1, 1, 1)):
        super().__init__()
        self.conv1 = nn.Sequential(*_conv2plus1d(cin, cout, cout, stride), nn.ReLU(inplace=True))
        self.conv2 = nn.Sequential(*_conv2plus1d(cout, cout, cout))
        self.down = None
        if cin != cout or any(s != 1 for s in stride):
            self.down = nn.Sequential(nn.Conv3d(cin, cout, 1, stride=stride, bias=False), nn.BatchNorm3d(cout))
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        res = x if self.down is None else self.down(x)
        return self.relu(self.conv2(self.conv1(x)) + res)


class R2Plus1DMini(nn.Module):
    """Small R(2+1)D EF regressor, about 1 M parameters.

    The 112 input is average-pooled to 56 (EF lives in the LV's size change, not in fine detail).
    Stem: spatial 7x7 stride 2 (56 -> 28) + temporal 3; stages at 14, 7 and 4 px, keeping every
    time step. The head pools space only and summarises time by its maximum, minimum and mean:
    EF is a contrast between the largest (ED-like) and smallest (ES-like) moments of the clip,
    which a global average over time would wash out.
    """

    architecture = "r2plus1d_mini"
    task = "ef"

    def __init__(self, widths: tuple[int, int, int, int] = (24, 48, 96, 160)):
        super().__init__()
        w0, w1, w2, w3 = widths
        self.stem = nn.Sequential(
            nn.Conv3d(3, 32, (1, 7, 7), stride=(1, 2, 2), padding=(0, 3, 3), bias=False),
            nn.BatchNorm3d(32),
            nn.ReLU(inplace=True),
            nn.Conv3d(32, w0, (3, 1, 1), padding=(1, 0, 0), bias=False),
            nn.BatchNorm3d(w0),
            nn.ReLU(inplace=True),
        )
        self.layer1 = _Block(w0, w1, stride=(1, 2, 2))  # 28 -> 14
        self.layer2 = _Block(w1, w2, stride=(1, 2, 2))  # 14 -> 7
        self.layer3 = _Block(w2, w3, stride=(1, 2, 2))  # 7 -> 4
        out = nn.Linear(64, 1)
        self.head = nn.Sequential(nn.Linear(3 * w3, 64), nn.ReLU(inplace=True), out)
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        nn.init.normal_(out.weight, std=0.01)
        nn.init.constant_(out.bias, EF_INIT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(nn.functional.avg_pool3d(x, (1, 2, 2)))
        x = self.layer3(self.layer2(self.layer1(x)))
        t = x.mean(dim=(3, 4))  # (N, C, T)
        feats = torch.cat([t.amax(dim=2), t.amin(dim=2), t.mean(dim=2)], dim=1)
        return self.head(feats)


def fuse_conv_bn(model: nn.Module) -> nn.Module:
    """Return an eval-mode copy with every Conv directly followed by BatchNorm fused into one Conv.

    Only for inference (the copy has no BatchNorm left to train). Works on any model built from
    ``nn.Sequential`` containers (both demo architectures); other modules are left as they are.
    """
    fused = copy.deepcopy(model).eval()

    def walk(module: nn.Module) -> None:
        for child in module.children():
            walk(child)
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in zip(names, names[1:]):
                conv, bn = module._modules[a], module._modules[b]
                if isinstance(conv, (nn.Conv2d, nn.Conv3d)) and isinstance(bn, (nn.BatchNorm2d, nn.BatchNorm3d)):
                    module._modules[a] = fuse_conv_bn_eval(conv, bn)
                    module._modules[b] = nn.Identity()

    walk(fused)
    return fused


class SegEFMini(nn.Module):
    """Compact EF model that reads the clip through LV segmentation ("segef_mini", ~0.13 M params).

    Input and output as the EchoNet EF model: (N,3,F,112,112) normalised clip -> (N,1) EF %. A
    UNetSmall segments every frame of the clip; each frame becomes its soft LV area and soft
    long-axis extent (rows covered), and the clip's largest and smallest area, area-length volume
    and extent feed a small MLP. The demo EF model is thereby the clinical recipe made learnable
    (EF as a contrast between the largest and smallest LV of the clip), trainable in seconds on a
    CPU once the segmentation is trained, and the same size class as the demo segmentation model.
    """

    architecture = "segef_mini"
    task = "ef"
    n_features = 7

    def __init__(self, widths: tuple[int, int, int, int] = (16, 16, 32, 64)):
        super().__init__()
        self.seg = UNetSmall(widths)
        out = nn.Linear(32, 1)
        self.head = nn.Sequential(nn.Linear(self.n_features, 32), nn.ReLU(inplace=True),
                                  nn.Linear(32, 32), nn.ReLU(inplace=True), out)
        nn.init.constant_(out.bias, EF_INIT)

    def frame_series(self, frames: torch.Tensor) -> torch.Tensor:
        """(M,3,H,W) frames -> (M,2): soft LV area / 1000 px and soft extent (rows) / 100."""
        p = torch.sigmoid(self.seg(frames)[:, 0])
        area = p.sum(dim=(1, 2)) / 1000.0
        rows = p.amax(dim=2).sum(dim=1) / 100.0
        return torch.stack([area, rows], dim=1)

    @classmethod
    def features(cls, series: torch.Tensor) -> torch.Tensor:
        """(N,F,2) per-frame (area, extent) -> (N,7) clip statistics."""
        area, rows = series[..., 0], series[..., 1].clamp_min(1e-3)
        vol = area**2 / rows  # area-length volume up to a constant
        amax, amin = area.amax(1), area.amin(1)
        vmax, vmin = vol.amax(1), vol.amin(1)
        ef_al = (vmax - vmin) / vmax.clamp_min(1e-3)
        ef_area = (amax - amin) / amax.clamp_min(1e-3)
        return torch.stack([ef_al, ef_area, amax, amin, rows.amax(1), rows.amin(1), area.mean(1)], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, f, h, w = x.shape
        frames = x.transpose(1, 2).reshape(n * f, c, h, w)
        series = self.frame_series(frames).reshape(n, f, 2)
        return self.head(self.features(series))
