"""The `echoviewer` command: with no subcommand (or a path) it opens the window; subcommands run the core.

Each subcommand lives in its own module exposing ``register(subparsers)``; that function adds a
parser whose ``func`` default takes the parsed args and returns an exit status. Modules are
imported lazily so `echoviewer info` never pays for torch or Qt. This dispatcher is the top layer:
the only place that knows both the Qt-free commands (``echoviewer.commands``) and the window
(``echoviewer.ui``), so it is where a command that ends in the window is given it.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from echoviewer import __version__

#: (subcommand, module that registers it). Order is the order shown in --help.
COMMANDS: list[tuple[str, str]] = [
    ("gui", "echoviewer.ui.cli"),
    ("info", "echoviewer.commands.info"),
    ("synth", "echoviewer.commands.synth"),
    ("analyze", "echoviewer.commands.analyze"),
    ("batch", "echoviewer.commands.batch"),
    ("train", "echoviewer.commands.train"),
    ("export-corrections", "echoviewer.commands.export_corrections"),
    ("report", "echoviewer.commands.report"),
    ("evaluate", "echoviewer.commands.evaluate"),
    ("pacs", "echoviewer.commands.pacs"),
    ("demo", "echoviewer.commands.demo"),
    ("selftest", "echoviewer.commands.selftest"),
]


def open_window(path: str) -> int:
    """The review window on ``path`` until it is closed (`echoviewer demo` ends in it)."""
    args = build_parser("gui").parse_args(["gui", path])
    return int(args.func(args) or 0)


#: Extra keyword arguments of a subcommand's ``register``: what it needs from a higher layer.
WIRING: dict[str, dict] = {"demo": {"open_window": open_window}}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="echoviewer",
        description="Review apical 4-chamber echo loops: LV segmentation and beat-by-beat EF.",
    )
    parser.add_argument("--version", action="version", version=f"echoviewer {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in COMMANDS:
        if only is not None and name != only:
            continue
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("echoviewer"):
                continue  # subcommand not built yet
            raise
        mod.register(sub, **WIRING.get(name, {}))
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    names = {name for name, _ in COMMANDS}
    # Bare `echoviewer` or `echoviewer FOLDER` opens the window (double-click behaviour).
    if not argv or (argv[0] not in names and not argv[0].startswith("-")):
        argv = ["gui", *argv]
    only = argv[0] if argv and argv[0] in names else None
    parser = build_parser(only)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
