"""A study folder as report content: every readable loop analysed (cached analyses come back at once)
with its saved corrections, and every loop that cannot be reported named with the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from echoviewer.annotations.store import belongs_to, open_corrections
from echoviewer.errors import one_line
from echoviewer.io.identity import Identity
from echoviewer.reports.content import LoopReport, MissingLoop, StudyReport, loop_report, study_report

#: analyze(loop, progress) -> LoopAnalysis; progress gets the pipeline's Progress objects.
Analyze = Callable[[Any, Callable[[Any], None] | None], Any]


def _why(exc: BaseException) -> str:
    return one_line(getattr(exc, "problem", None) or f"{type(exc).__name__}: {exc}")


def report_loop(loop: Any, analysis: Any, user: str | None = None) -> tuple[LoopReport, str | None]:
    """One analysed loop with its saved corrections (a problem line when they could not be used)."""
    name = Path(loop.path).name
    problem = None
    try:
        corrections = open_corrections(analysis, loop.path, user=user)
    except Exception as exc:
        corrections, problem = None, f"{name}: corrections not read ({_why(exc)}); model values reported"
    if corrections is not None and corrections.has_edits and not belongs_to(loop, corrections):
        corrections, problem = None, f"{name}: the saved corrections belong to another file; model values reported"
    return loop_report(name, analysis, corrections, loop=loop), problem


def gather_study(folder: str | Path, analyze: Analyze, entered: Identity | None = None,
                 log: Callable[[str], None] | None = None,
                 on_loop: Callable[[int, int, str], None] | None = None,
                 progress: Callable[[Any], None] | None = None) -> StudyReport:
    """Analyse (or take from the cache) every loop of ``folder`` and build the study's report content.

    A loop that cannot be read or analysed does not stop the others: it is listed in ``missing``
    with a one-line reason. ``on_loop(i, n, name)`` is called before each loop.
    """
    from echoviewer.io import scan_study

    folder = Path(folder)
    scan = scan_study(folder)
    missing = [MissingLoop(Path(e.path).name, e.problem) for e in scan.errors]
    loops: list[LoopReport] = []
    for i, loop in enumerate(scan.loops):
        name = Path(loop.path).name
        if on_loop is not None:
            on_loop(i, len(scan.loops), name)
        try:
            analysis = analyze(loop, progress)
        except Exception as exc:  # one bad loop must not stop the report
            missing.append(MissingLoop(name, f"analysis failed: {_why(exc)}"))
            continue
        lr, problem = report_loop(loop, analysis)
        if problem and log is not None:
            log(problem)
        loops.append(lr)
    return study_report(folder.resolve().name, loops, missing, entered=entered)
