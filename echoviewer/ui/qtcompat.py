"""Guard against a reference-counting bug of PySide6 6.12.0 wheels on CPython < 3.12.

With PySide6-Essentials 6.12.0 on Python 3.11, every call of a Qt method that returns nothing
(``setText``, ``processEvents``, ...) takes one reference away from ``None`` instead of
returning a new one, and some virtual-method dispatches do the same to ``True`` / ``False``.
From Python 3.12 those objects are immortal, so the bug is invisible there; on 3.11 the
interpreter aborts with "Fatal Python error: none_dealloc" after a few thousand Qt calls
(seconds of playback). 6.11.3 and earlier are not affected.

The right fix is a PySide6 version without the bug (pin ``PySide6-Essentials!=6.12.0``). Until
then, when the leak is detected, this module gives ``None``, ``True`` and ``False`` a huge
reference count, which is what CPython 3.12 does for them anyway (immortal objects). Nothing is
changed on builds without the bug or on Python >= 3.12.
"""

from __future__ import annotations

import ctypes
import sys

_checked = False
applied = False

#: Added to the reference counts (2**40 calls would take years of continuous playback).
_BOOST = 1 << 40


def singleton_refs_leak() -> bool:
    """True when a void Qt call takes a reference from None (measured, not guessed)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(64):
        probe.setObjectName("probe")
    return sys.getrefcount(None) < before - 32


def guard() -> bool:
    """Apply the work-around once if this PySide6 build needs it; returns whether it did."""
    global _checked, applied
    if _checked:
        return applied
    _checked = True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not singleton_refs_leak():
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += _BOOST
    applied = True
    return True


guard()
