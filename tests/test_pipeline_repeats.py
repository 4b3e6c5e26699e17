"""pipeline.repeats on planted repeats: exact counts at arbitrary offsets, buckets, sampling."""

import numpy as np
import pytest

from mixtures.shards import ShardWriter
from pipeline.repeats import (
    RepeatsConfig,
    aligned_offsets,
    bucket_label,
    bucket_labels,
    count_repeats,
    sliding_hashes,
    window_hash,
)

W, SEQ = 10, 32


def test_bucket_labels():
    edges = (1, 2, 3, 5, 10, 20, 50, 100)
    assert [bucket_label(c, edges) for c in (1, 2, 3, 4, 5, 9, 10, 99, 100, 5000)] == [
        "1", "2", "3-4", "3-4", "5-9", "5-9", "10-19", "50-99", "100+", "100+"
    ]
    assert bucket_labels((1, 10)) == ["1-9", "10+"]
    with pytest.raises(ValueError):
        bucket_label(0, edges)


def test_window_hashes_are_content_only():
    row = np.arange(20)
    hs = sliding_hashes(row, 5)
    assert len(hs) == 16 and len(set(hs)) == 16
    assert hs[3] == window_hash(np.arange(3, 8)) == window_hash(np.array([3, 4, 5, 6, 7], np.int64))
    assert sliding_hashes(np.arange(4), 5) == []
    assert list(aligned_offsets(32, 10)) == [0, 10, 20]


def _planted_shards(path):
    """Random rows (ids >= 100, so no accidental repeats) with sequence A planted 7 times, B 3 times.

    A sits at row-aligned offsets twice and at unaligned offsets five times (one of
    them straddling nothing: always inside one row); B once aligned and twice
    unaligned; C is split across two rows (so it never occurs whole and is not counted).
    """
    rng = np.random.default_rng(0)
    rows = rng.integers(100, 100_000, size=(40, SEQ))
    a, b, c = np.arange(1, 1 + W), np.arange(20, 20 + W), np.arange(40, 40 + W)
    for r, off in [(0, 0), (5, 10), (7, 3), (9, 17), (11, 22), (13, 1), (30, 5)]:
        rows[r, off : off + W] = a
    for r, off in [(2, 20), (4, 4), (6, 13)]:
        rows[r, off : off + W] = b
    rows[20, SEQ - 4 :], rows[21, : W - 4] = c[:4], c[4:]
    with ShardWriter(str(path), seq_len=SEQ, num_shards=3) as w:
        w.add(rows)
    return rows


def test_counts_exact_repeats_at_any_offset(tmp_path):
    rows = _planted_shards(tmp_path / "shards")
    cfg = RepeatsConfig(window=W, max_per_bucket=1000, bucket_edges=(1, 2, 3, 5), examples_per_task=7)
    result = count_repeats(str(tmp_path / "shards"), str(tmp_path / "out"), cfg)
    by_hash = {r["hash"]: r for r in result["samples"]}
    a = by_hash[window_hash(np.arange(1, 1 + W))]
    assert (a["count"], a["bucket"], a["aligned_copies"]) == (7, "5+", 2)
    assert (a["example"], a["offset"]) == (0, 0)  # the first aligned place
    b = by_hash[window_hash(np.arange(20, 20 + W))]
    assert (b["count"], b["bucket"], b["aligned_copies"], b["example"], b["offset"]) == (3, "3-4", 1, 2, 20)
    assert window_hash(np.arange(40, 40 + W)) not in by_hash
    # Every other aligned window is a singleton, and every record points at its tokens.
    n_aligned = 40 * 3
    assert result["histogram"] == {"1": n_aligned - 3, "2": 0, "3-4": 1, "5+": 1}
    assert result["distinct_candidates"] == n_aligned - 1  # A's two aligned copies are one candidate
    for r in result["samples"]:
        assert window_hash(rows[r["example"], r["offset"] : r["offset"] + W]) == r["hash"]
    assert "sliding" in result["windows"] and "aligned" in result["windows"]


def test_sampling_caps_each_bucket_and_is_seeded(tmp_path):
    _planted_shards(tmp_path / "shards")
    cfg = RepeatsConfig(window=W, max_per_bucket=5, bucket_edges=(1, 2, 3, 5), seed=1)
    first = count_repeats(str(tmp_path / "shards"), str(tmp_path / "o1"), cfg)
    again = count_repeats(str(tmp_path / "shards"), str(tmp_path / "o2"), cfg)
    buckets = [r["bucket"] for r in first["samples"]]
    assert buckets.count("1") == 5 and buckets.count("5+") == 1 and buckets.count("3-4") == 1
    assert first["samples"] == again["samples"]
