"""Turning the bytes of one input file into Documents and dead letters, without Beam.

Every function here takes an open binary file (local or from any Beam
filesystem) and yields either a ``Document`` or an ``ErrorRecord`` for each
record it finds, so that nothing is lost and nothing stops the job: a bad line
becomes an error record and reading goes on with the next one. A compressed
file that is cut short keeps every record before the damage and adds one error
record for the damaged tail.

The Beam side (``pipeline.readers``) only matches files and calls these.
"""

from __future__ import annotations

import dataclasses
import io
import json
import zlib
from typing import Any, BinaryIO, Iterator

import zstandard

from filters.document import Document

CHUNK = 1 << 20


@dataclasses.dataclass(frozen=True)
class ReaderConfig:
    """How input records become Documents."""

    text_field: str = "text"
    id_field: str = "id"
    # Bigger records are dead letters: they are usually broken concatenations, and
    # they would blow one worker's memory at corpus scale.
    max_record_bytes: int = 8_000_000
    # How many leading bytes of a bad record go into its error record.
    raw_preview_bytes: int = 256
    # Sources whose directories are read as code trees (one document per source file).
    code_sources: tuple[str, ...] = ("code", "github")


@dataclasses.dataclass(frozen=True)
class ErrorRecord:
    """A malformed input record: where it is, why it was refused, and how it began."""

    file: str
    reason: str
    raw: str
    source: str = ""
    line: int | None = None
    offset: int | None = None

    def to_json(self) -> str:
        data = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        return json.dumps(data, ensure_ascii=False, sort_keys=True)


class DamagedStream(Exception):
    """The compressed stream ends early or is corrupt at ``offset`` (decompressed bytes)."""

    def __init__(self, reason: str, offset: int, tail: bytes = b""):
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        self.tail = tail


def preview(raw: bytes, n: int) -> str:
    """The first ``n`` bytes, readable even when they are not valid UTF-8."""
    return raw[:n].decode("utf-8", errors="backslashreplace")


def compression_of(path: str) -> str:
    lower = path.lower()
    if lower.endswith(".gz"):
        return "gzip"
    if lower.endswith((".zst", ".zstd")):
        return "zstd"
    return "none"


def _decompressed_chunks(fh: BinaryIO, compression: str) -> Iterator[bytes]:
    """Yields decompressed bytes; raises DamagedStream at a truncated or corrupt point.

    Decompressor objects are used instead of file wrappers because the wrappers
    either hide truncation (zstandard's stream reader returns a short read) or
    lose the bytes decoded before the damage.
    """
    if compression == "none":
        while chunk := fh.read(CHUNK):
            yield chunk
        return

    def new():
        if compression == "gzip":
            return zlib.decompressobj(wbits=31)
        return zstandard.ZstdDecompressor().decompressobj()

    dobj = new()
    produced = 0
    started = False
    while chunk := fh.read(CHUNK):
        while chunk:
            started = True
            try:
                out = dobj.decompress(chunk)
            except (zlib.error, zstandard.ZstdError) as exc:
                raise DamagedStream(f"corrupt_compressed_file: {exc}", produced) from None
            produced += len(out)
            if out:
                yield out
            chunk = b""
            if dobj.eof:
                # Multi-member gzip / multi-frame zstd: carry on with the next member.
                rest = dobj.unused_data
                dobj = new()
                started = False
                chunk = rest
    if started and not dobj.eof:
        raise DamagedStream("truncated_compressed_file", produced)


def iter_lines(fh: BinaryIO, compression: str, max_bytes: int) -> Iterator[tuple[int, int, bytes | None, bytes]]:
    """Yields ``(line_number, offset, line_or_None, head)`` for each line of the stream.

    ``line`` is None when the line exceeded ``max_bytes``; ``head`` then holds its
    first bytes. Blank lines are skipped. A damaged stream raises DamagedStream
    after every complete line before the damage has been yielded, with the
    incomplete last line in ``tail``.
    """
    buf = bytearray()
    line_no = 0
    offset = 0  # offset of buf[0] in the decompressed stream
    oversize = False
    oversize_head = b""
    try:
        for chunk in _decompressed_chunks(fh, compression):
            buf += chunk
            start = 0
            while True:
                nl = buf.find(b"\n", start)
                if nl < 0:
                    break
                line_no += 1
                line = bytes(buf[start:nl])
                if oversize:
                    yield line_no, offset + start, None, oversize_head
                    oversize = False
                elif len(line) > max_bytes:
                    yield line_no, offset + start, None, line[:4096]
                elif line.strip():
                    yield line_no, offset + start, line, line
                start = nl + 1
            del buf[:start]
            offset += start
            if len(buf) > max_bytes:
                # Keep memory flat: remember how the giant line began and drop the rest.
                if not oversize:
                    oversize_head = bytes(buf[:4096])
                    oversize = True
                offset += len(buf)
                buf.clear()
    except DamagedStream as exc:
        raise DamagedStream(exc.reason, offset, bytes(buf[:4096]) or oversize_head) from None
    if oversize:
        yield line_no + 1, offset, None, oversize_head
    elif buf.strip():
        yield line_no + 1, offset, bytes(buf) if len(buf) <= max_bytes else None, bytes(buf[:4096])


def _text_problem(raw: bytes) -> tuple[str | None, str | None]:
    """(text, None) for clean UTF-8, else (None, reason)."""
    if b"\x00" in raw:
        return None, "nul_bytes"
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        return None, f"invalid_utf8 at byte {exc.start}"


def _input_meta(record: dict, cfg: ReaderConfig) -> dict:
    """Keeps the record's own ``meta`` and short scalar fields (provenance such as ``url``)."""
    meta: dict[str, Any] = {}
    if isinstance(record.get("meta"), dict):
        meta.update(record["meta"])
    extra = {
        k: v
        for k, v in record.items()
        if k not in (cfg.text_field, cfg.id_field, "meta")
        and isinstance(v, (str, int, float, bool))
        and (not isinstance(v, str) or len(v) <= 256)
    }
    if extra:
        meta["input"] = extra
    return meta


def _document_fields(record: dict, source: str) -> dict[str, Any]:
    """``source``, ``lang`` and ``lang_score`` of a record that is already a Document (a curated shard line)."""
    out: dict[str, Any] = {"source": source}
    if isinstance(record.get("source"), str) and record["source"]:
        out["source"] = record["source"]
    if isinstance(record.get("lang"), str):
        out["lang"] = record["lang"]
    score = record.get("lang_score")
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        out["lang_score"] = float(score)
    return out


def read_jsonl(
    fh: BinaryIO, *, path: str, relpath: str, source: str, cfg: ReaderConfig, documents: bool = False
) -> Iterator[Document | ErrorRecord]:
    """One Document per JSON line; an ErrorRecord for each line that cannot be one.

    With ``documents`` the records are taken as palmkit Documents (curated
    shards, ``palmkit dedup`` input): a record's own ``source`` (else
    ``source``), ``lang`` and ``lang_score`` are kept as fields and its
    ``meta`` as it is (``meta.file`` is set only where it is missing), so a
    Document read back is the Document that was written.
    """

    def error(reason: str, raw: bytes, line: int | None = None, offset: int | None = None) -> ErrorRecord:
        return ErrorRecord(path, reason, preview(raw, cfg.raw_preview_bytes), source, line, offset)

    try:
        for line_no, offset, line, head in iter_lines(fh, compression_of(path), cfg.max_record_bytes):
            if line is None:
                yield error(f"record_too_large (> {cfg.max_record_bytes} bytes)", head, line_no, offset)
                continue
            text, problem = _text_problem(line)
            if problem:
                yield error(problem, line, line_no, offset)
                continue
            try:
                record = json.loads(text)
            except json.JSONDecodeError as exc:
                yield error(f"invalid_json: {exc.msg}", line, line_no, offset)
                continue
            if not isinstance(record, dict):
                yield error("json_not_object", line, line_no, offset)
                continue
            if cfg.text_field not in record:
                yield error(f"missing_text_field '{cfg.text_field}'", line, line_no, offset)
                continue
            if not isinstance(record[cfg.text_field], str):
                yield error(f"text_not_string ({type(record[cfg.text_field]).__name__})", line, line_no, offset)
                continue
            if "\x00" in record[cfg.text_field]:
                yield error("nul_bytes", line, line_no, offset)
                continue
            rid = record.get(cfg.id_field)
            doc_id = str(rid) if isinstance(rid, (str, int)) and str(rid) else f"{relpath}:{line_no}"
            if documents:
                fields = _document_fields(record, source)
                plain = {k: v for k, v in record.items() if k not in ("source", "lang", "lang_score")}
                meta = _input_meta(plain, cfg)
                meta.setdefault("file", relpath)
                yield Document(id=doc_id, text=record[cfg.text_field], meta=meta, **fields)
                continue
            meta = _input_meta(record, cfg)
            meta["file"] = relpath
            yield Document(id=doc_id, text=record[cfg.text_field], source=source, meta=meta)
    except DamagedStream as exc:
        yield error(exc.reason, exc.tail, None, exc.offset)
    except OSError as exc:
        yield error(f"unreadable_file: {exc}", b"")


def read_parquet(fh: BinaryIO, *, path: str, relpath: str, source: str, cfg: ReaderConfig) -> Iterator[Document | ErrorRecord]:
    """One Document per row, read a row group at a time so memory stays flat."""
    import pyarrow.parquet as pq

    def error(reason: str, raw: bytes = b"", row: int | None = None) -> ErrorRecord:
        return ErrorRecord(path, reason, preview(raw, cfg.raw_preview_bytes), source, row, None)

    try:
        data = io.BytesIO(fh.read()) if not fh.seekable() else fh
        pf = pq.ParquetFile(data)
    except Exception as exc:  # pyarrow raises several types for a bad file
        yield error(f"invalid_parquet: {type(exc).__name__}: {exc}"[:300])
        return
    names = pf.schema_arrow.names
    if cfg.text_field not in names:
        yield error(f"missing_text_field '{cfg.text_field}' (columns: {', '.join(names)})")
        return
    columns = [c for c in names if c in (cfg.text_field, cfg.id_field)]
    row = 0
    try:
        for group in range(pf.num_row_groups):
            table = pf.read_row_group(group, columns=columns)
            texts = table.column(cfg.text_field).to_pylist()
            ids = table.column(cfg.id_field).to_pylist() if cfg.id_field in columns else [None] * len(texts)
            for text, rid in zip(texts, ids):
                row += 1
                if not isinstance(text, str):
                    yield error(f"text_not_string ({type(text).__name__})", repr(text).encode()[:200], row)
                    continue
                raw_len = len(text.encode("utf-8"))
                if raw_len > cfg.max_record_bytes:
                    yield error(f"record_too_large (> {cfg.max_record_bytes} bytes)", text[:200].encode(), row)
                    continue
                if "\x00" in text:
                    yield error("nul_bytes", text.encode(), row)
                    continue
                doc_id = str(rid) if rid is not None and str(rid) else f"{relpath}:row{row}"
                yield Document(id=doc_id, text=text, source=source, meta={"file": relpath})
    except Exception as exc:
        yield error(f"invalid_parquet: {type(exc).__name__}: {exc}"[:300], b"", row + 1)


def read_whole_file(
    fh: BinaryIO, *, path: str, relpath: str, source: str, cfg: ReaderConfig, meta: dict | None = None
) -> Iterator[Document | ErrorRecord]:
    """One Document for the whole file (text folders and code trees); empty files yield nothing."""
    raw = fh.read(cfg.max_record_bytes + 1)
    if not raw.strip():
        return
    if len(raw) > cfg.max_record_bytes:
        yield ErrorRecord(path, f"record_too_large (> {cfg.max_record_bytes} bytes)", preview(raw, cfg.raw_preview_bytes), source)
        return
    text, problem = _text_problem(raw)
    if problem:
        yield ErrorRecord(path, problem, preview(raw, cfg.raw_preview_bytes), source)
        return
    doc_meta = {"file": relpath}
    doc_meta.update(meta or {})
    yield Document(id=relpath, text=text, source=source, meta=doc_meta)


def file_kind(path: str, is_code_source: bool) -> str:
    """Which reader a matched file goes to: jsonl, parquet, code or text."""
    lower = path.lower()
    for ext in (".gz", ".zst", ".zstd"):
        if lower.endswith(ext):
            lower = lower[: -len(ext)]
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith(".parquet"):
        return "parquet"
    return "code" if is_code_source else "text"
