"""Labelled datasets on disk: the EchoNet-Dynamic folder format (``echonet.py``: FileList.csv,
VolumeTracings.csv and the reference loader's view of them).

Above ``analysis`` (a traced frame is a ``Tracing``) and ``io`` (the videos are read and written by
``echoviewer.io.echonet_video``); used by ``synthetic`` (phantom datasets), ``export`` (corrections
for retraining) and ``training``.
"""
