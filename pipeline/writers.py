"""Deterministic, crash-safe JSONL shard writing for Beam jobs.

``WriteJsonlShards`` takes ``(group, sort_key, line)`` triples and writes each
group to ``OUTPUT/<group>/part-SSSSS-of-NNNNN.jsonl[.zst]``. Three properties
matter more than speed here:

- **Same bytes on any runner and worker count.** The number of shards of a
  group comes from its record count, a record's shard from a hash of its sort
  key, and records inside a shard are sorted; zstd runs single-threaded at a
  fixed level.
- **No half-written shard ever looks complete.** Each shard is written under a
  temporary name and renamed when it is whole. The job's own completion marker
  (``stats.json``) is written last, by the driver.
- **Memory is bounded by one shard**, not by a group: ``records_per_shard``
  caps it.
"""

from __future__ import annotations

import json
import math
import uuid
import zlib

import apache_beam as beam
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

ZSTD_LEVEL = 10


def shard_of(sort_key: str, num_shards: int) -> int:
    return zlib.crc32(sort_key.encode("utf-8")) % num_shards


def write_atomically(path: str, data: bytes) -> None:
    """Writes ``data`` to ``path`` through a temporary name and a rename."""
    directory, name = path.rsplit("/", 1)
    tmp = f"{directory}/.tmp-{uuid.uuid4().hex}-{name}"
    if "://" not in path:
        import os

        os.makedirs(directory, exist_ok=True)
    with FileSystems.create(tmp, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
        fh.write(data)
    FileSystems.rename([tmp], [path])


def encode_lines(lines: list[str], compress: bool) -> bytes:
    body = "".join(line + "\n" for line in lines).encode("utf-8")
    if not compress:
        return body
    return zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, threads=0).compress(body)


class _WriteShardFn(beam.DoFn):
    def __init__(self, output: str, suffix: str):
        self.output = output
        self.suffix = suffix

    def process(self, element):
        (group, shard, num_shards), items = element
        # Sort by key, then by the line itself, so duplicate keys still give one order.
        lines = [line for _, line in sorted(items)]
        name = f"part-{shard:05d}-of-{num_shards:05d}{self.suffix}"
        path = f"{self.output.rstrip('/')}/{group}/{name}"
        write_atomically(path, encode_lines(lines, self.suffix.endswith(".zst")))
        beam.metrics.Metrics.counter("write", "shards").inc()
        yield {"group": group, "shard": shard, "num_shards": num_shards, "file": f"{group}/{name}", "records": len(lines)}


class _WriteEmptyShardsFn(beam.DoFn):
    """Writes an empty file for each shard that no record hashed to.

    A folder whose files say ``-of-00006`` then always holds six files, so a
    missing file always means an incomplete job, never an unlucky hash.
    """

    def __init__(self, output: str, suffix: str):
        self.output = output
        self.suffix = suffix

    def process(self, element):
        (group, num_shards), written = element
        for shard in sorted(set(range(num_shards)) - set(written)):
            name = f"part-{shard:05d}-of-{num_shards:05d}{self.suffix}"
            write_atomically(f"{self.output.rstrip('/')}/{group}/{name}", encode_lines([], self.suffix.endswith(".zst")))
            yield {"group": group, "shard": shard, "num_shards": num_shards, "file": f"{group}/{name}", "records": 0}


class WriteJsonlShards(beam.PTransform):
    """``(group, sort_key, json_line)`` → shards under ``output/group/``; yields one summary per shard.

    Every one of a group's ``num_shards`` files exists, empty where no record
    hashed to it.
    """

    def __init__(self, output: str, suffix: str = ".jsonl.zst", records_per_shard: int = 10_000):
        super().__init__()
        self.output = output
        self.suffix = suffix
        self.records_per_shard = records_per_shard

    def expand(self, triples):
        per_shard = self.records_per_shard
        counts = (
            triples
            | "GroupOf" >> beam.Map(lambda t: t[0])
            | "CountPerGroup" >> beam.combiners.Count.PerElement()
        )

        def assign(t, counts):
            group, key, line = t
            n = max(1, math.ceil(counts[group] / per_shard))
            return (group, shard_of(key, n), n), (key, line)

        written = (
            triples
            | "AssignShard" >> beam.Map(assign, beam.pvalue.AsDict(counts))
            | "GroupShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.ParDo(_WriteShardFn(self.output, self.suffix))
        )
        empty = (
            written
            | "ShardsOfGroup" >> beam.Map(lambda r: ((r["group"], r["num_shards"]), r["shard"]))
            | "GroupShards" >> beam.GroupByKey()
            | "WriteEmpty" >> beam.ParDo(_WriteEmptyShardsFn(self.output, self.suffix))
        )
        return (written, empty) | "AllShards" >> beam.Flatten()


class WriteDeadLetters(beam.PTransform):
    """Dead-letter records (``pipeline.records``' errors) → ``output/errors/``, ordered by file, line and offset."""

    def __init__(self, output: str, records_per_shard: int):
        super().__init__()
        self.output, self.records_per_shard = output, records_per_shard

    def expand(self, errors):
        return (
            errors
            | "ErrorLines" >> beam.Map(lambda e: ("errors", f"{e.file}\x00{e.line or 0:012d}\x00{e.offset or 0:015d}", e.to_json()))
            | "Write" >> WriteJsonlShards(self.output, ".jsonl", self.records_per_shard)
        )


class WriteDuplicateMap(beam.PTransform):
    """Dedup's removal records (removed id → survivor id) → ``output/duplicates/``, ordered by removed id."""

    def __init__(self, output: str, records_per_shard: int):
        super().__init__()
        self.output, self.records_per_shard = output, records_per_shard

    def expand(self, duplicates):
        return (
            duplicates
            | "DuplicateLines" >> beam.Map(lambda r: ("duplicates", r["id"], json.dumps(r, ensure_ascii=False, sort_keys=True)))
            | "Write" >> WriteJsonlShards(self.output, ".jsonl", self.records_per_shard)
        )
