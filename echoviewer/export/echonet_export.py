"""Export corrected loops as an EchoNet-Dynamic dataset folder, to retrain the models.

Per loop: Videos/<name>.avi (112x112, through the same transform the models use), in
VolumeTracings.csv one beat's ES block then ED block (long axis + 20 chords on the 112 grid) — the
layout the reference loader reads, which holds one traced beat per video — and a FileList.csv row
whose EF, ESV and EDV are that beat's, by the method of disks on those very tracings, so that a
model trained on the folder learns labels its tracings agree with. An audit JSON beside them says
who changed what, and which loops carry only the model's tracings (uncorrected loops included).
With ``deidentify`` (a research export, which leaves the hospital) names, paths and users become
keyed hashes and pixels outside the ultrasound region are blanked: ``export/deidentify.py``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from echoviewer.annotations.model import BeatValues, Corrections, default_user
from echoviewer.annotations.reconcile import loop_decision
from echoviewer.annotations.store import load_state
from echoviewer.dataset.echonet import (
    SPLITS,
    FileListRow,
    TracedVideo,
    write_filelist,
    write_volume_tracings,
)
from echoviewer.export.deidentify import Deidentifier, check_empty
from echoviewer.io.echonet_video import write_echonet_video
from echoviewer.paths import atomic_write

AUDIT_NAME = "ExportAudit.json"
#: Why a loop without corrections is skipped unless uncorrected loops are included (the CLI adds its option).
NOT_CORRECTED = "no corrections (uncorrected loops were not included)"
NO_TRACED_BEAT = "no included beat with ED and ES tracings and an EF"
NOT_ANALYSABLE = "not a loop the method applies to (the gates or a person excluded it)"


@dataclass
class ExportResult:
    out_dir: Path
    exported: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    relink: Path | None = None  # de-identified exports: the local hash -> original table


def pick_beat(values: list[BeatValues]) -> BeatValues | None:
    """The beat whose tracings (and their EF) are exported: edited tracings first, then any
    correction, then the first included beat; only included beats with both tracings and an EF."""
    usable = [v for v in values if not v.excluded and v.ed_tracing is not None and v.es_tracing is not None
              and v.ef is not None and math.isfinite(v.ef)]
    for rank in (lambda v: v.corrected and v.origin == "user", lambda v: v.corrected, lambda v: True):
        for v in usable:
            if rank(v):
                return v
    return None


def _unique_name(stem: str, taken: set[str]) -> str:
    name, k = stem, 2
    while name in taken:
        name, k = f"{stem}_{k}", k + 1
    taken.add(name)
    return name


def export_study(study, out_dir, analyze: Callable, split: str = "TRAIN", include_uncorrected: bool = False,
                 user: str | None = None, log=print, deidentify: bool = False) -> ExportResult:
    """``analyze(loop) -> LoopAnalysis`` supplies the model's masks for unedited phases (cached).
    ``deidentify``: a research export (module docstring); its folder must be new or empty."""
    from echoviewer.io import scan_study

    split = split.upper()
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    out_dir = Path(out_dir)
    deid = None
    if deidentify:
        check_empty(out_dir)
        deid = Deidentifier()  # reads or makes the site's key before anything is written
    (out_dir / "Videos").mkdir(parents=True, exist_ok=True)
    scan = scan_study(study)
    res = ExportResult(out_dir)
    for err in scan.errors:
        res.skipped.append((err.path, err.problem))
    rows: list[FileListRow] = []
    traced: list[TracedVideo] = []
    audit_loops: list[dict] = []
    taken: set[str] = set()
    for loop in scan.loops:
        state, sidecar = load_state(loop.path)
        if state is None and not include_uncorrected:
            res.skipped.append((str(loop.path), NOT_CORRECTED))
            continue
        analysis = analyze(loop)
        corr = Corrections(analysis, state=state)
        decision = loop_decision(analysis, corr)
        if not decision.analysable:  # tracings of a Doppler strip or a colour loop must not train an LV model
            res.skipped.append((str(loop.path), NOT_ANALYSABLE))
            log(f"skipped {loop.path}: {decision.text()}")
            continue
        values = corr.values()
        beat = pick_beat(values)
        if (beat is None or beat.ed_tracing is None or beat.es_tracing is None  # pick_beat takes traced
                or beat.ef is None or beat.esv is None or beat.edv is None):   # beats with volumes and an EF
            res.skipped.append((str(loop.path), NO_TRACED_BEAT))
            continue
        if deid is None:
            name = _unique_name(Path(loop.path).stem, taken)
            grid = loop.grid_frames()
        else:
            refusal = deid.refusal(loop)
            if refusal is not None:
                res.skipped.append((str(loop.path), refusal))
                continue
            name = _unique_name(deid.video_name(loop), taken)
            grid, pixels = deid.grid_frames(loop)
        write_echonet_video(out_dir / "Videos" / f"{name}.avi", grid, loop.fps)
        # the labels of the tracings shipped, not the mean over beats whose tracings are not
        rows.append(FileListRow(name, beat.ef, beat.esv, beat.edv, grid.shape[1],
                                grid.shape[2], float(loop.fps), len(grid), split))
        traced.append(TracedVideo(name, beat.es_frame, beat.es_tracing, beat.ed_frame, beat.ed_tracing))
        entry = {
            "file": str(loop.path), "file_name": name, "sha256": loop.content_hash(),
            "source": "corrected" if state is not None else "model (uncorrected)",
            "sidecar": None if sidecar is None else str(sidecar),
            "traced_beat": {"number": beat.number, "es_frame": beat.es_frame, "ed_frame": beat.ed_frame,
                            "corrected": beat.corrected},
            "beats_in_ef": [beat.number],
            "volume_unit": analysis.volume_unit,
            "model": corr.state.get("model") or {
                "seg_weights": analysis.seg_info.name, "seg_sha256": analysis.seg_info.sha256,
                "ef_weights": analysis.ef_info.name, "ef_sha256": analysis.ef_info.sha256},
            "audit": corr.audit,
        }
        audit_loops.append(entry if deid is None else deid.loop_entry(entry, pixels))
        res.exported.append(str(loop.path))
        log(f"exported {loop.path} as {name} ({entry['source']})")
    write_filelist(out_dir / "FileList.csv", rows)
    write_volume_tracings(out_dir / "VolumeTracings.csv", traced)
    exported_at = datetime.now(UTC).isoformat(timespec="seconds")
    if deid is None:
        audit = {
            "format": "echoviewer-export/1",
            "exported_at": exported_at,
            "exported_by": user or default_user(),
            "study": str(Path(study).resolve()),
            "split": split,
            "loops": audit_loops,
            "skipped": [{"path": p, "why": w} for p, w in res.skipped],
        }
    else:
        audit = deid.audit(exported_at, user or default_user(), str(Path(study).resolve()), split, audit_loops,
                           res.skipped, known_reasons=(NOT_CORRECTED, NO_TRACED_BEAT, NOT_ANALYSABLE))
        res.relink = deid.write_relink(out_dir, exported_at)
    blob = json.dumps(audit, indent=1, default=str).encode()
    atomic_write(out_dir / AUDIT_NAME, lambda f: f.write(blob))
    return res
