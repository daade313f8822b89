"""The open study as report content: what the window shows, with the corrections as they are now."""

from __future__ import annotations

from echoviewer.io.identity import UNKNOWN, Identity
from echoviewer.reports.content import LoopReport, MissingLoop, StudyReport, loop_report, study_report
from echoviewer.session.entry import LoopState
from echoviewer.session.study import StudySession

_WHY = {
    LoopState.QUEUED: "not analysed yet",
    LoopState.ANALYSING: "still being analysed",
}


def session_loops(session: StudySession) -> tuple[list[LoopReport], list[MissingLoop]]:
    """Analysed loops (with their live corrections) and the others with the reason they are left out."""
    loops, missing = [], []
    for e in session:
        if e.state == LoopState.DONE and e.analysis is not None:
            loops.append(loop_report(e.name, e.analysis, e.corrections, loop=e.loop))
        elif e.state in (LoopState.FAILED, LoopState.UNREADABLE):
            what = "analysis failed" if e.state == LoopState.FAILED else "unreadable"
            missing.append(MissingLoop(e.name, f"{what}: {e.message}" if e.message else what))
        else:
            missing.append(MissingLoop(e.name, _WHY.get(e.state, str(e.state))))
    return loops, missing


def session_identity(session: StudySession) -> Identity:
    """The identity the study's DICOM loops carry (empty when it has none)."""
    return next((e.loop.identity for e in session if e.loop is not None and e.loop.identity.from_dicom), UNKNOWN)


def session_report(session: StudySession, entered: Identity | None = None) -> StudyReport:
    loops, missing = session_loops(session)
    title = session.folder.name if session.folder is not None else "study"
    return study_report(title, loops, missing, entered=entered)
