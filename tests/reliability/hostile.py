"""Hostile and mismatched weights files for tests/reliability/test_untrusted_weights.py."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import torch

from echoviewer.models import build_model
from echoviewer.models.manifest import FORMAT
from echoviewer.paths import sha256_file
from tests.conftest import MEAN, STD


class Payload:
    """Unpickling this runs exec(...), which writes the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


def evil_checkpoint(path, marker, legacy=False):
    """An EchoNet-layout checkpoint (with a real-looking state dict) carrying the payload."""
    sd = {f"module.{k}": v for k, v in build_model("unet_small").state_dict().items()}
    torch.save({"state_dict": sd, "epoch": 3, "extra": Payload(marker)}, path,
               _use_new_zipfile_serialization=not legacy)
    return path


def evil_own_format(path, marker):
    """A project-format file (manifest with a matching sha256) whose .pt carries the payload."""
    torch.save({"conv.weight": torch.zeros(1), "x": Payload(marker)}, path)
    path.with_suffix(".json").write_text(json.dumps({
        "format": FORMAT, "architecture": "unet_small", "task": "segmentation", "mean": list(MEAN),
        "std": list(STD), "sha256": sha256_file(path), "demo": False, "input_size": 112, "frames": None,
        "period": None, "provenance": {}, "metrics": {}}))
    return path


def evil_plain_pickle(path, marker):
    """Not torch.save at all: a bare pickle (protocol 2, so it starts like a legacy checkpoint)."""
    path.write_bytes(pickle.dumps({"state_dict": {}, "x": Payload(marker)}, protocol=2))
    return path


# name -> (which flag gets the file, builder, words the error line must contain)
HOSTILE = {
    "evil_seg_zip": ("seg", lambda p, m: evil_checkpoint(p, m), ["refused", "exec"]),
    "evil_seg_legacy": ("seg", lambda p, m: evil_checkpoint(p, m, legacy=True), ["refused", "exec"]),
    "evil_ef_zip": ("ef", lambda p, m: evil_checkpoint(p, m), ["refused", "exec"]),
    "evil_own_format": ("seg", evil_own_format, ["refused", "exec"]),
    "evil_plain_pickle": ("seg", evil_plain_pickle, ["refused", "exec"]),
}
WRONG = {
    # segmentation weights given as EF weights (the reverse is in tests/pipeline/test_analyze_cli.py)
    "seg_as_ef": ("ef", "seg_file", ["segmentation weights, but", "were asked for"]),
    # a manifest (checksum right) that names another architecture than the file holds
    "wrong_arch_manifest": ("seg", "mislabelled", ["does not fit architecture"]),
    # a state dict of no known architecture, no manifest
    "unknown_keys": ("seg", "unknown", ["keys match no known architecture"]),
    # the right keys with the wrong shapes (an EchoNet checkpoint of a resized model)
    "wrong_shapes": ("seg", "reshaped", ["does not fit architecture", "wrong shapes"]),
}


def wrong_file(kind, folder, random_weights):
    seg, ef = random_weights
    if kind == "ef_file":
        return ef
    if kind == "seg_file":
        return seg
    if kind == "mislabelled":
        p = folder / "mislabelled.pt"  # EF-model tensors under a segmentation (unet_small) manifest
        shutil.copy(ef, p)
        man = json.loads(Path(seg).with_suffix(".json").read_text())
        man["sha256"] = sha256_file(p)
        p.with_suffix(".json").write_text(json.dumps(man))
        return str(p)
    if kind == "unknown":
        p = folder / "unknown.pt"
        torch.save({"encoder.weight": torch.zeros(3, 3), "head.bias": torch.zeros(3)}, p)
        return str(p)
    if kind == "reshaped":
        p = folder / "reshaped.pt"
        sd = build_model("unet_small").state_dict()
        k = next(k for k, v in sd.items() if v.ndim == 4)
        sd[k] = torch.zeros(*(s + 1 for s in sd[k].shape))
        torch.save({"state_dict": {f"module.{k}": v for k, v in sd.items()}}, p)
        return str(p)
    raise KeyError(kind)


def weights_jobs(root: Path, random_weights, wanted: set) -> tuple[dict, dict, dict]:
    """Build the files of the wanted cases under root -> (CLI jobs, name -> file, name -> marker)."""
    from echoviewer.io.echonet_video import write_echonet_video
    from tests.reliability.corpus import beating

    seg, ef = random_weights
    study = root / "study"
    study.mkdir()
    write_echonet_video(study / "loop.avi", beating(40), 50.0)
    jobs, files, markers = {}, {}, {}
    for name, (_, build, _) in HOSTILE.items():
        if name in wanted:
            (root / name).mkdir()
            markers[name] = root / name / "marker.txt"
            files[name] = str(build(root / name / "evil.pt", markers[name]))
    for name, (_, kind, _) in WRONG.items():
        if name in wanted:
            (root / name).mkdir()
            files[name] = wrong_file(kind, root / name, random_weights)
    for name, path in files.items():
        flag = (HOSTILE.get(name) or WRONG[name])[0]
        s, e = (path, ef) if flag == "seg" else (seg, path)
        jobs[f"weights/{name}"] = ["analyze", str(study), "--seg-weights", s, "--ef-weights", e, "--device", "cpu",
                                   "--no-cache", "--out", str(root / f"{name}.csv")]
    return jobs, files, markers
