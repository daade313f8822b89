"""What the app ships besides code: icons, the Qt style sheet, the desktop entry and AppStream metadata.

Installed as the package ``echoviewer.resources`` (pyproject.toml maps it to this folder), so the
window reads these files with ``importlib.resources`` from a source checkout, an installed wheel
and the frozen app alike (packaging/echoviewer.spec bundles the folder).
"""
