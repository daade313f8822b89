"""Work the window does off the UI thread, and the one-off garbage-collector tuning at start-up."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import gc
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from echoviewer.errors import one_line


class Relay(QObject):
    """Carries a plain Python thread's messages and result back to the UI thread (queued signals)."""

    progress = Signal(str)
    done = Signal(object)
    error = Signal(str)


def run_in_thread(name: str, work: Callable[[Callable[[str], None]], Any], parent: QObject,
                  on_done: Callable[[Any], None], on_error: Callable[[str], None],
                  on_progress: Callable[[str], None] | None = None) -> Relay:
    """Run ``work(progress)`` in a daemon thread; its result goes to ``on_done``, a failure to
    ``on_error`` (one line), each ``progress(text)`` to ``on_progress``, all in the UI thread.
    Keep the returned relay referenced until it has reported."""
    relay = Relay(parent)
    relay.done.connect(on_done)
    relay.error.connect(on_error)
    if on_progress is not None:
        relay.progress.connect(on_progress)

    def run() -> None:
        try:
            result = work(relay.progress.emit)
        except Exception as exc:
            relay.error.emit(one_line(str(exc)) or type(exc).__name__)
            return
        relay.done.emit(result)

    threading.Thread(target=run, name=name, daemon=True).start()
    return relay


def show_busy(host, label: str, status: str) -> None:
    """The window's progress bar as a busy indicator named ``label``, and ``status`` beside it, while
    work of unknown length runs (hidden again by whoever started it)."""
    host.progress.setRange(0, 0)
    host.progress.setFormat(label)
    host.progress.show()
    host.set_status(status)


def prepare_demo_study(parent: QObject, on_done: Callable[[Any], None], on_error: Callable[[str], None]) -> Relay:
    """The demo study's folder, generated the first time (seconds of phantom rendering) in a thread."""

    def work(_progress):
        from echoviewer.synthetic.demo import ensure_demo_study

        return ensure_demo_study()

    return run_in_thread("echoviewer-demo", work, parent, on_done, on_error)


_startup_frozen = False


def freeze_startup_objects() -> None:
    """Once per process: everything alive when the first window is built (modules, widgets:
    ~400,000 objects) lives as long as the app. A full garbage collection walks all tracked
    objects holding the GIL, 100-200 ms of frozen playback; frozen ones are skipped (and still
    freed by reference counting)."""
    global _startup_frozen
    if not _startup_frozen:
        _startup_frozen = True
        gc.freeze()
