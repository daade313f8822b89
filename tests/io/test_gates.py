"""The gates before any model runs (io/gates.py): metadata, view label, pixels; each both ways."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from echoviewer.io import open_loop
from echoviewer.io.gates import (
    ANALYSABLE,
    Decision,
    UsRegion,
    Verdict,
    apply_override,
    label_from_dataset,
    metadata_gate,
    min_frames,
    pixel_gate,
    regions_from_dataset,
    screen,
    view_gate,
    view_of_label,
    worst,
)
from echoviewer.io.loop import Loop
from echoviewer.io.region import region_from_dataset

TISSUE_2D = UsRegion(1, 1, (0, 0, 100, 100))
COLOUR_2D = UsRegion(1, 2, (0, 0, 100, 100))
SPECTRAL = UsRegion(3, 3, (0, 100, 100, 160))
MMODE = UsRegion(2, 1, (0, 100, 100, 160))


def test_metadata_gate_passes_a_2d_tissue_cine():
    assert metadata_gate(60, 50.0, (TISSUE_2D,)) == ANALYSABLE
    assert metadata_gate(60, 50.0, ()) == ANALYSABLE  # no regions listed: nothing to say


@pytest.mark.parametrize("regions, words", [
    ((SPECTRAL,), "PW Doppler strip without a 2D image"),
    ((MMODE,), "M-mode strip without a 2D image"),
    ((TISSUE_2D, COLOUR_2D), "colour-flow"),
])
def test_metadata_gate_rejects_what_is_not_2d_tissue(regions, words):
    d = metadata_gate(60, 50.0, regions)
    assert d.verdict == Verdict.NOT_ANALYSABLE and words in d.reason and d.gate == "metadata"


@pytest.mark.parametrize("strip", [SPECTRAL, MMODE])
def test_a_strip_beside_a_2d_region_is_analysed_in_the_2d_region(strip):
    d = metadata_gate(60, 50.0, (TISSUE_2D, strip))
    assert d.analysable and d.reported and "2D region only" in d.reason


def test_too_few_frames_for_one_cycle():
    assert metadata_gate(1, 50.0).reason.startswith("a single frame")
    need = min_frames(50.0)  # one cycle at 220 bpm: 14 frames at 50 fps
    assert need == 14
    assert not metadata_gate(need - 1, 50.0).analysable
    assert metadata_gate(need, 50.0).analysable
    assert not metadata_gate(5, 10.0).analysable  # never fewer than the beat rule needs


def test_region_from_dataset_ignores_an_m_mode_strip_larger_than_the_2d_image():
    ds = Dataset()
    items = []
    for sf, box in ((2, (0, 0, 319, 239)), (1, (40, 10, 200, 120))):  # M-mode (tissue data) first and larger
        it = Dataset()
        it.RegionSpatialFormat, it.RegionDataType = sf, 1
        it.RegionLocationMinX0, it.RegionLocationMinY0, it.RegionLocationMaxX1, it.RegionLocationMaxY1 = box
        items.append(it)
    ds.SequenceOfUltrasoundRegions = Sequence(items)
    region, _ = region_from_dataset(ds, 320, 240)
    assert region == (40, 10, 201, 121)
    assert [r.spatial_format for r in regions_from_dataset(ds, 320, 240)] == [2, 1]


@pytest.mark.parametrize("label, view", [
    ("A4C", "apical 4-chamber"), ("Apical 4 chamber", "apical 4-chamber"), ("PLAX", "parasternal"),
    ("SAX papillary", "parasternal"), ("Subcostal 4C", "subcostal"), ("A2C zoom", "apical 2-chamber"),
    ("Echo phantom", None), ("", None),
])
def test_view_labels(label, view):
    assert view_of_label(label) == view


def test_the_view_label_is_a_hint_that_only_lowers_confidence():
    assert view_gate("A4C") == ANALYSABLE
    assert view_gate("") == ANALYSABLE
    d = view_gate("PLAX")
    assert d.verdict == Verdict.LOW_CONFIDENCE and "parasternal" in d.reason
    ds = Dataset()
    ds.SeriesDescription = "Adult echo"
    ds.ImageComments = "PSAX mid"
    assert label_from_dataset(ds) == "PSAX mid"


def _fan(n=4, colour=False, seed=0):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:112, :112]
    fan = (np.abs(np.arctan2(xx - 56, yy + 2)) < 0.7) & (np.hypot(xx - 56, yy + 2) < 110)
    f = np.where(fan, rng.uniform(20, 160, (n, 112, 112)), 0).astype(np.uint8)
    f = np.repeat(f[..., None], 3, axis=3)
    if colour:
        f[:, 40:70, 40:70] = (200, 30, 20)  # a colour-flow jet: 7 % of the image
    return f


def test_pixel_gate_passes_grey_ultrasound_and_rejects_colour_flow():
    assert pixel_gate(_fan()) == ANALYSABLE
    d = pixel_gate(_fan(colour=True))
    assert d.verdict == Verdict.NOT_ANALYSABLE and d.reason.startswith("colour-flow")


def test_pixel_gate_rejects_a_page_without_a_sector():
    page = np.full((2, 112, 112, 3), 245, np.uint8)
    page[:, 10:14, 5:90] = 20  # a line of text
    d = pixel_gate(page)
    assert d.verdict == Verdict.NOT_ANALYSABLE and "no ultrasound sector" in d.reason
    flat_grey = np.full((2, 112, 112, 3), 128, np.uint8)  # not white, but no black sector around anything
    assert not pixel_gate(flat_grey).analysable


def test_screen_in_memory_loop():
    assert screen(Loop.from_frames(_fan(30), fps=30)) == ANALYSABLE
    d = screen(Loop.from_frames(_fan(30, colour=True), fps=30))
    assert d.gate == "pixels" and not d.analysable
    assert screen(Loop.from_frames(_fan(3), fps=30)).gate == "metadata"  # cheapest first


def test_the_real_a4c_loop_pydicom_ships_passes_every_gate_before_the_models():
    loop = open_loop(get_testdata_file("examples_ybr_color.dcm"))
    try:
        assert loop.info["us_regions"][0].spatial_format == 1
        assert screen(loop) == ANALYSABLE
    finally:
        loop.close()


def test_worst_and_overrides():
    low = Decision(Verdict.LOW_CONFIDENCE, "x", "model")
    no = Decision(Verdict.NOT_ANALYSABLE, "y", "pixels")
    note = Decision(Verdict.ANALYSABLE, "2D region only", "metadata")
    assert worst(ANALYSABLE, note) == note
    assert worst(note, low, no) == no
    assert worst(low, Decision(Verdict.LOW_CONFIDENCE, "z")) == low
    assert apply_override(no, {"choice": "a4c", "user": "ann"}).reported
    assert "ann" in apply_override(no, {"choice": "a4c", "user": "ann"}).reason
    assert not apply_override(ANALYSABLE, {"choice": "exclude", "user": "ann"}).analysable
    assert apply_override(low, None) == low
    assert Decision.from_dict(no.to_dict()) == no
    assert no.text() == "not analysable: y"


def test_dicom_reader_keeps_the_view_label(tmp_path):
    from echoviewer.io.dicom_write import write_ultrasound_dicom

    p = write_ultrasound_dicom(tmp_path / "x.dcm", _fan(20)[..., 0], 30.0, region=(0, 0, 112, 112),
                               transfer_syntax="explicit_le", photometric="MONOCHROME2", SeriesDescription="PLAX")
    loop = open_loop(p)
    try:
        assert loop.info["view_label"] == "PLAX"
        assert loop.summary()["view_label"] == "PLAX"
        assert screen(loop).verdict == Verdict.LOW_CONFIDENCE
    finally:
        loop.close()
    assert pydicom.dcmread(p).SeriesDescription == "PLAX"
