"""Pieces the window's small dialogs share: a path field with its Browse… button, and the
OK/Cancel row whose OK says what it does."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget


def path_row(edit: QLineEdit, browse: Callable[[], None]) -> QWidget:
    """``edit`` stretched, with a Browse… button that calls ``browse``."""
    row = QWidget()
    lay = QHBoxLayout(row)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(edit, 1)
    button = QPushButton("Browse…")
    button.clicked.connect(browse)
    lay.addWidget(button)
    return row


def choose_folder(parent: QWidget, edit: QLineEdit, title: str) -> None:
    """Ask for a folder (starting at ``edit``'s, else home) and put the choice in ``edit``."""
    d = QFileDialog.getExistingDirectory(parent, title, edit.text() or str(Path.home()))
    if d:
        edit.setText(d)


def folder_row(parent: QWidget, edit: QLineEdit, title: str) -> QWidget:
    """A folder field whose Browse… asks with ``title``."""
    return path_row(edit, lambda: choose_folder(parent, edit, title))


def ok_cancel(dialog: QDialog, ok_text: str) -> QDialogButtonBox:
    """OK (named ``ok_text``) accepts ``dialog``, Cancel rejects it."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    buttons.button(QDialogButtonBox.StandardButton.Ok).setText(ok_text)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons
