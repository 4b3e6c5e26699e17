"""The runner palmkit's local jobs use: Beam's DirectRunner without its PrismRunner attempt.

Beam 2.77's ``DirectRunner`` first offers every batch pipeline it can to the
PrismRunner, a Go binary that Beam downloads from GitHub on first use, and
only falls back to its Python runners when that fails. For palmkit that is
wrong twice over:

* offline (as on the machines palmkit is built on) the attempt fails every
  time and costs 0.1-0.2 s of each job's start-up, measured on
  ``palmkit tokenize`` (2026-11-29);
* online, a local job would download a binary at run time and run on a
  different runner than the one palmkit's local guarantees are tested on:
  the FnApiRunner with ``direct_num_workers`` processes, bounded bundles
  (``pipeline.local_runner``) and byte-identical outputs for any worker
  count.

``LocalDirectRunner`` is the DirectRunner with the attempt switched off, so it
goes straight to what the DirectRunner falls back to (the FnApiRunner, or the
bundle-based runner for what the FnApiRunner cannot run).
``pipeline.options.build_options`` uses it for ``--runner DirectRunner``; any
other runner name, including Beam's ``PrismRunner`` asked for by name, is
left alone.

How: in Beam 2.77 the runner's ``_is_interactive`` flag does one thing, keep
the DirectRunner from choosing Prism (Prism has no interactive mode). Setting
it is the only switch Beam offers short of copying ``run_pipeline``.
``tests/test_pipeline_direct_runner.py`` checks both that the stock
DirectRunner does try Prism and that this one does not, so a Beam upgrade
that changes either shows up as a failing test.
"""

from __future__ import annotations

from apache_beam.runners.direct.direct_runner import DirectRunner

# What build_options puts in StandardOptions.runner for --runner DirectRunner
# (Beam's create_runner imports a dotted name).
RUNNER_PATH = f"{__name__}.LocalDirectRunner"


class LocalDirectRunner(DirectRunner):
    """Beam's DirectRunner that never tries the PrismRunner (see the module docstring)."""

    _is_interactive = True
