"""Shared helpers for the packaging tests: the spec's literal lists, demo-format weights, module hiding."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "echoviewer.spec"
ENTRY = ROOT / "packaging" / "entry.py"
DEMO_FILES = ("demo_segmentation.pt", "demo_segmentation.json", "demo_ef.pt", "demo_ef.json")


def spec_constants() -> dict:
    """Top-level NAME = <literal> assignments of the spec (lists of excludes, weights, entry...)."""
    out = {}
    for node in ast.parse(SPEC.read_text(encoding="utf-8"), str(SPEC)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name == "EXCLUDES" and isinstance(node.value, ast.BinOp):
                continue
            try:
                out[name] = ast.literal_eval(node.value)
            except ValueError:
                pass
    out["EXCLUDES"] = out["QT_EXCLUDES"] + out["DEV_EXCLUDES"]
    return out


def repo_demo_weights() -> Path | None:
    """The repository's trained demo weights folder when all four files are there."""
    d = ROOT / "weights"
    return d if all((d / n).is_file() for n in DEMO_FILES) else None


@pytest.fixture(scope="session")
def demo_format_weights(tmp_path_factory) -> Path:
    """Untrained compact models saved under the demo names with demo: true (fast; numbers meaningless)."""
    from echoviewer.models import build_model, save_weights

    d = tmp_path_factory.mktemp("demo-weights")
    mean, std = (30.0, 30.0, 30.0), (45.0, 45.0, 45.0)
    save_weights(build_model("unet_small"), d / "demo_segmentation.pt",
                 {"architecture": "unet_small", "task": "segmentation", "mean": mean, "std": std, "demo": True})
    save_weights(build_model("r2plus1d_mini"), d / "demo_ef.pt",
                 {"architecture": "r2plus1d_mini", "task": "ef", "mean": mean, "std": std,
                  "frames": 32, "period": 2, "demo": True})
    return d


def hiding_sitecustomize(folder: Path, names: list[str]) -> Path:
    """Write a sitecustomize.py into ``folder`` that makes ``names`` (and their submodules)
    unimportable, as they are in the frozen build; put ``folder`` on PYTHONPATH to use it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sitecustomize.py").write_text(textwrap.dedent(f"""
        import sys
        from importlib.machinery import PathFinder

        HIDDEN = {sorted(set(names))!r}

        class _Hiding(PathFinder):
            @classmethod
            def find_spec(cls, name, path=None, target=None):
                if any(name == h or name.startswith(h + ".") for h in HIDDEN):
                    return None
                return PathFinder.find_spec(name, path, target)

        sys.meta_path[:] = [_Hiding if f is PathFinder else f for f in sys.meta_path]
    """), encoding="utf-8")
    return folder
