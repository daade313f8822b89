"""Help → Keyboard shortcuts (built from the window's own menus, so it cannot drift from them) and
Help → About EchoViewer (version, the weights in use, third-party licences, the method's paper)."""

from __future__ import annotations

import echoviewer.ui.qtcompat  # noqa: F401  (before any Qt call: see that module)

# isort: split

import html
import platform
from collections.abc import Iterable, Iterator

from PySide6 import __version__ as PYSIDE_VERSION
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMenu, QMenuBar, QTextBrowser, QVBoxLayout, QWidget

from echoviewer import DEMO_LABEL, __version__
from echoviewer.errors import one_line
from echoviewer.ui import theme

#: What the mouse does (no QAction stands behind these): (where and how, what). The README's
#: "Mouse" table says the same (tests/ui/test_help.py keeps the two equal).
MOUSE = (
    ("Left-drag on the image", "pan"),
    ("Wheel on the image", "zoom"),
    ("Double-click on the image", "fit the image"),
    ("Right-drag on the image", "window/level: horizontal = width (contrast), vertical = level (brightness)"),
    ("Right-click on the image", "menu: overlay, fit, measure, save or copy the frame, window/level"),
    ("Wheel on the frame slider or the timeline", "one frame per notch"),
    ("Click or drag on the timeline", "go to that time"),
    ("Correction mode: drag a point or an ED/ES marker", "move it"),
    ("Correction mode: right-click a tracing point", "delete it"),
    ("Measuring (M, Shift+M, T): click on the image", "place a point"),
    ("Measuring: right-click / double-click", "remove the last point / close an area or LV trace"),
)

#: Third-party software the app ships with and its licence.
LICENCES = (
    ("Qt / PySide6", "LGPLv3", "https://www.qt.io/licensing/open-source-lgpl-obligations"),
    ("PyTorch", "BSD-3-Clause", "https://github.com/pytorch/pytorch/blob/main/LICENSE"),
    ("torchvision", "BSD-3-Clause", "https://github.com/pytorch/vision/blob/main/LICENSE"),
    ("OpenCV", "Apache 2.0", "https://opencv.org/license/"),
    ("pyqtgraph", "MIT", "https://github.com/pyqtgraph/pyqtgraph/blob/master/LICENSE.txt"),
    ("NumPy", "BSD-3-Clause", "https://numpy.org/doc/stable/license.html"),
    ("SciPy", "BSD-3-Clause", "https://scipy.org/"),
    ("pydicom", "MIT", "https://github.com/pydicom/pydicom/blob/main/LICENSE"),
    ("highdicom", "MIT", "https://github.com/ImagingDataCommons/highdicom/blob/master/LICENSE"),
    ("ReportLab", "BSD", "https://www.reportlab.com/"),
    ("Matplotlib", "PSF-style (Matplotlib licence)", "https://matplotlib.org/stable/project/license.html"),
    ("Pillow", "MIT-CMU (HPND)", "https://github.com/python-pillow/Pillow/blob/main/LICENSE"),
    ("platformdirs", "MIT", "https://github.com/tox-dev/platformdirs/blob/main/LICENSE"),
)

METHOD = ("Ejection fraction by the EchoNet-Dynamic method: Ouyang D, He B, Ghorbani A, et al. Video-based AI for "
          "beat-to-beat assessment of cardiac function. Nature 580, 252–256 (2020).")
METHOD_URL = "https://doi.org/10.1038/s41586-020-2145-8"


def menu_text(action: QAction) -> str:
    """An action's text as a person reads it (no & accelerator marks, no trailing …)."""
    return action.text().replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def shortcut_texts(action: QAction) -> list[str]:
    """The action's shortcuts as this platform writes them (Ctrl+Z; ⌘Z on a Mac)."""
    return [s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts() if not s.isEmpty()]


def _menu_actions(menu: QMenu, prefix: str = "") -> Iterator[tuple[str, QAction]]:
    for a in menu.actions():
        if a.isSeparator():
            continue
        if a.menu() is not None:
            yield from _menu_actions(a.menu(), f"{prefix}{menu_text(a)} → ")
        else:
            yield prefix, a


def shortcut_sections(menubar: QMenuBar, extra: Iterable[QAction] = ()) -> list[tuple[str, list[tuple[str, str]]]]:
    """(menu title, [(action, shortcuts)]) for each menu of the bar, in menu order; actions with a
    shortcut that no menu holds (``extra``) come last under "Other"."""
    sections, seen = [], set()
    for top in menubar.actions():
        menu = top.menu()
        if menu is None:
            continue
        rows = []
        for prefix, a in _menu_actions(menu):
            seen.add(id(a))
            keys = shortcut_texts(a)
            if keys:
                rows.append((prefix + menu_text(a), "  or  ".join(keys)))
        if rows:
            sections.append((menu_text(top), rows))
    other = [(menu_text(a), "  or  ".join(shortcut_texts(a))) for a in extra
             if id(a) not in seen and shortcut_texts(a)]
    if other:
        sections.append(("Other", other))
    return sections


def shortcuts_html(sections, mouse=MOUSE) -> str:
    """Two columns: the menus' sections share them by length, the mouse comes last."""
    def block(title: str, rows, key_width: int) -> str:
        cells = "".join(f"<tr><td width='{key_width}' style='padding:2px 12px 2px 0'><b>{html.escape(k)}</b></td>"
                        f"<td style='padding:2px 0'>{html.escape(v)}</td></tr>" for k, v in rows)
        return (f"<h3 style='color:{theme.ACCENT}; margin-top:10px; margin-bottom:4px'>{html.escape(title)}</h3>"
                f"<table cellspacing='0' width='100%'>{cells}</table>")

    blocks = [(len(rows) + 2, block(title, [(keys, what) for what, keys in rows], 175)) for title, rows in sections]
    blocks.append((len(mouse) * 2 + 2, block("Mouse", mouse, 190)))
    total, left, acc = sum(n for n, _ in blocks), [], 0
    while blocks and acc + blocks[0][0] <= total / 2 + 4:
        n, b = blocks.pop(0)
        left.append(b)
        acc += n
    return (f"<table width='100%' cellspacing='0'><tr><td width='50%' valign='top' style='padding-right:24px'>"
            f"{''.join(left)}</td><td width='50%' valign='top'>{''.join(b for _, b in blocks)}</td></tr></table>")


class ShortcutSheet(QDialog):
    """Every action of the window with its shortcut, from the window's menus, and the mouse."""

    def __init__(self, menubar: QMenuBar, extra: Iterable[QAction] = (), parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.sections = shortcut_sections(menubar, extra)
        self.text = QTextBrowser()
        self.text.setHtml(shortcuts_html(self.sections))
        self.text.setOpenLinks(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(buttons)
        self.resize(1000, 700)


def weights_lines(infos) -> list[str]:
    """'Segmentation: name (sha256 1a2b3c4d5e6f)' per weights info (a demo one says so)."""
    lines = []
    for what, info in infos:
        if info is None:
            continue
        text = f"{what}: {info.sha_label}"
        if getattr(info, "demo", False):
            text += f" — {DEMO_LABEL}"
        lines.append(text)
    return lines


def about_html(weights: list[str]) -> str:
    w = "<br>".join(html.escape(x) for x in weights) or "not loaded yet (they load with the first analysis)"
    libs = "".join(f"<tr><td style='padding:1px 14px 1px 0'><a href='{url}'>{html.escape(name)}</a></td>"
                   f"<td>{html.escape(lic)}</td></tr>" for name, lic, url in LICENCES)
    return (
        f"<h2 style='margin-bottom:2px'>EchoViewer {html.escape(__version__)}</h2>"
        "<p>Review of apical 4-chamber echocardiograms: LV segmentation, beats and beat-by-beat "
        "ejection fraction.</p>"
        f"<p><b>Weights in use</b><br>{w}</p>"
        f"<p><b>Method</b><br>{html.escape(METHOD)} <a href='{METHOD_URL}'>{METHOD_URL}</a></p>"
        f"<p><b>Third-party software</b> (each under its own licence; Qt is used under the LGPLv3 and may "
        f"be replaced by another build of the same version)</p><table cellspacing='0'>{libs}</table>"
        f"<p style='color:{theme.MUTED}'>Python {platform.python_version()} · Qt {qVersion()} · "
        f"PySide6 {PYSIDE_VERSION} · {html.escape(platform.platform(terse=True))}</p>"
    )


class AboutDialog(QDialog):
    def __init__(self, weights: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About EchoViewer")
        self.label = QLabel(about_html(weights))
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setOpenExternalLinks(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label, 1)
        lay.addWidget(buttons)
        self.setMinimumWidth(560)


def weights_in_use(session, settings) -> list[str]:
    """The weights of the analysis on screen (else the study's latest); before any analysis, the
    files the Settings would load, with the sha256 their manifests give."""
    cur = session.current
    a = cur.analysis if cur is not None and cur.analysis is not None else \
        next((e.analysis for e in session if e.analysis is not None), None)
    if a is not None:
        return weights_lines([("Segmentation", a.seg_info), ("EF", a.ef_info)])
    from echoviewer.models.discovery import DEMO_NAMES, find_weights
    from echoviewer.models.manifest import SHA_DIGITS, manifest_path, read_manifest

    lines = []
    for what, task, chosen in (("Segmentation", "segmentation", settings.seg_weights),
                               ("EF", "ef", settings.ef_weights)):
        try:
            p = find_weights(task, chosen or None)
        except Exception as exc:  # none found, or the chosen file is gone: say so, do not fail
            lines.append(f"{what}: {one_line(exc)}")
            continue
        try:
            sha = f"sha256 {read_manifest(manifest_path(p))['sha256'][:SHA_DIGITS]}"
        except Exception:
            sha = "sha256 worked out at the first analysis"
        demo = p.name in DEMO_NAMES.values()
        lines.append(f"{what}: {p.name} ({sha})" + (f" — {DEMO_LABEL}" if demo else ""))
    return lines
