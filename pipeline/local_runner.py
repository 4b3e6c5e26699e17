"""Bounded bundles for local multi-process runs (Beam's DirectRunner / FnApiRunner).

Why this exists. With ``direct_running_mode=multi_processing`` the DirectRunner
is Beam's FnApiRunner with ``direct_num_workers`` SDK worker processes. For
every stage it calls ``ParallelBundleManager.process_bundle``, which cuts the
stage's whole input into exactly ``num_workers`` parts and sends each worker
one part as one bundle. So a worker's bundle is 1/workers of the corpus, and
its memory grows with the corpus however little palmkit's DoFns hold: the
input elements stream through, but the encoded bundle, the decoded elements
in flight and the output buffers of a bundle that large all scale with it, and
glibc keeps the freed bundle buffers in the heap. Measured on the dedup job
(benchmarks/dedup_memory.py, 2 workers, 2026-11-29, docs/BENCHMARKS.md):
stock runner worker peak 220 MiB at 1,500 documents, 481 MiB at 12,000; with
fixed-size bundles plus ``MALLOC_MMAP_THRESHOLD_=1048576`` it was flat,
189-191 / 198-204 / 199-206 MiB at 1x / 2x / 8x the documents.

With this module at its default (2 MiB of encoded input a bundle, same
benchmark, 2026-11-29 21:09 UTC, load 4.8-6.2 on 2 shared cores): 182-187 /
199-203 / 221 MiB at 1,500 / 3,000 / 12,000 documents, against 213-222 /
267-273 / 482-520 MiB with Beam's stock bundling in the same session. The cap
was chosen by measurement: at 12,000 documents a cap of 1 / 2 / 4 / 16 MiB
gave workers of about 209 / 219 / 255 / 345 MiB. Smaller bundles themselves
cost no time we could measure (dedup at 12,000, three runs each: stock
16.9-17.6 CPU s, 2 MiB bundles 15.9-17.2; tokenize of 24 MB with 2 workers:
7.7-9.1 s stock, 8.3-10.5 s bounded with the malloc threshold below, the same
examples). The 1 MiB malloc threshold that build_options sets for the workers
does cost: 21.0-21.9 CPU s on that dedup run (about 4 s more, mostly system
time), for 218-228 MiB a worker instead of 269-300 (a 4 MiB threshold:
236-241 MiB, 19.0 CPU s).

What it does. ``bound_local_bundles(max_bundle_bytes)`` replaces
``ParallelBundleManager.process_bundle`` (once; calling it again only changes
the cap, and a cap of 0 or None puts Beam's method back) with one that

* measures the stage's encoded input: the byte chunks of a ``ListBuffer``
  exactly, a ``GroupingBuffer`` (a GroupByKey's output, held decoded until it
  is partitioned) by encoding a sample of its keys' groups (global windows
  with the default trigger, or Reshuffle's);
* cuts it into ``max(W, ceil(bytes / max_bundle_bytes))`` parts rounded up to a
  multiple of W (W = ``num_workers``; below the cap that is exactly Beam's W);
* runs the parts on the existing workers, W threads each pinned to one worker,
  so no worker ever holds more than one bundle and a slow part does not hold
  up the others;
* merges the results as Beam does (monitoring infos consolidated, so Beam
  metrics such as curate's filter counters add up exactly; splits
  concatenated; the first error kept), and also keeps every part's
  ``residual_roots`` (SDK-initiated checkpoints), which Beam's own merge drops
  from all but the last response.

Timers go with the first part only, as in Beam. A stage whose input includes
a buffer of a type this module does not know (or a GroupingBuffer with
other windowing, or one already partitioned) runs with Beam's stock
method. The replacement reaches into FnApiRunner internals, so it is installed
only on the Beam version it was written and tested against (2.77.x); on any
other version ``bound_local_bundles`` logs one warning and changes nothing.
It affects only the FnApiRunner in this process (DirectRunner with more than
one worker); Dataflow and other runners size their own bundles.
"""

from __future__ import annotations

import itertools
import logging
import math
import threading
from concurrent.futures import ThreadPoolExecutor

_LOG = logging.getLogger(__name__)

SUPPORTED_BEAM = "2.77."
DEFAULT_MAX_BUNDLE_MB = 2
GROUPING_SAMPLE_KEYS = 64
GROUPING_SAMPLE_VALUES = 64

_state = {"original": None, "max_bytes": 0, "warned": False}
_lock = threading.Lock()

# Filled by the replacement, for tests and benchmarks: per stage call, the
# number of parts, the input bytes, and the bytes of each part (the measured
# part sizes for ListBuffer inputs; for a GroupingBuffer after partitioning).
last_stages: list[dict] = []
_RECORD_LIMIT = 1000


def part_count(total_bytes: int, num_workers: int, max_bundle_bytes: int) -> int:
    """max(W, ceil(total / cap)), rounded up to a multiple of W; W when there is no cap."""
    w = max(1, int(num_workers))
    if not max_bundle_bytes or max_bundle_bytes <= 0 or total_bytes <= 0:
        return w
    n = max(w, math.ceil(total_bytes / max_bundle_bytes))
    return math.ceil(n / w) * w


def supported_beam_version(version: str | None = None) -> bool:
    if version is None:
        import apache_beam

        version = apache_beam.__version__
    return version.startswith(SUPPORTED_BEAM)


def installed() -> bool:
    return _state["original"] is not None


def current_max_bundle_bytes() -> int:
    return _state["max_bytes"] if installed() else 0


def bound_local_bundles(max_bundle_bytes: int | None, beam_version: str | None = None) -> bool:
    """Cap the encoded input of one local bundle at about ``max_bundle_bytes``; 0/None restores Beam's.

    Idempotent. Returns True when the bounded method is in place afterwards.
    On a Beam version other than 2.77.x it logs one warning and does nothing.
    """
    with _lock:
        if not max_bundle_bytes or max_bundle_bytes <= 0:
            _uninstall()
            return False
        if not supported_beam_version(beam_version):
            if not _state["warned"]:
                import apache_beam

                _LOG.warning("palmkit's bounded local bundles were written for apache-beam %sx, not %s; "
                             "local workers get Beam's stock bundles (1/workers of each stage's input)",
                             SUPPORTED_BEAM, beam_version or apache_beam.__version__)
                _state["warned"] = True
            return False
        from apache_beam.runners.portability.fn_api_runner import fn_runner

        if _state["original"] is None:
            _state["original"] = fn_runner.ParallelBundleManager.process_bundle
            fn_runner.ParallelBundleManager.process_bundle = _bounded_process_bundle
        _state["max_bytes"] = int(max_bundle_bytes)
        return True


def _uninstall() -> None:
    if _state["original"] is not None:
        from apache_beam.runners.portability.fn_api_runner import fn_runner

        fn_runner.ParallelBundleManager.process_bundle = _state["original"]
        _state["original"] = None
    _state["max_bytes"] = 0


# ---------------------------------------------------------------------------
# Sizes of the runner's buffers (beam 2.77 fn_api_runner/execution.py)
# ---------------------------------------------------------------------------


def _list_buffer_bytes(buf) -> int | None:
    if buf.cleared or buf._grouped_output is not None:
        return None
    return sum(len(chunk) for chunk in buf._inputs)


def _grouping_buffer_bytes(buf) -> int | None:
    """Estimated encoded size of a GroupingBuffer's output, from a sample of its keys' groups."""
    from apache_beam.coders.coder_impl import create_OutputStream
    from apache_beam.transforms import trigger
    from apache_beam.transforms.window import GlobalWindows

    if buf._grouped_output is not None:
        return None
    # Global windows with the default trigger, or Reshuffle's Always(): one windowed
    # (key, values) per key, as sampled below. Other windowing: unknown, Beam's stock bundles.
    driver = trigger.create_trigger_driver(buf._windowing, True)
    if not isinstance(driver, trigger.BatchGlobalTriggerDriver):
        return None
    if buf._windowing.is_default():
        windowed = lambda key, values: [GlobalWindows.windowed_value((key, values))]  # noqa: E731
    else:
        windowed = driver.process_entire_key  # values are WindowedValues here, as in partition()

    table = buf._table
    n_keys = len(table)
    if n_keys == 0:
        return 0
    total_values = sum(len(values) for values in table.values())
    coder_impl = buf._post_grouped_coder.get_impl()
    key_coder_impl = buf._key_coder.get_impl()
    step = max(1, n_keys // GROUPING_SAMPLE_KEYS)
    sampled_bytes = sampled_values = sampled_keys = 0
    for encoded_key, values in itertools.islice(table.items(), 0, None, step):
        head = values[:GROUPING_SAMPLE_VALUES]
        out = create_OutputStream()
        for wkvs in windowed(key_coder_impl.decode(encoded_key), head):
            coder_impl.encode_to_stream(wkvs, out, True)
        size = len(out.get())
        # Scale a truncated group to its full length (the key and window are paid once).
        if len(values) > len(head) and head:
            size = len(encoded_key) + (size - len(encoded_key)) * len(values) / len(head)
        sampled_bytes += size
        sampled_values += len(values)
        sampled_keys += 1
    if sampled_values == 0:
        return int(sampled_bytes / sampled_keys * n_keys)
    # Per value (groups differ in size), plus a per-key share for the keys with few values.
    return int(sampled_bytes / sampled_values * total_values)


def _input_bytes(buf) -> int | None:
    """Encoded bytes of one stage input, or None when this module does not know the buffer."""
    from apache_beam.runners.portability.fn_api_runner import execution

    if type(buf) is execution.ListBuffer:
        return _list_buffer_bytes(buf)
    if type(buf) is execution.GroupingBuffer:
        return _grouping_buffer_bytes(buf)
    return None


def _partition(buf, n: int) -> list[list[bytes]]:
    """``n`` parts of a buffer: a ListBuffer's chunks balanced by bytes, otherwise the buffer's own partition."""
    from apache_beam.runners.portability.fn_api_runner import execution

    if type(buf) is execution.ListBuffer and len(buf._inputs) >= n:
        # Beam deals the chunks round-robin (buf._inputs[k::n]); chunks differ in size
        # (up to the SDK's 10 MB flush), so give each chunk, in order, to the lightest part.
        parts: list[list[bytes]] = [[] for _ in range(n)]
        loads = [0] * n
        for chunk in buf._inputs:
            k = loads.index(min(loads))
            parts[k].append(chunk)
            loads[k] += len(chunk)
        return parts
    # Fewer chunks than parts: Beam re-encodes element by element, round-robin.
    return buf.partition(n)


class _PinnedContext:
    """The stage's BundleContextManager, seen with one worker handler so a BundleManager uses that worker."""

    def __init__(self, inner, handler):
        self._inner = inner
        self.worker_handlers = [handler]

    def __getattr__(self, name):
        return getattr(self._inner, name)


def _merge(results) -> object:
    """One InstructionResponse from the parts' responses, as Beam's merge plus residual roots."""
    from apache_beam.metrics import monitoring_infos
    from apache_beam.portability.api import beam_fn_api_pb2

    error = ""
    for r in results:
        error = error or r.error
    return beam_fn_api_pb2.InstructionResponse(
        process_bundle=beam_fn_api_pb2.ProcessBundleResponse(
            monitoring_infos=list(monitoring_infos.consolidate(
                itertools.chain.from_iterable(r.process_bundle.monitoring_infos for r in results))),
            residual_roots=[root for r in results for root in r.process_bundle.residual_roots]),
        error=error)


def _record(entry: dict) -> None:
    if len(last_stages) >= _RECORD_LIMIT:
        del last_stages[: _RECORD_LIMIT // 2]
    last_stages.append(entry)


def _bounded_process_bundle(self, inputs, expected_outputs, fired_timers, expected_output_timers, dry_run=False):
    """ParallelBundleManager.process_bundle with parts of at most about the cap each (see the module docstring)."""
    from apache_beam.runners.portability.fn_api_runner import fn_runner

    original = _state["original"] or fn_runner.ParallelBundleManager.process_bundle
    max_bytes = _state["max_bytes"]
    num_workers = self._num_workers
    handlers = self.bundle_context_manager.worker_handlers
    sizes = [_input_bytes(buf) for buf in inputs.values()]
    if not max_bytes or any(s is None for s in sizes) or len(handlers) != num_workers:
        _record({"parts": num_workers, "bytes": None, "stock": True})
        return original(self, inputs, expected_outputs, fired_timers, expected_output_timers, dry_run)
    total = sum(sizes)
    n = part_count(total, num_workers, max_bytes)
    if n == num_workers:
        # Below the cap: exactly Beam's bundling.
        _record({"parts": n, "bytes": total, "stock": True})
        return original(self, inputs, expected_outputs, fired_timers, expected_output_timers, dry_run)

    partitions = {name: _partition(buf, n) for name, buf in inputs.items()}
    n_parts = max(len(p) for p in partitions.values())
    # Every part names every input (an input with no data is an empty stream), as in Beam.
    part_inputs = [{name: (p[i] if i < len(p) else []) for name, p in partitions.items()} for i in range(n_parts)]
    # Timers are only executed with the first part, as in Beam (BEAM-9741).
    part_timers = [fired_timers if i == 0 else {} for i in range(n_parts)]
    _record({"parts": n_parts, "bytes": total, "stock": False,
             "part_bytes": [sum(len(c) for v in part.values() for c in v) for part in part_inputs]})

    results: list = [None] * n_parts
    next_part = iter(range(n_parts))
    take = threading.Lock()
    failed = threading.Event()

    def worker(handler):
        context = _PinnedContext(self.bundle_context_manager, handler)
        while not failed.is_set():
            with take:
                i = next(next_part, None)
            if i is None:
                return
            manager = fn_runner.BundleManager(context, self._progress_frequency,
                                              cache_token_generator=self._cache_token_generator)
            try:
                results[i] = manager.process_bundle(part_inputs[i], expected_outputs, part_timers[i],
                                                    expected_output_timers, dry_run)
            except BaseException:
                failed.set()
                raise
            part_inputs[i] = None  # let the part's bytes go once it has been sent and processed

    with ThreadPoolExecutor(num_workers, thread_name_prefix="palmkit-bundle") as pool:
        futures = [pool.submit(worker, h) for h in handlers]
    for f in futures:
        f.result()  # re-raises the first worker's error
    responses = [r for r, _ in results]
    splits = [s for _, split_list in results for s in split_list]
    return _merge(responses), splits
