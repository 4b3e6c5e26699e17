"""Packed token shards: TFRecord files of ``tf.train.Example`` with an offset index.

On disk, a shard set is a directory holding

    shard-00000-of-00004.tfrecord   records: tf.train.Example{targets: int64[seq_len]}
    shard-00000-of-00004.idx        little-endian uint64 byte offset of each record
    ...
    manifest.json                   {"format": "palmkit-shards-v1", "seq_len", "vocab",
                                     "shards": [{"file", "examples", "sha256"}], ...}

seqio (``TFExampleDataSource``) and ``tf.data.TFRecordDataset`` read the
``.tfrecord`` files as they are; palmkit's trainer uses the ``.idx`` files to
read example *i* with one seek, so a batch is a pure function of its position.

This module writes the TFRecord framing (length, masked CRC32C, payload, masked
CRC32C) and the Example protobuf itself, with numpy, so neither writing nor
reading needs TensorFlow. It imports nothing else of palmkit's.

    >>> write_shard("out/shard-00000-of-00001.tfrecord", tokens)   # int32 (n, seq_len)
    >>> write_manifest("out", seq_len=2048, vocab={"path": "spm.model"})
    >>> ShardSet("out").read([0, 17, 5])                           # int32 (3, seq_len)
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import google_crc32c

import numpy as np

FORMAT = "palmkit-shards-v1"
MANIFEST = "manifest.json"
FEATURE = "targets"
_SHARD_RE = re.compile(r"^shard-(\d{5})-of-(\d{5})\.tfrecord$")


def shard_name(index: int, count: int) -> str:
    """``shard-SSSSS-of-NNNNN.tfrecord`` for shard ``index`` of ``count``."""
    return f"shard-{index:05d}-of-{count:05d}.tfrecord"


def index_path(tfrecord_path: str) -> str:
    return tfrecord_path[: -len(".tfrecord")] + ".idx"


# ---------------------------------------------------------------------------
# CRC32C (Castagnoli), masked as TFRecord wants it.
# ---------------------------------------------------------------------------


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, in C (google-crc32c; a pure-Python loop
    cost a quarter of the tokenize job's time)."""
    return google_crc32c.value(data)


def masked_crc32c(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


# ---------------------------------------------------------------------------
# Protobuf: varints and the Example message, by hand.
# ---------------------------------------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _varint_rows(rows: np.ndarray) -> list[bytes]:
    """Packed varint encoding of each row of non-negative integers.

    Vectorised over blocks of rows (about 256k tokens a block, so the
    temporaries stay in cache): numpy's per-call cost on one row at a time
    made row-by-row encoding a tenth of the tokenize job.
    """
    return list(_varint_blocks(rows))


def _varint_blocks(rows: np.ndarray):
    """Like ``_varint_rows``, one row's bytes at a time."""
    rows = np.atleast_2d(rows)
    if rows.shape[0] == 0:
        return
    block = max(1, (1 << 18) // max(1, rows.shape[1]))
    for first in range(0, rows.shape[0], block):
        part = rows[first : first + block]
        if part.size and int(part.max()) < 1 << 14:
            flat, lengths = _varint2_block(part)
        else:
            flat, lengths = _varint_block(part)
        ends = np.cumsum(lengths).tolist()
        for a, b in zip([0] + ends[:-1], ends):
            yield flat[a:b]


def _varint2_block(part: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Varints of a block whose values are all below 2**14 (one or two bytes each), and bytes per row."""
    v = part.astype(np.uint16)
    large = v >= 0x80
    # Both bytes of every value as one little-endian uint16: low 7 bits with the
    # continuation bit, then the high 7 bits; the second byte is kept only where
    # the value needs it.
    pairs = (v & np.uint16(0x7F)) | (large.astype(np.uint16) << np.uint16(7)) | ((v >> np.uint16(7)) << np.uint16(8))
    keep = np.empty(v.shape + (2,), bool)
    keep[..., 0] = True
    keep[..., 1] = large
    flat = pairs.astype("<u2").view(np.uint8).reshape(v.shape + (2,))[keep].tobytes()
    return flat, v.shape[1] + large.sum(axis=1)


def _varint_block(part: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Varints of a block of any non-negative values (up to 10 bytes each), and bytes per row."""
    v = part.astype(np.uint64)
    nbytes = np.ones(v.shape, np.int64)
    for k in range(1, 10):
        more = v >= (np.uint64(1) << np.uint64(7 * k))
        if not more.any():
            break
        nbytes += more
    width = int(nbytes.max())
    groups = np.empty(v.shape + (width,), np.uint8)  # (rows, tokens, width)
    for k in range(width):
        byte = ((v >> np.uint64(7 * k)) & np.uint64(0x7F)).astype(np.uint8)
        groups[..., k] = byte | ((nbytes > k + 1).astype(np.uint8) << np.uint8(7))
    flat = groups[np.arange(width) < nbytes[..., None]].tobytes()  # C order: row, token, byte
    return flat, nbytes.sum(axis=1)


def _varints(values: np.ndarray) -> bytes:
    """Packed varint encoding of one row of non-negative integers."""
    return _varint_rows(np.asarray(values).reshape(1, -1))[0]


def _len_field(field: int, payload: bytes) -> bytes:
    return _varint((field << 3) | 2) + _varint(len(payload)) + payload


def encode_example(tokens: np.ndarray) -> bytes:
    """``tf.train.Example`` with one int64 feature ``targets`` (packed), serialised."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 1:
        raise ValueError(f"an example is one row of tokens, got shape {tokens.shape}")
    if tokens.size and int(tokens.min()) < 0:
        raise ValueError("token ids must be non-negative")
    return _example_from_packed(_varints(tokens))


def _example_from_packed(packed: bytes) -> bytes:
    """The Example around an already varint-packed ``targets`` list."""
    int64_list = _len_field(1, packed)  # Int64List.value, packed
    feature = _len_field(3, int64_list)  # Feature.int64_list
    entry = _len_field(1, FEATURE.encode()) + _len_field(2, feature)  # map<string, Feature> entry
    features = _len_field(1, entry)  # Features.feature
    return _len_field(1, features)  # Example.features


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """Yields (field number, wire type, value) of one message; LEN values as bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 2:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + n], pos + n
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _decode_varints(payload: bytes) -> np.ndarray:
    b = np.frombuffer(payload, np.uint8)
    ends = np.flatnonzero(b < 0x80)
    starts = np.concatenate([[0], ends[:-1] + 1])
    lengths = ends - starts + 1
    out = np.zeros(len(ends), np.uint64)
    for k in range(int(lengths.max()) if len(ends) else 0):
        has = lengths > k
        out[has] |= (b[starts[has] + k] & np.uint64(0x7F)).astype(np.uint64) << np.uint64(7 * k)
    return out.astype(np.int64)


def decode_example(record: bytes, feature: str = FEATURE) -> np.ndarray:
    """The int64 list ``feature`` of a serialised ``tf.train.Example``."""
    for f, _, features in _fields(record):
        if f != 1:
            continue
        for g, _, entry in _fields(features):
            if g != 1:
                continue
            key, value = None, b""
            for h, _, v in _fields(entry):
                if h == 1:
                    key = v.decode()
                elif h == 2:
                    value = v
            if key != feature:
                continue
            for i, _, int64_list in _fields(value):
                if i != 3:
                    raise ValueError(f"feature '{feature}' is not an int64 list")
                packed, loose = [], []
                for j, wire, v in _fields(int64_list):
                    if j == 1 and wire == 2:
                        packed.append(_decode_varints(v))
                    elif j == 1:
                        loose.append(v)
                parts = packed + ([np.array(loose, np.int64)] if loose else [])
                return np.concatenate(parts) if parts else np.zeros(0, np.int64)
            return np.zeros(0, np.int64)
    raise KeyError(f"example has no feature '{feature}'")


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def frame_record(payload: bytes) -> bytes:
    """TFRecord framing: uint64 length, masked CRC of it, payload, masked CRC of it."""
    header = struct.pack("<Q", len(payload))
    return (
        header
        + struct.pack("<I", masked_crc32c(header))
        + payload
        + struct.pack("<I", masked_crc32c(payload))
    )


def write_shard(path: str, examples: np.ndarray) -> dict:
    """Writes ``examples`` (int (n, seq_len)) to ``path`` and its ``.idx``; atomic.

    Returns the manifest entry ``{"file", "examples", "sha256"}``.
    """
    examples = np.asarray(examples)
    if examples.ndim != 2:
        raise ValueError(f"examples must be (n, seq_len), got shape {examples.shape}")
    if examples.size and int(examples.min()) < 0:
        raise ValueError("token ids must be non-negative")
    offsets = np.zeros(len(examples), "<u8")
    digest = hashlib.sha256()
    tmp, tmp_idx = path + ".tmp", index_path(path) + ".tmp"
    # Per packed length: the record header (length, its masked CRC), the Example's
    # framing before the varints, and the CRC state after that framing. Rows of one
    # shard have a handful of packed lengths, so each record costs one CRC over its
    # varints and a few appends.
    heads: dict[int, tuple[bytes, bytes, int]] = {}
    with open(tmp, "wb") as f:
        pos = 0
        buffered: list = []
        size = 0
        for i, packed in enumerate(_varint_blocks(examples)):
            n = len(packed)
            head = heads.get(n)
            if head is None:
                prefix = _example_from_packed(b"\x00" * n)[:-n]
                header = struct.pack("<Q", len(prefix) + n)
                head = heads[n] = (header + struct.pack("<I", masked_crc32c(header)) + prefix, prefix,
                                   crc32c(prefix))
            framed_head, _, prefix_crc = head
            crc = google_crc32c.extend(prefix_crc, packed)
            tail = struct.pack("<I", (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF)
            offsets[i] = pos
            buffered += (framed_head, packed, tail)
            pos += len(framed_head) + n + 4
            if pos - size >= 1 << 22:
                chunk = b"".join(buffered)
                f.write(chunk)
                digest.update(chunk)
                buffered, size = [], pos
        chunk = b"".join(buffered)
        f.write(chunk)
        digest.update(chunk)
    with open(tmp_idx, "wb") as f:
        f.write(offsets.tobytes())
    os.replace(tmp_idx, index_path(path))
    os.replace(tmp, path)
    return {"file": os.path.basename(path), "examples": int(len(examples)), "sha256": digest.hexdigest()}


class ShardWriter:
    """Writes a whole shard set: ``add`` rows, then ``close`` writes shards and manifest.

    Rows are buffered and split into ``num_shards`` contiguous
    shards at ``close``, so the shard count in file names is known when writing.
    """

    def __init__(self, directory: str, seq_len: int, num_shards: int = 1, **manifest_fields: Any):
        self.directory, self.seq_len, self.num_shards = directory, seq_len, num_shards
        self.manifest_fields = manifest_fields
        self._rows: list[np.ndarray] = []

    def add(self, rows: np.ndarray) -> None:
        rows = np.atleast_2d(np.asarray(rows))
        if rows.shape[1] != self.seq_len:
            raise ValueError(f"rows must have seq_len={self.seq_len} tokens, got {rows.shape[1]}")
        self._rows.append(rows.astype(np.int64))

    def close(self) -> dict:
        rows = np.concatenate(self._rows) if self._rows else np.zeros((0, self.seq_len), np.int64)
        os.makedirs(self.directory, exist_ok=True)
        entries = []
        for i, part in enumerate(np.array_split(rows, self.num_shards)):
            entries.append(write_shard(os.path.join(self.directory, shard_name(i, self.num_shards)), part))
        return write_manifest(self.directory, self.seq_len, shards=entries, **self.manifest_fields)

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, *_: Any) -> None:
        if exc_type is None:
            self.close()


def write_manifest(directory: str, seq_len: int, vocab: Any = None, shards: Sequence[dict] | None = None, **fields: Any) -> dict:
    """Writes ``manifest.json`` (atomically). ``shards`` defaults to the shard files present."""
    if shards is None:
        shards = []
        for name in sorted(os.listdir(directory)):
            if _SHARD_RE.match(name):
                path = os.path.join(directory, name)
                n = os.path.getsize(index_path(path)) // 8
                shards.append({"file": name, "examples": n, "sha256": _sha256_file(path)})
    manifest = {"format": FORMAT, "seq_len": int(seq_len), "vocab": vocab, "shards": list(shards), **fields}
    tmp = os.path.join(directory, MANIFEST + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, os.path.join(directory, MANIFEST))
    return manifest


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


@dataclass
class _Shard:
    path: str
    offsets: np.ndarray  # uint64 (examples,)


class ShardSet:
    """Random access to the examples of a shard set, numbered across shards in manifest order."""

    def __init__(self, directory: str, verify_crc: bool = False):
        self.directory = directory
        path = os.path.join(directory, MANIFEST)
        if not os.path.exists(path):
            raise FileNotFoundError(f"no {MANIFEST} in {directory}")
        with open(path, encoding="utf-8") as f:
            self.manifest = json.load(f)
        if self.manifest.get("format") != FORMAT:
            raise ValueError(f"{path}: format is {self.manifest.get('format')!r}, expected {FORMAT!r}")
        self.seq_len = int(self.manifest["seq_len"])
        self.verify_crc = verify_crc
        self._shards: list[_Shard] = []
        self._starts: list[int] = []
        total = 0
        for entry in self.manifest["shards"]:
            shard_path = os.path.join(directory, entry["file"])
            offsets = np.fromfile(index_path(shard_path), "<u8")
            if len(offsets) != entry["examples"]:
                raise ValueError(f"{entry['file']}: index has {len(offsets)} records, manifest says {entry['examples']}")
            self._shards.append(_Shard(shard_path, offsets))
            self._starts.append(total)
            total += len(offsets)
        self.num_examples = total
        self._files: dict[str, Any] = {}

    def __len__(self) -> int:
        return self.num_examples

    def _locate(self, i: int) -> tuple[_Shard, int]:
        if not 0 <= i < self.num_examples:
            raise IndexError(f"example {i} out of range [0, {self.num_examples})")
        s = bisect.bisect_right(self._starts, i) - 1
        return self._shards[s], i - self._starts[s]

    def _record(self, shard: _Shard, j: int) -> bytes:
        f = self._files.get(shard.path)
        if f is None:
            f = self._files[shard.path] = open(shard.path, "rb")
        f.seek(int(shard.offsets[j]))
        header = f.read(12)
        (length,) = struct.unpack("<Q", header[:8])
        payload = f.read(length + 4)
        if self.verify_crc:
            (hcrc,) = struct.unpack("<I", header[8:])
            (pcrc,) = struct.unpack("<I", payload[-4:])
            if hcrc != masked_crc32c(header[:8]) or pcrc != masked_crc32c(payload[:-4]):
                raise ValueError(f"{shard.path}: CRC mismatch in record {j}")
        return payload[:-4]

    def read(self, indices: Iterable[int]) -> np.ndarray:
        """Examples at ``indices`` as int32 (len(indices), seq_len)."""
        idx = [int(i) for i in indices]
        out = np.empty((len(idx), self.seq_len), np.int32)
        for k, i in enumerate(idx):
            shard, j = self._locate(i)
            row = decode_example(self._record(shard, j))
            if len(row) != self.seq_len:
                raise ValueError(f"{shard.path}: record {j} has {len(row)} tokens, expected {self.seq_len}")
            out[k] = row
        return out

    def close(self) -> None:
        for f in self._files.values():
            f.close()
        self._files.clear()

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_files"] = {}
        return state
