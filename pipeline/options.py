"""Runner options: the DirectRunner in multi-processing mode here, Dataflow by standard Beam flags.

palmkit's Beam commands take ``--runner`` and ``--workers`` themselves and pass
everything after ``--`` to Beam unchanged, so any Beam option works. For
Dataflow the options are checked with Beam's own validator before anything is
submitted, so a missing ``--region`` or a bad bucket is a one-line error.

``--runner DirectRunner`` (the default) runs on
``pipeline.direct_runner.LocalDirectRunner``, Beam's DirectRunner without its
attempt to download and use the PrismRunner. Local runs with more than one
worker get bounded bundles
(``pipeline.local_runner``): Beam's multi-process DirectRunner would hand each
worker 1/workers of every stage's input as one bundle, so worker memory would
grow with the corpus; palmkit caps a bundle's encoded input at
``max_bundle_mb`` (default 2 MiB, 0 for Beam's stock bundling).
"""

from __future__ import annotations

import os

from apache_beam.options.pipeline_options import (
    DirectOptions,
    GoogleCloudOptions,
    PipelineOptions,
    SetupOptions,
    StandardOptions,
)

DATAFLOW_RUNNERS = ("DataflowRunner", "TestDataflowRunner")
LOCAL_RUNNER = "pipeline.direct_runner.LocalDirectRunner"  # pipeline.direct_runner.RUNNER_PATH, without importing the runner here
MALLOC_MMAP_THRESHOLD = 1 << 20


class RunnerOptionsError(ValueError):
    """Bad runner options; the message names what to fix."""


def default_setup_file() -> str | None:
    """palmkit's own setup.py, so Dataflow workers can install palmkit, when running from a checkout."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.path.join(here, "setup.py")
    return path if os.path.exists(path) else None


def build_options(runner: str = "DirectRunner", workers: int | None = None, beam_args: list[str] | None = None,
                  job_name: str | None = None, worker_log_level: str = "WARNING",
                  max_bundle_mb: float | None = None) -> PipelineOptions:
    """PipelineOptions for ``runner``; raises RunnerOptionsError when Beam's validator objects.

    ``worker_log_level`` quiets the local worker processes, which otherwise log
    every bundle at INFO; an explicit ``--default_sdk_harness_log_level`` wins.

    ``max_bundle_mb`` (DirectRunner with more than one worker only): the most
    encoded input, in MiB, one local bundle gets (None: DEFAULT_MAX_BUNDLE_MB;
    0: Beam's stock bundling, one bundle per worker per stage). It installs
    ``pipeline.local_runner.bound_local_bundles`` in this process, so it holds
    for every local pipeline this process runs afterwards.
    """
    args = list(beam_args or [])
    if not any(a.startswith("--default_sdk_harness_log_level") for a in args):
        args.append(f"--default_sdk_harness_log_level={worker_log_level}")
    options = PipelineOptions(args)
    # "DirectRunner" runs on pipeline.direct_runner.LocalDirectRunner: Beam's
    # DirectRunner without its attempt to download and use the PrismRunner.
    options.view_as(StandardOptions).runner = LOCAL_RUNNER if runner == "DirectRunner" else runner
    if runner in ("DirectRunner", "PrismRunner") or runner.endswith("DirectRunner"):
        direct = options.view_as(DirectOptions)
        n = workers if workers is not None else (os.cpu_count() or 1)
        if n < 1:
            raise RunnerOptionsError(f"--workers must be at least 1, got {n}")
        direct.direct_num_workers = n
        # One worker runs in memory (easiest to debug); more use processes, since
        # Python threads would serialise on the GIL.
        direct.direct_running_mode = "multi_processing" if n > 1 else "in_memory"
        if n > 1:
            _bound_local_bundles(max_bundle_mb)
    if runner in DATAFLOW_RUNNERS:
        _prepare_dataflow(options, job_name)
    return options


def _bound_local_bundles(max_bundle_mb: float | None) -> None:
    from pipeline.local_runner import DEFAULT_MAX_BUNDLE_MB, bound_local_bundles

    mb = DEFAULT_MAX_BUNDLE_MB if max_bundle_mb is None else max_bundle_mb
    if mb < 0:
        raise RunnerOptionsError(f"--max_bundle_mb must be 0 (Beam's bundling) or more, got {mb:g}")
    if bound_local_bundles(int(mb * 2**20)):
        # glibc raises its mmap threshold after the first large free, so the
        # buffers a worker frees (bundle inputs, data-plane messages) stay in its
        # heap and its resident set grows with what it has processed. A fixed
        # 1 MiB threshold returns every buffer that large to the system when it
        # is freed. Measured (dedup, 12,000 documents, 2 MiB bundles, 2 workers):
        # 218-228 MiB a worker instead of 269-300, and flat from 1,500 documents
        # (182-187 -> 221, against 217-221 -> 276-293 without it); the price is
        # ~4 s more CPU of ~17 s, mostly system time (mmap/munmap). Set here,
        # before the runner starts its SDK worker processes, which inherit this
        # environment (the driver's own allocator is already set up and keeps
        # glibc's default); a value the user set is kept. MALLOC_MMAP_THRESHOLD = 0
        # (this module's constant) leaves glibc's dynamic threshold alone.
        if MALLOC_MMAP_THRESHOLD > 0:
            os.environ.setdefault("MALLOC_MMAP_THRESHOLD_", str(MALLOC_MMAP_THRESHOLD))


def _prepare_dataflow(options: PipelineOptions, job_name: str | None) -> None:
    gcp = options.view_as(GoogleCloudOptions)
    if gcp.temp_location and not gcp.staging_location:
        gcp.staging_location = gcp.temp_location.rstrip("/") + "/staging"
    if job_name and not gcp.job_name:
        gcp.job_name = job_name
    setup = options.view_as(SetupOptions)
    if not setup.setup_file and not setup.requirements_file:
        setup.setup_file = default_setup_file()
    errors = validate_dataflow(options)
    if errors:
        raise RunnerOptionsError("invalid Dataflow options: " + "; ".join(errors))


def validate_dataflow(options: PipelineOptions) -> list[str]:
    """Beam's own checks for Dataflow, plus the ones palmkit needs; submits nothing."""
    from apache_beam.options.pipeline_options_validator import PipelineOptionsValidator
    from apache_beam.runners.dataflow.dataflow_runner import DataflowRunner

    errors = list(PipelineOptionsValidator(options, DataflowRunner()).validate())
    gcp = options.view_as(GoogleCloudOptions)
    if not gcp.region and not any("region" in e for e in errors):
        errors.append("Missing required option: region.")
    setup_file = options.view_as(SetupOptions).setup_file
    if setup_file and "://" not in setup_file and not os.path.exists(setup_file):
        errors.append(f"setup_file not found: {setup_file}")
    return errors
