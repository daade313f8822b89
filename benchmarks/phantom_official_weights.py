"""Official EchoNet architectures with weights that segment something, for the agreement check.

    python benchmarks/phantom_official_weights.py [--out DIR] [--steps 120]

The released EchoNet-Dynamic weights cannot be downloaded here, and randomly initialised
DeepLabV3 logits sit near the mask threshold everywhere, so bf16 flips pixels that a trained
model would never put on the fence (the pipeline's run-time check then falls back to float32).
This script makes a stand-in: DeepLabV3-ResNet50 (the reference's layout) fine-tuned from random
init with ``echoviewer train --data --init`` on 40 phantom loops' ED/ES tracings, plus a random
R(2+1)D-18 saved the reference's way. Then time them with

    python benchmarks/bench_analysis.py --weights none --weights-files DIR/finetuned_segmentation.pt \\
        DIR/r2plus1d_18_32_2_pretrained.pt
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def default_out() -> Path:
    from echoviewer.paths import user_dir

    return user_dir() / "bench" / "official-phantom"


def made_weights() -> tuple[str, str] | None:
    """(segmentation, EF) checkpoints this script made in its default folder, or None."""
    d = default_out()
    seg, ef = d / "finetuned_segmentation.pt", d / "r2plus1d_18_32_2_pretrained.pt"
    return (str(seg), str(ef)) if seg.exists() and ef.exists() else None


def main() -> int:
    from bench_analysis import official_weights

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(default_out()))
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--videos", type=int, default=40)
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data = out / "data"
    py = [sys.executable, "-m", "echoviewer"]
    if not (data / "FileList.csv").exists():
        subprocess.run(py + ["synth", str(data), "--videos", str(args.videos), "--seed", "3"], check=True)
    seg, ef = official_weights(out)
    subprocess.run(py + ["train", "--data", str(data), "--init", seg, "--steps", str(args.steps), "--out", str(out)],
                   check=True)
    print(f"segmentation: {out / 'finetuned_segmentation.pt'}\nEF (random): {ef}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
