"""The study's LV measurements as a DICOM Comprehensive SR: a TID 1500 Measurement Report built with
highdicom's template classes.

Content tree (one document per study)::

    Imaging Measurement Report (TID 1500)
      language, observers: the device (EchoViewer) and every person who corrected a loop
      procedure reported: Echocardiography
      Imaging Measurements
        per loop: Measurement Group "<loop> summary" (TID 1501)
          finding site: left ventricle; source: the loop (SOP instance), or a comment naming the video file
          LV EF mean, LV EF s.d. (derivation Mean / Standard Deviation), LV EDV / ESV mean, heart rate
          comment: beats used, method, who corrected, category, flags
        per beat (deleted beats left out): Measurement Group "<loop> beat <n>"
          LV EF (source frames ED and ES), LV EDV (frame ED), LV ESV (frame ES); frames are DICOM frame
          numbers (the 0-based index + 1)
          comment: frames, used in the mean or why not, who corrected

Every measurement carries the post-coordinated view (Image View = Apical four chamber) and says how it
was obtained: a corrected value has Measurement Method "Method of Disks, Single Plane" and no
algorithm (a person traced it); a model value names its algorithm (TID 4019: the weights' name, version
= their sha256): the video model for the model's EF, the segmentation model (with the method of disks)
for volumes and for the EF of tracings a reviewer left unchanged. EDV and ESV are written only for
calibrated loops (mL); EF always.

Codes (each checked in ``pydicom.sr.codedict``, which is generated from DICOM PS3.16; context groups
in brackets): see the constants below.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import highdicom as hd
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import ComprehensiveSRStorage, generate_uid

from echoviewer.io.identity import Identity
from echoviewer.reports.content import METHOD, BeatLine, LoopReport, StudyReport
from echoviewer.reports.dicom_common import (
    CHARACTER_SET,
    MANUFACTURER,
    SR_SERIES,
    DicomOutputError,
    StudyContext,
    new_uid,
    person_name,
    study_context,
)

# -- codes ----------------------------------------------------------------------------------------------
LV_EF = codes.LN.LeftVentricularEjectionFractionByUS  # (18043-0, LN) [CID 12200 Echo LV, 12202 LV volumes]
LV_EDV = codes.LN.LeftVentricularEndDiastolicVolume  # (18026-5, LN) [CID 12200, 12202]
LV_ESV = codes.LN.LeftVentricularEndSystolicVolume  # (18148-7, LN) [CID 12200, 12202]
HEART_RATE = codes.LN.HeartRate  # (8867-4, LN) [CID 12200 ...]
METHOD_OF_DISKS = codes.DCM.MethodOfDisksSinglePlane  # (125208, DCM) [CID 12227 Echo Measurement Method]
IMAGE_VIEW = codes.DCM.ImageView  # (111031, DCM): the view modifier of echo measurements (TID 300 row 2)
APICAL_4C = codes.SCT.ApicalFourChamber  # (399214001, SCT) [CID 12226 Echocardiography Image View]
LEFT_VENTRICLE = codes.SCT.LeftVentricle  # (87878005, SCT) finding site
MEAN = codes.SCT.Mean  # (373098007, SCT) [CID 7464 derivation]
STANDARD_DEVIATION = codes.SCT.StandardDeviation  # (386136009, SCT) [CID 7464]
ECHOCARDIOGRAPHY = codes.SCT.Echocardiography  # (40701008, SCT) [CID 12001] procedure reported
REPORT_TITLE = codes.DCM.ImagingMeasurementReport  # (126000, DCM) [CID 7021]
COMMENT = codes.DCM.Comment  # (121106, DCM)
PERCENT = codes.UCUM.Percent  # (%, UCUM)
MILLILITER = hd.sr.CodedConcept("ml", "UCUM", "milliliter")  # UCUM; pydicom's dictionary has no plain volume
PER_MINUTE = codes.UCUM.PerMinute  # (/min, UCUM)


def device_observer_uid(app_version: str) -> str:
    """The device observer's UID: one per EchoViewer version (the same application, the same observer)."""
    return str(generate_uid(entropy_srcs=[MANUFACTURER, "device observer", app_version]))


# -- where a loop's measurements come from ---------------------------------------------------------------
@dataclass(frozen=True)
class _Source:
    name: str
    identity: Identity

    @property
    def dicom(self) -> bool:
        return bool(self.identity.sop_instance_uid and self.identity.sop_class_uid)

    def images(self, frames: Sequence[int]) -> list[hd.sr.SourceImageForMeasurement]:
        """The source image with DICOM frame numbers (``frames`` are 0-based indices)."""
        if not self.dicom:
            return []
        return [hd.sr.SourceImageForMeasurement(self.identity.sop_class_uid, self.identity.sop_instance_uid,
                                                referenced_frame_numbers=[int(f) + 1 for f in frames])]

    def group_images(self) -> list[hd.sr.SourceImageForMeasurementGroup]:
        if not self.dicom:
            return []
        return [hd.sr.SourceImageForMeasurementGroup(self.identity.sop_class_uid, self.identity.sop_instance_uid)]

    def note(self) -> str:
        """What the SR says where it cannot reference an instance (video files)."""
        if self.dicom:
            return ""
        return f"Source: video file {self.name}; it is not a DICOM instance, so no image is referenced."


def _algorithm(info: Any) -> hd.sr.AlgorithmIdentification:
    """TID 4019 for a weights file: name, version = its sha256."""
    params = [f"task: {info.task}", f"architecture: {info.architecture}"]
    if getattr(info, "demo", False):
        params.append("demo weights, not for clinical use")
    return hd.sr.AlgorithmIdentification(name=str(info.name), version=str(info.sha256 or "unknown"),
                                         parameters=params)


@dataclass(frozen=True)
class _How:
    """How one group's values were obtained (its methods and algorithms)."""

    ef_method: Any
    ef_algorithm: hd.sr.AlgorithmIdentification | None
    volume_algorithm: hd.sr.AlgorithmIdentification | None
    text: str

    @classmethod
    def of(cls, lr: LoopReport, person_changed: bool) -> _How:
        a = lr.analysis
        reviewers = ", ".join(r.user for r in lr.reviews) or "a reviewer"
        if not lr.corrected:
            return cls(None, _algorithm(a.ef_info), _algorithm(a.seg_info),
                       f"Not corrected by a person: EF by the video model (weights {a.ef_info.name}); volumes by "
                       f"the method of disks on the segmentation model's tracings (weights {a.seg_info.name}).")
        if person_changed:
            return cls(METHOD_OF_DISKS, None, None,
                       f"Corrected by a person ({reviewers}: frames, tracings or use in the mean): EF and volumes "
                       f"by the method of disks on the tracings as corrected.")
        return cls(METHOD_OF_DISKS, _algorithm(a.seg_info), _algorithm(a.seg_info),
                   f"Reviewed by a person ({reviewers}), not changed: EF and volumes by the method of disks on "
                   f"the segmentation model's tracings (weights {a.seg_info.name}).")


def _measurement(name: Any, value: float, unit: Any, images: list, method: Any = None,
                 algorithm: hd.sr.AlgorithmIdentification | None = None,
                 derivation: Any = None, view: bool = True) -> hd.sr.Measurement:
    m = hd.sr.Measurement(name=name, value=float(value), unit=unit, method=method, derivation=derivation,
                          algorithm_id=algorithm, referenced_images=images or None)
    if not view:
        return m
    # the view, post-coordinated as echo measurements do (TID 300 row 2, concept modifier)
    modifier = hd.sr.CodeContentItem(name=IMAGE_VIEW, value=APICAL_4C,
                                     relationship_type=hd.sr.RelationshipTypeValues.HAS_CONCEPT_MOD)
    if "ContentSequence" in m[0]:
        m[0].ContentSequence.insert(0, modifier)
    else:
        m[0].ContentSequence = hd.sr.ContentSequence([modifier])
    return m


def _comment(text: str) -> hd.sr.TextContentItem:
    return hd.sr.TextContentItem(name=COMMENT, value=text, relationship_type=hd.sr.RelationshipTypeValues.CONTAINS)


def _group(identifier: str, measurements: list[hd.sr.Measurement], comments: list[str],
           images: list[hd.sr.SourceImageForMeasurementGroup] | None = None,
           ) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    group = hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=new_uid(), identifier=identifier),
        finding_sites=[hd.sr.FindingSite(LEFT_VENTRICLE)],
        measurements=measurements,
        source_images=images or None,
    )
    for text in comments:
        if text:
            group[0].ContentSequence.append(_comment(text))
    return group


def _beat_group(lr: LoopReport, b: BeatLine, src: _Source) -> hd.sr.MeasurementsAndQualitativeEvaluations | None:
    ef, edv, esv = b.reported(lr.corrected)
    how = _How.of(lr, b.corrected)
    ms = []
    if ef is not None:
        ms.append(_measurement(LV_EF, ef, PERCENT, src.images([b.ed_frame, b.es_frame]), how.ef_method,
                               how.ef_algorithm))
    if lr.calibrated:
        if edv is not None:
            ms.append(_measurement(LV_EDV, edv, MILLILITER, src.images([b.ed_frame]), METHOD_OF_DISKS,
                                   how.volume_algorithm))
        if esv is not None:
            ms.append(_measurement(LV_ESV, esv, MILLILITER, src.images([b.es_frame]), METHOD_OF_DISKS,
                                   how.volume_algorithm))
    if not ms:
        return None
    used = "Used in the loop's mean." if b.included else f"Not used in the loop's mean: {b.exclude_reason}."
    frames = (f"Beat {b.number} of {lr.name}: end-diastole frame {b.ed_frame + 1}, end-systole frame "
              f"{b.es_frame + 1} (frames numbered from 1).")
    return _group(f"{lr.name} beat {b.number}", ms, [frames, used, how.text, src.note()])


def _summary_text(lr: LoopReport, report: StudyReport) -> str:
    s = lr.summary
    parts = [f"Loop {lr.name}: mean of {s.n_used} beat(s) used of {s.n_beats}."]
    if s.ef_mean is not None:
        sd = f" \u00b1 {s.ef_sd:.1f}" if s.ef_sd is not None else ""
        parts.append(f"LV EF {s.ef_mean:.1f}{sd} % ({lr.category or 'no category'}).")
    parts.append(f"{METHOD}; frame rate {lr.analysis.fps:g} frames/s.")
    if not lr.calibrated:
        parts.append("Not calibrated: no volumes in mL.")
    if lr.flags:
        parts.append("Flags: " + "; ".join(lr.flags) + ".")
    for r in lr.reviews:
        parts.append(f"Corrected by {r.user} ({r.edits} edit(s), {r.first} to {r.last}).")
    if report.demo_label:
        parts.append(report.demo_label + ".")
    return " ".join(parts)


def _summary_group(lr: LoopReport, src: _Source, report: StudyReport,
                   ) -> hd.sr.MeasurementsAndQualitativeEvaluations | None:
    s = lr.summary
    how = _How.of(lr, any(b.corrected for b in lr.beats))
    ms = []
    if s.ef_mean is not None:
        ms.append(_measurement(LV_EF, s.ef_mean, PERCENT, [], how.ef_method, how.ef_algorithm, MEAN))
    if s.ef_sd is not None:
        ms.append(_measurement(LV_EF, s.ef_sd, PERCENT, [], how.ef_method, how.ef_algorithm, STANDARD_DEVIATION))
    if lr.calibrated:
        if s.edv_mean is not None:
            ms.append(_measurement(LV_EDV, s.edv_mean, MILLILITER, [], METHOD_OF_DISKS, how.volume_algorithm, MEAN))
        if s.esv_mean is not None:
            ms.append(_measurement(LV_ESV, s.esv_mean, MILLILITER, [], METHOD_OF_DISKS, how.volume_algorithm, MEAN))
    if not ms:
        return None
    if s.hr_bpm is not None:
        ms.append(_measurement(HEART_RATE, s.hr_bpm, PER_MINUTE, [], view=False))
    return _group(f"{lr.name} summary", ms, [_summary_text(lr, report), how.text, src.note()], src.group_images())


def measurement_groups(report: StudyReport) -> list[hd.sr.MeasurementsAndQualitativeEvaluations]:
    """Per loop: its summary group, then one group per beat that was not deleted."""
    groups = []
    for lr in report.loops:
        src = _Source(lr.name, lr.identity)
        summary = _summary_group(lr, src, report)
        if summary is not None:
            groups.append(summary)
        for b in lr.beats:
            if not b.deleted and (g := _beat_group(lr, b, src)) is not None:
                groups.append(g)
    return groups


def _observers(report: StudyReport) -> hd.sr.ObservationContext:
    device = hd.sr.ObserverContext(
        observer_type=codes.cid270.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=device_observer_uid(report.app_version), name=MANUFACTURER, manufacturer_name=MANUFACTURER,
            model_name=MANUFACTURER),
    )
    users = list(dict.fromkeys(r.user for r in report.reviews if r.user))
    persons = [hd.sr.ObserverContext(
        observer_type=codes.cid270.Person,
        observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=person_name(u), login_name=u),
    ) for u in users]
    context = hd.sr.ObservationContext(observer_person_context=persons[0] if persons else None,
                                       observer_device_context=device)
    for p in persons[1:]:  # TID 1002 repeats for every observer
        context.extend(p)
    return context


def _evidence(report: StudyReport, ctx: StudyContext) -> tuple[list[Dataset], str | None]:
    """highdicom's evidence: a header (patient and study of the new document) then one stub per DICOM
    loop. The header is the first same-study loop's stub when there is one; otherwise it stands for no
    instance, and its throwaway UID (returned) must be taken out of the evidence afterwards."""
    stubs: dict[str, Dataset] = {}
    for lr in report.loops:
        i = lr.identity
        if i.sop_instance_uid and i.sop_class_uid and i.sop_instance_uid not in stubs:
            ds = Dataset()
            ds.SOPClassUID, ds.SOPInstanceUID = i.sop_class_uid, i.sop_instance_uid
            ds.SeriesInstanceUID = i.series_uid or new_uid()
            ds.StudyInstanceUID = i.study_uid or ctx.study_uid
            stubs[i.sop_instance_uid] = ds
    header = Dataset()
    header.SpecificCharacterSet = CHARACTER_SET
    for keyword, value in ctx.patient_study().items():
        setattr(header, keyword, value)
    same = next((s for s in stubs.values() if s.StudyInstanceUID == ctx.study_uid), None)
    throwaway = None
    if same is not None:
        header.SOPClassUID, header.SOPInstanceUID = same.SOPClassUID, same.SOPInstanceUID
        header.SeriesInstanceUID = same.SeriesInstanceUID
    else:
        throwaway = new_uid()
        header.SOPClassUID, header.SOPInstanceUID = ComprehensiveSRStorage, throwaway
        header.SeriesInstanceUID = new_uid()
    return [header, *stubs.values()], throwaway


def _drop_evidence(sr: Dataset, sop_uid: str) -> None:
    seq = sr.get("CurrentRequestedProcedureEvidenceSequence")
    if seq is None:
        return
    for study in list(seq):
        for series in list(study.ReferencedSeriesSequence):
            series.ReferencedSOPSequence = [i for i in series.ReferencedSOPSequence
                                            if i.ReferencedSOPInstanceUID != sop_uid]
            if not series.ReferencedSOPSequence:
                study.ReferencedSeriesSequence.remove(series)
        if not study.ReferencedSeriesSequence:
            seq.remove(study)
    if not seq:
        del sr.CurrentRequestedProcedureEvidenceSequence


def build_sr(report: StudyReport, ctx: StudyContext | None = None, final: bool = False) -> hd.sr.ComprehensiveSR:
    """The study's measurements as a Comprehensive SR (not written; see dicom_out.write_dicom_objects).

    ``final``: PreliminaryFlag FINAL (default PRELIMINARY). The document is never VERIFIED: nobody signs
    it here.
    """
    ctx = ctx or study_context(report)
    groups = measurement_groups(report)
    if not groups:
        raise DicomOutputError("no measurements to report (no loop has an EF)")
    content = hd.sr.MeasurementReport(
        observation_context=_observers(report),
        procedure_reported=ECHOCARDIOGRAPHY,
        imaging_measurements=groups,
        title=REPORT_TITLE,
    )
    evidence, throwaway = _evidence(report, ctx)
    description = SR_SERIES.description + (f" ({ctx.demo_label})" if ctx.demo_label else "")
    sop_uid = new_uid()
    sr = hd.sr.ComprehensiveSR(
        evidence=evidence,
        content=content[0],
        series_instance_uid=new_uid(),
        series_number=SR_SERIES.number,
        sop_instance_uid=sop_uid,
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        is_final=final,
        is_verified=False,
        performed_procedure_codes=[ECHOCARDIOGRAPHY],
        series_description=description[:64],
        manufacturer_model_name=MANUFACTURER,
        software_versions=list(ctx.software_versions),
        content_date=ctx.content_date,
        content_time=ctx.content_time,
        specific_character_set=CHARACTER_SET,
    )
    if throwaway is not None:
        _drop_evidence(sr, throwaway)
    return sr
