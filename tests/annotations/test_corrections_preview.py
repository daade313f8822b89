"""Live values while a tracing is dragged: preview_tracing computes without editing."""

import numpy as np
import pytest

from echoviewer.analysis.tracing import mask_contour, tracing_from_mask
from echoviewer.annotations.model import Corrections
from tests.annotations.conftest import ellipse


def test_preview_matches_the_committed_edit_and_changes_nothing(analysis):
    c = Corrections(analysis, user="t")
    state_before = repr(c.state)
    seen = []
    c.listeners.append(lambda corr, action: seen.append(action))
    contour = mask_contour(ellipse(60, 55, 8, 24))
    apex, base = np.array([60.0, 31.0]), np.array([60.0, 79.0])
    vals, summ = c.preview_tracing(1, "es", contour, apex, base)
    assert repr(c.state) == state_before and not seen and not c.can_undo() and not c.audit
    assert vals[0].corrected and vals[0].esv < c.values()[0].esv
    c.set_tracing(1, "es", contour, apex, base)
    after = c.values()
    assert vals[0].esv == pytest.approx(after[0].esv, rel=1e-6)
    assert vals[0].ef == pytest.approx(after[0].ef, rel=1e-6)
    assert summ.ef_mean == pytest.approx(c.summary().ef_mean, rel=1e-6)
    with pytest.raises(KeyError):
        c.preview_tracing(99, "es", contour, apex, base)
    with pytest.raises(ValueError):
        c.preview_tracing(1, "xx", contour, apex, base)


def test_model_mask_tracings_are_cached_and_follow_a_new_analysis(analysis):
    c = Corrections(analysis)
    v1 = c.values()
    assert c.tracing(c.beat(1), "es") is c.tracing(c.beat(1), "es")  # computed once
    expected = tracing_from_mask(analysis.masks[20])
    np.testing.assert_allclose(v1[0].es_tracing.axis, expected.axis)
    # a re-analysis with other masks is not served from the old cache
    other = type(analysis)(**{**analysis.__dict__, "masks": analysis.masks[::-1].copy()})
    c.analysis = other
    np.testing.assert_allclose(c.tracing(c.beat(1), "es").axis, tracing_from_mask(other.masks[20]).axis)


def test_beats_the_model_excluded_carry_a_reason(analysis):
    analysis.beats[1].included = False
    c = Corrections(analysis)
    assert c.beat(2)["excluded"] and c.beat(2)["exclude_reason"] == "excluded by the analysis"
