"""The tokenize job's packing and writing side: a bucket's copies → rows; a shard's rows → its file.

``PackBucket`` keeps the copies the thresholds keep, sorts them by key, cuts
rows of ``seq_len`` tokens and deals them to shards, as pieces of ReadEncode's
exchange files where it can (``_section_meta``, ``_row_pieces``), else from
the tokens (``_unpack_batches``); ``WriteShardFn`` gathers a shard's rows and
writes it. ``_write_arrays`` writes the exchange files of both sides.
``pipeline.tokenize_steps`` holds the read/encode side, the packing element's
format and ``build_tokenize_pipeline``; ``pipeline.tokenize`` describes the design.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import uuid

import apache_beam as beam
import numpy as np

from mixtures import shards as shard_format
from pipeline import canaries as canary_plant
from pipeline.sample import sort_key
from pipeline.writers import write_atomically


def _write_arrays(path: str, arrays) -> list[int]:
    """Writes arrays one after another (raw bytes, no header) through a temporary name; returns their offsets."""
    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    tmp = os.path.join(directory, f".tmp-{uuid.uuid4().hex}-{name}")
    offsets, at = [], 0
    with open(tmp, "wb") as f:
        for a in arrays:
            a = np.ascontiguousarray(a)
            offsets.append(at)
            f.write(memoryview(a).cast("B"))
            at += a.nbytes
    os.replace(tmp, path)
    return offsets


def _read_section_head(f, offset: int, copies: int):
    """An exchange-file section's per-copy arrays: sort keys, thresholds
    drawn, lengths (int64); ``f`` is left at the section's first token."""
    f.seek(offset)
    k = np.fromfile(f, "<u8", copies)
    c = np.fromfile(f, "<f8", copies)
    n = np.fromfile(f, "<i4", copies).astype(np.int64)
    return k, c, n


def _unpack_batches(batches, thresholds: dict, dtype: str):
    """Packing batches → (keys, groups, lengths, tokens, starts) of the copies the thresholds keep."""
    keys, groups, lengths, tokens = [], [], [], []
    for group, *value in batches:
        if isinstance(value[0], str):  # a section of an exchange file (ReadEncode)
            path, offset, copies, count = value
            with open(path, "rb") as f:
                k, c, n = _read_section_head(f, offset, copies)
                t = np.fromfile(f, dtype, count)
            if len(t) != count:
                raise RuntimeError(f"{path}: {len(t)} tokens at offset {offset}, expected {count}")
        else:  # a batch carried in the element (canary copies)
            k, c, n, t = value
            k, c, n = np.frombuffer(k, "<u8"), np.frombuffer(c, "<f8"), np.frombuffer(n, "<i4").astype(np.int64)
            t = np.frombuffer(t, dtype)
        keep = np.isnan(c)
        if not keep.all():
            keep |= c <= thresholds.get(group, -1.0)
        ends = np.cumsum(n)
        if not keep.all():
            t = np.concatenate([t[e - m:e] for e, m, y in zip(ends.tolist(), n.tolist(), keep.tolist()) if y]
                               or [np.zeros(0, dtype)])
            k, n = k[keep], n[keep]
        keys.append(k)
        lengths.append(n)
        tokens.append(t)
        groups.extend([group] * len(k))
    keys = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
    lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    tokens = np.concatenate(tokens) if tokens else np.zeros(0, dtype)
    starts = np.cumsum(lengths) - lengths
    return keys, groups, lengths, tokens, starts


def _section_meta(batches, thresholds: dict, dtype: str):
    """Exchange-file sections only → (keys, lengths, files, file index, token byte offset) of the kept copies.

    Reads sort keys, coins and lengths, not tokens: what packing needs to lay
    out rows. Returns None when a batch is carried in its element (canary copies).
    """
    itemsize = np.dtype(dtype).itemsize
    files: dict[str, int] = {}
    keys, lengths, where, offsets = [], [], [], []
    for group, *value in batches:
        if not isinstance(value[0], str):
            return None
        path, offset, copies, count = value
        with open(path, "rb") as f:
            k, c, n = _read_section_head(f, offset, copies)
            size = os.fstat(f.fileno()).st_size
        first = offset + 20 * copies  # the section's first token
        if len(n) != copies or int(n.sum()) != count or size < first + itemsize * count:
            raise RuntimeError(f"{path}: the section at offset {offset} is not all there")
        at = first + itemsize * (np.cumsum(n) - n)
        keep = np.isnan(c)
        if not keep.all():
            keep |= c <= thresholds.get(group, -1.0)
            k, n, at = k[keep], n[keep], at[keep]
        keys.append(k)
        lengths.append(n)
        offsets.append(at)
        where.append(np.full(len(k), files.setdefault(path, len(files)), np.int64))
    cat = lambda parts, dt: np.concatenate(parts) if parts else np.zeros(0, dt)  # noqa: E731
    return (cat(keys, np.uint64), cat(lengths, np.int64), list(files), cat(where, np.int64), cat(offsets, np.int64))


def _row_pieces(lengths, offsets, where, seq_len: int, itemsize: int):
    """Copies in packing order → the pieces of the rows they fill: (row, file index, byte offset, tokens).

    The copies, joined, are cut into rows of ``seq_len`` tokens and the tail is
    dropped; a piece is the part of one copy inside one row, so a row is its
    pieces' tokens one after another.
    """
    total = int(lengths.sum())
    rows = total // seq_len
    end = rows * seq_len
    starts = np.cumsum(lengths) - lengths
    cuts = np.union1d(starts[(starts < end) & (lengths > 0)], np.arange(0, end, seq_len, dtype=np.int64))
    stops = np.append(cuts[1:], end)
    doc = np.searchsorted(starts, cuts, side="right") - 1
    # Empty copies share a start with the next one; searchsorted picks the last copy starting there, which is non-empty.
    return (cuts // seq_len, where[doc], offsets[doc] + itemsize * (cuts - starts[doc]), stops - cuts), rows


class PackBucket(beam.DoFn):
    """A bucket's packing batches → rows of exactly ``seq_len`` tokens, grouped by the shard they go to.

    Partial-copy candidates whose coin is above their group's threshold are
    dropped first; the rest are sorted by key (ties, the same document twice,
    by content), joined and cut into rows; the tail shorter than a row is
    dropped. Row *i* gets the key ``sort_key(seed, "<source>/<bucket>", i)``,
    its shard is that key modulo the shard count. Output, one per shard this
    bucket feeds: ``((shard, shards), (source, row keys "<u8", rows))``, the rows
    as pieces of exchange files (``_by_reference``, the common case), as a range
    of this bucket's own rows file, or as bytes (no exchange folder).
    The bucket's ``(source, (documents, tokens, packed tokens, dropped tokens, rows))``
    goes to ``summary/pack-<hash of source and bucket>.json`` for the driver.
    """

    def __init__(self, seq_len: int, seed: int, num_shards: int, dtype: str, summary: str, exchange: str | None = None):
        self.seq_len, self.seed, self.num_shards, self.dtype, self.summary = seq_len, seed, num_shards, dtype, summary
        self.exchange = exchange

    def process(self, element, thresholds=None):
        (source, bucket), batches = element
        batches = list(batches)
        if self.exchange is not None:
            meta = _section_meta(batches, thresholds or {}, self.dtype)
            if meta is not None:
                keys, lengths, files, where, offsets = meta
                order = np.argsort(keys, kind="stable")
                if len(keys) < 2 or (np.diff(keys[order]) != 0).all():
                    yield from self._by_reference(source, bucket, lengths[order], files, where[order], offsets[order])
                    return
        keys, groups, lengths, tokens, starts = _unpack_batches(batches, thresholds or {}, self.dtype)
        order = np.argsort(keys, kind="stable")
        canary = any(len(g) == 3 and tuple(g[:2]) == canary_plant._CANARY_GROUP for g in groups)
        if canary or (len(keys) > 1 and (np.diff(keys[order]) == 0).any()):
            # The general path, as plain tuples: the same document id twice in a group (tie
            # broken by content), or canary copies that must stay clear of the dropped tail.
            docs = [(f"{int(k):016x}", tokens[s:s + n], g, None)
                    for k, s, n, g in zip(keys.tolist(), starts.tolist(), lengths.tolist(), groups)]
            docs.sort(key=lambda d: (d[0], d[1].astype("<i4").tobytes()))
            docs = canary_plant.clear_of_tail(docs, self.seq_len)
            pieces = [d[1] for d in docs]
        else:
            pieces = [tokens[s:s + n] for s, n in zip(starts[order].tolist(), lengths[order].tolist())]
        stream = np.concatenate(pieces) if pieces else np.zeros(0, self.dtype)
        rows = len(stream) // self.seq_len
        packed = stream[: rows * self.seq_len].reshape(rows, self.seq_len)
        row_keys = np.array([int(sort_key(self.seed, f"{source}/{bucket}", i), 16) for i in range(rows)], np.uint64)
        shards = (row_keys >> np.uint64(16)) % np.uint64(self.num_shards)
        name = hashlib.sha256(f"{source}\x00{bucket}".encode()).hexdigest()[:16]
        if self.exchange is None:
            for shard in np.unique(shards).tolist():
                mine = shards == shard
                yield (shard, self.num_shards), (source, row_keys[mine].astype("<u8").tobytes(), packed[mine].tobytes())
        elif rows:
            # One exchange file: row keys, then rows, both ordered by shard; each shard gets its range.
            by_shard = np.argsort(shards, kind="stable")
            path = os.path.join(self.exchange, f"rows-{name}.bin")
            _write_arrays(path, [row_keys[by_shard].astype("<u8"), packed[by_shard].astype(self.dtype, copy=False)])
            ordered = shards[by_shard]
            bounds = np.flatnonzero(np.diff(ordered)) + 1
            for start, end in zip([0, *bounds.tolist()], [*bounds.tolist(), rows]):
                yield (int(ordered[start]), self.num_shards), (source, path, rows, start, end - start)
        stats = (len(pieces), len(stream), rows * self.seq_len, len(stream) - rows * self.seq_len, rows)
        write_atomically(f"{self.summary}/pack-{name}.json", json.dumps([source, stats]).encode())

    def _row_keys(self, source: str, bucket: int, rows: int):
        row_keys = np.array([int(sort_key(self.seed, f"{source}/{bucket}", i), 16) for i in range(rows)], np.uint64)
        return row_keys, (row_keys >> np.uint64(16)) % np.uint64(self.num_shards)

    def _by_reference(self, source: str, bucket: int, lengths, files, where, offsets):
        """The common case, from sort keys and lengths alone: each shard gets, for its rows of this
        bucket, where their tokens lie in ReadEncode's exchange files (pieces, see ``_row_pieces``);
        WriteShardFn gathers them. No token is read or copied here."""
        itemsize = np.dtype(self.dtype).itemsize
        (row, piece_file, piece_at, piece_len), rows = _row_pieces(lengths, offsets, where, self.seq_len, itemsize)
        row_keys, shards = self._row_keys(source, bucket, rows)
        if rows:
            by_shard = np.argsort(shards, kind="stable")  # rows ordered by shard, then by row
            ordered = shards[by_shard]
            piece_order = np.argsort(shards[row], kind="stable")  # pieces likewise (they are in row order)
            piece_shard = shards[row][piece_order]
            bounds = np.flatnonzero(np.diff(ordered)) + 1
            for start, stop in zip([0, *bounds.tolist()], [*bounds.tolist(), rows]):
                shard = int(ordered[start])
                a, b = np.searchsorted(piece_shard, [shard, shard + 1])
                mine = piece_order[a:b]
                used = np.unique(piece_file[mine])  # this shard's files only, renumbered
                yield (shard, self.num_shards), (source, row_keys[by_shard[start:stop]].astype("<u8").tobytes(),
                                                 tuple(files[i] for i in used.tolist()),
                                                 np.searchsorted(used, piece_file[mine]).astype("<i4").tobytes(),
                                                 piece_at[mine].astype("<i8").tobytes(),
                                                 piece_len[mine].astype("<i8").tobytes())
        total = int(lengths.sum())
        stats = (len(lengths), total, rows * self.seq_len, total - rows * self.seq_len, rows)
        name = hashlib.sha256(f"{source}\x00{bucket}".encode()).hexdigest()[:16]
        write_atomically(f"{self.summary}/pack-{name}.json", json.dumps([source, stats]).encode())


class WriteShardFn(beam.DoFn):
    """All rows of one shard, sorted by key, → ``mixtures.shards.write_shard``.

    A part is ``(source, row keys, rows)`` as bytes, ``(source, row keys, files,
    piece files, piece byte offsets, piece tokens)``: the rows as pieces of
    ReadEncode's exchange files, gathered here, or ``(source, exchange file,
    rows in it, first row, rows)``: a range of a pack step's exchange file.
    Its manifest entry and rows per source go to ``summary/shard-NNNNN.json`` for the driver.
    """

    def __init__(self, output: str, seq_len: int, dtype: str, summary: str):
        self.output, self.seq_len, self.dtype, self.summary = output, seq_len, dtype, summary

    def _load(self, part):
        if len(part) == 3:
            return part
        if len(part) == 6:  # (source, row keys, files, pieces: file, byte offset, tokens) from PackBucket._by_reference
            source, keys, files, piece_file, piece_at, piece_len = part
            maps = []
            for path in files:
                with open(path, "rb") as f:
                    maps.append(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
            pieces = [np.frombuffer(maps[i], self.dtype, count=n, offset=at) for i, at, n in
                      zip(np.frombuffer(piece_file, "<i4").tolist(), np.frombuffer(piece_at, "<i8").tolist(),
                          np.frombuffer(piece_len, "<i8").tolist())]
            rows = np.concatenate(pieces).tobytes() if pieces else b""
            del pieces
            for m in maps:
                m.close()
            if len(rows) != np.dtype(self.dtype).itemsize * self.seq_len * (len(keys) // 8):
                raise RuntimeError(f"{source}: the pieces of {len(keys) // 8} rows do not fill them")
            return source, keys, rows
        source, path, total, start, count = part
        width = np.dtype(self.dtype).itemsize * self.seq_len
        with open(path, "rb") as f:
            f.seek(8 * start)
            keys = f.read(8 * count)
            f.seek(8 * total + width * start)
            rows = f.read(width * count)
        if len(keys) != 8 * count or len(rows) != width * count:
            raise RuntimeError(f"{path}: rows {start}..{start + count} of {total} are not all there")
        return source, keys, rows

    def process(self, element):
        (shard, num_shards), parts = element
        parts = sorted(self._load(p) for p in parts)  # (source, keys, rows): an order that does not depend on arrival
        keys = np.concatenate([np.frombuffer(k, "<u8") for _, k, _ in parts])
        matrix = np.concatenate([np.frombuffer(r, self.dtype) for _, _, r in parts]).reshape(-1, self.seq_len)
        order = np.argsort(keys, kind="stable")
        per_source: dict[str, int] = {}
        for source, k, _ in parts:
            per_source[source] = per_source.get(source, 0) + len(k) // 8
        path = os.path.join(self.output, shard_format.shard_name(shard, num_shards))
        entry = shard_format.write_shard(path, matrix[order])
        beam.metrics.Metrics.counter("tokenize", "shards").inc()
        record = {"index": shard, "entry": entry, "sources": per_source}
        write_atomically(f"{self.summary}/shard-{shard:05d}.json", json.dumps(record, sort_keys=True).encode())
