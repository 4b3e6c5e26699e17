"""Runner options: DirectRunner modes, and Dataflow options validated without submitting a job."""

import pytest
from apache_beam.options.pipeline_options import DirectOptions, GoogleCloudOptions, SetupOptions, StandardOptions

from pipeline.options import RunnerOptionsError, build_options

GOOD = ["--project", "palmkit-test-project", "--region", "us-central1", "--temp_location", "gs://palmkit-bucket/tmp"]


def test_direct_runner_multi_processing():
    opts = build_options("DirectRunner", workers=2)
    assert opts.view_as(StandardOptions).runner == "DirectRunner"
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
