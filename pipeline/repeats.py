"""How often each 100-token training sequence repeats in the token shards (Beam).

PaLM 2 (§4.7) measures training-data extraction per repetition count: sample
100-token sequences from the training data, bucket them by how many times they
occur, prompt with the first 50 tokens and check whether greedy decoding
reproduces the other 50. This job supplies the sequences and their counts.

    tasks ─┬─ SlidingHashes ─ CombinePerKey(sum) ────────────┐  count of every window, at every offset
           └─ AlignedWindows (offsets 0, 100, 200, … of a row)┴─ CoGroupByKey ─ Candidates ─┬─ Histogram
                                                                                             └─ Sample (≤ n per bucket)

**Which windows.** A window never crosses a row: the trainer sees each
``seq_len`` row on its own, so only in-row sequences were ever in one context.
*Candidates* are the row-aligned windows (offsets 0, w, 2w, … of each row):
they tile the data without overlap, so each training token belongs to at most one
candidate and the sample is not dominated by the 100 overlapping shifts of one
repeated passage. *Counts* use every sliding window (every offset of every
row), because packing puts the copies of a repeated document at arbitrary
offsets: aligned-only counting would miss nearly all copies of a repeat. A
candidate's count is the number of sliding windows with the same tokens
(identical 100-token sequences, anywhere in any row), itself included, so it is
always ≥ 1.

Windows are compared by an 8-byte BLAKE2b digest of their little-endian int32
tokens (collisions: ~n²/2⁶⁵, negligible below billions of windows). A sequence
that occurs at several aligned places is one candidate, located at its first
(example, offset) and carrying ``aligned_copies``.

**Buckets** are half-open count ranges from ``bucket_edges`` (default
1, 2, 3–4, 5–9, 10–19, 20–49, 50–99, 100+). **Sampling**: up to
``max_per_bucket`` candidates per bucket, those with the smallest
``hash(seed, window hash)``: a seeded uniform sample, the same on any runner.

    >>> result = count_repeats("shards/", "out/repeats", RepeatsConfig(max_per_bucket=1000))
    >>> result["histogram"]                   # {"1": 81234, "2": 310, ..., "100+": 2}
    >>> result["samples"][0]                  # {"hash", "count", "bucket", "example", "offset", "aligned_copies"}
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Iterable, Sequence

import apache_beam as beam
import numpy as np

from mixtures.shards import ShardSet

METRICS_NAMESPACE = "repeats"


@dataclasses.dataclass(frozen=True)
class RepeatsConfig:
    window: int = 100  # tokens per sequence (PaLM 2: 100 = 50 prompt + 50 continuation)
    max_per_bucket: int = 10_000  # sampled candidates per repetition bucket (PaLM 2: 10,000)
    bucket_edges: tuple[int, ...] = (1, 2, 3, 5, 10, 20, 50, 100)  # bucket i = [edges[i], edges[i+1])
    seed: int = 0
    examples_per_task: int = 512  # rows read by one task

    def __post_init__(self) -> None:
        if self.window <= 0:
            raise ValueError("window must be positive")
        if not self.bucket_edges or self.bucket_edges[0] != 1 or list(self.bucket_edges) != sorted(set(self.bucket_edges)):
            raise ValueError("bucket_edges must start at 1 and increase")


# ---------------------------------------------------------------------------
# Plain functions (no Beam)
# ---------------------------------------------------------------------------


def window_hash(tokens: np.ndarray) -> int:
    """8-byte BLAKE2b digest of a token window (as little-endian int32), as a signed int64-range int."""
    digest = hashlib.blake2b(np.ascontiguousarray(tokens, "<i4").tobytes(), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def sliding_hashes(row: np.ndarray, window: int) -> list[int]:
    """Hash of every ``window``-token window of a row, at every offset (none if the row is shorter)."""
    row = np.ascontiguousarray(row, "<i4")
    if len(row) < window:
        return []
    view = np.lib.stride_tricks.sliding_window_view(row, window)
    return [window_hash(w) for w in view]


def aligned_offsets(seq_len: int, window: int) -> range:
    """Start offsets of the non-overlapping windows tiling a row from its start."""
    return range(0, seq_len - window + 1, window)


def bucket_label(count: int, edges: Sequence[int]) -> str:
    """The label of the bucket holding ``count``: "1", "3-4", "100+", …"""
    if count < edges[0]:
        raise ValueError(f"count {count} is below the first bucket edge {edges[0]}")
    for lo, hi in zip(edges, list(edges[1:]) + [None]):
        if hi is None or count < hi:
            if hi is None:
                return f"{lo}+"
            return str(lo) if hi - lo == 1 else f"{lo}-{hi - 1}"
    raise AssertionError("unreachable")


def bucket_labels(edges: Sequence[int]) -> list[str]:
    """All bucket labels, in count order."""
    return [bucket_label(e, edges) for e in edges]


def bucket_lower(label: str) -> int:
    """The smallest count in a bucket label ("10-19" -> 10, "100+" -> 100)."""
    return int(label.rstrip("+").split("-")[0])


def sample_key(seed: int, h: int) -> int:
    """The sampling order of a candidate: a hash of (seed, window hash)."""
    digest = hashlib.blake2b(f"{seed}:{h}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def example_tasks(num_examples: int, per_task: int) -> list[tuple[int, int]]:
    """[start, stop) example ranges covering the shard set."""
    return [(s, min(s + per_task, num_examples)) for s in range(0, num_examples, per_task)]


# ---------------------------------------------------------------------------
# Beam
# ---------------------------------------------------------------------------


class _ReadRows(beam.DoFn):
    """Opens the shard set once per worker; yields (example index, row) for a [start, stop) task."""

    def __init__(self, shards_dir: str):
        self.shards_dir = shards_dir
        self.shards: ShardSet | None = None

    def setup(self) -> None:
        self.shards = ShardSet(self.shards_dir)

    def rows(self, task: tuple[int, int]) -> Iterable[tuple[int, np.ndarray]]:
        start, stop = task
        block = self.shards.read(range(start, stop))
        for i, row in enumerate(block):
            yield start + i, row

    def teardown(self) -> None:
        if self.shards is not None:
            self.shards.close()


class _SlidingHashes(_ReadRows):
    def __init__(self, shards_dir: str, window: int):
        super().__init__(shards_dir)
        self.window = window
        self.windows = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "sliding_windows")

    def process(self, task):
        for _, row in self.rows(task):
            hashes = sliding_hashes(row, self.window)
            self.windows.inc(len(hashes))
            for h in hashes:
                yield h, 1


class _AlignedWindows(_ReadRows):
    def __init__(self, shards_dir: str, window: int):
        super().__init__(shards_dir)
        self.window = window
        self.windows = beam.metrics.Metrics.counter(METRICS_NAMESPACE, "aligned_windows")

    def process(self, task):
        for example, row in self.rows(task):
            for offset in aligned_offsets(len(row), self.window):
                self.windows.inc()
                yield window_hash(row[offset : offset + self.window]), (example, offset)


def _candidate(item, edges: tuple[int, ...]):
    h, grouped = item
    places = sorted(grouped["where"])
    if not places:  # a window that is never row-aligned: counted, not a candidate
        return []
    count = int(sum(grouped["count"]))
    example, offset = places[0]
    return [{
        "hash": h,
        "count": count,
        "bucket": bucket_label(count, edges),
        "example": int(example),
        "offset": int(offset),
        "aligned_copies": len(places),
    }]


class CountRepeats(beam.PTransform):
    """PBegin -> candidate records: each distinct row-aligned window with its sliding-window count."""

    def __init__(self, shards_dir: str, cfg: RepeatsConfig, num_examples: int | None = None):
        super().__init__()
        self.shards_dir, self.cfg = shards_dir, cfg
        self.num_examples = ShardSet(shards_dir).num_examples if num_examples is None else num_examples

    def expand(self, pbegin):
        cfg = self.cfg
        tasks = pbegin | "Tasks" >> beam.Create(example_tasks(self.num_examples, cfg.examples_per_task))
        counts = (
            tasks
            | "SlidingHashes" >> beam.ParDo(_SlidingHashes(self.shards_dir, cfg.window))
            | "CountWindows" >> beam.CombinePerKey(sum)
        )
        aligned = tasks | "AlignedWindows" >> beam.ParDo(_AlignedWindows(self.shards_dir, cfg.window))
        return (
            {"count": counts, "where": aligned}
            | "Join" >> beam.CoGroupByKey()
            | "Candidates" >> beam.FlatMap(_candidate, tuple(cfg.bucket_edges))
        )


class SampleByBucket(beam.PTransform):
    """Candidate records -> {"histogram": (bucket, n) pairs, "samples": ≤ n records per bucket}."""

    def __init__(self, cfg: RepeatsConfig):
        super().__init__()
        self.cfg = cfg

    def expand(self, records):
        seed, n = self.cfg.seed, self.cfg.max_per_bucket
        histogram = records | "BucketOnes" >> beam.Map(lambda r: (r["bucket"], 1)) | "BucketSizes" >> beam.CombinePerKey(sum)
        samples = (
            records
            | "ByBucket" >> beam.Map(lambda r: (r["bucket"], r))
            | "Smallest" >> beam.combiners.Top.PerKey(n, key=lambda r: sample_key(seed, r["hash"]), reverse=True)
            | "Flatten" >> beam.FlatMap(lambda kv: kv[1])
        )
        return {"histogram": histogram, "samples": samples}


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------


def count_repeats(shards_dir: str, output_dir: str, cfg: RepeatsConfig = RepeatsConfig(), options=None) -> dict:
    """Runs the job; writes ``output_dir/{samples.jsonl, histogram.json}``; returns their contents.

    ``options``: Beam ``PipelineOptions`` (default: the in-memory DirectRunner).
    The returned dict also says which windows were used (``windows``).
    """
    from apache_beam.options.pipeline_options import PipelineOptions

    os.makedirs(output_dir, exist_ok=True)
    shards = ShardSet(shards_dir)
    seq_len, num_examples = shards.seq_len, shards.num_examples
    shards.close()
    samples_path = os.path.join(output_dir, "samples.jsonl")
    hist_path = os.path.join(output_dir, "bucket_sizes.jsonl")
    options = options or PipelineOptions(["--direct_running_mode=in_memory", "--direct_num_workers=1"])
    with beam.Pipeline(options=options) as p:
        out = (
            p
            | "Repeats" >> CountRepeats(shards_dir, cfg, num_examples)
            | "Sample" >> SampleByBucket(cfg)
        )
        _ = out["samples"] | "SamplesJson" >> beam.Map(json.dumps) | "WriteSamples" >> beam.io.WriteToText(
            samples_path, shard_name_template="", num_shards=1
        )
        _ = out["histogram"] | "HistJson" >> beam.Map(json.dumps) | "WriteHist" >> beam.io.WriteToText(
            hist_path, shard_name_template="", num_shards=1
        )
    samples = [json.loads(line) for line in open(samples_path, encoding="utf-8") if line.strip()]
    sizes = dict(json.loads(line) for line in open(hist_path, encoding="utf-8") if line.strip())
    os.remove(hist_path)
    samples.sort(key=lambda r: (bucket_lower(r["bucket"]), sample_key(cfg.seed, r["hash"])))
    labels = bucket_labels(cfg.bucket_edges)
    summary = {
        "window": cfg.window,
        "windows": (
            f"candidates: row-aligned {cfg.window}-token windows (offsets 0, {cfg.window}, ... of each {seq_len}-token row); "
            f"counts: every sliding {cfg.window}-token window inside a row"
        ),
        "seq_len": seq_len,
        "examples": num_examples,
        "aligned_windows": num_examples * len(aligned_offsets(seq_len, cfg.window)),
        "sliding_windows": num_examples * max(0, seq_len - cfg.window + 1),
        "distinct_candidates": int(sum(sizes.values())),
        "histogram": {label: int(sizes.get(label, 0)) for label in labels},
        "max_per_bucket": cfg.max_per_bucket,
        "seed": cfg.seed,
    }
    with open(os.path.join(output_dir, "histogram.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
        f.write("\n")
    return {**summary, "samples": samples}
