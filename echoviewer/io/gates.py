"""Whether EchoNet-Dynamic's method applies to a loop: the metadata, view-label and pixel gates.

EchoNet-Dynamic was trained on apical 4-chamber B-mode cines only; its EF on a Doppler strip, a
colour-flow loop or a screenshot is meaningless. The gates run in order of cost, each returning a
`Decision` with one line that says why (the study list, the CLI and the reports show it):

1. metadata (free, from the header the reader already has): the Sequence of Ultrasound Regions
   (RegionSpatialFormat / RegionDataType) and the number of frames against one heart cycle;
2. the view label a file may carry (View Code Sequence, series / image comments): a hint only, it
   can lower confidence, never make a loop analysable;
3. pixels, on a few frames resampled to the model grid (the analysis passes frames it already has):
   colour flow inside the image, and whether there is an ultrasound image at all.

The model's own evidence (a plausible LV, heart rate, EF agreement) needs an analysis and lives in
`echoviewer.pipeline.confidence`. Thresholds were measured on phantoms and the real A4C loop
pydicom ships (`benchmarks/gates_table.py`; docs/architecture.md, "Gates").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from echoviewer.io.region import Region


class Verdict(StrEnum):
    ANALYSABLE = "analysable"
    LOW_CONFIDENCE = "low confidence"  # analysed; its EF stays out of summaries and reports unless included
    NOT_ANALYSABLE = "not analysable"  # the method does not apply: no EF is reported


@dataclass(frozen=True)
class Decision:
    """A gate's verdict and the one line that says why ("" for a plain analysable loop; an
    analysable loop may carry a note such as "2D region only")."""

    verdict: Verdict = Verdict.ANALYSABLE
    reason: str = ""
    gate: str = ""  # "metadata" | "view" | "pixels" | "model" | "user"

    @property
    def analysable(self) -> bool:
        """The method applies (possibly with low confidence)."""
        return self.verdict != Verdict.NOT_ANALYSABLE

    @property
    def reported(self) -> bool:
        """Its EF goes into summaries and reports."""
        return self.verdict == Verdict.ANALYSABLE

    def text(self) -> str:
        """The verdict with its reason, e.g. "not analysable: colour-flow Doppler loop"."""
        return f"{self.verdict.value}: {self.reason}" if self.reason else self.verdict.value

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict.value, "reason": self.reason, "gate": self.gate}

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Decision | None:
        if not d:
            return None
        return cls(Verdict(d["verdict"]), str(d.get("reason", "")), str(d.get("gate", "")))


ANALYSABLE = Decision()


def worst(*decisions: Decision | None) -> Decision:
    """The most restrictive decision (the first of equals); notes of analysable ones are kept."""
    order = {Verdict.ANALYSABLE: 0, Verdict.LOW_CONFIDENCE: 1, Verdict.NOT_ANALYSABLE: 2}
    best: Decision = ANALYSABLE
    for d in decisions:
        if d is None:
            continue
        if order[d.verdict] > order[best.verdict] or (not best.reason and d.verdict == best.verdict):
            best = d
    return best


# -- metadata ------------------------------------------------------------------------------------
#: RegionSpatialFormat (0018,6012) and RegionDataType (0018,6014), DICOM PS3.3 C.8.5.5.1.
SPATIAL_2D, SPATIAL_MMODE, SPATIAL_SPECTRAL, SPATIAL_WAVEFORM = 1, 2, 3, 4
DATA_TISSUE, DATA_COLOUR_FLOW, DATA_PW, DATA_CW = 1, 2, 3, 4
_SPATIAL_WORDS = {SPATIAL_MMODE: "an M-mode strip", SPATIAL_SPECTRAL: "a spectral Doppler strip",
                  SPATIAL_WAVEFORM: "a waveform"}
_DATA_WORDS = {DATA_PW: "a PW Doppler strip", DATA_CW: "a CW Doppler strip"}

#: The fastest heart we accept (bpm): a loop shorter than one cycle at this rate holds no beat.
MAX_HR_BPM = 220.0
MIN_HR_BPM = 30.0
#: The beat rule needs more than 5 frames (the reference's find_peaks raises on fewer).
MIN_FRAMES = 6


@dataclass(frozen=True)
class UsRegion:
    """One item of the Sequence of Ultrasound Regions (box exclusive, clipped to the frame)."""

    spatial_format: int
    data_type: int
    box: Region

    def words(self) -> str:
        return _DATA_WORDS.get(self.data_type) or _SPATIAL_WORDS.get(self.spatial_format) or "a non-image region"


def min_frames(fps: float) -> int:
    """Frames of one heart cycle at MAX_HR_BPM (and never fewer than MIN_FRAMES)."""
    return max(MIN_FRAMES, math.ceil(fps * 60.0 / MAX_HR_BPM)) if fps > 0 else MIN_FRAMES


def metadata_gate(n_frames: int, fps: float, regions: tuple[UsRegion, ...] = ()) -> Decision:
    """What the header says: the ultrasound regions (when the file lists them) and the length."""
    if regions:
        images = [r for r in regions if r.spatial_format in (SPATIAL_2D, SPATIAL_MMODE, SPATIAL_SPECTRAL)]
        if any(r.spatial_format == SPATIAL_2D and r.data_type == DATA_COLOUR_FLOW for r in images):
            return Decision(Verdict.NOT_ANALYSABLE, "colour-flow Doppler loop (its ultrasound regions say so)",
                            "metadata")
        tissue = [r for r in images if r.spatial_format == SPATIAL_2D and r.data_type == DATA_TISSUE]
        others = [r for r in images if r.spatial_format != SPATIAL_2D]
        if images and not tissue:
            return Decision(Verdict.NOT_ANALYSABLE, f"{others[0].words()} without a 2D image", "metadata")
        if tissue and others:
            note = f"analysed in the 2D region only ({others[0].words()} beside it)"
            if n_frames >= 2:
                return Decision(Verdict.ANALYSABLE, note, "metadata")
    if n_frames < 2:
        return Decision(Verdict.NOT_ANALYSABLE, "a single frame: no heart cycle to measure", "metadata")
    need = min_frames(fps)
    if n_frames < need:
        return Decision(Verdict.NOT_ANALYSABLE,
                        f"{n_frames} frames at {fps:.0f} fps: shorter than one heart cycle (needs {need})", "metadata")
    return ANALYSABLE


# -- view label ----------------------------------------------------------------------------------
A4C = "apical 4-chamber"
#: Words a file uses for a view, most specific first; matched case-insensitively on word edges.
_VIEWS: tuple[tuple[str, str], ...] = (
    (r"a4c|ap4|apical[ _-]*(4|four)|4[ _-]*ch(amber)?|four[ _-]*chamber", A4C),
    (r"a2c|ap2|apical[ _-]*(2|two)|2[ _-]*ch(amber)?|two[ _-]*chamber", "apical 2-chamber"),
    (r"a3c|ap3|aplax|apical[ _-]*(3|three|long)|3[ _-]*ch(amber)?", "apical 3-chamber"),
    (r"a5c|apical[ _-]*(5|five)", "apical 5-chamber"),
    (r"plax|psax|parasternal|sax|short[ _-]*axis|long[ _-]*axis", "parasternal"),
    (r"subcostal|subxiphoid|sc4c?|sx", "subcostal"),
    (r"suprasternal|ssn", "suprasternal"),
)
_VIEW_RES = [(re.compile(rf"(?<![a-z0-9])({pat})(?![a-z0-9])", re.IGNORECASE), name) for pat, name in _VIEWS]


def view_of_label(label: str) -> str | None:
    """The view a label names (A4C first), or None when it names none."""
    for rx, name in _VIEW_RES:
        if rx.search(label or ""):
            return name
    return None


def view_gate(label: str) -> Decision:
    """A label naming another view than apical 4-chamber lowers confidence; it never makes a loop
    analysable, and no label says nothing."""
    view = view_of_label(label)
    if view is None or view == A4C:
        return ANALYSABLE
    return Decision(Verdict.LOW_CONFIDENCE, f"the file labels it {view} ({label.strip()[:40]})", "view")


def label_from_dataset(ds) -> str:
    """The first view label the header carries: the View Code Sequence's meaning, then the
    image / series / protocol descriptions ("" when none names a view)."""
    texts: list[str] = []
    try:
        for item in ds.get("ViewCodeSequence", None) or []:
            texts.append(str(item.get("CodeMeaning", "") or ""))
    except Exception:
        pass
    for key in ("ImageComments", "SeriesDescription", "ProtocolName", "AcquisitionContextDescription"):
        try:
            texts.append(str(ds.get(key, "") or ""))
        except Exception:
            continue
    return next((t for t in texts if view_of_label(t)), "")


def regions_from_dataset(ds, width: int, height: int) -> tuple[UsRegion, ...]:
    """Every item of the Sequence of Ultrasound Regions with its format and data type."""
    out = []
    try:
        items = list(ds.get("SequenceOfUltrasoundRegions", None) or [])
    except Exception:
        return ()
    for item in items:
        try:
            sf, dt = int(item.get("RegionSpatialFormat", 0) or 0), int(item.get("RegionDataType", 0) or 0)
            x0, y0 = int(item.RegionLocationMinX0), int(item.RegionLocationMinY0)
            x1, y1 = int(item.RegionLocationMaxX1) + 1, int(item.RegionLocationMaxY1) + 1
        except (AttributeError, TypeError, ValueError):
            continue
        out.append(UsRegion(sf, dt, (max(x0, 0), max(y0, 0), min(x1, width), min(y1, height))))
    return tuple(out)


# -- pixels --------------------------------------------------------------------------------------
#: A grid pixel is coloured when its channels spread by more than this (0-255). Grey B-mode after
#: JPEG 4:2:2 spreads by a few levels; colour-flow maps (red / blue) by 100 and more.
COLOUR_SPREAD = 60
#: Share of coloured pixels on the grid above which a loop is a colour-flow loop. Measured
#: (`benchmarks/gates_table.py`): A4C phantoms 0.0000, the real A4C loop 0.0000, colour-flow
#: phantoms 0.02 and up (a small jet over the mitral valve); 0.005 leaves room both ways.
COLOUR_FRACTION = 0.005
#: Share of bright pixels (> 200) on the grid above which the image is a page, not ultrasound:
#: echo images are mostly dark (phantoms <= 0.03, the real loop 0.02), report pages and
#: screenshots mostly white (0.6 and up).
BRIGHT_FRACTION = 0.35
#: Share of near-black pixels (< 12) below which there is no sector: a sector image is black
#: outside its fan and in the blood pools (phantoms and the real loop >= 0.3; a page 0.0).
DARK_FRACTION = 0.05
#: Frames sampled for the pixel gate.
PIXEL_SAMPLES = 4


def sample_indices(n_frames: int, k: int = PIXEL_SAMPLES) -> np.ndarray:
    return np.unique(np.linspace(0, max(n_frames - 1, 0), min(max(n_frames, 1), k)).round().astype(int))


@dataclass(frozen=True)
class PixelFacts:
    colour: float  # share of coloured pixels
    bright: float  # share of pixels brighter than 200
    dark: float  # share of pixels darker than 12


def pixel_facts(grid: np.ndarray) -> PixelFacts:
    """Measures of (k,112,112,3) uint8 grid frames."""
    g = np.asarray(grid)
    if g.ndim == 3:
        g = g[..., None]
    hi = g.max(axis=-1).astype(np.int16)
    lo = g.min(axis=-1).astype(np.int16)
    return PixelFacts(colour=float(((hi - lo) > COLOUR_SPREAD).mean()), bright=float((lo > 200).mean()),
                      dark=float((hi < 12).mean()))


def pixel_gate(grid: np.ndarray) -> Decision:
    """Colour flow, or no ultrasound sector at all, on a few frames on the model grid."""
    f = pixel_facts(grid)
    if f.bright > BRIGHT_FRACTION or f.dark < DARK_FRACTION:
        return Decision(Verdict.NOT_ANALYSABLE, "no ultrasound sector (a screenshot or report page?)", "pixels")
    if f.colour > COLOUR_FRACTION:
        return Decision(Verdict.NOT_ANALYSABLE,
                        f"colour-flow Doppler loop ({100 * f.colour:.1f} % coloured pixels in the image)", "pixels")
    return ANALYSABLE


def sample_grid(loop, k: int = PIXEL_SAMPLES) -> np.ndarray:
    """k frames of ``loop`` (decoded now, evenly spread) on the model grid, (k,112,112,3)."""
    tr = loop.transform
    out = []
    for i in sample_indices(loop.n_frames, k):
        g = tr.warp_to_grid(loop.frame(int(i)))
        out.append(np.repeat(g[..., None], 3, axis=2) if g.ndim == 2 else g)
    return np.stack(out)


# -- all of it -----------------------------------------------------------------------------------
def screen(loop, grid: np.ndarray | None = None) -> Decision:
    """Metadata, view label and pixels of a `Loop`, cheapest first; the pixel gate reads ``grid``
    (frames on the model grid the caller already has) or decodes PIXEL_SAMPLES frames."""
    regions = loop.info.get("us_regions") or ()
    d = metadata_gate(loop.n_frames, loop.fps, regions)
    if not d.analysable:
        return d
    if grid is not None and len(grid):
        sample = np.asarray(grid)[sample_indices(len(grid))]
    else:
        sample = sample_grid(loop)
    return worst(d, pixel_gate(sample), view_gate(str(loop.info.get("view_label", "") or "")))


def apply_override(decision: Decision, override: dict | None) -> Decision:
    """A person's choice over the gates: {"choice": "a4c" | "exclude", "user": ...} (None: none)."""
    if not override:
        return decision
    who = str(override.get("user", "") or "the user")
    if override.get("choice") == "exclude":
        return Decision(Verdict.NOT_ANALYSABLE, f"excluded by {who}", "user")
    if override.get("choice") == "a4c":
        return Decision(Verdict.ANALYSABLE, f"analysed as apical 4-chamber by {who}", "user")
    return decision
