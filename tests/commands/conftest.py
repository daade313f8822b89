"""Fixtures of the command tests: the pipeline tests' phantom (a loop to analyse)."""

from tests.pipeline.conftest import phantom  # noqa: F401  (a fixture, found by name)
