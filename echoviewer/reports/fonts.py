"""The reports' typeface: DejaVu Sans as matplotlib bundles it.

Reports print "—", "±", "≤", "–", "²" and patient names in any script; the PDF base-14 fonts are
Latin-1 only. matplotlib (a report dependency) ships DejaVu in its data folder, so the same files
exist on every platform, in a wheel install and in the frozen app (its hook bundles mpl-data).
"""

from __future__ import annotations

from pathlib import Path

REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"
OBLIQUE = "DejaVuSans-Oblique.ttf"
BOLD_OBLIQUE = "DejaVuSans-BoldOblique.ttf"
MONO = "DejaVuSansMono.ttf"


def font_file(name: str = REGULAR) -> Path:
    """Path of a bundled TrueType font (FileNotFoundError when matplotlib's data lacks it)."""
    import matplotlib  # imported here: matplotlib takes ~0.2 s to import and only reports need it

    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / name
    if not path.is_file():
        raise FileNotFoundError(f"font {name} is missing from matplotlib's data ({path.parent})")
    return path
