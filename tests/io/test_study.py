"""Study scanning and the errors for corrupt and odd inputs."""

from __future__ import annotations

import time

import numpy as np
import pydicom
import pytest

from echoviewer.io import LoopError, StudyScan, open_loop, scan_study
from echoviewer.io.dicom_write import write_ultrasound_dicom

from .conftest import fan_frames, write_video


def _dcm(path, n=12, **kw):
    kw.setdefault("fps", 30)
    return write_ultrasound_dicom(path, fan_frames(n), **kw)


def _set_frames(path, n):
    ds = pydicom.dcmread(path)
    ds.NumberOfFrames = n
    ds.save_as(path)
    return path


def _no_pixels(path):
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    return path


def _truncate(path, fraction):
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    return path


BAD = {
    # name: (how to make it, expected message fragment)
    "trunc_native.dcm": (lambda p: _truncate(_dcm(p, transfer_syntax="explicit_le", photometric="MONOCHROME2"), 0.6),
                         "truncated file (pixel data holds 7 of 12 frames)"),
    "trunc_jpeg.dcm": (lambda p: _truncate(_dcm(p), 0.7), "truncated file"),
    "trunc_header.dcm": (lambda p: p.write_bytes(_dcm(p).read_bytes()[:600]),
                         "truncated file (the DICOM header ends early)"),
    "trunc_items.dcm": (lambda p: p.write_bytes(_dcm(p).read_bytes()[:1100]), "truncated file"),
    "preamble_only.dcm": (lambda p: p.write_bytes(b"\0" * 128 + b"DICM"), "truncated file"),
    "nopix.dcm": (lambda p: _no_pixels(_dcm(p)), "DICOM without pixel data"),
    "frames_native.dcm": (lambda p: _set_frames(_dcm(p, transfer_syntax="explicit_le", photometric="MONOCHROME2"), 40),
                          "NumberOfFrames says 40 but the data holds 12"),
    "frames_jpeg.dcm": (lambda p: _set_frames(_dcm(p), 40), "NumberOfFrames says 40 but the data holds 12"),
    "frames_rle_more.dcm": (lambda p: _set_frames(_dcm(p, transfer_syntax="rle", photometric="MONOCHROME2"), 5),
                            "NumberOfFrames says 5 but the data holds 12"),
    "random.dcm": (lambda p: p.write_bytes(np.random.default_rng(1).bytes(3000)), "not a DICOM file"),
    "random.avi": (lambda p: p.write_bytes(np.random.default_rng(2).bytes(3000)), "cannot open the video"),
    "random.mp4": (lambda p: p.write_bytes(np.random.default_rng(3).bytes(3000)), "cannot open the video"),
    "random_noext": (lambda p: p.write_bytes(np.random.default_rng(4).bytes(3000)), "not a video or DICOM file"),
    "empty.dcm": (lambda p: p.write_bytes(b""), "zero-byte file"),
    "empty.avi": (lambda p: p.write_bytes(b""), "zero-byte file"),
    "notes": (lambda p: p.write_text("patient list\nnothing to see here\n"), "not a video or DICOM file (text)"),
    "trunc.avi": (lambda p: _truncate(write_video(p, fan_frames(40)), 0.5), "truncated video"),
}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("study")
    (root / "a").mkdir()
    (root / "b" / "deeper").mkdir(parents=True)
    _dcm(root / "a" / "good1.dcm")
    _dcm(root / "b" / "deeper" / "IM0002")  # extensionless DICOM
    write_video(root / "b" / "good3.avi", fan_frames(6))
    for name, (make, _) in BAD.items():
        make(root / "a" / name)
    # silently skipped
    (root / "a" / ".hidden.dcm").write_bytes(b"junk")
    (root / "a" / "FileList.csv").write_text("FileName,EF\n")
    (root / "a" / "meta.json").write_text("{}")
    (root / "a" / "readme.md").write_text("# hi")
    (root / "a" / "log.txt").write_text("x")
    (root / "a" / "masks.npz").write_bytes(b"PK")
    (root / "a" / "thumb.png").write_bytes(b"\x89PNG")
    (root / "__MACOSX").mkdir()
    (root / "__MACOSX" / "._good1.dcm").write_bytes(b"junk")
    (root / "__MACOSX" / "junk.dcm").write_bytes(b"junk")
    return root


def test_scan_finds_loops_and_explains_errors(study):
    t0 = time.perf_counter()
    scan = scan_study(study)
    assert time.perf_counter() - t0 < 15
    assert isinstance(scan, StudyScan)
    assert sorted(lp.path.name for lp in scan.loops) == ["IM0002", "good1.dcm", "good3.avi"]
    errors = {e.path.rsplit("/", 1)[-1]: e for e in scan.errors}
    assert sorted(errors) == sorted(BAD)  # sidecars, hidden files and __MACOSX are skipped silently
    for name, (_, fragment) in BAD.items():
        err = errors[name]
        assert isinstance(err, LoopError)
        assert fragment in str(err), (name, str(err))
        assert "\n" not in str(err) and name in str(err)


def test_scan_is_sorted_and_recursive(study):
    paths = [str(lp.path) for lp in scan_study(study).loops]
    assert paths == sorted(paths)


def test_scan_does_not_decode_everything(study):
    scan = scan_study(study)
    for lp in scan.loops:
        assert len(lp._cache) <= 1  # only the probe frame
        assert lp._grid is None


@pytest.mark.parametrize("name", sorted(BAD))
def test_open_loop_raises_loop_error(study, name):
    with pytest.raises(LoopError) as info:
        open_loop(study / "a" / name)
    assert info.value.path.endswith(name)


def test_missing_path():
    scan = scan_study("/definitely/not/here")
    assert not scan.loops and "no such file" in str(scan.errors[0])
    with pytest.raises(LoopError, match="no such file"):
        open_loop("/definitely/not/here.dcm")


def test_text_file_given_directly(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    with pytest.raises(LoopError, match="not a video or DICOM file"):
        open_loop(p)


def test_scan_of_a_single_file(study):
    scan = scan_study(study / "a" / "good1.dcm")
    assert len(scan.loops) == 1 and not scan.errors


def test_corrupt_frame_in_the_middle(tmp_path):
    """Structure intact, one JPEG frame garbled: opening works, that frame gives a LoopError."""
    p = _dcm(tmp_path / "c.dcm", n=6)
    ds = pydicom.dcmread(p)
    from pydicom.encaps import encapsulate, generate_frames

    frames = list(generate_frames(ds.PixelData, number_of_frames=6))
    frames[4] = b"\xff\xd8" + b"\x00" * (len(frames[4]) - 2)
    ds.PixelData = encapsulate(frames)
    ds.save_as(p)
    loop = open_loop(p)
    assert loop.frame(3).shape[:2] == (96, 128)
    with pytest.raises(LoopError, match="frame 4 cannot be decoded"):
        loop.frame(4)
    with pytest.raises(LoopError):
        loop.grid_frames()
