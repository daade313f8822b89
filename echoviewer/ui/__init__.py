"""Qt user interface: review window, cine player, beat-EF timeline, settings, worker bridge.

Importing this package does not import Qt; `echoviewer.ui.cli` imports torch before PySide6.
"""
