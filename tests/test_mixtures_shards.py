"""Token shards: our TFRecord/Example writer, the indexed reader, and TF's reader agree."""

import json
import os

import numpy as np
import pytest

from mixtures import shards


def _tokens(n, seq_len, seed=0, high=300_000):
    return np.random.default_rng(seed).integers(0, high, size=(n, seq_len)).astype(np.int32)


def test_crc32c_known_values():
    # RFC 3720 test vector and the classic "123456789" check value.
    assert shards.crc32c(b"123456789") == 0xE3069283
    assert shards.crc32c(bytes(32)) == 0x8A9136AA
    assert shards.crc32c(b"") == 0


def test_writer_reader_roundtrip_and_manifest(tmp_path):
    rows = _tokens(23, 16)
    rows[0, :4] = [0, 127, 128, 2**21]  # varint byte boundaries
    with shards.ShardWriter(str(tmp_path), seq_len=16, num_shards=3, vocab={"path": "spm.model"}, recipe="r") as w:
        w.add(rows[:10])
        w.add(rows[10:])
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["format"] == "palmkit-shards-v1"
    assert manifest["seq_len"] == 16 and manifest["recipe"] == "r"
    assert [s["file"] for s in manifest["shards"]] == [f"shard-0000{i}-of-00003.tfrecord" for i in range(3)]
    assert sum(s["examples"] for s in manifest["shards"]) == 23
    assert all(os.path.exists(tmp_path / s["file"].replace(".tfrecord", ".idx")) for s in manifest["shards"])

    ss = shards.ShardSet(str(tmp_path), verify_crc=True)
    assert ss.num_examples == 23 and ss.seq_len == 16
    order = [22, 0, 9, 10, 5, 17]
    got = ss.read(order)
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, rows[order])
    with pytest.raises(IndexError):
        ss.read([23])


def test_tensorflow_reads_what_we_write(tmp_path):
    tf = pytest.importorskip("tensorflow")
    rows = _tokens(7, 32, seed=1)
    path = str(tmp_path / shards.shard_name(0, 1))
    shards.write_shard(path, rows)
    shards.write_manifest(str(tmp_path), seq_len=32)
    spec = {"targets": tf.io.FixedLenFeature([32], tf.int64)}
    # TFRecordDataset checks the framing CRCs; parse_single_example checks the proto.
    ds = tf.data.TFRecordDataset([path]).map(lambda r: tf.io.parse_single_example(r, spec)["targets"])
    from_tf = np.stack([x.numpy() for x in ds])
    np.testing.assert_array_equal(from_tf, rows)
    np.testing.assert_array_equal(shards.ShardSet(str(tmp_path)).read(range(7)), rows)


def test_we_read_what_tensorflow_writes(tmp_path):
    tf = pytest.importorskip("tensorflow")
    rows = _tokens(3, 8, seed=2)
    path = str(tmp_path / shards.shard_name(0, 1))
    offsets, pos = [], 0
    with tf.io.TFRecordWriter(path) as w:
        for row in rows:
            ex = tf.train.Example(features=tf.train.Features(feature={
                "other": tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"x"])),
                "targets": tf.train.Feature(int64_list=tf.train.Int64List(value=row.tolist())),
            })).SerializeToString()
            offsets.append(pos)
            pos += len(ex) + 16
            w.write(ex)
    # Our framing (length, masked CRC32C, payload, masked CRC32C) is byte-for-byte TF's.
    assert open(path, "rb").read() == b"".join(shards.frame_record(r.numpy()) for r in tf.data.TFRecordDataset([path]))
    np.array(offsets, "<u8").tofile(shards.index_path(path))
    shards.write_manifest(str(tmp_path), seq_len=8)
    np.testing.assert_array_equal(shards.ShardSet(str(tmp_path), verify_crc=True).read([2, 0]), rows[[2, 0]])


def test_bad_inputs(tmp_path):
    with pytest.raises(ValueError):
        shards.encode_example(np.array([1, -2]))
    with pytest.raises(ValueError):
        shards.ShardWriter(str(tmp_path), seq_len=4).add(np.zeros((2, 5)))
    with pytest.raises(FileNotFoundError):
        shards.ShardSet(str(tmp_path / "missing"))


def test_two_byte_varints_match_the_general_encoder(tmp_path):
    """Values below 2**14 take the one-or-two-byte path; it gives the general path's bytes."""
    rng = np.random.default_rng(3)
    edge = np.array([[0, 1, 127, 128, 129, 255, 256, 16383, 16382, 5]])
    for rows in (rng.integers(0, 16384, (40, 300)).astype(np.uint16), rng.integers(0, 128, (3, 9)), edge):
        general = []
        for row in rows:
            general.append(b"".join(shards._varint(int(v)) for v in row))
        assert shards._varint_rows(rows) == general
        assert shards._varint_rows(rows.astype(np.int64)) == general
    mixed = np.array([[5, 16384, 2**35, 127]])
    assert shards._varint_rows(mixed) == [b"".join(shards._varint(int(v)) for v in mixed[0])]
    path = str(tmp_path / "shard-00000-of-00001.tfrecord")
    rows = rng.integers(0, 8000, (50, 64)).astype(np.uint16)
    shards.write_shard(path, rows)
    data = open(path, "rb").read()
    offsets = np.fromfile(shards.index_path(path), "<u8")
    records = [data[a:b] for a, b in zip(offsets.tolist(), offsets.tolist()[1:] + [len(data)])]
    assert b"".join(records) == data
    for row, rec in zip(rows, records):
        assert rec == shards.frame_record(shards.encode_example(row))
