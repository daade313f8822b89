"""The gates on a mixed phantom study: the confusion table (kind x decision) and what they measured.

    PYTHONPATH=. python benchmarks/gates_table.py [--seeds 0 1 2] [--folder DIR] [--seg-weights F --ef-weights F]

Writes one DICOM file of every kind (echoviewer/synthetic/kinds.py) per seed, adds the real A4C loop
pydicom ships, runs the gates and the analysis the CLI runs (`Analyzer.analyze(...,
skip_not_analysable=True)`), and prints, per file, the pixel measures and the decision, then the
table. The pixel thresholds in io/gates.py and the evidence thresholds in pipeline/confidence.py
were chosen from these numbers.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

COLUMNS = ("analysable", "low confidence", "not analysable")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--folder", help="write the study here (default: a temporary folder)")
    ap.add_argument("--seg-weights")
    ap.add_argument("--ef-weights")
    args = ap.parse_args()

    from pydicom.data import get_testdata_file

    from echoviewer.io import open_loop
    from echoviewer.io.gates import pixel_facts, sample_grid
    from echoviewer.pipeline.analyzer import Analyzer
    from echoviewer.pipeline.results import AnalysisSettings
    from echoviewer.synthetic.kinds import KINDS, write_mixed_study

    folder = Path(args.folder or tempfile.mkdtemp(prefix="gates-"))
    kinds = write_mixed_study(folder, tuple(args.seeds))
    files = [(folder / name, kind) for name, kind in sorted(kinds.items())]
    files.append((Path(get_testdata_file("examples_ybr_color.dcm")), "real_a4c"))
    analyzer = Analyzer(AnalysisSettings(seg_weights=args.seg_weights, ef_weights=args.ef_weights, device="cpu"),
                        use_cache=False)
    table: Counter[tuple[str, str]] = Counter()
    print(f"{'file':24s} {'colour':>7s} {'bright':>7s} {'dark':>6s} {'EF':>6s} {'EFseg':>6s}  decision")
    for path, kind in files:
        loop = open_loop(path)
        f = pixel_facts(sample_grid(loop))
        a = analyzer.analyze(loop, skip_not_analysable=True)
        d = a.gate
        table[(kind, d.verdict.value)] += 1
        ef = "" if a.ef_mean is None else f"{a.ef_mean:.1f}"
        seg = "" if a.ef_seg_mean is None else f"{a.ef_seg_mean:.1f}"
        print(f"{path.name:24s} {f.colour:7.4f} {f.bright:7.3f} {f.dark:6.3f} {ef:>6s} {seg:>6s}  {d.text()}")
        loop.close()
    print()
    print("| kind | " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---|" * len(COLUMNS))
    for kind in (*KINDS, "real_a4c"):
        print(f"| {kind} | " + " | ".join(str(table[(kind, c)]) for c in COLUMNS) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
