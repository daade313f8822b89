"""Video -> masks -> beats -> per-beat EF (no Qt)."""

from echoviewer.pipeline.results import AnalysisSettings, Beat, LoopAnalysis, Progress

__all__ = ["AnalysisSettings", "Analyzer", "Beat", "Cancelled", "LoopAnalysis", "Progress"]


def __getattr__(name):
    # Analyzer pulls in torch; keep `from echoviewer.pipeline import LoopAnalysis` light.
    if name in ("Analyzer", "Cancelled"):
        from echoviewer.pipeline import analyzer

        return getattr(analyzer, name)
    raise AttributeError(name)
