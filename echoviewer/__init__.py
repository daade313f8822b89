"""EchoViewer: review apical 4-chamber echocardiograms with LV segmentation and beat-by-beat EF."""

__version__ = "0.1.0"

#: Shown wherever the bundled demo weights are in use.
DEMO_LABEL = "demo — not for clinical use"
