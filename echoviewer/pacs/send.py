"""Send files, or a reviewed study's clinical outputs, to a node. What the node refuses stays on
disk (the outputs in an outbox folder under the user folder) and is named in the answer."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from echoviewer.formatting import plural
from echoviewer.pacs.model import Client, PacsError, Progress, StoreReport
from echoviewer.paths import user_dir

if TYPE_CHECKING:
    from echoviewer.reports.content import StudyReport

_KINDS = (
    ("1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF"),
    ("1.2.840.10008.5.1.4.1.1.88.", "SR"),
    ("1.2.840.10008.5.1.4.1.1.7", "key image"),
    ("1.2.840.10008.5.1.4.1.1.3.1", "US loop"),
    ("1.2.840.10008.5.1.4.1.1.6.1", "US image"),
)


def kind_of(sop_class: str) -> str:
    return next((name for prefix, name in _KINDS if sop_class.startswith(prefix)), "DICOM object")


def describe(sop_classes: Iterable[str]) -> str:
    """'SR, Encapsulated PDF, 4 key images': what a set of objects is, as a person says it."""
    counts = Counter(kind_of(c) for c in sop_classes)
    return ", ".join(name if n == 1 and name in ("SR", "Encapsulated PDF") else plural(n, name)
                     for name, n in counts.items())


def dicom_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given and the files under folders (recursively, hidden ones skipped), in order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.rglob("*") if f.is_file()
                          and not any(part.startswith(".") for part in f.relative_to(p).parts))
        else:
            out.append(p)
    return out


@dataclass
class SentOutputs:
    report: StoreReport
    kept: Path | None  # the outbox folder holding what the node refused (None: everything stored)

    def summary(self) -> str:
        r = self.report
        sent = describe(o.sop_class for o in r.stored)
        text = f"Sent {sent or 'nothing'} to {r.node}"
        if not r.refused:
            return text + ": all stored"
        first = r.refused[0]
        return (text + f"; {plural(len(r.refused), 'object')} refused ({first.message}), kept in {self.kept}")


def outbox_root() -> Path:
    return user_dir() / "pacs-outbox"


def send_outputs(report: StudyReport, client: Client, progress: Progress | None = None,
                 cancel: threading.Event | None = None, outbox: Path | None = None) -> SentOutputs:
    """Write the study's DICOM outputs (SR, Encapsulated PDF, key images) and store them on the node.
    Stored files are deleted; refused ones stay in the outbox folder, which the result names."""
    from echoviewer.reports.outputs import write_outputs

    root = Path(outbox) if outbox is not None else outbox_root()
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=time.strftime("%Y%m%d-%H%M%S-"), dir=root))
    try:
        written = write_outputs(report, dicom_dir=folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        result = client.store(written.dicom, progress, cancel)
    except PacsError as exc:
        raise type(exc)(f"{exc}; the results are kept in {folder}") from None  # Cancelled stays Cancelled
    for o in result.stored:
        o.path.unlink(missing_ok=True)
    if result.refused:
        return SentOutputs(result, folder)
    shutil.rmtree(folder, ignore_errors=True)
    return SentOutputs(result, None)
