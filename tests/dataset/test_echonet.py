"""EchoNet-Dynamic dataset format: FileList.csv / VolumeTracings.csv, the reference loader's view, round trips."""

import numpy as np
import pytest

from echoviewer.analysis.tracing import Tracing
from echoviewer.dataset.echonet import (
    FILELIST_HEADER,
    VOLUMETRACINGS_HEADER,
    FileListRow,
    TracedVideo,
    read_echonet_dataset,
    read_filelist,
    read_volume_tracings,
    write_filelist,
    write_volume_tracings,
)
from echoviewer.io.echonet_video import write_echonet_video


def _tracing(rng, n=20):
    axis = rng.uniform(10, 100, 4)
    return Tracing(axis, rng.uniform(10, 100, (n, 4)))


def test_filelist_round_trip_and_format(tmp_path):
    rows = [
        FileListRow("0X1A.avi", 55.123456, 40.5, 90.25, 112, 112, 50, 173, "train"),
        FileListRow("0X1B", 31.0, 80.0, 116.0, 112, 112, 49.5, 60, "TEST"),
    ]
    p = write_filelist(tmp_path / "FileList.csv", rows)
    lines = p.read_text().splitlines()
    assert lines[0] == "FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split"
    assert lines[0].split(",") == FILELIST_HEADER
    assert lines[1].startswith("0X1A,") and lines[1].endswith(",TRAIN")  # no extension, upper-case
    assert ",50,173," in lines[1] and ",49.5,60," in lines[2]
    back = read_filelist(p)
    assert [r.file_name for r in back] == ["0X1A", "0X1B"]
    assert back[0].ef == pytest.approx(55.123456) and back[0].split == "TRAIN"
    assert back[1].fps == 49.5 and back[1].n_frames == 60
    with pytest.raises(ValueError):
        write_filelist(tmp_path / "bad.csv", [FileListRow("x", 1, 1, 1, 112, 112, 50, 10, "holdout")])


def test_volume_tracings_round_trip_es_first(tmp_path):
    rng = np.random.default_rng(0)
    vids = [TracedVideo(f"V{i}", 40 + i, _tracing(rng), 20 + i, _tracing(rng)) for i in range(3)]
    p = write_volume_tracings(tmp_path / "VolumeTracings.csv", vids)
    lines = p.read_text().splitlines()
    assert lines[0] == "FileName,X1,Y1,X2,Y2,Frame" and lines[0].split(",") == VOLUMETRACINGS_HEADER
    assert len(lines) == 1 + 3 * 2 * 21
    assert all(ln.split(",")[0].endswith(".avi") for ln in lines[1:])
    # ES block (21 rows) first, then the ED block
    assert {ln.split(",")[-1] for ln in lines[1:22]} == {"40"}
    assert {ln.split(",")[-1] for ln in lines[22:43]} == {"20"}
    back = read_volume_tracings(p)
    assert list(back) == ["V0", "V1", "V2"]
    frames = list(back["V1"])
    assert frames == [41, 21]
    assert np.allclose(back["V1"][41].rows(), vids[1].es.rows(), atol=1e-4)
    assert np.allclose(back["V1"][21].rows(), vids[1].ed.rows(), atol=1e-4)


def test_dataset_reader_like_reference_loader(tmp_path):
    rng = np.random.default_rng(1)
    names = ["A", "B", "C"]
    write_filelist(tmp_path / "FileList.csv",
                   [FileListRow(n, 50, 40, 80, 112, 112, 50, 30, "VAL" if n == "B" else "TRAIN") for n in names])
    vids = [TracedVideo("A", 12, _tracing(rng), 3, _tracing(rng)),
            TracedVideo("B", 5, _tracing(rng), 25, _tracing(rng))]
    write_volume_tracings(tmp_path / "VolumeTracings.csv", vids)
    # C has only one traced frame: dropped
    with open(tmp_path / "VolumeTracings.csv", "a") as fh:
        for r in _tracing(rng).rows():
            fh.write("C.avi," + ",".join(f"{v:.3f}" for v in r) + ",7\n")
    frames = np.zeros((30, 112, 112), np.uint8)
    for n in names:
        write_echonet_video(tmp_path / "Videos" / f"{n}.avi", frames, 50)
    ds = read_echonet_dataset(tmp_path)
    assert [v.file_name for v in ds] == ["A", "B"]
    a = ds[0]
    assert (a.es_frame, a.ed_frame) == (12, 3)  # first listed = ES, last listed = ED
    assert np.allclose(a.es.rows(), vids[0].es.rows(), atol=1e-4)
    assert [v.file_name for v in read_echonet_dataset(tmp_path, "val")] == ["B"]
    (tmp_path / "Videos" / "A.avi").unlink()
    with pytest.raises(FileNotFoundError, match="A"):
        read_echonet_dataset(tmp_path)
