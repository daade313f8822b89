"""Many Qt calls must not exhaust None / True / False (PySide6 6.12.0 on Python 3.11 leaks them)."""

from __future__ import annotations

import sys

from echoviewer.ui import qtcompat


def test_void_qt_calls_cannot_exhaust_singletons(qapp):
    from PySide6.QtWidgets import QLabel

    lab = QLabel()
    for _ in range(20000):  # ~ a minute of playback's worth of void calls
        lab.setText("x")
        lab.isVisible()
    assert sys.getrefcount(None) > 20000
    assert sys.getrefcount(True) > 1000 and sys.getrefcount(False) > 1000
    if not qtcompat.applied:  # a sound build: nothing was patched and nothing leaks
        before = sys.getrefcount(None)
        for _ in range(1000):
            lab.setText("y")
        assert sys.getrefcount(None) >= before - 10
