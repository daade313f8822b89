"""The app's log: a rotating file in the OS's log folder, and a crash file that faulthandler writes
when native code (a decoder, a model) kills the process. No patient data goes into either.

What "no patient data" means here: study folders and loop files are often named after the patient
(a PACS export such as ``DOE_JANE_19700101/IM0001.dcm``), so a log line never holds a path or a file
name. It names a loop by `loop_ref`: an 8-hex-digit hash of its path plus its extension
("loop 3f2a9c1e.dcm"). The hash is stable, so the lines of one loop can be followed through the log,
and support can match a log line to a file only by hashing the path on the user's own machine.
Error messages are passed through `redact`, which replaces the study's paths and file names with
those references. Measurements (EF, volumes) are not logged either: counts, timings and states are.
"""

from __future__ import annotations

import faulthandler
import hashlib
import logging
import logging.handlers
import os
import platform
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from echoviewer import __version__
from echoviewer.paths import user_log_dir

LOG_NAME = "echoviewer.log"
CRASH_NAME = "crash.log"
#: Each log file's size before it rotates, and how many old ones are kept (5 MB at most in all).
MAX_BYTES, BACKUPS = 1_000_000, 4
#: The crash file is cut back to its last part when it grows past this.
CRASH_MAX_BYTES = 256_000
#: Child processes (the analysis) write native crashes to the file named here.
CRASH_ENV = "ECHOVIEWER_CRASH_FILE"

log = logging.getLogger("echoviewer")
_crash_file: TextIO | None = None  # kept open (and referenced) for faulthandler


def loop_ref(path: str | os.PathLike) -> str:
    """How the log names a loop or a study folder: 'loop 3f2a9c1e.dcm' (hash of the path; no name)."""
    p = Path(path)
    digest = hashlib.sha256(str(p).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"loop {digest}{p.suffix.lower()}"


def study_ref(path: str | os.PathLike) -> str:
    digest = hashlib.sha256(str(Path(path)).encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"study {digest}"


def redact(text: str, paths: Iterable[str | os.PathLike] = (), folder: str | os.PathLike | None = None) -> str:
    """``text`` with each of ``paths`` (full path, then file name, then stem) replaced by its
    `loop_ref`, ``folder`` by its `study_ref`, and the home folder by '~'."""
    out = str(text)
    for path in sorted((Path(p) for p in paths), key=lambda p: -len(str(p))):
        ref = loop_ref(path)
        for s in (str(path), path.name, path.stem):
            if len(s) >= 3:
                out = out.replace(s, ref)
    if folder is not None:
        f = Path(folder)
        out = out.replace(str(f), study_ref(f))
        if len(f.name) >= 3:
            out = out.replace(f.name, study_ref(f))
    home = str(Path.home())
    if len(home) > 1:
        out = out.replace(home, "~")
    return out


def setup(folder: str | os.PathLike | None = None, level: int = logging.INFO, crash_trace: bool = True) -> Path:
    """Start the log file and (``crash_trace``) the crash trace in ``folder`` (default `user_log_dir()`);
    returns the log file's path. Calling it again changes nothing. A folder that cannot be written
    leaves the app without a log file, never without a window."""
    global _crash_file
    d = Path(folder) if folder is not None else user_log_dir()
    path = d / LOG_NAME
    if any(isinstance(h, logging.handlers.RotatingFileHandler) for h in log.handlers):
        return path
    try:
        d.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8", delay=True)
    except OSError:
        return path
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel(level)
    previous = _previous_crash(d / CRASH_NAME)
    if crash_trace:
        _crash_file = enable_crash_trace(d / CRASH_NAME)
    log.info("EchoViewer %s started (pid %d; Python %s; %s)", __version__, os.getpid(), platform.python_version(),
             platform.platform(terse=True))
    if previous:
        log.warning("the previous session ended in a crash: its trace is in %s", CRASH_NAME)
    return path


def stop() -> None:
    """Close the log file (the crash trace stays: faulthandler holds its file to the end)."""
    for h in list(log.handlers):
        if isinstance(h, logging.handlers.RotatingFileHandler):
            log.removeHandler(h)
            h.close()


def enable_crash_trace(path: Path) -> TextIO | None:
    """faulthandler writes the Python stack of every thread to ``path`` when native code crashes
    this process; child processes started afterwards find the file in $ECHOVIEWER_CRASH_FILE."""
    try:
        _trim(path)
        f = open(path, "a", encoding="utf-8")  # stays open: faulthandler writes to it at a crash
        f.write(f"=== {time.strftime('%Y-%m-%d %H:%M:%S')} pid {os.getpid()} EchoViewer {__version__}: "
                "a native crash of this process would be traced below\n")
        f.flush()
    except OSError:
        return None
    faulthandler.enable(file=f, all_threads=True)
    os.environ[CRASH_ENV] = str(path)
    return f


def child_crash_trace() -> None:
    """In a child process (the analysis): trace native crashes to the parent's crash file."""
    global _crash_file
    path = os.environ.get(CRASH_ENV)
    if path and _crash_file is None:
        _crash_file = enable_crash_trace(Path(path))


def _previous_crash(path: Path) -> bool:
    """Whether the last session's section of the crash file holds a trace (not only its header)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    last = text.rsplit("=== ", 1)[-1]
    return "Fatal Python error" in last or "Current thread" in last or "Thread 0x" in last


def _trim(path: Path) -> None:
    try:
        if path.stat().st_size <= CRASH_MAX_BYTES:
            return
        data = path.read_bytes()[-CRASH_MAX_BYTES // 2:]
        path.write_bytes(data[data.find(b"\n") + 1:])
    except OSError:
        pass


def log_uncaught(exc_type, exc, tb) -> None:
    """sys.excepthook: an exception nobody caught goes to the log (type and place; its message
    could name a file, so only its type), then to the default hook."""
    import traceback

    frames = traceback.extract_tb(tb)
    where = "; ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in frames[-6:])
    log.error("uncaught %s at %s", exc_type.__name__, where)
    sys.__excepthook__(exc_type, exc, tb)
