"""Parsing input files into Documents and dead letters, one bad-input kind at a time."""

import gzip
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from filters.document import Document
from pipeline import records
from pipeline.records import ErrorRecord, ReaderConfig

CFG = ReaderConfig(max_record_bytes=1000)


def good(i: int) -> bytes:
    return json.dumps({"id": f"doc{i}", "text": f"Document number {i} has some words.", "url": f"http://x/{i}"}).encode()


def read(data: bytes, path: str = "in.jsonl", cfg: ReaderConfig = CFG):
    items = list(records.read_jsonl(io.BytesIO(data), path=path, relpath=path, source="web", cfg=cfg))
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, ErrorRecord)]
    return docs, errors


def test_good_lines_become_documents_with_ids_and_provenance():
    docs, errors = read(b"\n".join(good(i) for i in range(3)) + b"\n")
    assert errors == []
    assert [d.id for d in docs] == ["doc0", "doc1", "doc2"]
    assert docs[0].source == "web"
    assert docs[0].meta == {"file": "in.jsonl", "input": {"url": "http://x/0"}}


def test_missing_id_uses_file_and_line():
    docs, _ = read(b'{"text": "a"}\n\n{"text": "b"}')
    assert [d.id for d in docs] == ["in.jsonl:1", "in.jsonl:3"]


@pytest.mark.parametrize(
    "line, reason",
    [
        (b'{"text": "unterminated', "invalid_json"),
        (b'["a", "list"]', "json_not_object"),
        (b'{"body": "no text field"}', "missing_text_field"),
        (b'{"text": 42}', "text_not_string"),
        (b'{"text": null}', "text_not_string"),
        (b'{"text": "caf\xe9 latin-1"}', "invalid_utf8"),
        (b'{"text": "nul\x00byte"}', "nul_bytes"),
        (b'{"text": "escaped nul \\u0000 inside"}', "nul_bytes"),
        (b'{"text": "' + b"x" * 2000 + b'"}', "record_too_large"),
    ],
)
def test_each_bad_record_is_a_dead_letter_and_reading_goes_on(line, reason):
    data = good(1) + b"\n" + line + b"\n" + good(2) + b"\n"
    docs, errors = read(data)
    assert [d.id for d in docs] == ["doc1", "doc2"]
    assert len(errors) == 1
    err = errors[0]
    assert err.reason.startswith(reason)
    assert err.line == 2 and err.offset == len(good(1)) + 1
    assert err.file == "in.jsonl" and err.source == "web"
    assert err.raw  # the first bytes of the bad record are kept


def test_oversize_record_without_newline_at_end():
    docs, errors = read(good(1) + b"\n" + b"y" * 5000)
    assert len(docs) == 1 and len(errors) == 1 and errors[0].reason.startswith("record_too_large")


def test_oversize_record_spanning_chunks(monkeypatch):
    monkeypatch.setattr(records, "CHUNK", 64)
    data = good(1) + b"\n" + b'{"text": "' + b"z" * 3000 + b'"}\n' + good(2) + b"\n"
    docs, errors = read(data)
    assert [d.id for d in docs] == ["doc1", "doc2"]
    assert [e.line for e in errors] == [2]
    assert errors[0].raw.startswith('{"text": "zzz')


def test_empty_file_is_not_an_error():
    assert read(b"") == ([], [])
    assert read(b"\n\n  \n") == ([], [])
    assert read(gzip.compress(b""), "e.jsonl.gz") == ([], [])


@pytest.mark.parametrize("suffix, compress", [(".gz", lambda b: gzip.compress(b, mtime=0)), (".zst", lambda b: zstandard.ZstdCompressor().compress(b))])
def test_compressed_files_read_like_plain_ones(suffix, compress):
    body = b"".join(good(i) + b"\n" for i in range(50))
    docs, errors = read(compress(body), "in.jsonl" + suffix)
    assert errors == [] and len(docs) == 50


def test_multi_member_gzip_reads_every_member():
    data = gzip.compress(good(1) + b"\n") + gzip.compress(good(2) + b"\n")
    docs, errors = read(data, "in.jsonl.gz")
    assert [d.id for d in docs] == ["doc1", "doc2"] and errors == []


@pytest.mark.parametrize("suffix", [".gz", ".zst"])
def test_truncated_compressed_file_keeps_records_before_the_damage(suffix, monkeypatch):
    monkeypatch.setattr(records, "CHUNK", 256)
    body = b"".join(good(i) + b"\n" for i in range(2000))
    if suffix == ".gz":
        blob = gzip.compress(body, mtime=0)
    else:
        # Small frames: zstd only emits data at block boundaries, like a real streaming writer.
        cctx = zstandard.ZstdCompressor()
        out = io.BytesIO()
        with cctx.stream_writer(out, closefd=False) as w:
            for i in range(0, len(body), 4096):
                w.write(body[i : i + 4096])
                w.flush(zstandard.FLUSH_BLOCK)
        blob = out.getvalue()
    cut = blob[: int(len(blob) * 0.6)]
    docs, errors = read(cut, "in.jsonl" + suffix)
    assert len(errors) == 1
    assert errors[0].reason == "truncated_compressed_file"
    assert 500 < len(docs) < 2000
    # Every record before the damage, in order, and none after it.
    assert [d.id for d in docs] == [f"doc{i}" for i in range(len(docs))]


def test_corrupt_gzip_is_a_dead_letter():
    blob = bytearray(gzip.compress(b"".join(good(i) + b"\n" for i in range(100)), mtime=0))
    blob[40:60] = b"\xff" * 20
    docs, errors = read(bytes(blob), "in.jsonl.gz")
    assert len(errors) == 1 and errors[0].reason.startswith(("corrupt_compressed_file", "truncated_compressed_file"))


def test_custom_text_and_id_fields():
    cfg = ReaderConfig(text_field="content", id_field="uid")
    docs, errors = read(b'{"uid": 7, "content": "hello"}\n{"text": "wrong field"}\n', cfg=cfg)
    assert [d.id for d in docs] == ["7"] and len(errors) == 1


def test_parquet_rows(tmp_path):
    table = pa.table({"id": ["a", "b", None], "text": ["first", None, "third"]})
    path = tmp_path / "x.parquet"
    pq.write_table(table, path, row_group_size=2)
    with open(path, "rb") as fh:
        items = list(records.read_parquet(fh, path=str(path), relpath="x.parquet", source="web", cfg=CFG))
    docs = [i for i in items if isinstance(i, Document)]
    errors = [i for i in items if isinstance(i, ErrorRecord)]
    assert [(d.id, d.text) for d in docs] == [("a", "first"), ("x.parquet:row3", "third")]
    assert [(e.reason, e.line) for e in errors] == [("text_not_string (NoneType)", 2)]


def test_bad_parquet_file_is_one_dead_letter():
    items = list(records.read_parquet(io.BytesIO(b"PAR1 not really"), path="bad.parquet", relpath="bad.parquet", source="web", cfg=CFG))
    assert len(items) == 1 and items[0].reason.startswith("invalid_parquet")


def test_whole_file_reader():
    def run(data: bytes):
        return list(records.read_whole_file(io.BytesIO(data), path="/d/a.txt", relpath="a.txt", source="books", cfg=CFG))

    [doc] = run("Grüße aus Köln".encode())
    assert doc.id == "a.txt" and doc.text == "Grüße aus Köln" and doc.meta == {"file": "a.txt"}
    assert run(b"") == [] and run(b"  \n") == []
    assert run(b"\xff\xfe bad")[0].reason.startswith("invalid_utf8")
    assert run(b"bin\x00ary")[0].reason == "nul_bytes"
    assert run(b"x" * 5000)[0].reason.startswith("record_too_large")


def test_file_kind():
    assert records.file_kind("a/b.jsonl.zst", False) == "jsonl"
    assert records.file_kind("a/b.parquet", True) == "parquet"
    assert records.file_kind("a/b.py", True) == "code"
    assert records.file_kind("a/b.txt", False) == "text"
