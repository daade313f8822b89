"""`echoviewer train`: the demo weights from phantoms, or fine-tuning on an EchoNet-format folder."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser(
        "train",
        help="train the demo models on phantoms, or fine-tune weights on an EchoNet-format folder",
        description="Without --data: train both compact demo models on echo phantoms and write "
                    "demo_segmentation.pt/.json and demo_ef.pt/.json (with held-out metrics) to --out. "
                    "With --data DIR --init WEIGHTS: fine-tune each --init model on DIR (e.g. an "
                    "`echoviewer export-corrections` folder) and write finetuned_<task>.pt/.json.",
    )
    p.add_argument("--data", help="EchoNet-Dynamic-format folder (FileList.csv, VolumeTracings.csv, Videos/)")
    p.add_argument("--init", action="append", default=[], help="weights to fine-tune (repeat for both models)")
    p.add_argument("--out", default=None, help="output folder (default: weights/ for the demo, DATA/weights otherwise)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--phantoms", type=int, default=300, help="training phantoms for the demo models")
    p.add_argument("--heldout", type=int, default=40, help="held-out phantoms for the demo metrics")
    p.add_argument("--seg-steps", type=int, default=800)
    p.add_argument("--ef-steps", type=int, default=3000, help="EF head training steps")
    p.add_argument("--seg-init", default=None, help="demo: start the segmentation from these weights (warm start)")
    p.add_argument("--threads", type=int, default=2, help="demo: torch CPU threads")
    p.add_argument("--realism", action="store_true", help="demo: train on the phantoms closer to real A4C (issue 20)")
    p.add_argument("--steps", type=int, default=300, help="fine-tuning steps per model")
    p.add_argument("--lr", type=float, default=5e-4, help="fine-tuning learning rate")
    p.add_argument("--workers", type=int, default=2,
                   help="fine-tuning: processes reading the videos from disk (0: in the training process)")
    p.add_argument("--device", default="auto",
                   help="fine-tuning: auto, cpu, cuda (under torchrun: each rank takes GPU LOCAL_RANK)")
    p.set_defaults(func=run)


def run(args) -> int:
    from echoviewer.models import DeviceError, WeightsError
    from echoviewer.training import recipes

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    command = "echoviewer train " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    try:
        if args.data is None:
            if args.init:
                log("error: --init needs --data (the folder to fine-tune on)")
                return 2
            out = Path(args.out or Path(__file__).resolve().parents[2] / "weights")
            recipe = recipes.DemoRecipe(seed=args.seed, phantoms=args.phantoms, heldout=args.heldout,
                                        seg_steps=args.seg_steps, ef_steps=args.ef_steps,
                                        seg_init=args.seg_init, threads=args.threads, realism=args.realism)
            recipes.train_demo(out, recipe, log=log, command=command)
            return 0
        if not args.init:
            log("error: give --init WEIGHTS (repeat it to fine-tune both models)")
            return 2
        if args.workers < 0:
            log("error: --workers must be 0 or more")
            return 2
        return _finetune(args, log, command)
    except (WeightsError, DeviceError, ValueError, FileNotFoundError) as exc:
        log(f"error: {exc}")
        return 2


def _finetune(args, log, command: str) -> int:
    """Fine-tuning, alone or as one rank of a torchrun job: a failure on any rank is one line naming the
    rank; its exit makes torchrun end the other ranks (which the process group's timeout bounds too)."""
    from echoviewer.models import DeviceError, WeightsError, pick_device
    from echoviewer.training import recipes
    from echoviewer.training.distributed import session, torchrun_env

    found = torchrun_env()
    where = f" (rank {found[1]} of {found[0]})" if found else ""
    try:
        with session(pick_device(args.device)) as env:
            out = Path(args.out or Path(args.data) / "weights")
            recipes.finetune(args.data, args.init, out, steps=args.steps, seed=args.seed, lr=args.lr, log=log,
                             command=command, workers=args.workers, env=env)
        return 0
    except (WeightsError, DeviceError, ValueError, OSError) as exc:
        log(f"error{where}: {exc}")
        return 2
    except Exception as exc:  # one line per rank, not a traceback per process
        log(f"error{where}: {type(exc).__name__}: {exc}")
        return 1
