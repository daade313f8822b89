"""The demo study: a few deterministic phantom loops (AVI exports and a DICOM) with truth sidecars."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np

from echoviewer.paths import user_dir

DEMO_VERSION = "echoviewer-demo-study 1"
MARKER = ".demo_complete"
DEMO_SEED = 20240611
NATIVE = (640, 480)

#: (file name, kind, overrides, frames)
DEMO_LOOPS: list[tuple[str, str, dict, int]] = [
    ("A4C_normal.avi", "avi", dict(ef=60.0, ef_sd=1.0, hr=66.0, fps=50), 160),
    ("A4C_reduced_EF.avi", "avi", dict(ef=35.0, ef_sd=1.5, hr=84.0, fps=50), 150),
    ("A4C_variable_beats.avi", "avi", dict(ef=52.0, ef_sd=4.0, hr=96.0, fps=50), 180),
    ("A4C_dicom.dcm", "dicom", dict(ef=45.0, ef_sd=1.0, hr=72.0, fps=48), 130),
]


def default_demo_dir() -> Path:
    return user_dir() / "demo-study"


def is_complete(folder: Path) -> bool:
    m = Path(folder) / MARKER
    try:
        return m.read_text().strip() == DEMO_VERSION and all((Path(folder) / n).exists() for n, *_ in DEMO_LOOPS)
    except OSError:
        return False


def ensure_demo_study(dest: Path | None = None) -> Path:
    """The demo study folder (default $ECHOVIEWER_HOME/demo-study or ~/.echoviewer/demo-study),
    generated once (deterministic); returns at once when it is already complete."""
    from echoviewer.synthetic.dataset import summary_entry, truth_arrays, write_dicom, write_native_avi
    from echoviewer.synthetic.phantom import generate_phantom

    folder = Path(dest) if dest is not None else default_demo_dir()
    if is_complete(folder):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).unlink(missing_ok=True)
    truth_dir = folder / "truth"
    truth_dir.mkdir(exist_ok=True)
    for i, (name, kind, kw, frames) in enumerate(DEMO_LOOPS):
        ph = generate_phantom(np.random.default_rng([DEMO_SEED, i]), frames=frames, size="native", native_size=NATIVE,
                              **kw)
        path = folder / name
        tmp = folder / f".{name}.part"
        if kind == "avi":
            write_native_avi(tmp.with_suffix(".avi"), ph)
            shutil.move(str(tmp.with_suffix(".avi")), str(path))
        else:
            write_dicom(tmp, ph, PatientName="DEMO^PHANTOM")
            shutil.move(str(tmp), str(path))
        stem = Path(name).stem
        np.savez_compressed(truth_dir / f"{stem}.npz", **truth_arrays(ph))
        entry = summary_entry(name, ph)
        entry["file"] = name
        with open(truth_dir / f"{stem}.json", "w") as fh:
            json.dump(entry, fh, indent=1)
            fh.write("\n")
    (folder / MARKER).write_text(DEMO_VERSION + "\n")
    return folder
