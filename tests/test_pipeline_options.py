"""Runner options: DirectRunner modes, and Dataflow options validated without submitting a job."""

import os

import pytest
from apache_beam.options.pipeline_options import DirectOptions, GoogleCloudOptions, SetupOptions, StandardOptions

from pipeline.options import RunnerOptionsError, build_options

GOOD = ["--project", "palmkit-test-project", "--region", "us-central1", "--temp_location", "gs://palmkit-bucket/tmp"]


def test_direct_runner_multi_processing():
    opts = build_options("DirectRunner", workers=2)
    # Beam's DirectRunner without the PrismRunner attempt (pipeline/direct_runner.py).
    assert opts.view_as(StandardOptions).runner == "pipeline.direct_runner.LocalDirectRunner"
    assert opts.view_as(DirectOptions).direct_num_workers == 2
    assert opts.view_as(DirectOptions).direct_running_mode == "multi_processing"


def test_one_worker_runs_in_memory():
    assert build_options("DirectRunner", workers=1).view_as(DirectOptions).direct_running_mode == "in_memory"


def test_zero_workers_is_an_error():
    with pytest.raises(RunnerOptionsError, match="--workers must be at least 1"):
        build_options("DirectRunner", workers=0)


def test_dataflow_options_are_built_and_validated():
    opts = build_options("DataflowRunner", beam_args=GOOD + ["--max_num_workers", "50"], job_name="palmkit-curate")
    gcp = opts.view_as(GoogleCloudOptions)
    assert gcp.project == "palmkit-test-project" and gcp.region == "us-central1"
    assert gcp.staging_location == "gs://palmkit-bucket/tmp/staging"
    assert gcp.job_name == "palmkit-curate"
    # Workers install palmkit from its own setup.py.
    assert opts.view_as(SetupOptions).setup_file.endswith("setup.py")
    assert opts.get_all_options()["max_num_workers"] == 50


@pytest.mark.parametrize(
    "args, message",
    [
        (["--project", "palmkit-test-project", "--temp_location", "gs://palmkit-bucket/tmp"], "region"),
        (["--project", "palmkit-test-project", "--region", "us-central1", "--temp_location", "/local/tmp"], "temp_location"),
        (GOOD + ["--setup_file", "/nonexistent/setup.py"], "setup_file not found"),
    ],
)
def test_bad_dataflow_options_are_one_clear_error(args, message):
    with pytest.raises(RunnerOptionsError) as exc:
        build_options("DataflowRunner", beam_args=args)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_local_multi_process_runs_get_bounded_bundles(monkeypatch):
    from apache_beam.runners.portability.fn_api_runner import fn_runner

    from pipeline import local_runner

    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    before = local_runner.current_max_bundle_bytes()
    try:
        build_options("DirectRunner", workers=2)
        assert local_runner.current_max_bundle_bytes() == local_runner.DEFAULT_MAX_BUNDLE_MB * 2**20
        assert fn_runner.ParallelBundleManager.process_bundle is local_runner._bounded_process_bundle
        assert os.environ["MALLOC_MMAP_THRESHOLD_"] == "1048576"
        build_options("DirectRunner", workers=2, max_bundle_mb=0.5)
        assert local_runner.current_max_bundle_bytes() == 2**19
        # One worker runs in memory, where bundles are not split: the setting is left alone.
        build_options("DirectRunner", workers=1, max_bundle_mb=0)
        assert local_runner.current_max_bundle_bytes() == 2**19
        build_options("DirectRunner", workers=2, max_bundle_mb=0)
        assert not local_runner.installed()
        with pytest.raises(RunnerOptionsError, match="--max_bundle_mb"):
            build_options("DirectRunner", workers=2, max_bundle_mb=-1)
    finally:
        local_runner.bound_local_bundles(before)


def test_user_malloc_setting_is_kept(monkeypatch):
    from pipeline import local_runner

    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    before = local_runner.current_max_bundle_bytes()
    try:
        build_options("DirectRunner", workers=2)
        assert os.environ["MALLOC_MMAP_THRESHOLD_"] == "65536"
    finally:
        local_runner.bound_local_bundles(before)


def test_max_bundle_mb_flag_reaches_build_options():
    import argparse

    from palmkit.commands._beam import add_runner_arguments, pipeline_options
    from pipeline import local_runner

    parser = argparse.ArgumentParser()
    add_runner_arguments(parser)
    args = parser.parse_args(["--workers", "2", "--max_bundle_mb", "4"])
    args.beam_args = []
    before = local_runner.current_max_bundle_bytes()
    try:
        pipeline_options(args, "palmkit-test")
        assert local_runner.current_max_bundle_bytes() == 4 * 2**20
    finally:
        local_runner.bound_local_bundles(before)
    assert "--max_bundle_mb" in parser.format_help()
