"""What a study report says, as typed data: the one summary the PDF, the DICOM SR, the key images
and the window's export read (so they cannot disagree with each other or with the CSV report).

Values are *reported* values: a loop a sonographer corrected reports the EF of the corrected
tracings (method of disks), beside the model's values; an uncorrected loop reports the model's EF
(the video model, EchoNet-Dynamic's R(2+1)D) and the segmentation's volumes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from echoviewer import DEMO_LABEL, __version__
from echoviewer.analysis.beat_summary import BeatSummary
from echoviewer.analysis.calipers import NAMES
from echoviewer.analysis.ef_categories import ef_category, paper_threshold_flag
from echoviewer.annotations.model import Corrections
from echoviewer.annotations.reconcile import BeatPair, loop_corrected, loop_decision, reconcile
from echoviewer.io.gates import ANALYSABLE, Decision
from echoviewer.io.identity import UNKNOWN, Identity

#: How EF is obtained, in words (reports say it on every loop).
METHOD = "Single-plane apical 4-chamber view; LV volumes by the method of disks (20 disks)"


@dataclass(frozen=True)
class BeatLine:
    """One beat as a report prints it. Frames are 0-based indices (add 1 to show them)."""

    number: int  # the beat's position in ED order, from 1
    ed_frame: int  # reported (corrected when a person moved it)
    es_frame: int
    model_ed_frame: int | None  # None: added by the sonographer
    model_es_frame: int | None
    ef_model: float | None  # the video model's EF (None: added beat)
    ef_seg: float | None  # method of disks on the model's masks
    edv_model: float | None
    esv_model: float | None
    ef_corrected: float | None  # method of disks on the corrected tracings (None: loop not corrected)
    edv_corrected: float | None
    esv_corrected: float | None
    corrected: bool  # a person changed this beat (frames, tracing, exclusion) or added it
    deleted: bool  # a model beat the sonographer deleted (kept in the table, never in a mean)
    included: bool  # counts in the reported mean
    exclude_reason: str
    flags: tuple[str, ...]
    ed_tracing: Any = None  # analysis.tracing.Tracing on the 112 grid: what is drawn (corrected if so)
    es_tracing: Any = None
    sop_instance_uid: str = ""  # the source image whose frames ED/ES are

    def reported(self, loop_corrected: bool) -> tuple[float | None, float | None, float | None]:
        """(EF, EDV, ESV) as reported for this beat."""
        if loop_corrected:
            return self.ef_corrected, self.edv_corrected, self.esv_corrected
        return self.ef_model, self.edv_model, self.esv_model


@dataclass(frozen=True)
class Review:
    """Who corrected a loop and when (from its audit trail)."""

    user: str
    first: str  # ISO times
    last: str
    edits: int


@dataclass(frozen=True)
class MeasurementLine:
    """A caliper a person placed on the loop (``Corrections.measurements``), as a report lists it."""

    kind: str  # "distance", "area" or "volume" (analysis.calipers.KINDS)
    name: str  # in words: "Distance", "Area", "LV volume (disks)"
    frame: int  # 0-based index (add 1 to show it)
    value: float
    unit: str  # cm, cm², mL when the loop was calibrated; px, px², px³ otherwise
    text: str  # value and unit as shown in the window, e.g. "4.25 cm"
    user: str  # who measured it and when (ISO), from the audit trail
    time: str


@dataclass
class LoopReport:
    name: str
    path: str
    identity: Identity
    analysis: Any  # pipeline.results.LoopAnalysis
    loop: Any | None  # io.loop.Loop (native frames for key images); None when it cannot be read now
    corrected: bool
    beats: list[BeatLine]
    model: BeatSummary  # the model's figures
    reviewed: BeatSummary | None  # the corrected figures (None: not corrected)
    reviews: list[Review] = field(default_factory=list)
    measurements: list[MeasurementLine] = field(default_factory=list)
    #: whether the method applies (the gates, overruled by a person's choice): a study report keeps
    #: only the loops it reports and lists the others among the loops left out, with the reason
    decision: Decision = ANALYSABLE

    @property
    def summary(self) -> BeatSummary:
        """The reported summary: the corrected one when the loop was corrected."""
        return self.reviewed if self.reviewed is not None else self.model

    @property
    def ef(self) -> float | None:
        return self.summary.ef_mean

    @property
    def calibrated(self) -> bool:
        return self.analysis.volume_unit == "mL"

    @property
    def category(self) -> str:
        """Guideline category of the reported mean EF ('' without one)."""
        return ef_category(self.ef)

    @property
    def flags(self) -> list[str]:
        """Flags in words: the analysis' own, with the paper's heart-failure threshold judged on the
        reported EF (a correction can move a loop across it)."""
        threshold = self.analysis.settings.hfref_threshold
        below = paper_threshold_flag(threshold)
        out = [f for f in self.analysis.flags if f != below]
        if self.ef is not None and self.ef < threshold:
            out.append(below)
        return out

    def key_beat(self) -> BeatLine | None:
        """The beat shown as key images: the included beat whose EF is nearest the reported mean."""
        used = [b for b in self.beats if b.included and b.reported(self.corrected)[0] is not None]
        if not used:
            return next((b for b in self.beats if not b.deleted), None)
        mean = self.ef or 0.0
        return min(used, key=lambda b: abs((b.reported(self.corrected)[0] or 0.0) - mean))


@dataclass
class MissingLoop:
    name: str
    reason: str  # one line


@dataclass
class StudyReport:
    title: str  # the study folder's name
    identity: Identity
    loops: list[LoopReport]
    missing: list[MissingLoop]
    generated: datetime
    app_version: str = __version__

    @property
    def demo(self) -> bool:
        return any(lr.analysis.demo for lr in self.loops)

    @property
    def demo_label(self) -> str:
        return DEMO_LABEL if self.demo else ""

    @property
    def weights(self) -> list[Any]:
        """The weights used (models.WeightsInfo), each once, segmentation first."""
        seen: dict[tuple[str, str], Any] = {}
        for lr in self.loops:
            for info in (lr.analysis.seg_info, lr.analysis.ef_info):
                seen.setdefault((info.task, info.sha256), info)
        return sorted(seen.values(), key=lambda i: i.task != "segmentation")

    @property
    def reviews(self) -> list[Review]:
        return [r for lr in self.loops for r in lr.reviews]


def _reviews(corrections: Corrections | None) -> list[Review]:
    if corrections is None:
        return []
    by_user: dict[str, list[str]] = {}
    for entry in corrections.audit:
        by_user.setdefault(str(entry.get("user", "")), []).append(str(entry.get("time", "")))
    return [Review(user, min(times), max(times), len(times)) for user, times in by_user.items()]


def _measurements(corrections: Corrections | None) -> list[MeasurementLine]:
    """The loop's calipers by frame, then in the order made; who and when from the audit entry that
    added each (the measurement's own record when the audit lacks it)."""
    if corrections is None:
        return []
    added = {a.get("measurement"): a for a in corrections.audit if a.get("action") == "add_measurement"}
    out = []
    for m in sorted(corrections.measurements, key=lambda m: (m["frame"], m["id"])):
        v = Corrections.value_of(m)
        who = added.get(m["id"], m)
        out.append(MeasurementLine(kind=m["kind"], name=NAMES[m["kind"]], frame=int(m["frame"]), value=v.value,
                                   unit=v.unit, text=v.text(), user=str(who.get("user", "")),
                                   time=str(who.get("time", ""))))
    return out


def _line(n: int, pair: BeatPair, corrected_loop: bool, uid: str) -> BeatLine:
    m, v = pair.model, pair.values
    ed = v.ed_frame if v is not None else m.ed_frame
    es = v.es_frame if v is not None else m.es_frame
    if v is not None:
        included, reason = not v.excluded, (v.exclude_reason or "excluded") if v.excluded else ""
    elif pair.deleted:
        included, reason = False, "deleted"
    else:
        included, reason = m.included, "" if m.included else ("; ".join(m.flags) or "excluded by the analysis")
    cv = v if corrected_loop else None  # corrected values are reported only for a corrected loop
    return BeatLine(
        number=n, ed_frame=int(ed), es_frame=int(es),
        model_ed_frame=None if m is None else int(m.ed_frame),
        model_es_frame=None if m is None else int(m.es_frame),
        ef_model=None if m is None else m.ef_model,
        ef_seg=None if m is None else m.ef_seg,
        edv_model=None if m is None else m.edv,
        esv_model=None if m is None else m.esv,
        ef_corrected=None if cv is None else cv.ef,
        edv_corrected=None if cv is None else cv.edv,
        esv_corrected=None if cv is None else cv.esv,
        corrected=bool(pair.deleted or (v is not None and v.corrected)),
        deleted=pair.deleted,
        included=included,
        exclude_reason=reason,
        flags=tuple(m.flags) if m is not None else (),
        ed_tracing=cv.ed_tracing if cv is not None else (m.ed_tracing if m is not None else None),
        es_tracing=cv.es_tracing if cv is not None else (m.es_tracing if m is not None else None),
        sop_instance_uid=uid,
    )


def loop_report(name: str, analysis: Any, corrections: Corrections | None = None, loop: Any | None = None,
                identity: Identity | None = None) -> LoopReport:
    """One analysed loop as reported, with its corrections when there are any."""
    ident = identity if identity is not None else (loop.identity if loop is not None else UNKNOWN)
    values = corrections.values() if corrections is not None else None
    corrected = loop_corrected(values, analysis)
    pairs = reconcile(analysis, corrections)
    beats = [_line(n, p, corrected, ident.sop_instance_uid) for n, p in enumerate(pairs, start=1)]
    reviewed = corrections.summary() if corrected and corrections is not None else None
    return LoopReport(name=name, path=str(analysis.path), identity=ident, analysis=analysis, loop=loop,
                      corrected=corrected, beats=beats, model=analysis.summary, reviewed=reviewed,
                      reviews=_reviews(corrections) if corrected else [], measurements=_measurements(corrections),
                      decision=loop_decision(analysis, corrections))


def study_identity(loops: Iterable[LoopReport], entered: Identity | None = None) -> Identity:
    """The study's identity: the first DICOM loop's, with what the user entered filling the gaps
    (what the user typed wins only where the files say nothing)."""
    read = next((lr.identity for lr in loops if lr.identity.from_dicom), UNKNOWN)
    return read.merged(entered) if entered is not None else read


def study_report(title: str, loops: list[LoopReport], missing: list[MissingLoop] | None = None,
                 entered: Identity | None = None, generated: datetime | None = None) -> StudyReport:
    """The study's report: a loop the method does not apply to, or one of low confidence nobody
    included, is left out with its reason (``missing``); no EF of it is reported."""
    kept = [lr for lr in loops if lr.decision.reported]
    left = [MissingLoop(lr.name, lr.decision.text()) for lr in loops if not lr.decision.reported]
    return StudyReport(title=title or Path(".").resolve().name, identity=study_identity(loops, entered),
                       loops=kept, missing=list(missing or []) + left,
                       generated=generated or datetime.now().astimezone())


def identities_disagree(loops: Iterable[LoopReport]) -> list[str]:
    """Names of loops whose patient differs from the first DICOM loop's (a report must not mix patients)."""
    ids = [(lr.name, lr.identity) for lr in loops if lr.identity.from_dicom]
    if not ids:
        return []
    first = ids[0][1]
    return [name for name, i in ids[1:] if (i.patient_id, i.patient_name) != (first.patient_id, first.patient_name)]
