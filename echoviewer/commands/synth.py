"""`echoviewer synth OUT_DIR`: generate echo phantoms in the EchoNet-Dynamic dataset format."""

from __future__ import annotations

import argparse
import sys
import time


def register(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "synth",
        help="generate synthetic A4C echo loops with ground truth (EchoNet-Dynamic format)",
        description="Write OUT_DIR/FileList.csv, VolumeTracings.csv, Videos/*.avi (112x112 MJPG), "
        "Truth/*.npz (per-frame LV masks, per-beat ED/ES, tracings, EDV/ESV/EF) and summary.json. "
        "Same seed, same bytes.",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", help="output folder (created)")
    p.add_argument("--videos", type=int, default=10, metavar="N", help="number of loops (default 10)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--fps", type=float, default=None, metavar="F",
                   help="frame rate of every loop (default: random 20-100)")
    p.add_argument("--frames", type=int, default=None, metavar="T", help="frames per loop (default: 1-8 beats)")
    p.add_argument("--size", choices=("112", "native"), default="112",
                   help="112: render the 112x112 grid directly (fast); native: render 800x600 frames with "
                   "burned-in text, derive the 112 frames through the grid transform and also write Native/*.avi")
    p.add_argument("--dicom", action="store_true",
                   help="also write DICOM/*.dcm (native ultrasound multi-frame, JPEG baseline)")
    p.add_argument("--dropout", type=float, default=0.0, metavar="P",
                   help="fraction of pixels set to black per frame (default 0)")
    p.add_argument("--noise", type=float, default=1.0, metavar="L", help="electronic noise scale, 0 = none (default 1)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from echoviewer.synthetic.dataset import write_dataset

    if args.videos < 1:
        print("echoviewer synth: --videos must be at least 1", file=sys.stderr)
        return 2
    if not 0.0 <= args.dropout < 1.0:
        print("echoviewer synth: --dropout must be in [0, 1)", file=sys.stderr)
        return 2
    if args.noise < 0:
        print("echoviewer synth: --noise must be >= 0", file=sys.stderr)
        return 2
    t0 = time.monotonic()

    def progress(i: int, n: int, name: str, e: dict) -> None:
        print(
            f"[{i + 1}/{n}] {name}: {e['n_frames']} frames @ {e['fps']:g} fps, HR {e['hr']:.0f}, "
            f"{e['n_beats']} beats, EF {e['ef']:.1f} (loop mean {e['ef_video']:.1f}, sd {e['ef_sd']:.1f}), "
            f"{e['split']}",
            file=sys.stderr, flush=True,
        )

    try:
        write_dataset(
            args.out_dir, args.videos, args.seed, fps=args.fps, frames=args.frames, size=args.size,
            dicom=args.dicom, dropout=args.dropout, noise=args.noise, progress=progress,
        )
    except (ValueError, OSError, ImportError) as exc:
        print(f"echoviewer synth: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.videos} loops to {args.out_dir} in {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return 0
