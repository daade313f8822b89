"""Retrieve speed from a local Orthanc: a 20-loop study through C-GET, C-MOVE and WADO-RS.

    python benchmarks/bench_pacs.py [--loops 20] [--frames 60] [--size 640x480] [--runs 3]

Starts Orthanc on free ports of 127.0.0.1 with a temporary storage (the tests' launcher,
tests/pacs/conftest.py), sends it one study of ``--loops`` phantom loops (native ultrasound DICOM,
JPEG baseline, ``--frames`` frames each) through the app's own C-STORE, then retrieves the whole
study ``--runs`` times per door into an empty folder with ``echoviewer.pacs.retrieve.retrieve_study``
(the C-FIND / QIDO-RS listing included). Prints each run, the medians in instances/s and MB/s, and
one SUMMARY line. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def make_study(folder: Path, loops: int, frames: int, size: tuple[int, int]) -> tuple[str, list[Path]]:
    """One phantom rendered once, written ``loops`` times (own series and instance UIDs) in one study."""
    from pydicom.uid import generate_uid

    from echoviewer.io.dicom_write import write_ultrasound_dicom
    from echoviewer.synthetic.phantom import generate_phantom

    ph = generate_phantom(3, size="native", native_size=size, frames=frames, fps=50, hr=72)
    native = list(ph.iter_native())
    study_uid = generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(loops):
        files.append(write_ultrasound_dicom(
            folder / f"loop{i:02d}.dcm", native, ph.fps, region=ph.region, cm_per_pixel=ph.native_cm_per_pixel,
            PatientID="BENCH", PatientName="BENCH^PACS", StudyInstanceUID=study_uid,
            SeriesInstanceUID=generate_uid(), SeriesNumber=i + 1, InstanceNumber=1))
    return study_uid, files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--loops", type=int, default=20)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--size", default="640x480", help="native frame size WxH")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.lower().split("x"))

    from echoviewer.pacs.retrieve import retrieve_study
    from tests.pacs.conftest import OrthancServer

    with tempfile.TemporaryDirectory(prefix="bench-pacs-") as tmp:
        root = Path(tmp)
        t0 = time.monotonic()
        uid, files = make_study(root / "study", args.loops, args.frames, (w, h))
        mb = sum(f.stat().st_size for f in files) / 1e6
        print(f"study: {args.loops} loops x {args.frames} frames {w}x{h}, JPEG baseline, {mb:.1f} MB "
              f"(made in {time.monotonic() - t0:.1f} s)", flush=True)
        server = OrthancServer(root / "orthanc").start()
        try:
            t0 = time.monotonic()
            report = server.client().store(files)
            if report.refused:
                raise SystemExit(f"seeding failed: {report.summary()}")
            dt = time.monotonic() - t0
            print(f"C-STORE (send): {len(files) / dt:.1f} instances/s, {mb / dt:.1f} MB/s", flush=True)

            doors = {"C-GET": server.client(), "C-MOVE": server.client(retrieve="move"),
                     "WADO-RS": server.web_client()}
            medians = {}
            for name, client in doors.items():
                times = []
                for run in range(args.runs):
                    dest = root / f"{name}-{run}"
                    t0 = time.monotonic()
                    r = retrieve_study(client, uid, dest)
                    dt = time.monotonic() - t0
                    assert r.fetched == args.loops, r.summary()
                    times.append(dt)
                    print(f"{name:8} run {run + 1}: {dt:.2f} s  {args.loops / dt:6.1f} instances/s  "
                          f"{mb / dt:6.1f} MB/s", flush=True)
                medians[name] = statistics.median(times)
            print()
            for name, dt in medians.items():
                print(f"{name:8} median: {args.loops / dt:6.1f} instances/s  {mb / dt:6.1f} MB/s  ({dt:.2f} s)")
            print(f"SUMMARY pacs retrieve of a {args.loops}-loop study: "
                  + ", ".join(f"{name} {args.loops / dt:.1f} instances/s" for name, dt in medians.items()))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
