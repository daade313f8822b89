"""The local study cache (``user_dir()/pacs-cache``): one folder per retrieved study, under a size
limit; when a retrieve takes it over the limit, the studies used longest ago go first."""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from echoviewer.pacs.model import Client, Progress
from echoviewer.pacs.retrieve import MANIFEST, RetrieveResult, file_name, read_manifest, retrieve_study, write_manifest
from echoviewer.paths import user_dir


@dataclass
class CachedStudy:
    folder: Path
    study_uid: str
    size: int  # bytes
    last_used: float  # seconds since the epoch
    complete: bool


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


class StudyCache:
    def __init__(self, root: Path | None = None, limit_mb: float = 20_000):
        self.root = Path(root) if root is not None else user_dir() / "pacs-cache"
        self.limit = int(limit_mb * 1024 * 1024)

    def folder(self, study_uid: str) -> Path:
        return self.root / file_name(study_uid)

    def studies(self) -> list[CachedStudy]:
        """Every cached study, used longest ago first."""
        out = []
        if self.root.is_dir():
            for d in self.root.iterdir():
                if d.is_dir() and (d / MANIFEST).is_file():
                    m = read_manifest(d)
                    try:
                        last = float(m.get("last_used", 0.0))
                    except (TypeError, ValueError):
                        last = 0.0
                    out.append(CachedStudy(d, str(m.get("study_uid", "")), _size(d), last, bool(m.get("complete"))))
        return sorted(out, key=lambda s: s.last_used)

    def touch(self, folder: Path) -> None:
        write_manifest(folder, last_used=time.time())

    def evict(self, keep: set[Path] | frozenset[Path] = frozenset()) -> list[Path]:
        """Remove studies, oldest used first, until the cache fits its limit; never those in ``keep``."""
        studies = self.studies()
        total = sum(s.size for s in studies)
        keep = {Path(k).resolve() for k in keep}
        removed = []
        for s in studies:
            if total <= self.limit:
                break
            if s.folder.resolve() in keep:
                continue
            shutil.rmtree(s.folder, ignore_errors=True)
            total -= s.size
            removed.append(s.folder)
        return removed

    def fetch(self, client: Client, study_uid: str, progress: Progress | None = None,
              cancel: threading.Event | None = None, keep: set[Path] | frozenset[Path] = frozenset()
              ) -> tuple[RetrieveResult, list[Path]]:
        """Retrieve (or resume) a study into the cache, then trim the cache. Returns the result and
        the folders evicted (never this study's, nor those in ``keep``)."""
        result = retrieve_study(client, study_uid, self.folder(study_uid), progress, cancel)
        evicted = self.evict(keep={result.folder, *keep})
        return result, evicted
