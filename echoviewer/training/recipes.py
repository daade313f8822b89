"""Training recipes: the bundled demo weights (from phantoms) and fine-tuning on an EchoNet folder."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from echoviewer.models import build_model, load_model, save_weights
from echoviewer.models.architectures import unwrap
from echoviewer.pipeline.preprocess import ClipSpec
from echoviewer.training.augment import Augment
from echoviewer.training.data import phantom_set
from echoviewer.training.datasets import EFClips, SegmentationFrames, echonet_items, make_loader
from echoviewer.training.distributed import DistEnv, wrap
from echoviewer.training.trainer import (
    TrainConfig,
    channel_stats,
    ef_loss,
    segmentation_loss,
    train_on_loader,
    train_segef_head,
    train_segmentation,
)

SEG_NAME, EF_NAME = "demo_segmentation", "demo_ef"
EF_ARCH = "segef_mini"


@dataclass
class DemoRecipe:
    seed: int = 0
    phantoms: int = 300
    heldout: int = 40
    seg_steps: int = 800
    ef_steps: int = 3000
    seg_batch: int = 32
    clip_frames: int = 32
    clip_period: int = 2
    threads: int = 2
    seg_init: str | None = None  # start the segmentation from these weights (their mean/std kept)
    realism: bool = False  # train and evaluate on the issue-20 phantoms (generate_phantom(realism=True))


def _provenance(recipe, command: str, data: str, stats: dict) -> dict:
    return {
        "trained_by": "echoviewer.training.recipes",
        "command": command,
        "data": data,
        "recipe": recipe.__dict__ if hasattr(recipe, "__dict__") else str(recipe),
        **({"segmentation_init_sha256": _sha(recipe.seg_init)} if getattr(recipe, "seg_init", None) else {}),
        "torch": torch.__version__,
        "training": stats,
    }


def _sha(path: str) -> str:
    from echoviewer.paths import sha256_file

    return sha256_file(Path(path))


def _evaluate(seg_path: Path, ef_path: Path, heldout_seed: int, n: int, log, realism: bool = False) -> dict:
    from echoviewer.evaluation.phantoms import evaluate_phantoms
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings
    from echoviewer.synthetic.phantom import generate_phantom

    analyzer = Analyzer(AnalysisSettings(seg_weights=str(seg_path), ef_weights=str(ef_path), device="cpu"),
                        use_cache=False)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(heldout_seed).spawn(n)]
    return evaluate_phantoms(analyzer, (generate_phantom(r, realism=realism) for r in rngs), log=log) | {
        "heldout_seed": heldout_seed, "heldout": f"{n} phantoms never seen in training (seed {heldout_seed})"}


def train_demo(out_dir: str | Path, recipe: DemoRecipe | None = None, log=print, command: str = "") -> dict:
    """Train both demo models on phantoms, evaluate on held-out phantoms, write weights + manifests.
    ``recipe`` defaults to ``DemoRecipe()``."""
    if recipe is None:
        recipe = DemoRecipe()
    torch.set_num_threads(recipe.threads)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    log(f"generating {recipe.phantoms} training phantoms (seed {recipe.seed})…")
    ts = phantom_set(recipe.phantoms, seed=recipe.seed, log=log, realism=recipe.realism)
    frames, masks = ts.seg_arrays()
    seg = build_model("unet_small")
    if recipe.seg_init:
        # warm start: a continuation of earlier weights keeps their input normalisation
        init, info = load_model("segmentation", recipe.seg_init, device="cpu")
        seg.load_state_dict(unwrap(init).state_dict())
        mean, std = tuple(info.mean), tuple(info.std)
        log(f"segmentation starts from {recipe.seg_init} (sha256 {info.sha256[:12]}…)")
    else:
        mean, std = channel_stats(frames, seed=recipe.seed)
    log(f"{len(frames)} segmentation frames, {len(ts.loops)} loops; mean {mean[0]:.2f} std {std[0]:.2f} "
        f"({time.perf_counter() - t0:.0f} s)")

    seg_stats = train_segmentation(seg, frames, masks, mean, std, TrainConfig(
        steps=recipe.seg_steps, batch=recipe.seg_batch, lr=1.5e-3 if recipe.seg_init else 3e-3,  # warm: gentler
        seed=recipe.seed), log=log)
    del frames, masks
    # The demo EF model reads clips through the trained segmentation (see SegEFMini): a plain
    # (2+1)D network did not learn EF on a 2-core CPU budget (train MAE stuck at the label s.d.).
    ef = build_model(EF_ARCH)
    ef.seg.load_state_dict(seg.state_dict())
    ef_stats = train_segef_head(ef, ts.loops, mean, std, ClipSpec(recipe.clip_frames, recipe.clip_period),
                                TrainConfig(steps=recipe.ef_steps, batch=64, lr=3e-3, seed=recipe.seed,
                                            log_every=250), log=log)
    data = f"{recipe.phantoms} echo phantoms (echoviewer.synthetic, seed {recipe.seed})"
    common = {"demo": True, "mean": mean, "std": std, "input_size": 112}
    with tempfile.TemporaryDirectory() as tmp:
        seg_tmp = save_weights(seg, Path(tmp) / f"{SEG_NAME}.pt", {
            **common, "architecture": "unet_small", "task": "segmentation",
            "provenance": _provenance(recipe, command, data, seg_stats)})
        ef_tmp = save_weights(ef, Path(tmp) / f"{EF_NAME}.pt", {
            **common, "architecture": EF_ARCH, "task": "ef", "frames": recipe.clip_frames,
            "period": recipe.clip_period, "provenance": _provenance(recipe, command, data, ef_stats)})
        log("evaluating on held-out phantoms…")
        metrics = _evaluate(seg_tmp, ef_tmp, recipe.seed + 10_000, recipe.heldout, log, recipe.realism)
        log(f"held-out: {metrics}")
        for src, task in ((seg_tmp, "segmentation"), (ef_tmp, "ef")):
            model = seg if task == "segmentation" else ef
            fields = {**common, "architecture": "unet_small" if task == "segmentation" else EF_ARCH,
                      "task": task, "metrics": metrics,
                      "provenance": _provenance(recipe, command, data,
                                                seg_stats if task == "segmentation" else ef_stats)}
            if task == "ef":
                fields |= {"frames": recipe.clip_frames, "period": recipe.clip_period}
            save_weights(model, out_dir / src.name, fields)
    metrics["total_seconds"] = round(time.perf_counter() - t0, 1)
    log(f"demo weights written to {out_dir} in {metrics['total_seconds']:.0f} s")
    return metrics


def finetune(data_dir: str | Path, init: list[str], out_dir: str | Path, steps: int = 300, seed: int = 0,
             lr: float = 5e-4, log=print, command: str = "", workers: int = 2,
             env: DistEnv | None = None) -> list[Path]:
    """Fine-tune each ``init`` model (its task decides how) on an EchoNet-format folder's TRAIN split
    (falling back to every split when TRAIN is empty). Writes ``finetuned_<task>.pt`` + manifest.

    The videos are read from disk by a DataLoader with ``workers`` processes (``datasets``). Under
    torchrun (``env`` from ``distributed.session``) each rank trains on its shard of the data and only
    rank 0 logs and writes the weights; the manifest records the world size.
    """
    env = env or DistEnv()
    if not env.distributed:
        torch.set_num_threads(2)
    if not env.is_main:
        log = _quiet
    seg_items, beats = echonet_items(data_dir, splits=("TRAIN",))
    if not seg_items and not beats:
        seg_items, beats = echonet_items(data_dir, splits=("TRAIN", "VAL", "TEST"))
    if not seg_items:
        raise ValueError(f"{data_dir}: no traced videos to train on")
    log(f"{data_dir}: {len(beats)} videos, {len(seg_items)} traced frames"
        + (f"; {env.world} processes ({env.backend} on {env.device.type})" if env.distributed else ""))
    out_dir = Path(out_dir)
    if env.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in init:
        task = _task_of(path)
        model, info = load_model(task, path, device="cpu")
        bare = unwrap(model)
        augment = Augment(geometry_p=0.5)
        cfg = TrainConfig(steps=steps, batch=8, lr=lr, seed=seed, augment=augment)
        if task == "segmentation":
            data = SegmentationFrames(seg_items, info.mean, info.std, augment, seed)
            cfg, loss_fn, what = replace(cfg, batch=min(16, len(data))), segmentation_loss, "loss"
        else:
            if not beats:
                raise ValueError(f"{data_dir}: no videos with EF to fine-tune the EF model on")
            data = EFClips(beats, info.mean, info.std, augment, seed, ClipSpec.of(info))
            loss_fn, what = ef_loss, "smooth L1"
        loader = make_loader(data, cfg.batch, workers, seed, env)
        stats = train_on_loader(wrap(model, env), loader, loss_fn, cfg, env, log=log, name=task, what=what)
        stats |= {"batch_per_process": cfg.batch, "workers": int(workers), **env.describe()}
        target = out_dir / f"finetuned_{task}.pt"
        if env.is_main:
            fields = {"architecture": info.architecture, "task": task, "mean": info.mean, "std": info.std,
                      "input_size": info.input_size, "demo": info.demo,
                      "provenance": {"fine_tuned_from": f"{info.name} (sha256 {info.sha256})", "data": str(data_dir),
                                     "command": command, "seed": seed, "training": stats}}
            if task == "ef":
                fields |= {"frames": info.frames, "period": info.period}
            save_weights(bare, target, fields)
            log(f"wrote {target}")
        written.append(target)
    return written


def _quiet(msg: str) -> None:
    """The log of ranks other than 0."""


def _task_of(path: str) -> str:
    """The task of a weights file: try segmentation; the loader names the other task if it is EF."""
    from echoviewer.models import WeightsError

    try:
        load_model("segmentation", path, device="cpu")
        return "segmentation"
    except WeightsError as exc:
        if "weights were asked for" in str(exc):
            return "ef"
        raise
