"""`export_study(..., deidentify=True)`: a research export that names nobody.

The issue's test: a phantom DICOM with the patient's name burned into a corner of the image and in
its tags; after the de-identified export no byte of the name (nor the ID, the dates, the users'
names, the file's sha256) is in any exported file, and the corner is blank.
"""

import csv
import json
import os
import re
import stat

import cv2
import numpy as np
import pytest

from echoviewer.annotations.store import AutoSaver, open_corrections
from echoviewer.dataset.echonet import read_dataset
from echoviewer.export.deidentify import (
    NO_REGION,
    UNREADABLE,
    Deidentifier,
    DeidentifyError,
    blank_outside,
    blanked_grid_frames,
    key_path,
    load_or_create_key,
    relink_path,
)
from echoviewer.export.echonet_export import AUDIT_NAME, NOT_CORRECTED, export_study
from echoviewer.io import open_loop
from echoviewer.io.dicom_write import write_ultrasound_dicom
from echoviewer.io.echonet_video import read_echonet_video, write_echonet_video
from echoviewer.io.loop import Loop
from echoviewer.io.transform import GridTransform
from echoviewer.paths import sha256_file
from echoviewer.pipeline.analyzer import Analyzer
from echoviewer.pipeline.results import AnalysisSettings
from echoviewer.synthetic.phantom import generate_phantom

SURNAME, GIVEN = "WINTERBOTTOM", "JOSEPHINE"
PATIENT_ID, STUDY_DATE, BIRTH_DATE = "MRN77341902", "20240101", "19610523"
SONOGRAPHER, DOCTOR = "MARGUERITE.SONO", "FOTHERINGHAM"
#: Case-insensitive needles: none may be in any exported file.
NEEDLES = [SURNAME, GIVEN, f"{SURNAME}^{GIVEN}", f"{SURNAME} {GIVEN}", PATIENT_ID, STUDY_DATE, "2024-01-01",
           BIRTH_DATE, SONOGRAPHER, "MARGUERITE", DOCTOR]
NAME_ROWS = slice(214, 240)  # the burned-in name: bottom-left corner, below the region (its y1 is 209)
EV_NAME = re.compile(r"EV_[0-9a-f]{16}")


def _burn_name(frames):
    for f in frames:
        cv2.rectangle(f, (0, NAME_ROWS.start), (160, 239), (0, 0, 0), -1)
        cv2.putText(f, f"{SURNAME} {GIVEN}", (2, 230), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1)
    return frames


@pytest.fixture
def named_study(tmp_path, random_weights):
    """A study folder, file names and tags naming the patient: a corrected phantom DICOM (name
    burned in), an uncorrected AVI and an unreadable file; analysed on the phantoms' true masks."""
    ph = generate_phantom(31, size="native", native_size=(320, 240), hr=80, fps=50, n_beats=3, ef=50, ef_sd=0)
    assert ph.region[3] < NAME_ROWS.start  # the corner is inside the frame, outside the region
    frames = _burn_name(ph.native_frames.copy())
    study = tmp_path / f"{SURNAME}_{GIVEN}_{STUDY_DATE}"
    study.mkdir()
    dcm = write_ultrasound_dicom(study / f"{SURNAME}_{GIVEN}_{STUDY_DATE}.dcm", frames, ph.fps, region=ph.region,
                                 cm_per_pixel=ph.native_cm_per_pixel, PatientName=f"{SURNAME}^{GIVEN}",
                                 PatientID=PATIENT_ID, PatientBirthDate=BIRTH_DATE, StudyDate=STUDY_DATE,
                                 SeriesDate=STUDY_DATE, ContentDate=STUDY_DATE)
    other = generate_phantom(32, hr=70, fps=50, n_beats=3, ef=40, ef_sd=0)
    write_echonet_video(study / f"{SURNAME}_2.avi", other.frames, other.fps)
    (study / f"{GIVEN}_broken.dcm").write_bytes(b"\x00" * 200)
    seg, ef = random_weights
    analyzer = Analyzer(AnalysisSettings(seg_weights=seg, ef_weights=ef), use_cache=False)
    truth = {dcm.stem: ph.truth.masks, f"{SURNAME}_2": other.truth.masks}

    def analyze(loop):
        masks = truth[loop.path.stem]
        analyzer._segment_batches = lambda grid, order, cancel, **_: iter([(np.arange(len(masks)), masks)])
        return analyzer.analyze(loop)

    loop = open_loop(dcm)
    corr = open_corrections(analyze(loop), loop.path, user=SONOGRAPHER)
    AutoSaver(corr, loop.path)
    corr.set_frame(corr.beats[0]["id"], "es", corr.beats[0]["es_frame"] - 1)
    corr.exclude(corr.beats[-1]["id"], f"ectopic, per Dr {DOCTOR}")
    return study, dcm, ph, analyze


def _leaks(folder, needles) -> list[tuple[str, str]]:
    """(file, needle) for every needle found, case-insensitively, in a file's bytes or its name."""
    found = []
    for p in sorted(folder.rglob("*")):
        blob = str(p.relative_to(folder)).lower().encode() + b"\n" + (p.read_bytes().lower() if p.is_file() else b"")
        found += [(p.name, n) for n in needles if n.lower().encode() in blob]
    return found


def test_deidentified_export_names_nobody_and_blanks_the_corner(named_study, tmp_path):
    study, dcm, ph, analyze = named_study
    out = tmp_path / "research"
    res = export_study(study, out, analyze, split="val", user=SONOGRAPHER, log=lambda m: None, deidentify=True)
    assert res.exported == [str(dcm)]
    (video,) = (out / "Videos").iterdir()
    assert EV_NAME.fullmatch(video.stem) and video.suffix == ".avi"
    assert sorted(p.name for p in out.iterdir()) == ["ExportAudit.json", "FileList.csv", "Videos", "VolumeTracings.csv"]

    # no byte of the name, the ID, the dates or the users' names in any file (or file name) ...
    sidecar = dcm.with_name(dcm.name + ".echoviewer.json")
    assert sidecar.exists()
    needles = NEEDLES + [sha256_file(dcm), str(study), dcm.stem, sidecar.name]
    assert _leaks(out, needles) == []
    # ... which the plain export of the same study would have written
    assert {n for _, n in _leaks(_plain_export(study, analyze, tmp_path), needles)} >= {SURNAME, GIVEN, STUDY_DATE}

    # the corner: blank in the 112x112 frames (no text reached them: they match the name-free
    # phantom's frames, made through the same transform, within two JPEG codings) ...
    frames = read_echonet_video(video).astype(int)
    assert frames.shape == (ph.n_frames, 112, 112, 3)
    assert np.abs(frames - ph.frames).mean() < 2.5 and frames[:, :6, :6].max() < 12
    # ... and wherever a resample may reach: the native frames the export resamples are black there
    loop = open_loop(dcm)
    blanked = blank_outside(loop.frame(0), loop.region)
    assert blanked[NAME_ROWS].max() == 0 and loop.frame(0)[NAME_ROWS].max() > 200

    # the dataset still loads, under the hashed name; the audit says what was removed
    (item,) = read_dataset(out)
    assert item.file_name == video.stem and item.row.split == "VAL" and item.path == video
    audit = json.loads((out / AUDIT_NAME).read_text())
    assert audit["deidentified"] is True and audit["deidentification"]["removed"]
    assert "not when any study was acquired" in " ".join(audit["deidentification"]["kept"])
    assert "relink.csv" in audit["deidentification"]["relink"]
    (entry,) = audit["loops"]
    assert entry["file_name"] == video.stem and "file" not in entry and "sha256" not in entry and "sidecar" not in entry
    assert entry["pixels"]["region"] == list(ph.region) and entry["pixels"]["region_source"] == "ultrasound_regions"
    x0, y0, x1, y1 = ph.region
    assert entry["pixels"]["blanked_pixels_per_frame"] == 320 * 240 - (x1 - x0) * (y1 - y0)
    assert [a["action"] for a in entry["audit"]] == ["move_es", "exclude"]
    for a in entry["audit"]:
        assert "time" not in a and "reason" not in a and re.fullmatch("[0-9a-f]{16}", a["user"])
    assert entry["audit"][0]["user"] == audit["exported_by"]  # the same person, the same pseudonym
    assert {s["why"] for s in audit["skipped"]} == {NOT_CORRECTED, UNREADABLE}
    assert all(EV_NAME.fullmatch(s["loop"]) for s in audit["skipped"])

    # the key and the re-link table stay in the user folder, private to the user
    assert res.relink == relink_path() and not str(res.relink).startswith(str(out))
    for p in (key_path(), relink_path()):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    rows = list(csv.DictReader(relink_path().open()))
    assert {(r["hash"], r["kind"], r["original"]) for r in rows} >= {
        (video.stem[3:], "loop", str(dcm)), (audit["exported_by"], "user", SONOGRAPHER),
        (audit["study"], "study", str(study))}


def _plain_export(study, analyze, tmp_path):
    out = tmp_path / "plain"
    export_study(study, out, analyze, user=SONOGRAPHER, log=lambda m: None)
    return out


def test_names_are_stable_under_the_site_key_and_differ_under_another(named_study, tmp_path, monkeypatch):
    study, _, _, analyze = named_study
    names = []
    for k, home in enumerate(("home", "home", "other-site")):
        monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path / home))
        out = tmp_path / f"out{k}"
        export_study(study, out, analyze, log=lambda m: None, deidentify=True)
        names.append([p.name for p in (out / "Videos").iterdir()])
    assert names[0] == names[1] != names[2]
    monkeypatch.setenv("ECHOVIEWER_HOME", str(tmp_path / "home"))
    rows = list(csv.DictReader(relink_path().open()))  # appended by both exports
    kinds = ["loop", "path", "path", "study", "user", "user"]  # 2 skipped; who exported, who corrected
    assert len(rows) == 2 * 6 and sorted(r["kind"] for r in rows[:6]) == kinds
    assert [r["hash"] for r in rows[:6]] == [r["hash"] for r in rows[6:]]


def test_the_video_is_blank_where_a_crop_reaching_past_the_region_would_show_the_name(named_study, tmp_path,
                                                                                     monkeypatch):
    """Today's crop lies inside the region; a grid transform that letterboxes the whole frame
    shows that the export blanks before it resamples (the plain export shows the name there)."""
    study, _, _, analyze = named_study
    monkeypatch.setattr(GridTransform, "from_region", classmethod(lambda cls, region, size=112: cls(0, 0, 320, size)))
    corner = (slice(None), slice(75, 84), slice(0, 56))  # native rows 214-240, columns 0-160
    deid = export_study(study, tmp_path / "deid", analyze, log=lambda m: None, deidentify=True)
    plain = export_study(study, tmp_path / "plain", analyze, log=lambda m: None)
    (deid_video,), (plain_video,) = (list((r.out_dir / "Videos").iterdir()) for r in (deid, plain))
    assert read_echonet_video(deid_video)[corner].max() < 12
    assert read_echonet_video(plain_video)[corner].max() > 60


def test_a_deidentified_export_goes_to_an_empty_folder(named_study, tmp_path):
    study, _, _, analyze = named_study
    out = tmp_path / "used"
    (out / "Videos").mkdir(parents=True)
    (out / "Videos" / f"{SURNAME}.avi").write_bytes(b"from an earlier export")
    with pytest.raises(DeidentifyError, match="not empty"):
        export_study(study, out, analyze, log=lambda m: None, deidentify=True)
    assert [p.name for p in out.rglob("*")] == ["Videos", f"{SURNAME}.avi"]  # nothing written


# -- the parts ----------------------------------------------------------------------------------
def test_blanking_comes_before_the_resample():
    """A resample reaching outside the region (here a window over the whole frame) finds black:
    without the blanking the name would be in the 112 frames."""
    ph = generate_phantom(31, size="native", native_size=(320, 240), hr=80, fps=50, n_beats=1, ef=50, ef_sd=0)
    frames = _burn_name(ph.native_frames[:3].copy())
    whole = GridTransform(0, 0, 320)
    grid = blanked_grid_frames(iter(frames), ph.region, whole)
    name_on_grid = (slice(None), slice(75, 84), slice(0, 56))  # native rows 214-240, columns 0-160
    assert grid.shape == (3, 112, 112, 3) and grid[name_on_grid].max() == 0
    assert np.stack([whole.warp_to_grid(f) for f in frames])[name_on_grid].max() > 60
    # the region's own pixels are untouched, grey frames too
    grey = frames[..., 0]
    x0, y0, x1, y1 = ph.region
    kept = blank_outside(grey[0], ph.region)
    assert np.array_equal(kept[y0:y1, x0:x1], grey[0][y0:y1, x0:x1]) and kept.sum() < grey[0].sum()


def test_blanking_costs_the_crop_nothing(named_study):
    """The crop lies inside the region: the de-identified frames are the model's frames, bit for bit."""
    _, dcm, _, _ = named_study
    loop = open_loop(dcm)
    grid, _ = Deidentifier(b"k" * 32).grid_frames(loop)
    assert np.array_equal(grid, loop.grid_frames())


def test_a_loop_without_an_image_region_is_not_exported():
    black = Loop.from_frames(np.zeros((4, 60, 80), np.uint8))
    assert Deidentifier.refusal(black) == NO_REGION and black.region_source == "full_frame"
    live = Loop.from_frames(np.random.default_rng(0).integers(0, 255, (4, 60, 80), dtype=np.uint8))
    assert Deidentifier.refusal(live) is None


def test_the_key_is_random_private_and_kept(tmp_path):
    path = tmp_path / "keys" / "deidentify.key"
    key = load_or_create_key(path)
    assert len(key) == 32 and load_or_create_key(path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(tmp_path / "other.key") != key
    a, b = Deidentifier(key), Deidentifier(load_or_create_key(tmp_path / "other.key"))
    assert a.hash("user", "x") == Deidentifier(key).hash("user", "x") != b.hash("user", "x")
    assert a.hash("user", "x") != a.hash("study", "x")  # kinds are kept apart
    path.write_bytes(b"short")
    with pytest.raises(DeidentifyError, match="not a de-identification key"):
        load_or_create_key(path)
    if os.name == "posix" and os.geteuid() != 0:
        path.chmod(0)
        with pytest.raises(DeidentifyError, match="cannot read"):
            load_or_create_key(path)


def test_the_audit_entry_is_allow_listed():
    """Fields the export may add later are left out until someone decides they are safe."""
    d = Deidentifier(b"k" * 32)
    entry = {"file": "/x/DOE.dcm", "file_name": "EV_0", "sha256": "ab", "sidecar": "/x/DOE.dcm.json", "new": "DOE",
             "source": "corrected", "volume_unit": "mL",
             "model": {"seg_weights": "w", "seg_sha256": "s", "path": "/home/doe/w.pt"},
             "audit": [{"time": "2024-01-01T10:00:00+00:00", "user": "doe", "action": "exclude", "beat": 2,
                        "reason": "DOE"},
                       {"user": "doe", "action": "Hand typed DOE", "before": 3, "after": "DOE"}]}
    out = d.loop_entry(entry, {"region": [0, 0, 1, 1]})
    assert "doe" not in json.dumps(out).lower()
    assert out["model"] == {"seg_weights": "w", "seg_sha256": "s"}
    assert out["audit"] == [{"action": "exclude", "user": d.hash("user", "doe"), "beat": 2},
                            {"action": "edit", "user": d.hash("user", "doe"), "before": 3}]
