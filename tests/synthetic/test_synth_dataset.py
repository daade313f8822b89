"""write_dataset: EchoNet-Dynamic layout, truth sidecars, DICOM, demo study."""

import csv
import json

import cv2
import numpy as np
import pytest

from echoviewer.analysis.metrics import dice
from echoviewer.dataset.echonet import read_echonet_dataset, read_volume_tracings
from echoviewer.io.echonet_video import read_echonet_video
from echoviewer.io.transform import GridTransform
from echoviewer.synthetic.dataset import splits_for, write_dataset


@pytest.fixture(scope="module")
def ds(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    summary = write_dataset(out, 3, seed=3, fps=30)
    return out, summary


def test_files_and_headers(ds):
    out, summary = ds
    fl = (out / "FileList.csv").read_text().splitlines()
    vt = (out / "VolumeTracings.csv").read_text().splitlines()
    assert fl[0] == "FileName,EF,ESV,EDV,FrameHeight,FrameWidth,FPS,NumberOfFrames,Split"
    assert vt[0] == "FileName,X1,Y1,X2,Y2,Frame"
    rows = list(csv.DictReader(fl))
    assert len(rows) == 3
    for r in rows:
        assert "." not in r["FileName"]
        assert r["Split"] in ("TRAIN", "VAL", "TEST")
        assert (out / "Videos" / (r["FileName"] + ".avi")).exists()
        assert (out / "Truth" / (r["FileName"] + ".npz")).exists()
        assert r["FrameHeight"] == r["FrameWidth"] == "112"
    assert all(line.split(",")[0].endswith(".avi") for line in vt[1:])
    assert len(vt) - 1 == 3 * 2 * 21
    assert json.loads((out / "summary.json").read_text())["videos"] == 3


def test_tracings_agree_with_filelist_and_truth(ds):
    out, _ = ds
    rows = {r["FileName"]: r for r in csv.DictReader(open(out / "FileList.csv"))}
    traces = read_volume_tracings(out / "VolumeTracings.csv")
    for name, frames in traces.items():
        z = np.load(out / "Truth" / f"{name}.npz")
        es_f, ed_f = list(frames)  # ES block listed first
        b = int(z["traced_beat"])
        assert es_f == z["es_frames"][b] and ed_f == z["ed_frames"][b]
        es, ed = frames[es_f], frames[ed_f]
        assert len(es.rows()) == len(ed.rows()) == 21
        cm = float(z["cm_per_pixel"])
        edv, esv = ed.volume(cm), es.volume(cm)
        assert esv < edv
        ef = (edv - esv) / edv * 100
        assert ef == pytest.approx(float(rows[name]["EF"]), abs=1.0)
        assert edv == pytest.approx(float(rows[name]["EDV"]), rel=0.01)
        # the reference loader's masks from the exported chords match the truth masks
        for t, f in ((es, es_f), (ed, ed_f)):
            assert dice(t.rasterize((112, 112)), z["masks"][f]) >= 0.95
        assert z["masks"].shape == (int(rows[name]["NumberOfFrames"]), 112, 112)
        assert z["tracings"].shape[1:] == (2, 21, 4)
        assert abs(float(z["ef_video"]) - np.mean(z["ef"])) < 1e-9


def test_videos_match_the_filelist(ds):
    out, _ = ds
    for v in read_echonet_dataset(out):
        frames = read_echonet_video(v.path)
        assert frames.shape == (v.row.n_frames, 112, 112, 3)
        cap = cv2.VideoCapture(str(v.path))
        assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(v.row.fps, abs=0.01)
        cap.release()
        z = np.load(out / "Truth" / f"{v.file_name}.npz")
        assert z["fps"] == pytest.approx(v.row.fps)


def test_splits_deterministic_and_upper_case():
    s = splits_for(50, 9)
    assert s == splits_for(50, 9)
    assert (s.count("TRAIN"), s.count("VAL"), s.count("TEST")) == (40, 5, 5)
    assert s != splits_for(50, 10)


def test_same_seed_same_bytes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    write_dataset(a, 2, seed=8, frames=30)
    write_dataset(b, 2, seed=8, frames=30)
    for rel in ("FileList.csv", "VolumeTracings.csv", "Videos/Phantom8_0000.avi", "Videos/Phantom8_0001.avi"):
        assert (a / rel).read_bytes() == (b / rel).read_bytes(), rel
    assert np.array_equal(read_echonet_video(a / "Videos/Phantom8_0001.avi"),
                          read_echonet_video(b / "Videos/Phantom8_0001.avi"))


def test_native_and_dicom_agree_with_the_avi(tmp_path):
    try:
        import echoviewer.io.dicom_write  # noqa: F401  (the io package's DICOM writer)
    except ImportError as exc:  # pragma: no cover
        pytest.skip(f"echoviewer.io.dicom_write not available: {exc}")
    import pydicom

    out = tmp_path / "d"
    write_dataset(out, 1, seed=5, frames=36, size="native", dicom=True)
    name = "Phantom5_0000"
    z = np.load(out / "Truth" / f"{name}.npz")
    ds = pydicom.dcmread(out / "DICOM" / f"{name}.dcm")
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit
    assert ds.PhotometricInterpretation == "YBR_FULL_422"
    assert float(ds.FrameTime) == pytest.approx(1000.0 / float(z["fps"]), rel=1e-3)
    reg = ds.SequenceOfUltrasoundRegions[0]
    region = (int(reg.RegionLocationMinX0), int(reg.RegionLocationMinY0),
              int(reg.RegionLocationMaxX1) + 1, int(reg.RegionLocationMaxY1) + 1)
    assert region == tuple(z["region"])
    assert float(reg.PhysicalDeltaX) == pytest.approx(float(z["native_cm_per_pixel"]))
    tr = GridTransform.from_region(region)
    assert tr.grid_cm_per_pixel(float(reg.PhysicalDeltaX)) == pytest.approx(float(z["cm_per_pixel"]))
    native = ds.pixel_array
    assert native.shape == (36, 600, 800, 3)
    grid = np.stack([cv2.cvtColor(tr.warp_to_grid(f), cv2.COLOR_RGB2GRAY) for f in native])
    avi = read_echonet_video(out / "Videos" / f"{name}.avi")[..., 0]
    assert np.abs(grid.astype(int) - avi.astype(int)).mean() < 4.0
    # native masks map onto the grid masks; native AVI written at native size
    nm = z["native_masks"]
    assert nm.shape == (36, 600, 800)
    k = int(z["ed_frames"][0])
    back = cv2.resize(tr._window(nm[k].astype(np.uint8)), (112, 112), interpolation=cv2.INTER_AREA) > 0
    assert dice(back, z["masks"][k]) > 0.95
    assert read_echonet_video(out / "Native" / f"{name}.avi").shape == (36, 600, 800, 3)


def test_demo_study(tmp_path, monkeypatch):
    from echoviewer.synthetic import demo

    monkeypatch.setattr(demo, "DEMO_LOOPS", [(n, k, kw, 30) for n, k, kw, _ in demo.DEMO_LOOPS])
    monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path / "home"))
    assert demo.default_demo_dir() == tmp_path / "home" / "demo-study"
    folder = demo.ensure_demo_study()
    assert folder == tmp_path / "home" / "demo-study"
    names = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    assert sum(n.endswith(".avi") for n in names) >= 2 and sum(n.endswith(".dcm") for n in names) >= 1
    assert (folder / demo.MARKER).exists()
    truth = sorted(p.name for p in (folder / "truth").iterdir())
    assert all(t.endswith((".npz", ".json")) for t in truth) and len(truth) == 2 * len(demo.DEMO_LOOPS)
    efs = [json.loads((folder / "truth" / t).read_text())["ef_video"] for t in truth if t.endswith(".json")]
    assert min(efs) < 42 and max(efs) > 55
    cap = cv2.VideoCapture(str(folder / "A4C_normal.avi"))
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (640, 480)
    cap.release()
    mtime = (folder / "A4C_normal.avi").stat().st_mtime_ns
    assert demo.ensure_demo_study() == folder
    assert (folder / "A4C_normal.avi").stat().st_mtime_ns == mtime  # complete: not regenerated
