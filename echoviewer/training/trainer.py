"""Training loops for the segmentation and EF models (any supported architecture).

Data arrive as in-memory uint8 arrays (phantoms or an exported EchoNet folder); augmentation and
normalisation happen per batch. Runs on CPU in minutes for the compact demo models.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from echoviewer.pipeline.preprocess import ClipSpec, clip_batch, normalise, pad_clip
from echoviewer.training.augment import Augment

Log = Callable[[str], None]


def _print(msg: str) -> None:
    print(msg, flush=True)


@dataclass
class TrainConfig:
    steps: int = 1000
    batch: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    augment: Augment | None = field(default_factory=Augment)  # None: the frames as they are
    log_every: int = 50
    max_seconds: float | None = None  # stop early (at a step boundary) when exceeded


def frames_input(frames_u8: np.ndarray, mean, std) -> torch.Tensor:
    """(...,H,W,3) or grey (...,H,W,1) uint8 -> (...,3,H,W) float tensor, as the pipeline normalises."""
    return torch.from_numpy(normalise(frames_u8, mean, std))


def clips_input(clips: list[np.ndarray], mean, std, spec: ClipSpec) -> torch.Tensor:
    """Clip frames (k<=F,H,W,3|1) uint8 -> the EF model's (N,3,F,H,W), normalised and zero-padded
    as the pipeline builds its clips."""
    return torch.from_numpy(clip_batch([pad_clip(normalise(c, mean, std), spec) for c in clips]))


def _augment(cfg: TrainConfig, frames: np.ndarray, masks: np.ndarray | None, rng: np.random.Generator):
    return (frames, masks) if cfg.augment is None else cfg.augment(frames, masks, rng)


def channel_stats(frames_u8: np.ndarray, sample: int = 4000, seed: int = 0) -> tuple[tuple, tuple]:
    """Per-channel mean and std (0-255) over a random sample of frames, as the reference recomputes them."""
    rng = np.random.default_rng(seed)
    flat = frames_u8.reshape(-1, *frames_u8.shape[-3:])
    idx = rng.choice(len(flat), size=min(sample, len(flat)), replace=False)
    x = flat[idx].astype(np.float64)
    mean = x.mean(axis=(0, 1, 2))
    std = x.std(axis=(0, 1, 2))
    if len(mean) == 1:  # grey frames: the three model channels are identical
        mean, std = np.repeat(mean, 3), np.repeat(std, 3)
    return tuple(float(v) for v in mean), tuple(float(max(v, 1e-3)) for v in std)


def _schedule(opt, cfg: TrainConfig):
    warm = max(1, cfg.steps // 20)

    def f(step):
        if step < warm:
            return (step + 1) / warm
        return 0.5 * (1 + math.cos(math.pi * (step - warm) / max(1, cfg.steps - warm)))

    return torch.optim.lr_scheduler.LambdaLR(opt, f)


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(logits)
    inter = (p * target).sum(dim=(1, 2, 3))
    den = p.sum(dim=(1, 2, 3)) + target.sum(dim=(1, 2, 3))
    return (1 - (2 * inter + 1) / (den + 1)).mean()


def _step(opt, sched, loss: torch.Tensor) -> None:
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    sched.step()


def _ef_step(opt, sched, pred: torch.Tensor, efs: list[float], abs_errors: list[float]) -> None:
    """One EF regression step (smooth L1, beta 2 EF points); records the batch's mean |error|."""
    y = torch.tensor(efs, dtype=torch.float32)[:, None]
    _step(opt, sched, nn.functional.smooth_l1_loss(pred, y, beta=2.0))
    abs_errors.append((pred - y).abs().mean().item())


def _progress(name: str, step: int, cfg: TrainConfig, losses: list[float], t0: float, log: Log, what: str) -> bool:
    """Log every ``cfg.log_every`` steps; True when the time budget is spent."""
    if (step + 1) % cfg.log_every == 0:
        log(f"{name} step {step + 1}/{cfg.steps} {what} {np.mean(losses[-cfg.log_every:]):.4g} "
            f"({time.perf_counter() - t0:.0f} s)")
    if cfg.max_seconds and time.perf_counter() - t0 > cfg.max_seconds:
        log(f"{name}: time budget reached at step {step + 1}")
        return True
    return False


def train_segmentation(model: nn.Module, frames: np.ndarray, masks: np.ndarray, mean, std,
                       cfg: TrainConfig, log: Log = _print) -> dict:
    """frames (N,112,112,3|1) uint8, masks (N,112,112) bool. The model returns logits (N,1,H,W)."""
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _schedule(opt, cfg)
    bce = nn.BCEWithLogitsLoss()
    model.train()
    t0 = time.perf_counter()
    losses = []
    step = 0
    for step in range(cfg.steps):
        idx = rng.integers(0, len(frames), cfg.batch)
        # each frame its own draw: the frames of a batch come from different loops
        fb, mb = (frames[idx], masks[idx]) if cfg.augment is None else cfg.augment.each(frames[idx], masks[idx], rng)
        x = frames_input(fb, mean, std)
        y = torch.from_numpy(mb.astype(np.float32))[:, None]
        logits = model(x)
        loss = bce(logits, y) + soft_dice_loss(logits, y)
        _step(opt, sched, loss)
        losses.append(loss.item())
        if _progress("seg", step, cfg, losses, t0, log, "loss"):
            break
    model.eval()
    return {"steps": step + 1, "seconds": round(time.perf_counter() - t0, 1),
            "final_loss": float(np.mean(losses[-cfg.log_every:]))}


def train_ef(model: nn.Module, sample_clip: Callable[[np.random.Generator], tuple[np.ndarray, float]],
             mean, std, spec: ClipSpec, cfg: TrainConfig, log: Log = _print) -> dict:
    """``sample_clip(rng)`` -> (clip frames (k<=F,112,112,3|1) uint8, EF %), e.g. ``data.clip_sampler``.
    The model maps (N,3,F,H,W) -> (N,1)."""
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _schedule(opt, cfg)
    model.train()
    t0 = time.perf_counter()
    losses = []
    step = 0
    for step in range(cfg.steps):
        clips, efs = [], []
        for _ in range(cfg.batch):
            clip, ef = sample_clip(rng)
            clip, _ = _augment(cfg, clip, None, rng)
            clips.append(clip)
            efs.append(ef)
        _ef_step(opt, sched, model(clips_input(clips, mean, std, spec)), efs, losses)
        if _progress("ef", step, cfg, losses, t0, log, "train MAE"):
            break
    model.eval()
    return {"steps": step + 1, "seconds": round(time.perf_counter() - t0, 1),
            "final_train_mae": float(np.mean(losses[-cfg.log_every:]))}


def train_segef_head(model: nn.Module, loops, mean, std, spec: ClipSpec, cfg: TrainConfig,
                     log: Log = _print, jitter: int = 4) -> dict:
    """Train the MLP head of a ``segef_mini`` EF model whose segmentation is already trained.

    Every training loop is segmented once (the per-frame soft area / extent series); clips are then
    sampled as index sets into those series (the pipeline's clip of a beat, start moved by up to
    ``jitter`` frames), so thousands of steps take seconds. The segmentation part stays frozen.
    """
    rng = np.random.default_rng(cfg.seed)
    torch.manual_seed(cfg.seed)
    t0 = time.perf_counter()
    model.eval()
    series = []
    from echoviewer.pipeline.inference import cpu_bf16_supported

    # the same bf16 path the app's pipeline takes on this CPU
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=cpu_bf16_supported()):
        for lp in loops:
            out = [model.frame_series(frames_input(lp.frames[i : i + 64, ..., None], mean, std))
                   for i in range(0, len(lp.frames), 64)]
            series.append(torch.cat(out).float().numpy())
        # what the pipeline's zero padding of a short video reads as
        pad = model.frame_series(torch.zeros(1, 3, *loops[0].frames.shape[1:3])).float().numpy()
    log(f"ef: segmented {sum(len(s) for s in series)} frames of {len(loops)} loops "
        f"({time.perf_counter() - t0:.0f} s)")
    for p in model.seg.parameters():
        p.requires_grad_(False)
    head = model.head
    head.train()
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _schedule(opt, cfg)
    losses = []
    step = 0
    for step in range(cfg.steps):
        batch, efs = [], []
        for _ in range(cfg.batch):
            k = int(rng.integers(len(loops)))
            lp, s = loops[k], series[k]
            b = int(rng.integers(len(lp.es_frames)))
            t = len(s)
            start = spec.start(int(lp.es_frames[b]), t, offset=int(rng.integers(-jitter, jitter + 1)))
            idx = spec.frame_indices(start, t)
            batch.append(np.concatenate([s[idx], np.repeat(pad, spec.frames - len(idx), axis=0)]))
            efs.append(float(lp.efs[b]))
        feats = model.features(torch.from_numpy(np.stack(batch)))
        _ef_step(opt, sched, head(feats), efs, losses)
        if _progress("ef head", step, cfg, losses, t0, log, "train MAE"):
            break
    for p in model.seg.parameters():
        p.requires_grad_(True)
    model.eval()
    return {"steps": step + 1, "seconds": round(time.perf_counter() - t0, 1),
            "final_train_mae": float(np.mean(losses[-cfg.log_every:])), "frozen": "segmentation (from the demo "
            "segmentation model)"}


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy + soft Dice, as ``train_segmentation`` trains."""
    return nn.functional.binary_cross_entropy_with_logits(logits, target) + soft_dice_loss(logits, target)


def ef_loss(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Smooth L1 with beta 2 EF points, as ``train_ef`` trains."""
    return nn.functional.smooth_l1_loss(pred, target, beta=2.0)


def train_on_loader(model: nn.Module, loader, loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                    cfg: TrainConfig, env, log: Log = _print, name: str = "train", what: str = "loss") -> dict:
    """``cfg.steps`` steps over an endless DataLoader of (input, target) batches (``datasets.make_loader``).

    ``model`` is already on ``env.device`` (and wrapped in DistributedDataParallel under torchrun: the
    gradients are averaged across ranks every step). ``log`` is called on every rank (give rank 0's).
    ``cfg.augment`` and ``cfg.batch`` belong to the loader here. Returns the stats a manifest records;
    ``final_loss`` is the mean over ranks.
    """
    from echoviewer.training.distributed import any_rank, mean_over_ranks

    torch.manual_seed(cfg.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = _schedule(opt, cfg)
    model.train()
    t0 = time.perf_counter()
    losses: list[float] = []
    step = 0
    non_blocking = env.device.type == "cuda"
    for step, (x, y) in zip(range(cfg.steps), loader):
        loss = loss_fn(model(x.to(env.device, non_blocking=non_blocking)), y.to(env.device, non_blocking=non_blocking))
        _step(opt, sched, loss)
        losses.append(loss.item())
        over = _progress(name, step, cfg, losses, t0, log, what)
        if cfg.max_seconds and any_rank(over, env):  # every rank stops at the same step
            break
    model.eval()
    return {"steps": step + 1, "seconds": round(time.perf_counter() - t0, 1),
            "final_loss": mean_over_ranks(float(np.mean(losses[-cfg.log_every:])), env)}
