"""The review session: a study's loops, their state, analyses and corrections; emits events; no Qt."""

from echoviewer.session.entry import IllegalTransition, LoopEntry, LoopState, SaveResult, loop_corrected
from echoviewer.session.study import EventKind, Finished, SessionEvent, StudySession, stage_percent

__all__ = [
    "EventKind", "Finished", "IllegalTransition", "LoopEntry", "LoopState", "SaveResult", "SessionEvent",
    "StudySession", "loop_corrected", "stage_percent",
]
