"""The EchoNet-Dynamic dataset format: FileList.csv, VolumeTracings.csv, Videos/<name>.avi.

Rules (they must load in the reference code unchanged):

* FileList.csv header exactly ``FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split``;
  FileName WITHOUT extension; Split upper-case TRAIN / VAL / TEST.
* VolumeTracings.csv header exactly ``FileName,X1,Y1,X2,Y2,Frame``; FileName WITH ``.avi``; floats
  on the 112x112 grid (x = column, y = row); per traced frame the long axis row, then the chords;
  per video the ES block first and the ED block last (the loader takes the first listed frame as
  ES / small and the last as ED / large; videos with fewer than 2 traced frames are dropped).
* Videos: 112x112, 3 identical channels, MJPG AVI at the video's frame rate (written and read by
  ``echoviewer.io.echonet_video``: they need no tracing).
"""

from __future__ import annotations

import csv
import os
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from echoviewer.analysis.tracing import Tracing
from echoviewer.io.echonet_video import read_echonet_video

FILELIST_HEADER = ["FileName", "EF", "ESV", "EDV", "FrameHeight", "FrameWidth", "FPS", "NumberOfFrames", "Split"]
VOLUMETRACINGS_HEADER = ["FileName", "X1", "Y1", "X2", "Y2", "Frame"]
SPLITS = ("TRAIN", "VAL", "TEST")

__all__ = [
    "FILELIST_HEADER",
    "VOLUMETRACINGS_HEADER",
    "FileListRow",
    "TracedVideo",
    "EchoNetVideo",
    "write_filelist",
    "read_filelist",
    "write_volume_tracings",
    "read_volume_tracings",
    "read_echonet_dataset",
    "read_dataset",
]


def _stem(name: str) -> str:
    name = os.path.basename(str(name))
    return name[:-4] if name.lower().endswith(".avi") else name


def _num(v: float) -> str:
    v = float(v)
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return f"{v:.6g}" if abs(v) >= 1e-3 else f"{v:.6e}"


@dataclass
class FileListRow:
    file_name: str  # without extension
    ef: float
    esv: float
    edv: float
    frame_height: int
    frame_width: int
    fps: float
    n_frames: int
    split: str

    def __post_init__(self) -> None:
        self.file_name = _stem(self.file_name)
        self.split = str(self.split).strip().upper()


@dataclass
class TracedVideo:
    """The two traced frames of one video (the reference loader's view of VolumeTracings)."""

    file_name: str  # without extension
    es_frame: int
    es: Tracing
    ed_frame: int
    ed: Tracing


@dataclass
class EchoNetVideo:
    """One usable video of a dataset folder: FileList row + its ES/ED tracings."""

    row: FileListRow
    path: Path
    es_frame: int
    es: Tracing
    ed_frame: int
    ed: Tracing

    @property
    def file_name(self) -> str:
        return self.row.file_name

    # aliases used by the training code
    @property
    def name(self) -> str:
        return self.row.file_name

    @property
    def ef(self) -> float:
        return self.row.ef

    @property
    def es_tracing(self) -> Tracing:
        return self.es

    @property
    def ed_tracing(self) -> Tracing:
        return self.ed

    @property
    def frames(self) -> np.ndarray:
        """(T,H,W,3) uint8 RGB frames of the AVI (decoded on each access)."""
        return read_echonet_video(self.path)


# --------------------------------------------------------------------------------------------
# FileList.csv
# --------------------------------------------------------------------------------------------


def write_filelist(path: str | os.PathLike, rows: Iterable[FileListRow]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(FILELIST_HEADER)
        for r in rows:
            if r.split not in SPLITS:
                raise ValueError(f"{r.file_name}: Split must be one of {SPLITS}, got {r.split!r}")
            w.writerow([
                r.file_name, f"{float(r.ef):.6f}", f"{float(r.esv):.6f}", f"{float(r.edv):.6f}",
                int(r.frame_height), int(r.frame_width), _num(r.fps), int(r.n_frames), r.split,
            ])
    return path


def read_filelist(path: str | os.PathLike) -> list[FileListRow]:
    """Rows of a FileList.csv (FileName normalised to no extension, Split upper-cased)."""
    path = Path(path)
    with open(path, newline="") as fh:
        rd = csv.DictReader(fh)
        missing = [c for c in FILELIST_HEADER if c not in (rd.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: FileList.csv lacks columns {missing}")
        out = []
        for rec in rd:
            out.append(FileListRow(
                rec["FileName"], float(rec["EF"]), float(rec["ESV"]), float(rec["EDV"]),
                int(float(rec["FrameHeight"])), int(float(rec["FrameWidth"])), float(rec["FPS"]),
                int(float(rec["NumberOfFrames"])), rec["Split"],
            ))
    return out


# --------------------------------------------------------------------------------------------
# VolumeTracings.csv
# --------------------------------------------------------------------------------------------


def write_volume_tracings(path: str | os.PathLike, videos: Iterable[TracedVideo]) -> Path:
    """Per video: the ES block (axis + chords) first, then the ED block."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(VOLUMETRACINGS_HEADER)
        for v in videos:
            name = _stem(v.file_name) + ".avi"
            for frame, t in ((v.es_frame, v.es), (v.ed_frame, v.ed)):
                for x1, y1, x2, y2 in t.rows():
                    w.writerow([name, f"{x1:.4f}", f"{y1:.4f}", f"{x2:.4f}", f"{y2:.4f}", int(frame)])
    return path


def read_volume_tracings(path: str | os.PathLike) -> OrderedDict[str, OrderedDict[int, Tracing]]:
    """{FileName without extension: {frame: Tracing}} with frames in the order first listed
    (as the reference loader keeps them)."""
    path = Path(path)
    rows: OrderedDict[str, OrderedDict[int, list]] = OrderedDict()
    with open(path, newline="") as fh:
        rd = csv.DictReader(fh)
        missing = [c for c in VOLUMETRACINGS_HEADER if c not in (rd.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: VolumeTracings.csv lacks columns {missing}")
        for rec in rd:
            name = _stem(rec["FileName"])
            frame = int(float(rec["Frame"]))
            rows.setdefault(name, OrderedDict()).setdefault(frame, []).append(
                [float(rec["X1"]), float(rec["Y1"]), float(rec["X2"]), float(rec["Y2"])]
            )
    out: OrderedDict[str, OrderedDict[int, Tracing]] = OrderedDict()
    for name, frames in rows.items():
        out[name] = OrderedDict((f, Tracing.from_rows(np.array(r))) for f, r in frames.items() if len(r) >= 2)
    return out


# --------------------------------------------------------------------------------------------
# Dataset folder
# --------------------------------------------------------------------------------------------


def read_echonet_dataset(root: str | os.PathLike, split: str | None = None,
                         require_videos: bool = True) -> list[EchoNetVideo]:
    """Videos of an EchoNet-Dynamic folder with their ES/ED tracings, as the reference loader
    sees them: first listed traced frame = ES (small), last = ED (large); videos with fewer than
    2 traced frames are dropped. split: "TRAIN"/"VAL"/"TEST" (case-insensitive) or None/"ALL".
    require_videos: raise FileNotFoundError when listed videos are missing from Videos/."""
    root = Path(root)
    rows = read_filelist(root / "FileList.csv")
    if split is not None and split.upper() != "ALL":
        rows = [r for r in rows if r.split == split.upper()]
    traces = read_volume_tracings(root / "VolumeTracings.csv")
    if require_videos:
        missing = [r.file_name for r in rows if not (root / "Videos" / (r.file_name + ".avi")).exists()]
        if missing:
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise FileNotFoundError(f"{root / 'Videos'}: {len(missing)} videos missing: {', '.join(missing[:5])}{more}")
    out = []
    for r in rows:
        fr = traces.get(r.file_name)
        if not fr or len(fr) < 2:
            continue
        keys = list(fr.keys())
        out.append(EchoNetVideo(r, root / "Videos" / (r.file_name + ".avi"), keys[0], fr[keys[0]],
                                keys[-1], fr[keys[-1]]))
    return out


def read_dataset(root: str | os.PathLike, splits: Iterable[str] | str | None = None,
                 require_videos: bool = True) -> list[EchoNetVideo]:
    """read_echonet_dataset for several splits at once (None: all)."""
    if splits is None or isinstance(splits, str):
        return read_echonet_dataset(root, splits, require_videos)
    want = {s.upper() for s in splits}
    return [v for v in read_echonet_dataset(root, None, require_videos) if v.row.split in want]
