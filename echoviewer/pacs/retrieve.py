"""Copy a study's ultrasound instances from a node into a folder, resuming: only the instances not
already there are fetched. Instances of other kinds (SR, PDF, Secondary Capture, other
modalities) are skipped and counted. Files appear whole or not at all (written through a hidden
temporary file, then renamed), so a retrieve killed halfway leaves only complete files behind."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from echoviewer.formatting import plural
from echoviewer.pacs.model import Client, PacsError, Progress
from echoviewer.paths import atomic_write

#: The hidden file beside a retrieved study's loops: which study, from where, how complete.
MANIFEST = ".echoviewer-pacs.json"
_UID = re.compile(r"^[0-9][0-9.]{0,63}$")


def file_name(uid: str) -> str:
    """A safe file or folder name for a UID (UIDs from a node are not trusted to be well formed)."""
    return uid if _UID.match(uid) else "x" + hashlib.sha256(uid.encode("utf-8", "replace")).hexdigest()[:32]


class FolderSink:
    """Retrieved files as ``<SOPInstanceUID>.dcm`` in one folder."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".*.dcm.*.tmp"):  # a killed retrieve's half-written file
            stale.unlink(missing_ok=True)

    def path(self, sop_uid: str) -> Path:
        return self.folder / f"{file_name(sop_uid)}.dcm"

    def present(self) -> set[str]:
        """File names (without .dcm) already here."""
        return {p.stem for p in self.folder.glob("*.dcm") if p.is_file() and p.stat().st_size > 0}

    def add(self, sop_uid: str, data: bytes) -> None:
        atomic_write(self.path(sop_uid), lambda f: f.write(data))


@dataclass
class RetrieveResult:
    node: str
    study_uid: str
    folder: Path
    total: int  # US instances in the study
    fetched: int  # this time
    already: int  # there before (a resumed retrieve)
    skipped: int  # instances that are not ultrasound
    seconds: float = 0.0

    def summary(self) -> str:
        parts = [f"{plural(self.fetched, 'instance')} retrieved from {self.node}"]
        if self.already:
            parts.append(f"{self.already} already here")
        if self.skipped:
            parts.append(f"{plural(self.skipped, 'non-US instance')} skipped")
        return ", ".join(parts)

    def to_json(self) -> dict:
        return {"StudyInstanceUID": self.study_uid, "folder": str(self.folder), "us_instances": self.total,
                "fetched": self.fetched, "already_present": self.already, "skipped_non_us": self.skipped,
                "seconds": round(self.seconds, 3)}


def read_manifest(folder: Path) -> dict:
    try:
        data = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_manifest(folder: Path, **fields) -> None:
    data = {**read_manifest(folder), **fields}
    text = json.dumps(data, indent=1).encode("utf-8")
    atomic_write(Path(folder) / MANIFEST, lambda f: f.write(text))


def retrieve_study(client: Client, study_uid: str, folder: Path, progress: Progress | None = None,
                   cancel: threading.Event | None = None) -> RetrieveResult:
    """The study's US instances into ``folder``; those already there are not fetched again.
    Raises PacsError (Cancelled on cancel): what arrived stays, and the next call resumes."""
    t0 = time.monotonic()
    refs = client.study_instances(study_uid)
    if not refs:
        raise PacsError(f"{client.label}: no instances of study {study_uid}")
    us = [r for r in refs if r.is_us]
    skipped = len(refs) - len(us)
    if not us:
        raise PacsError(f"{client.label}: the study has no ultrasound instances "
                        f"({plural(skipped, 'other instance')} skipped)")
    sink = FolderSink(Path(folder))
    have = sink.present()
    missing = [r for r in us if file_name(r.sop_uid) not in have]
    already = len(us) - len(missing)
    write_manifest(sink.folder, study_uid=study_uid, node=client.label, us_instances=len(us),
                   skipped_non_us=skipped, complete=not missing, last_used=time.time())
    if progress:
        progress(already, len(us))
    # series of which every instance is a missing US one: the node may send each whole
    whole = {r.series_uid for r in missing} - {r.series_uid for r in refs
                                               if not r.is_us or file_name(r.sop_uid) in have}
    fetched = client.retrieve(missing, sink, (lambda i, _n: progress(already + i, len(us))) if progress else None,
                              cancel, whole_series=frozenset(whole))
    lost = len(missing) - len({file_name(r.sop_uid) for r in missing} & sink.present())
    if lost:
        raise PacsError(f"{client.label}: {plural(lost, 'instance')} of the study did not arrive")
    write_manifest(sink.folder, complete=True, last_used=time.time())
    return RetrieveResult(client.label, study_uid, sink.folder, len(us), fetched, already, skipped,
                          time.monotonic() - t0)
