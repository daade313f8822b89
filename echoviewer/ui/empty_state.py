"""What the window shows before a study is open: open / demo buttons and the recent studies."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QListWidget, QPushButton, QVBoxLayout, QWidget

from echoviewer import DEMO_LABEL


class EmptyState(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        title = QLabel("No study open")
        title.setObjectName("emptyTitle")
        text = QLabel("Open a folder of apical 4-chamber loops (video or DICOM), or drop it on this window.")
        text.setObjectName("emptyText")
        text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.open_btn = QPushButton("Open study…")
        self.open_btn.setObjectName("primary")
        self.open_btn.setMinimumSize(QSize(170, 38))
        self.demo_btn = QPushButton("Open demo study")
        self.demo_btn.setMinimumSize(QSize(170, 38))
        self.demo_btn.setToolTip(f"Synthetic phantom loops analysed with the bundled weights ({DEMO_LABEL})")
        self.recent = QListWidget()
        self.recent.setFixedWidth(520)
        self.recent_label = QLabel("RECENT STUDIES")
        self.recent_label.setObjectName("heading")
        btns = QHBoxLayout()
        btns.addStretch(1)
        btns.addWidget(self.open_btn)
        btns.addSpacing(10)
        btns.addWidget(self.demo_btn)
        btns.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addStretch(2)
        lay.addWidget(title, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addSpacing(8)
        lay.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addSpacing(22)
        lay.addLayout(btns)
        lay.addSpacing(30)
        lay.addWidget(self.recent_label, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addWidget(self.recent, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(3)

    def set_recent(self, paths: list[str]) -> None:
        self.recent.clear()
        for p in paths:
            self.recent.addItem(p)
        rows = min(len(paths), 6)
        self.recent.setFixedHeight(max(1, rows) * (self.recent.sizeHintForRow(0) if paths else 30) + 6)
        self.recent.setVisible(bool(paths))
        self.recent_label.setVisible(bool(paths))
