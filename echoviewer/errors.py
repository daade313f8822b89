"""One-line messages: what a user reads in the status bar, the study list or on stderr."""

from __future__ import annotations


def one_line(what: BaseException | str) -> str:
    """Collapse whitespace so a message is a single line.

    For an exception: its text, prefixed with the class name unless it is one of ours (ours
    already name the file and the problem); the class name alone when it has no text."""
    if isinstance(what, BaseException):
        text = " ".join(str(what).split())
        if not text:
            return type(what).__name__
        if type(what).__module__.startswith("echoviewer"):
            return text
        return f"{type(what).__name__}: {text}"
    return " ".join(str(what).split())
