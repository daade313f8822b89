"""The corrections a sonographer makes to one loop's analysis, with undo/redo and an audit trail.

State is plain JSON-able data (so undo is a stack of snapshots and autosave is one file write).
Coordinates are on the 112x112 model grid, the frame the models and the EchoNet export use; the
UI maps them to native pixels through the loop's GridTransform.

A beat holds its ED and ES frames, whether it is excluded (with a reason), where it came from
("model" or "user") and, per phase, an optional edited tracing: a closed contour plus the long
axis (apex and mitral-annulus midpoint). A phase without an edited tracing uses the model's mask
of that frame.

Measurements (calipers, ``state["measurements"]``, absent from files written before them) are
the exception to the 112 grid: each is stored in the loop's *native* pixels (frame index, points
with pixel centres at integer coordinates) with the native pixel spacing it was measured with
(``cm_per_pixel``, None when the loop is not calibrated), so its value (`analysis.calipers`) needs
neither the loop nor its grid transform and does not change if the grid mapping ever does.
"""

from __future__ import annotations

import copy
import functools
import getpass
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from echoviewer.analysis.beat_summary import BeatFigures, BeatSummary, summarise_beats
from echoviewer.analysis.calipers import Measured, check_points, measure
from echoviewer.analysis.tracing import Tracing, ef_from_volumes, tracing_from_contour, tracing_from_mask

FORMAT = "echoviewer-corrections/1"
PHASES = ("ed", "es")
#: A person's choices over the gates: analyse as apical 4-chamber, exclude, or back to the gates.
OVERRIDES = ("a4c", "exclude", None)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@functools.lru_cache(maxsize=1)
def default_user() -> str:
    """The login name, looked up once: without $USER it is a passwd lookup (2 ms), and each
    finished analysis asks for it."""
    try:
        return getpass.getuser()
    except Exception:  # no login name (some containers)
        return "unknown"


def _analysis_tracings(analysis) -> dict[int, Tracing | None]:
    """The tracings the pipeline already made of its ED/ES masks, by frame (it traces them with
    the same ``tracing_from_mask``), so showing a fresh analysis traces nothing again."""
    out: dict[int, Tracing | None] = {}
    for b in getattr(analysis, "beats", None) or []:
        for frame, t in ((b.ed_frame, b.ed_tracing), (b.es_frame, b.es_tracing)):
            if t is not None:
                out[int(frame)] = t
    return out


@dataclass
class BeatValues:
    """A beat as reported: frames, tracings and volumes after corrections."""

    id: int
    number: int
    ed_frame: int
    es_frame: int
    excluded: bool
    exclude_reason: str | None
    corrected: bool
    origin: str
    ed_tracing: Tracing | None
    es_tracing: Tracing | None
    edv: float | None
    esv: float | None
    ef: float | None  # method of disks on the (corrected) tracings
    model: dict[str, Any]  # the model's original values for this beat (empty for user-added beats)


class Corrections:
    """Edits of one loop. Every public mutator is one undoable, audited edit."""

    def __init__(self, analysis=None, state: dict | None = None, user: str | None = None):
        self.analysis = analysis
        self.user = user or default_user()
        self.state = state if state is not None else self._initial_state(analysis)
        self.state.setdefault("measurements", [])  # files from before calipers have none
        self.state.setdefault("gate_override", None)  # nor files from before the gates
        self._undo: list[dict] = []
        self._redo: list[dict] = []
        self.listeners: list = []  # called with (self, action) after each completed edit, undo and redo
        self._mask_tracings = _analysis_tracings(analysis)  # per frame; an analysis' masks never change
        self._mask_tracings_of = analysis
        self._version = 0  # bumped by every edit, undo and redo
        self._traced: tuple[int, dict[int, np.ndarray]] | None = None  # (version, frame -> mask)

    # -- construction -------------------------------------------------------------------------
    @staticmethod
    def _initial_state(analysis) -> dict:
        beats = []
        model = {}
        if analysis is not None:
            for b in analysis.beats:
                beats.append({
                    "id": b.number, "ed_frame": b.ed_frame, "es_frame": b.es_frame, "origin": "model",
                    "excluded": not b.included,
                    "exclude_reason": None if b.included else ("; ".join(b.flags) or "excluded by the analysis"),
                    "tracings": {},
                    "model": {"ed_frame": b.ed_frame, "es_frame": b.es_frame, "ef_model": b.ef_model,
                              "ef_seg": b.ef_seg, "edv": b.edv, "esv": b.esv, "included": b.included},
                })
            model = {
                "seg_weights": analysis.seg_info.name, "seg_sha256": analysis.seg_info.sha256,
                "ef_weights": analysis.ef_info.name, "ef_sha256": analysis.ef_info.sha256,
                "demo": analysis.demo, "ef_mean": analysis.ef_mean, "ef_sd": analysis.ef_sd,
            }
        return {"format": FORMAT, "loop": {}, "model": model, "beats": beats, "audit": [], "measurements": [],
                "gate_override": None}

    # -- queries ------------------------------------------------------------------------------
    @property
    def beats(self) -> list[dict]:
        return self.state["beats"]

    @property
    def audit(self) -> list[dict]:
        return self.state["audit"]

    @property
    def has_edits(self) -> bool:
        return bool(self.state["audit"])

    @property
    def measurements(self) -> list[dict]:
        """Calipers: {"id", "kind", "frame", "points" (native px), "cm_per_pixel", "user", "time"}."""
        return self.state["measurements"]

    @property
    def gate_override(self) -> dict | None:
        """A person's choice over the gates (io/gates.py): {"choice": "a4c" | "exclude", "user", "time"},
        None when nobody made one."""
        return self.state.get("gate_override")

    def measurement(self, measurement_id: int) -> dict:
        for m in self.measurements:
            if m["id"] == measurement_id:
                return m
        raise KeyError(f"no measurement {measurement_id}")

    @staticmethod
    def value_of(m: dict) -> Measured:
        """A measurement's value: cm / cm² / mL when it was measured calibrated, px / px² / px³ otherwise."""
        return measure(m["kind"], m["points"], m.get("cm_per_pixel"))

    def beat(self, beat_id: int) -> dict:
        for b in self.beats:
            if b["id"] == beat_id:
                return b
        raise KeyError(f"no beat {beat_id}")

    def can_undo(self) -> bool:
        return bool(self._undo)

    def can_redo(self) -> bool:
        return bool(self._redo)

    def tracing(self, beat: dict, phase: str) -> Tracing | None:
        """The beat's tracing for a phase: the edited one, else the model mask's."""
        t = beat["tracings"].get(phase)
        if t is not None:
            return tracing_from_contour(np.asarray(t["contour"], float), np.asarray(t["apex"], float),
                                        np.asarray(t["base_mid"], float))
        frame = beat[f"{phase}_frame"]
        if self.analysis is None or not (0 <= frame < len(self.analysis.masks)):
            return None
        if self._mask_tracings_of is not self.analysis:  # a new analysis (re-analysed loop)
            self._mask_tracings, self._mask_tracings_of = _analysis_tracings(self.analysis), self.analysis
        key = int(frame)
        if key not in self._mask_tracings:
            self._mask_tracings[key] = tracing_from_mask(self.analysis.masks[frame])
        return self._mask_tracings[key]

    def traced_masks(self) -> dict[int, np.ndarray]:
        """Frame -> (112,112) mask of a tracing a person drew or edited on it (beats not deleted).
        What is drawn on those frames, so that what is shown is what was measured."""
        if self._traced is None or self._traced[0] != self._version:
            out: dict[int, np.ndarray] = {}
            for b in self.beats:
                for phase in PHASES:
                    if phase in b["tracings"]:
                        t = self.tracing(b, phase)
                        if t is not None:
                            out[int(b[f"{phase}_frame"])] = t.rasterize()
            self._traced = (self._version, out)
        return self._traced[1]

    def values(self) -> list[BeatValues]:
        return self._values_of(self.beats)

    def preview_tracing(self, beat_id: int, phase: str, contour, apex,
                        base_mid) -> tuple[list[BeatValues], BeatSummary]:
        """(values(), summary()) as they would be after set_tracing(...), without changing anything
        (no undo step, no audit entry, no listeners): live values while a tracing is being dragged."""
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}")
        t = {"contour": np.asarray(contour, float).reshape(-1, 2).tolist(),
             "apex": np.asarray(apex, float).tolist(), "base_mid": np.asarray(base_mid, float).tolist()}
        beats = [{**b, "tracings": {**b["tracings"], phase: t}} if b["id"] == beat_id else b for b in self.beats]
        if not any(b["id"] == beat_id for b in beats):
            raise KeyError(f"no beat {beat_id}")
        vals = self._values_of(beats)
        return vals, self.summary_of(vals)

    def _values_of(self, beats: list[dict]) -> list[BeatValues]:
        cm = None if self.analysis is None else self.analysis.cm_per_pixel_grid
        out = []
        beats = sorted(beats, key=lambda b: b["es_frame"])
        for n, b in enumerate(beats, start=1):
            ted, tes = self.tracing(b, "ed"), self.tracing(b, "es")
            edv = ted.volume(cm) if ted is not None else None
            esv = tes.volume(cm) if tes is not None else None
            ef = ef_from_volumes(edv, esv) if edv and esv is not None else None
            m = b.get("model") or {}
            corrected = (b["origin"] == "user" or bool(b["tracings"]) or b["excluded"] != (not m.get("included", True))
                         or m.get("ed_frame") != b["ed_frame"] or m.get("es_frame") != b["es_frame"])
            out.append(BeatValues(b["id"], n, b["ed_frame"], b["es_frame"], b["excluded"], b["exclude_reason"],
                                  corrected, b["origin"], ted, tes, edv, esv, ef, m))
        return out

    def summary(self) -> BeatSummary:
        """The corrected beats summarised: EF of the (corrected) tracings, mean ± s.d. over the
        included beats, mean volumes, heart rate, and which beats were corrected."""
        return self.summary_of(self.values())

    def summary_of(self, values: list[BeatValues]) -> BeatSummary:
        """summary() for values already computed with values()."""
        fps = None if self.analysis is None else self.analysis.fps
        s = summarise_beats((BeatFigures(v.es_frame, not v.excluded, v.ef, v.ef, v.edv, v.esv) for v in values), fps)
        return replace(s, corrected_beats=tuple(v.number for v in values if v.corrected))

    # -- edits --------------------------------------------------------------------------------
    def _edit(self, action: str, beat_id: int | None, change, **details) -> None:
        before = copy.deepcopy(self.state)
        change()
        self._undo.append(before)
        self._redo.clear()
        self.state["audit"].append({"time": _now(), "user": self.user, "action": action, "beat": beat_id, **details})
        self._notify(action)

    def _notify(self, action: str) -> None:
        self._version += 1
        for fn in list(self.listeners):
            fn(self, action)

    def _check_frame(self, frame: int) -> int:
        frame = int(frame)
        n = None if self.analysis is None else self.analysis.n_frames
        if frame < 0 or (n is not None and frame >= n):
            raise ValueError(f"frame {frame} is outside the loop (0–{(n or 1) - 1})")
        return frame

    def set_frame(self, beat_id: int, phase: str, frame: int) -> None:
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}")
        b = self.beat(beat_id)
        frame = self._check_frame(frame)
        old = b[f"{phase}_frame"]
        if old == frame:
            return

        def change():
            b[f"{phase}_frame"] = frame
            b["tracings"].pop(phase, None)  # a tracing belongs to its frame

        self._edit(f"move_{phase}", beat_id, change, before=old, after=frame)

    def add_beat(self, ed_frame: int, es_frame: int) -> int:
        ed, es = self._check_frame(ed_frame), self._check_frame(es_frame)
        new_id = max((b["id"] for b in self.beats), default=0) + 1
        self._edit("add_beat", new_id, lambda: self.beats.append({
            "id": new_id, "ed_frame": ed, "es_frame": es, "origin": "user", "excluded": False,
            "exclude_reason": None, "tracings": {}, "model": {},
        }), ed_frame=ed, es_frame=es)
        return new_id

    def delete_beat(self, beat_id: int) -> None:
        b = self.beat(beat_id)
        self._edit("delete_beat", beat_id, lambda: self.beats.remove(b),
                   ed_frame=b["ed_frame"], es_frame=b["es_frame"])

    def exclude(self, beat_id: int, reason: str) -> None:
        reason = (reason or "").strip()
        if not reason:
            raise ValueError("give a reason for excluding the beat")
        b = self.beat(beat_id)
        self._edit("exclude", beat_id, lambda: b.update(excluded=True, exclude_reason=reason), reason=reason)

    def include(self, beat_id: int) -> None:
        b = self.beat(beat_id)
        if not b["excluded"]:
            return
        self._edit("include", beat_id, lambda: b.update(excluded=False, exclude_reason=None))

    def set_tracing(self, beat_id: int, phase: str, contour, apex, base_mid) -> None:
        """Replace the tracing of a beat's ED or ES frame (grid coordinates)."""
        if phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}")
        contour = np.asarray(contour, float).reshape(-1, 2)
        if len(contour) < 3:
            raise ValueError("a tracing needs at least 3 points")
        t = {"contour": contour.round(3).tolist(), "apex": np.asarray(apex, float).round(3).tolist(),
             "base_mid": np.asarray(base_mid, float).round(3).tolist()}
        if not tracing_from_contour(contour, np.asarray(apex, float), np.asarray(base_mid, float)).volume() > 0:
            raise ValueError("this contour and long axis do not enclose a volume")
        b = self.beat(beat_id)
        self._edit(f"trace_{phase}", beat_id, lambda: b["tracings"].__setitem__(phase, t),
                   frame=b[f"{phase}_frame"], points=len(contour))

    def override_gate(self, choice: str | None) -> None:
        """Overrule the gates for this loop: "a4c" analyses it as apical 4-chamber (its EF is reported),
        "exclude" leaves it out of every summary and report, None goes back to the gates' decision."""
        if choice not in OVERRIDES:
            raise ValueError(f"choice must be one of {OVERRIDES}")
        old = (self.gate_override or {}).get("choice")
        if choice == old:
            return
        value = None if choice is None else {"choice": choice, "user": self.user, "time": _now()}
        self._edit("override_gate", None, lambda: self.state.__setitem__("gate_override", value),
                   choice=choice, before=old)

    def add_measurement(self, kind: str, frame: int, points, cm_per_pixel: float | None = None) -> int:
        """A caliper on ``frame``: ``points`` in native pixels, ``cm_per_pixel`` the loop's native
        spacing (None: uncalibrated). Returns its id; ids are never reused, even after an undo."""
        pts = check_points(kind, points)
        frame = self._check_frame(frame)
        cm = float(cm_per_pixel) if cm_per_pixel else None
        used = [m["id"] for m in self.measurements] + [a.get("measurement", 0) for a in self.audit
                                                        if a.get("action") == "add_measurement"]
        new_id = max(used, default=0) + 1
        value = measure(kind, pts, cm)
        if not value.value > 0:
            raise ValueError(f"this {kind} measures nothing: place the points apart")
        rec = {"id": new_id, "kind": kind, "frame": frame, "points": pts.round(3).tolist(), "cm_per_pixel": cm,
               "user": self.user, "time": _now()}
        self._edit("add_measurement", None, lambda: self.measurements.append(rec), measurement=new_id, kind=kind,
                   frame=frame, value=round(value.value, 4), unit=value.unit)
        return new_id

    def delete_measurement(self, measurement_id: int) -> None:
        m = self.measurement(measurement_id)
        self._edit("delete_measurement", None, lambda: self.measurements.remove(m), measurement=measurement_id,
                   kind=m["kind"], frame=m["frame"])

    def undo(self) -> bool:
        if not self._undo:
            return False
        self._redo.append(self.state)
        audit = self.state["audit"]
        self.state = self._undo.pop()
        # The audit trail is append-only: undo is itself recorded.
        self.state["audit"] = audit + [{"time": _now(), "user": self.user, "action": "undo", "beat": None}]
        self._notify("undo")
        return True

    def redo(self) -> bool:
        if not self._redo:
            return False
        self._undo.append(self.state)
        audit = self.state["audit"]
        self.state = self._redo.pop()
        self.state["audit"] = audit + [{"time": _now(), "user": self.user, "action": "redo", "beat": None}]
        self._notify("redo")
        return True
