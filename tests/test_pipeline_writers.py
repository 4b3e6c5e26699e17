"""Shard writing: exact contents, sorted and complete, and the same bytes whatever the sharding of the input."""

import json
import pathlib

import apache_beam as beam
import zstandard
from apache_beam.options.pipeline_options import PipelineOptions

from pipeline.writers import WriteJsonlShards, encode_lines, shard_of


def run(tmp: pathlib.Path, triples, per_shard, workers=1):
    opts = PipelineOptions(direct_num_workers=workers, direct_running_mode="multi_processing" if workers > 1 else "in_memory")
    with beam.Pipeline(options=opts) as p:
        p | beam.Create(triples) | WriteJsonlShards(str(tmp), ".jsonl.zst", per_shard)


def read_group(folder: pathlib.Path):
    lines = []
    for path in sorted(folder.glob("part-*.jsonl.zst")):
        lines += zstandard.ZstdDecompressor().decompress(path.read_bytes()).decode().splitlines()
    return lines


def test_every_record_written_once_sorted_within_shards(tmp_path):
    triples = [("a/x", f"id{i:03d}", json.dumps({"i": i})) for i in range(25)] + [("b", "k", "{}")]
    run(tmp_path, triples, per_shard=10)
    files = sorted(p.name for p in (tmp_path / "a/x").iterdir())
    assert files == ["part-00000-of-00003.jsonl.zst", "part-00001-of-00003.jsonl.zst", "part-00002-of-00003.jsonl.zst"]
    lines = read_group(tmp_path / "a/x")
    assert sorted(json.loads(l)["i"] for l in lines) == list(range(25))
    for path in (tmp_path / "a/x").iterdir():
        ids = [json.loads(l)["i"] for l in zstandard.ZstdDecompressor().decompress(path.read_bytes()).decode().splitlines()]
        assert ids == sorted(ids)
        assert all(shard_of(f"id{i:03d}", 3) == int(path.name[5:10]) for i in ids)
    assert read_group(tmp_path / "b") == ["{}"]
    assert not list(tmp_path.rglob(".tmp-*"))  # no temporary file left behind


def test_same_bytes_with_one_or_two_workers(tmp_path):
    triples = [("g", f"{i:04d}", f"line {i}") for i in range(300)]
    run(tmp_path / "one", triples, per_shard=64, workers=1)
    run(tmp_path / "two", list(reversed(triples)), per_shard=64, workers=2)
    one = {p.relative_to(tmp_path / "one"): p.read_bytes() for p in (tmp_path / "one").rglob("*.zst")}
    two = {p.relative_to(tmp_path / "two"): p.read_bytes() for p in (tmp_path / "two").rglob("*.zst")}
    assert one == two and len(one) == 5


def test_shards_no_record_hashed_to_still_exist(tmp_path):
    # 3 records, 1 per shard: some of the 3 shards get none by hash, yet all 3 files exist.
    triples = [("g", k, k) for k in ("a", "b", "c")]
    counts = {shard_of(k, 3) for _, k, _ in triples}
    assert len(counts) < 3  # the case this test is about
    run(tmp_path, triples, per_shard=1)
    names = sorted(p.name for p in (tmp_path / "g").iterdir())
    assert names == [f"part-{i:05d}-of-00003.jsonl.zst" for i in range(3)]
    assert sorted(read_group(tmp_path / "g")) == ["a", "b", "c"]


def test_encode_lines_is_deterministic():
    assert encode_lines(["a", "b"], True) == encode_lines(["a", "b"], True)
    assert encode_lines(["a", "b"], False) == b"a\nb\n"
