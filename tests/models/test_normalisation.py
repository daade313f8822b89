"""One parser for --mean/--std and the window's Settings."""

from __future__ import annotations

import math

import pytest

from echoviewer.models.normalisation import format_triplet, parse_triplet


def test_parse_triplet():
    assert parse_triplet("") is None
    assert parse_triplet(None) is None
    assert parse_triplet("32.5, 32.6, 32.9") == (32.5, 32.6, 32.9)
    assert parse_triplet("32.5;32.6 32.9") == (32.5, 32.6, 32.9)
    assert parse_triplet("50") == (50.0, 50.0, 50.0)
    assert format_triplet((1.0, 2.5, 3.0)) == "1, 2.5, 3"
    assert parse_triplet(format_triplet((32.49, 32.63, 32.93))) == (32.49, 32.63, 32.93)


@pytest.mark.parametrize("text", ["1, 2", "a, b, c", "1,2,3,4", "nan", "1, inf, 2", "NaN,NaN,NaN"])
def test_parse_triplet_refuses(text):
    with pytest.raises(ValueError) as exc:
        parse_triplet(text)
    assert "\n" not in str(exc.value) and text in str(exc.value)


def test_std_must_be_positive():
    assert parse_triplet("0, 1, 2") == (0.0, 1.0, 2.0)
    for text in ("0, 1, 2", "-3"):
        with pytest.raises(ValueError, match="positive"):
            parse_triplet(text, positive=True)
    assert all(math.isfinite(v) for v in parse_triplet("49.9", positive=True))


def test_weights_label_is_the_same_everywhere():
    """The CLI printed 12 hex digits and the window 8: one label now, from the weights' info."""
    from echoviewer.models.manifest import SHA_DIGITS, WeightsInfo

    info = WeightsInfo(path=None, name="echonet-seg", task="segmentation", architecture="deeplabv3_resnet50",
                       input_size=112, mean=(0.0,) * 3, std=(1.0,) * 3, frames=None, period=None,
                       sha256="0123456789abcdef" * 4, demo=False, official=True)
    assert SHA_DIGITS == 12
    assert info.short_sha == "0123456789ab"
    assert info.sha_label == "echonet-seg (sha256 0123456789ab)"
