"""Messages of the core packages show in the window as well as in a terminal: none names a CLI
option (`--something`); the command-line modules may add their own hint."""

import ast
import re
from pathlib import Path

import echoviewer

CORE = ("io", "analysis", "models", "pipeline", "annotations", "export", "training", "synthetic", "batch")
OPTION = re.compile(r"(^|[\s(`'\"])--[a-z]")


def _docstrings(tree: ast.AST) -> set[int]:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                out.add(id(first.value))
    return out


def test_no_core_string_names_a_cli_option():
    root = Path(echoviewer.__file__).parent
    found = []
    for pkg in CORE:
        files = sorted((root / pkg).rglob("*.py"))
        assert files, pkg
        for path in files:
            if path.name == "cli.py":  # argument parsing: options are its business
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docs = _docstrings(tree)
            for node in ast.walk(tree):
                if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs
                        and OPTION.search(node.value)):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {node.value!r}")
    assert not found, "\n".join(found)


def test_the_check_sees_an_option_in_a_message():
    assert OPTION.search("no corrections (use --include-uncorrected to export it)")
    assert not OPTION.search("EF 55 -- 60") and not OPTION.search("a--b")
