"""De-identification of the research export (`export-corrections --deidentify`).

Exports for retraining leave the hospital, so under ``deidentify``:

* names: file names, paths, user names and the source files' sha256 become keyed hashes,
  HMAC-SHA256 under a random key kept in the per-user folder (``keys/deidentify.key``, 0600). The
  same input gives the same hash under the same key, so the exporting site can re-link (``keys/
  relink.csv`` beside the key: hash -> original) and nobody without the key can.
* pixels: native pixels outside the ultrasound region (where scanners burn in the patient's name,
  ID and the date) are set to black before the resample to 112x112.
* the audit: only allow-listed fields; the times of corrections and free text are dropped.

Nothing from DICOM attributes is written by the export in the first place (videos are pixels,
the CSVs hold the EchoNet columns), so the name and date tags cannot leak through it.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from echoviewer.io.loop import Loop, LoopError
from echoviewer.io.region import Region
from echoviewer.io.transform import GridTransform
from echoviewer.paths import atomic_write, user_dir

KEY_BYTES = 32
#: Hex digits kept of each HMAC: 64 bits, no collision within any site's archive, still readable.
HASH_CHARS = 16
FILE_PREFIX = "EV_"
RELINK_HEADER = ["hash", "kind", "original", "exported_to", "exported_at"]
#: Why a loop is not exported under de-identification.
NO_REGION = "no ultrasound region was found, so burned-in text outside it could not be blanked"
#: The skip reason written instead of any other (a reader's error may quote the file or its tags).
UNREADABLE = "could not be used (the reason is shown where the export ran, not written here)"

#: Audit-trail details that are frame numbers and counts; everything else (times, reasons) is dropped.
_TRAIL_NUMBERS = ("beat", "before", "after", "ed_frame", "es_frame", "frame", "points")
_LOOP_FIELDS = ("file_name", "source", "traced_beat", "beats_in_ef", "volume_unit")
_MODEL_FIELDS = ("seg_weights", "seg_sha256", "ef_weights", "ef_sha256", "demo", "ef_mean", "ef_sd")
_ACTION = re.compile(r"[a-z_]{1,40}")

REMOVED = [
    "patient names, IDs, dates and every other DICOM attribute: none is copied (the videos are pixels, "
    "the CSVs hold the EchoNet columns only)",
    "source file names and paths and the study folder: keyed hashes (video names EV_<hash>)",
    "the source files' sha256: keyed hashes instead (a plain sha256 would find the hospital's file)",
    "user names (who exported, who corrected): keyed hashes",
    "the times of corrections, free-text reasons for excluding beats, the corrections files' paths",
    "pixels outside the ultrasound region (burned-in name, ID, date): black before the resample to "
    "112x112 (per loop under 'pixels')",
    "reasons a loop could not be read (they may quote the file): replaced by a generic reason",
]
KEPT = [
    "exported_at: when this folder was written (UTC), not when any study was acquired",
    "frame rate, frame count, EF / ESV / EDV, tracings and beat frames; model weights names and sha256",
]
LIMITS = ("Text burned in inside the ultrasound image region itself is not removed: look at the videos "
          "before they leave.")
RELINK = ("The exporting site keeps the key and relink.csv (hash -> original file, user or folder) in "
          "the keys folder of its EchoViewer user folder; neither is in this export. A video's EV_<hash> "
          "is the HMAC-SHA256, under that key, of 'loop' + NUL + the hex sha256 of the source file's "
          "bytes (first 16 hex digits), so files can also be re-linked by hashing them again.")


class DeidentifyError(ValueError):
    """The key cannot be read or made, or the export folder is not empty; str() is one line."""


def keys_dir() -> Path:
    return user_dir() / "keys"


def key_path() -> Path:
    return keys_dir() / "deidentify.key"


def relink_path() -> Path:
    return keys_dir() / "relink.csv"


def load_or_create_key(path: Path | None = None) -> bytes:
    """The site's key: read, or made once from `secrets` (file mode 0600, folder 0700). Losing it
    means earlier exports can no longer be re-linked and later ones get new names."""
    path = Path(path or key_path())
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_bytes()
        else:
            key = secrets.token_bytes(KEY_BYTES)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
    except OSError as exc:
        raise DeidentifyError(f"cannot read or make the de-identification key {path}: {exc.strerror or exc}") from exc
    if len(key) < 16:
        raise DeidentifyError(f"{path} is not a de-identification key ({len(key)} bytes): restore it from a backup, "
                              "or move it away to start a new one (earlier exports then cannot be re-linked)")
    return key


def blank_outside(frame: np.ndarray, region: Region) -> np.ndarray:
    """A copy of a native frame, black outside the region (x0, y0, x1, y1 exclusive)."""
    h, w = frame.shape[:2]
    x0, y0 = max(int(region[0]), 0), max(int(region[1]), 0)
    x1, y1 = min(int(region[2]), w), min(int(region[3]), h)
    out = np.zeros_like(frame)
    if x1 > x0 and y1 > y0:
        out[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
    return out


def blanked_grid_frames(frames: Iterable[np.ndarray], region: Region, transform: GridTransform) -> np.ndarray:
    """(T,112,112,3) uint8: each native frame blanked outside `region`, then resampled by `transform`.

    Blanking comes first, on native pixels: today's window lies inside the region, but a resample
    that reaches outside it (a letterboxing transform, interpolation at its edge) must find black."""
    out = []
    for f in frames:
        g = transform.warp_to_grid(blank_outside(f, region))
        out.append(np.repeat(g[..., None], 3, axis=2) if g.ndim == 2 else g)
    return np.stack(out) if out else np.zeros((0, transform.size, transform.size, 3), np.uint8)


class Deidentifier:
    """One export's pseudonyms, pixel blanking and audit, under the site's key."""

    def __init__(self, key: bytes | None = None):
        self._key = load_or_create_key() if key is None else key
        self._seen: dict[tuple[str, str], str] = {}  # (kind, original) -> hash, for relink.csv

    def hash(self, kind: str, value: str, original: str | None = None) -> str:
        """HMAC-SHA256 of kind NUL value, first HASH_CHARS hex digits; recorded for relink.csv as
        `original` (default: the value itself)."""
        digest = hmac.new(self._key, f"{kind}\0{value}".encode(), hashlib.sha256).hexdigest()[:HASH_CHARS]
        self._seen.setdefault((kind, value if original is None else original), digest)
        return digest

    @property
    def key_id(self) -> str:
        """Names the key (not derivable back to it), so a site with several keys knows which one."""
        return hmac.new(self._key, b"key-id", hashlib.sha256).hexdigest()[:8]

    def video_name(self, loop: Loop) -> str:
        """EV_<hash> of the file's bytes: the same file gives the same name wherever it lies."""
        return FILE_PREFIX + self.hash("loop", loop.content_hash(), original=str(Path(loop.path).resolve()))

    @staticmethod
    def refusal(loop: Loop) -> str | None:
        """Why this loop cannot be exported de-identified, or None."""
        _ = loop.region  # detected on first use
        return NO_REGION if loop.region_source == "full_frame" else None

    @staticmethod
    def grid_frames(loop: Loop) -> tuple[np.ndarray, dict]:
        """The loop's 112x112 frames, blanked outside its region first; and what was blanked."""
        region = loop.region
        grid = blanked_grid_frames(loop.iter_frames(), region, loop.transform)
        if not len(grid):
            raise LoopError(loop.path, "no frame could be decoded")
        x0, y0, x1, y1 = region
        inside = max(0, min(x1, loop.width) - max(x0, 0)) * max(0, min(y1, loop.height) - max(y0, 0))
        return grid, {"region": [x0, y0, x1, y1], "region_source": loop.region_source,
                      "frame_size": [loop.width, loop.height],
                      "blanked_pixels_per_frame": loop.width * loop.height - inside}

    def loop_entry(self, entry: dict, pixels: dict) -> dict:
        """The export's audit entry of one loop, allow-listed; `pixels` from grid_frames()."""
        out = {k: entry[k] for k in _LOOP_FIELDS if k in entry}
        model = entry.get("model") or {}
        out["model"] = {k: model[k] for k in _MODEL_FIELDS if k in model}
        out["pixels"] = pixels
        out["audit"] = [self._trail_entry(a) for a in entry.get("audit") or []]
        return out

    def _trail_entry(self, a: dict) -> dict:
        action = str(a.get("action", ""))
        out: dict = {"action": action if _ACTION.fullmatch(action) else "edit"}
        if a.get("user") is not None:
            out["user"] = self.hash("user", str(a["user"]))
        for k in _TRAIL_NUMBERS:
            if k in a and (a[k] is None or isinstance(a[k], (int, float))):
                out[k] = a[k]
        return out

    def audit(self, exported_at: str, user: str, study: str, split: str, loops: list[dict],
              skipped: list[tuple[str, str]], known_reasons: Iterable[str]) -> dict:
        """ExportAudit.json of a de-identified export: says what was removed and how to re-link."""
        known = set(known_reasons) | {NO_REGION}
        return {
            "format": "echoviewer-export/1",
            "deidentified": True,
            "exported_at": exported_at,
            "exported_by": self.hash("user", user),
            "study": self.hash("study", study),
            "split": split,
            "loops": loops,
            "skipped": [{"loop": FILE_PREFIX + self.hash("path", p), "why": w if w in known else UNREADABLE}
                        for p, w in skipped],
            "deidentification": {
                "hash": f"HMAC-SHA256 of kind NUL value, first {HASH_CHARS} hex digits",
                "key_id": self.key_id, "removed": REMOVED, "kept": KEPT, "limits": LIMITS, "relink": RELINK,
            },
        }

    def write_relink(self, out_dir: Path, exported_at: str, path: Path | None = None) -> Path:
        """Append this export's hashes to the local relink.csv (0600, never in the export)."""
        path = Path(path or relink_path())
        old = path.read_bytes() if path.exists() else b""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        if not old:
            w.writerow(RELINK_HEADER)
        for (kind, original), digest in self._seen.items():
            w.writerow([digest, kind, original, str(Path(out_dir).resolve()), exported_at])
        blob = old + buf.getvalue().encode()
        atomic_write(path, lambda f: f.write(blob), mode=0o600)  # private: it re-links the pseudonyms
        return path


def check_empty(out_dir: Path) -> None:
    """A de-identified export goes to a new or empty folder: files of an earlier (identified)
    export left in it would travel with it."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise DeidentifyError(f"{out_dir} is not empty: a de-identified export goes to a new or empty folder, "
                              "so that nothing from an earlier export travels with it")
