"""DICOM variants written by our writer must come back through the reader."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from echoviewer.io import GridTransform, LoopError, open_loop
from echoviewer.io.dicom_write import write_ultrasound_dicom

from .conftest import H, W, fan_bbox, fan_frames

REGION = (10, 6, 120, 90)
CM = 0.0425

LOSSLESS = ["explicit_le", "implicit_le", "explicit_be", "rle", "jpeg2000", "jpeg_lossless"]


def _stack(loop) -> np.ndarray:
    return np.stack([loop.frame(i) for i in range(loop.n_frames)])


def _rgb(frames: np.ndarray) -> np.ndarray:
    return np.repeat(frames[..., None], 3, axis=-1) if frames.ndim == 3 else frames


@pytest.mark.parametrize("syntax", LOSSLESS)
@pytest.mark.parametrize("photometric", ["RGB", "MONOCHROME2", "YBR_FULL"])
def test_lossless_round_trip(tmp_path, syntax, photometric, colour_frames, grey_frames):
    src = grey_frames if photometric == "MONOCHROME2" else colour_frames
    p = write_ultrasound_dicom(tmp_path / "a.dcm", src, fps=25, region=REGION, cm_per_pixel=CM,
                               transfer_syntax=syntax, photometric=photometric)
    loop = open_loop(p)
    assert loop.kind == "dicom"
    assert (loop.n_frames, loop.height, loop.width) == (len(src), H, W)
    assert loop.fps == pytest.approx(25.0) and loop.fps_source == "FrameTime"
    assert loop.cm_per_pixel == pytest.approx(CM)
    assert loop.region == REGION and loop.region_source == "ultrasound_regions"
    assert loop.transform == GridTransform.from_region(REGION)
    got = _stack(loop)
    if photometric == "YBR_FULL":  # RGB -> YBR -> RGB costs at most one level of rounding
        assert np.abs(got.astype(int) - src).max() <= 2
    else:
        assert np.array_equal(got, src)
    assert got.dtype == np.uint8


@pytest.mark.parametrize("photometric", ["YBR_FULL_422", "YBR_FULL", "RGB"])
def test_jpeg_baseline_colour(tmp_path, photometric, colour_frames):
    p = write_ultrasound_dicom(tmp_path / "j.dcm", colour_frames, fps=50, region=REGION, cm_per_pixel=CM,
                               photometric=photometric, quality=95)
    ds = pydicom.dcmread(p, stop_before_pixels=True)
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGBaseline8Bit
    assert ds.PhotometricInterpretation == photometric
    if photometric.startswith("YBR"):  # luma sampling 2x1 = 4:2:2 for YBR_FULL_422, 1x1 = 4:4:4
        import io

        from PIL import Image
        from pydicom.encaps import generate_frames

        frame0 = next(generate_frames(pydicom.dcmread(p).PixelData, number_of_frames=8))
        luma = Image.open(io.BytesIO(frame0)).layer[0][1:3]
        assert luma == ((2, 1) if photometric == "YBR_FULL_422" else (1, 1))
    loop = open_loop(p)
    got = np.stack([loop.frame_rgb(i) for i in range(loop.n_frames)]).astype(int)
    err = np.abs(got - colour_frames)
    assert err.mean() < 4, err.mean()
    # colour survives (not converted twice, not dropped): the red marker is still red
    marker = got[:, 3:7, W - 9 : W - 5].reshape(-1, 3).mean(0)
    assert marker[0] > 170 and marker[1] < 100 and marker[2] < 100, marker
    # and matches what pydicom's own pixel_array gives
    ref = pydicom.dcmread(p).pixel_array
    assert np.array_equal(got, ref)


def test_jpeg_baseline_default_grey_is_stored_compact(tmp_path, grey_frames):
    p = write_ultrasound_dicom(tmp_path / "g.dcm", grey_frames, fps=50)  # defaults: JPEG, YBR_FULL_422
    loop = open_loop(p)
    f = loop.frame(3)
    assert f.ndim == 2  # grey content -> one channel kept
    assert np.abs(f.astype(int) - grey_frames[3]).mean() < 3
    ref = pydicom.dcmread(p).pixel_array[3]
    assert np.array_equal(ref[..., 0], f) and np.array_equal(ref[..., 1], f)


def test_jpeg_baseline_monochrome(tmp_path, grey_frames):
    p = write_ultrasound_dicom(tmp_path / "m.dcm", grey_frames, fps=50, photometric="MONOCHROME2")
    loop = open_loop(p)
    assert np.abs(_stack(loop).astype(int) - grey_frames).mean() < 3


@pytest.mark.parametrize("syntax", ["explicit_le", "rle", "jpeg2000"])
def test_palette_colour_applies_lut(tmp_path, syntax):
    # 3 x 4 x 3 = 36 distinct colours: the palette holds them exactly, in an order unrelated to value
    rng = np.random.default_rng(3)
    levels = np.array([0, 90, 200, 255])
    idx = rng.integers(0, 4, (4, H, W, 3))
    frames = levels[idx].astype(np.uint8)
    frames[..., 0] = np.minimum(frames[..., 0], 200)
    p = write_ultrasound_dicom(tmp_path / "p.dcm", frames, fps=30, transfer_syntax=syntax, photometric="PALETTE COLOR")
    ds = pydicom.dcmread(p)
    assert ds.PhotometricInterpretation == "PALETTE COLOR"
    assert not np.array_equal(ds.pixel_array, frames[..., 0])  # stored values are indices
    loop = open_loop(p)
    assert np.array_equal(np.stack([loop.frame_rgb(i) for i in range(4)]), frames)


def test_monochrome1_is_inverted(tmp_path, grey_frames):
    p = write_ultrasound_dicom(tmp_path / "m1.dcm", grey_frames, fps=30, transfer_syntax="explicit_le",
                               photometric="MONOCHROME1")
    ds = pydicom.dcmread(p)
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    assert np.array_equal(ds.pixel_array, 255 - grey_frames)  # stored inverted
    assert np.array_equal(_stack(open_loop(p)), grey_frames)  # displayed as intended


def test_native_ybr_full_422(tmp_path):
    # smooth colours: 4:2:2 chroma subsampling loses little
    yy, xx = np.mgrid[:H, :W]
    frames = (np.stack([np.stack([xx + t, np.full_like(xx, 100), 255 - xx - yy], -1) for t in range(3)])
              .clip(0, 255).astype(np.uint8))
    p = write_ultrasound_dicom(tmp_path / "y.dcm", frames, fps=30, transfer_syntax="explicit_le",
                               photometric="YBR_FULL_422")
    loop = open_loop(p)
    got = _stack(loop).astype(int)
    assert got.shape == frames.shape and np.abs(got - frames).max() <= 3


@pytest.mark.parametrize("syntax", ["explicit_le", "explicit_be", "jpeg2000"])
def test_more_than_8_bits_rescaled(tmp_path, syntax):
    yy, xx = np.mgrid[:H, :W]
    frames = np.stack([1000 + ((xx * 24 + t * 7) % 3000) for t in range(3)]).astype(np.uint16)  # 1000..3999
    p = write_ultrasound_dicom(tmp_path / "b.dcm", frames, fps=30, transfer_syntax=syntax, photometric="MONOCHROME2",
                               BitsStored=12, HighBit=11)
    ds = pydicom.dcmread(p)
    assert ds.BitsAllocated == 16 and np.array_equal(ds.pixel_array, frames)  # the file is right
    loop = open_loop(p)
    got = _stack(loop).astype(int)
    lo, hi = frames[0].min(), frames[0].max()
    expect = np.clip((frames.astype(float) - lo) * 255 / (hi - lo) + 0.5, 0, 255).astype(int)
    assert np.abs(got - expect).max() <= 1


def test_more_than_8_bits_uses_window(tmp_path):
    frames = np.stack([np.full((H, W), v, np.uint16) for v in (1000, 1500, 2000)])
    p = write_ultrasound_dicom(tmp_path / "w.dcm", frames, fps=30, transfer_syntax="explicit_le",
                               photometric="MONOCHROME2", BitsStored=12, HighBit=11, WindowCenter=1500,
                               WindowWidth=1000)
    loop = open_loop(p)
    assert [int(loop.frame(i)[0, 0]) for i in range(3)] == [0, 128, 255]


# -- timing -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "fps, extra, expect, source",
    [
        (25.0, {}, 25.0, "FrameTime"),
        (None, {"FrameTimeVector": [0] + [20.0] * 7, "FrameIncrementPointer": 0x00181065}, 50.0, "FrameTimeVector"),
        (None, {"CineRate": 30}, 30.0, "CineRate"),
        (None, {"RecommendedDisplayFrameRate": 60}, 60.0, "RecommendedDisplayFrameRate"),
        (None, {}, 50.0, "default"),
        (40.0, {"FrameTime": 0, "CineRate": 40}, 40.0, "CineRate"),  # implausible FrameTime skipped
        (None, {"CineRate": 5000}, 50.0, "default"),  # implausible rate
    ],
)
def test_fps_sources(tmp_path, grey_frames, fps, extra, expect, source):
    p = write_ultrasound_dicom(tmp_path / "f.dcm", grey_frames, fps=fps, transfer_syntax="explicit_le",
                               photometric="MONOCHROME2", **extra)
    loop = open_loop(p)
    assert loop.fps == pytest.approx(expect) and loop.fps_source == source


# -- calibration and region ---------------------------------------------------------------------
def _region_item(x0, y0, x1, y1, dtype=1, units=3, delta=0.05):
    it = Dataset()
    it.RegionSpatialFormat = 1
    it.RegionDataType = dtype
    it.RegionFlags = 0
    it.RegionLocationMinX0, it.RegionLocationMinY0 = x0, y0
    it.RegionLocationMaxX1, it.RegionLocationMaxY1 = x1, y1
    it.PhysicalUnitsXDirection = it.PhysicalUnitsYDirection = units
    it.PhysicalDeltaX = it.PhysicalDeltaY = delta
    return it


def test_largest_tissue_region_wins(tmp_path, grey_frames):
    seq = Sequence([
        _region_item(0, 0, 39, 29, delta=0.1),  # small tissue region
        _region_item(0, 0, 127, 95, dtype=3, delta=0.2),  # bigger, but spectral Doppler
        _region_item(20, 10, 109, 89, delta=0.05),  # the largest tissue region
    ])
    p = write_ultrasound_dicom(tmp_path / "r.dcm", grey_frames, fps=30, transfer_syntax="explicit_le",
                               photometric="MONOCHROME2", SequenceOfUltrasoundRegions=seq)
    loop = open_loop(p)
    assert loop.region == (20, 10, 110, 90)  # inclusive max -> exclusive
    assert loop.cm_per_pixel == pytest.approx(0.05)


def test_region_without_cm_units(tmp_path, grey_frames):
    seq = Sequence([_region_item(20, 10, 109, 89, units=0, delta=0)])
    p = write_ultrasound_dicom(tmp_path / "r.dcm", grey_frames, fps=30, transfer_syntax="rle",
                               photometric="MONOCHROME2", SequenceOfUltrasoundRegions=seq)
    loop = open_loop(p)
    assert loop.region == (20, 10, 110, 90) and loop.cm_per_pixel is None


def test_no_region_is_detected_from_motion(tmp_path, grey_frames):
    p = write_ultrasound_dicom(tmp_path / "n.dcm", grey_frames, fps=30)
    loop = open_loop(p)
    assert loop.cm_per_pixel is None
    assert loop.region_source == "pending"  # not computed at open time
    x0, y0, x1, y1 = loop.region
    assert loop.region_source == "motion"
    ex = fan_bbox()
    assert max(abs(a - b) for a, b in zip((x0, y0, x1, y1), ex)) <= 2, (loop.region, ex)
    assert loop.transform == GridTransform.from_region(loop.region)


def test_grid_frames_follow_the_transform(tmp_path, colour_frames):
    p = write_ultrasound_dicom(tmp_path / "g.dcm", colour_frames, fps=30, region=REGION, transfer_syntax="rle",
                               photometric="RGB")
    loop = open_loop(p)
    grid = loop.grid_frames()
    assert grid.shape == (8, 112, 112, 3) and grid.dtype == np.uint8
    tr = GridTransform.from_region(REGION)
    assert np.array_equal(grid[5], tr.warp_to_grid(colour_frames[5]))
    assert loop.grid_frames() is grid  # cached


def test_single_frame(tmp_path, grey_frames):
    p = write_ultrasound_dicom(tmp_path / "s.dcm", grey_frames[0], fps=None, transfer_syntax="explicit_le",
                               photometric="MONOCHROME2")
    ds = pydicom.dcmread(p)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.6.1" and "NumberOfFrames" not in ds
    loop = open_loop(p)
    assert loop.n_frames == 1 and loop.fps_source == "default"
    assert np.array_equal(loop.frame(0), grey_frames[0])
    assert loop.region_source in ("pending",) and loop.region  # detected from the one frame
    assert loop.region_source == "nonblack"
    assert loop.grid_frames().shape == (1, 112, 112, 3)


def test_writer_metadata(tmp_path, colour_frames):
    p = write_ultrasound_dicom(tmp_path / "m.dcm", colour_frames, fps=50, region=REGION, cm_per_pixel=CM,
                               PatientName="DOE^JANE")
    ds = pydicom.dcmread(p)
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.3.1" and ds.Modality == "US"
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    for key in ("StudyInstanceUID", "SeriesInstanceUID", "PatientID"):
        assert ds.get(key)
    assert ds.PatientName == "DOE^JANE"
    assert int(ds.NumberOfFrames) == 8 and float(ds.FrameTime) == pytest.approx(20.0) and int(ds.CineRate) == 50
    reg = ds.SequenceOfUltrasoundRegions[0]
    assert (reg.RegionLocationMinX0, reg.RegionLocationMinY0,
            reg.RegionLocationMaxX1, reg.RegionLocationMaxY1) == (10, 6, 119, 89)
    assert reg.PhysicalUnitsXDirection == 3 and reg.PhysicalDeltaX == pytest.approx(CM)


def test_writer_streams_an_iterator(tmp_path, grey_frames):
    a = write_ultrasound_dicom(tmp_path / "a.dcm", grey_frames, fps=30, transfer_syntax="rle",
                               photometric="MONOCHROME2")
    b = write_ultrasound_dicom(tmp_path / "b.dcm", (f for f in grey_frames), fps=30, transfer_syntax="rle",
                               photometric="MONOCHROME2")
    assert np.array_equal(_stack(open_loop(a)), _stack(open_loop(b)))


@pytest.mark.parametrize("kw", [dict(transfer_syntax="nope"), dict(photometric="CMYK"),
                                dict(photometric="PALETTE COLOR"),
                                dict(transfer_syntax="rle", photometric="YBR_FULL_422")])
def test_writer_rejects_bad_options(tmp_path, grey_frames, kw):
    with pytest.raises(ValueError):
        write_ultrasound_dicom(tmp_path / "x.dcm", grey_frames, fps=30, **kw)


def test_extensionless_dicom(tmp_path, grey_frames):
    p = write_ultrasound_dicom(tmp_path / "IM_0001", grey_frames, fps=30)
    assert open_loop(p).n_frames == 8


def test_dicom_without_preamble(tmp_path, grey_frames):
    """A bare dataset (no preamble, no file meta: implicit VR LE), as old devices write it."""
    p = write_ultrasound_dicom(tmp_path / "x.dcm", grey_frames, fps=30, transfer_syntax="implicit_le",
                               photometric="MONOCHROME2")
    ds = pydicom.dcmread(p)
    ds.preamble = None
    del ds.file_meta
    bare = tmp_path / "bare"
    ds.save_as(bare, enforce_file_format=False, implicit_vr=True, little_endian=True)
    data = bare.read_bytes()
    assert data[128:132] != b"DICM" and data[:4] == b"\x08\x00\x05\x00"
    loop = open_loop(bare)
    assert loop.kind == "dicom" and np.array_equal(_stack(loop), grey_frames)


def test_frame_index_errors(tmp_path, grey_frames):
    loop = open_loop(write_ultrasound_dicom(tmp_path / "x.dcm", grey_frames, fps=30))
    with pytest.raises(IndexError):
        loop.frame(8)
    assert np.array_equal(loop.frame(-1), loop.frame(7))


def test_not_dicom_by_extension_only(tmp_path):
    p = tmp_path / "x.dcm"
    p.write_bytes(np.random.default_rng(0).bytes(4000))
    with pytest.raises(LoopError, match="not a DICOM file"):
        open_loop(p)


def test_echonet_sized_dicom_is_identity(tmp_path):
    frames = fan_frames(5, 112, 112, colour=True)
    p = write_ultrasound_dicom(tmp_path / "e.dcm", frames, fps=50, region=(5, 5, 100, 100), cm_per_pixel=0.1,
                               transfer_syntax="rle", photometric="RGB")
    loop = open_loop(p)
    assert loop.region == (0, 0, 112, 112) and loop.transform.is_identity()
    assert loop.cm_per_pixel == pytest.approx(0.1)
    assert np.array_equal(loop.grid_frames(), frames)


def test_identity_is_read_from_the_header(tmp_path, grey_frames):
    p = write_ultrasound_dicom(tmp_path / "id.dcm", grey_frames, fps=50, transfer_syntax="explicit_le")
    ds = pydicom.dcmread(p)
    ds.PatientName, ds.PatientID, ds.AccessionNumber, ds.StudyDate = "DOE^JANE^Q", "MRN42", "A7", "20240131"
    ds.save_as(p)
    ident = open_loop(p).identity
    assert (ident.display_name, ident.patient_id, ident.accession, ident.study_date_text) == (
        "DOE, JANE Q", "MRN42", "A7", "2024-01-31")
    assert ident.sop_instance_uid == str(ds.SOPInstanceUID) and ident.from_dicom
    assert ident.study_uid == str(ds.StudyInstanceUID)
