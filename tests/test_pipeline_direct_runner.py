"""pipeline.direct_runner: local jobs never try Beam's PrismRunner, and still run."""

import apache_beam as beam
import pytest
from apache_beam.runners.portability import prism_runner
from apache_beam.testing.util import assert_that, equal_to

from pipeline.direct_runner import RUNNER_PATH, LocalDirectRunner
from pipeline.options import LOCAL_RUNNER, build_options


class _PrismTried(Exception):
    pass


@pytest.fixture
def prism_attempts(monkeypatch):
    """Counts PrismRunner constructions; the stand-in fails, so Beam falls back as it does offline."""
    attempts = []

    class FailingPrism:
        def __init__(self, *args, **kwargs):
            attempts.append(1)

        def run_pipeline(self, *args, **kwargs):
            raise _PrismTried("no Prism here")

    monkeypatch.setattr(prism_runner, "PrismRunner", FailingPrism)
    return attempts


def _squares(options):
    with beam.Pipeline(options=options) as p:
        out = p | beam.Create([1, 2, 3]) | beam.Map(lambda x: x * x) | beam.GroupBy(lambda x: x % 2).aggregate_field(
            lambda x: x, sum, "total"
        )
        assert_that(out | beam.Map(tuple), equal_to([(0, 4), (1, 10)]))


def test_build_options_names_the_local_runner():
    assert LOCAL_RUNNER == RUNNER_PATH
    assert isinstance(beam.Pipeline(options=build_options("DirectRunner", workers=1)).runner, LocalDirectRunner)


def test_stock_direct_runner_tries_prism_first(prism_attempts):
    # Why the module exists: Beam's own DirectRunner offers this batch pipeline to Prism.
    options = build_options("DirectRunner", workers=1)
    options.view_as(beam.options.pipeline_options.StandardOptions).runner = "DirectRunner"
    _squares(options)
    assert prism_attempts == [1]


@pytest.mark.parametrize("workers", [1, 2])
def test_local_runner_skips_prism_and_runs(prism_attempts, workers):
    _squares(build_options("DirectRunner", workers=workers))
    assert prism_attempts == []
