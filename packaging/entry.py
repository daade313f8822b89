"""Entry point of the frozen (PyInstaller) app: ``echoviewer[.exe] [FOLDER | --selftest | SUBCOMMAND ...]``.

* No arguments (a double-click) opens the review window on the study picker; a folder or loop
  file argument (drag-and-drop, "Open with") opens it: ``echoviewer.cli.main`` maps both to ``gui``.
* ``--selftest`` runs ``echoviewer selftest`` (headless check of the build; exit status 0 = OK).
* Every other subcommand (``info``, ``analyze``, ...) works as in the pip-installed ``echoviewer``.

The window's process never imports torch (the analysis runs in its own process), so the window
shows without waiting for torch, and torch's DLLs never meet Qt's (on Windows the two ship DLLs,
the MSVC runtime and OpenMP, that clash when Qt's are loaded first). ``echoviewer demo``, which
analyses in-process and then opens the window, imports torch first.
"""

from __future__ import annotations

import os
import sys


def _argv(argv: list[str]) -> list[str]:
    # macOS Finder passes a process serial number to apps started from it
    argv = [a for a in argv if not a.startswith("-psn_")]
    if argv and argv[0] == "--selftest":
        argv = ["selftest", *argv[1:]]
    return argv


def _streams() -> None:
    """A windowed build (Windows/macOS, no console) has no stdout/stderr: send them to a log file
    so ``--selftest`` and error messages still land somewhere readable."""
    if sys.stdout is not None and sys.stderr is not None:
        return
    import tempfile

    try:
        log = open(os.path.join(tempfile.gettempdir(), "echoviewer.log"), "a", encoding="utf-8", buffering=1)
    except OSError:
        log = open(os.devnull, "w", encoding="utf-8")
    if sys.stdout is None:
        sys.stdout = log
    if sys.stderr is None:
        sys.stderr = log


def main() -> int:
    import multiprocessing

    multiprocessing.freeze_support()
    _streams()
    argv = _argv(sys.argv[1:])

    from echoviewer.cli import main as cli_main

    return cli_main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
