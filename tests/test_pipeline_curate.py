"""The curate job end to end: every bad-input kind, exact accounting, outputs, determinism.

The fixture corpus mixes real documents from the bundled sample corpus with one
planted example of each kind of bad input, a code tree with a permissive and a
copyleft project, an exact duplicate, and an empty file and folder.
"""

import gzip
import json
import pathlib
import shutil

import apache_beam as beam
import pytest
import zstandard
from apache_beam.testing import test_pipeline
from apache_beam.testing.util import assert_that, equal_to

from filters.document import Document
from pipeline.curate import Curate, CurateConfig, run_curate
from palmkit.config import load_config
from pipeline.options import build_options
from pipeline.readers import parse_input
from pipeline.records import ReaderConfig

REPO = pathlib.Path(__file__).resolve().parent.parent
CORPUS = REPO / "examples" / "corpus"


LANGS = ("en", "de", "fr", "es", "it", "nl", "pl", "ru")


def sample_docs(source: str, n: int) -> list[dict]:
    """The first ``n`` long documents of one bundled source in big languages (sure to be identified)."""
    out = []
    for path in sorted((CORPUS / source).glob("*.jsonl.zst")):
        for line in zstandard.ZstdDecompressor().decompress(path.read_bytes()).decode().splitlines():
            record = json.loads(line)
            if len(record["text"].split()) > 80 and record["lang"] in LANGS and len(line) < 200_000:
                out.append(record)
            if len(out) == n:
                return out
    return out


BAD_LINES = [
    b'{"id": "bad-json", "text": "unterminated',
    b'{"id": "no-text", "body": "x"}',
    b'{"id": "int-text", "text": 5}',
    b'{"id": "latin1", "text": "caf\xe9"}',
    b'{"id": "nul", "text": "a\\u0000b"}',
    b'{"id": "huge", "text": "' + b"word " * 60_000 + b'"}',
]

MIT = (
    "MIT License\n\nPermission is hereby granted, free of charge, to any person obtaining a copy of this software\n"
    "The above copyright notice and this permission notice shall be included in all copies or substantial portions of the Software.\n"
)
GPL = "GNU GENERAL PUBLIC LICENSE\nVersion 3, 29 June 2007\n\nThis program is free software: you can redistribute it"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("corpus")
    books = sample_docs("books", 12)
    assert len(books) == 12, "the sample corpus should have long book documents"
    good = [json.dumps({"id": r["id"], "text": r["text"]}).encode() for r in books]
    web = root / "web"
    web.mkdir()
    (web / "a.jsonl").write_bytes(b"\n".join(good[:6] + BAD_LINES) + b"\n")
    # The same first document again: an exact duplicate under another id.
    dup = json.dumps({"id": "copy-of-first", "text": books[0]["text"]}).encode()
    (web / "b.jsonl.gz").write_bytes(gzip.compress(b"\n".join(good[6:] + [dup]) + b"\n", mtime=0))
    body = b"".join(json.dumps({"id": f"t{i}", "text": books[i % 12]["text"] + f" {i}"}).encode() + b"\n" for i in range(40))
    (web / "c.jsonl.gz").write_bytes(gzip.compress(body, mtime=0)[:-200])  # truncated
    (web / "empty.jsonl").write_bytes(b"")
    code = root / "code"
    (code / "mitlib" / "src").mkdir(parents=True)
    (code / "mitlib" / "LICENSE").write_text(MIT)
    (code / "mitlib" / "src" / "util.py").write_text(
        "import os\n\n\ndef list_files(root):\n    \"\"\"All files below root, sorted.\"\"\"\n"
        "    found = []\n    for folder, _, names in os.walk(root):\n        for name in names:\n"
        "            found.append(os.path.join(folder, name))\n    return sorted(found)\n"
    )
    (code / "mitlib" / "src" / "notes.bin").write_bytes(b"\x00\x01")  # not source: skipped
    (code / "gpltool").mkdir()
    (code / "gpltool" / "COPYING").write_text(GPL)
    (code / "gpltool" / "main.c").write_text("#include <stdio.h>\n\nint main(void) {\n    puts(\"hello\");\n    return 0;\n}\n")
    (code / "emptydir").mkdir()
    return root


def run_job(corpus: pathlib.Path, out: pathlib.Path, workers: int, **overrides) -> dict:
    cfg = CurateConfig(reader=ReaderConfig(max_record_bytes=250_000), **overrides)
    inputs = [parse_input(f"web={corpus}/web/*", "web"), parse_input(f"code={corpus}/code", "code")]
    return run_curate(cfg, inputs, str(out), build_options("DirectRunner", workers))


def read_zst_lines(folder: pathlib.Path) -> list[dict]:
    lines = []
    for path in sorted(folder.rglob("*.jsonl.zst")):
        lines += [json.loads(l) for l in zstandard.ZstdDecompressor().decompress(path.read_bytes()).decode().splitlines()]
    return lines


@pytest.mark.slow
def test_whole_job_accounts_for_every_record(corpus, tmp_path):
    stats = run_job(corpus, tmp_path / "out", workers=1)
    # 6 bad lines, 1 truncated gzip.
    assert stats["errors"] == 7
    assert stats["errors_by_kind"] == {
        "invalid_json": 1, "missing_text_field": 1, "text_not_string": 1, "invalid_utf8": 1,
        "nul_bytes": 1, "record_too_large": 1, "truncated_compressed_file": 1,
    }
    total = stats["kept"] + stats["errors"] + sum(stats["duplicates"].values()) + sum(stats["rejected"].values())
    assert stats["read"] == total
    assert stats["duplicates"]["exact"] >= 1
    assert stats["rejected"].get("code:copyleft_license") == 1

    out = tmp_path / "out"
    errors = [json.loads(l) for p in sorted((out / "errors").glob("*.jsonl")) for l in p.read_text().splitlines()]
    assert len(errors) == 7
    assert all({"file", "reason", "raw"} <= set(e) for e in errors)
    assert {e["reason"].split(":")[0].split(" ")[0] for e in errors if "line" in e} >= {"invalid_json", "nul_bytes"}

    kept = read_zst_lines(out / "curated")
    assert len(kept) == stats["kept"]
    assert len({d["id"] for d in kept}) == len(kept)
    docs = [Document.from_dict(d) for d in kept]
    code_docs = [d for d in docs if d.source == "code"]
    assert [(d.meta["code_lang"], d.meta["license"], d.lang) for d in code_docs] == [("python", "MIT", "code")]
    assert all(d.lang and d.lang != "und" for d in docs)
    for path in (out / "curated").rglob("*.jsonl.zst"):
        source, lang = path.parent.parent.name, path.parent.name
        assert all(d["source"] == source and d["lang"] == lang for d in read_zst_lines(path.parent))

    rejected = read_zst_lines(out / "rejected")
    assert len(rejected) == sum(stats["rejected"].values())
    duplicates = [json.loads(l) for p in (out / "duplicates").glob("*.jsonl") for l in p.read_text().splitlines()]
    assert len(duplicates) == sum(stats["duplicates"].values())
    assert (out / "report.html").read_text().count("<img") >= 3
    assert json.loads((out / "stats.json").read_text())["read"] == stats["read"]
    # The effective config, loadable as it is: --config OUTPUT/config.yaml reruns the same job.
    assert load_config(CurateConfig, out / "config.yaml") == CurateConfig(reader=ReaderConfig(max_record_bytes=250_000))


@pytest.mark.slow
def test_same_bytes_with_one_or_two_workers_and_on_rerun(corpus, tmp_path):
    run_job(corpus, tmp_path / "one", workers=1)
    run_job(corpus, tmp_path / "two", workers=2)

    def tree(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file() and p.name != "report.html"}

    one, two = tree(tmp_path / "one"), tree(tmp_path / "two")
    curated = [k for k in one if k.startswith("curated/")]
    assert curated and all(one[k] == two[k] for k in curated)
    assert set(one) - {"stats.json"} == set(two) - {"stats.json"}
    s1, s2 = (json.loads(one["stats.json"]), json.loads(two["stats.json"]))
    s1.pop("job"), s2.pop("job")
    assert s1 == s2
    # A re-run over the same folder, with different sharding, leaves no stale shard behind.
    run_job(corpus, tmp_path / "one", workers=1, records_per_shard=2)
    again = tree(tmp_path / "one")
    assert sorted(d["id"] for d in read_zst_lines(tmp_path / "one" / "curated")) == sorted(
        d["id"] for d in read_zst_lines(tmp_path / "two" / "curated")
    )
    folders: dict[str, list[str]] = {}
    for k in again:
        if k.startswith("curated/"):
            folder, name = k.rsplit("/", 1)
            folders.setdefault(folder, []).append(name)
    assert any(len(names) > 1 for names in folders.values())
    for names in folders.values():
        # Every shard of a folder says the same total, and that total is how many there are: no stale shard.
        assert {n.split("-of-")[1] for n in names} == {f"{len(names):05d}.jsonl.zst"}


def test_curate_transform_with_test_pipeline():
    books = sample_docs("books", 3)
    docs = [Document(id=r["id"], text=r["text"], source="books") for r in books]
    docs.append(Document(id="short", text="Too short to keep.", source="books"))
    docs.append(Document(id="z-copy", text=books[0]["text"], source="books"))
    with test_pipeline.TestPipeline() as p:
        result = p | beam.Create(docs) | Curate(CurateConfig())
        assert_that(result["kept"] | "KeptIds" >> beam.Map(lambda d: d.id), equal_to([r["id"] for r in books]), label="kept")
        assert_that(result["rejected"] | "Reasons" >> beam.Map(lambda r: (r[1].id, r[0].split(":")[0])), equal_to([("short", "gopher_quality")]), label="rejected")
        assert_that(result["duplicates"] | "Dups" >> beam.Map(lambda r: (r["id"], r["survivor"], r["kind"])), equal_to([("z-copy", books[0]["id"], "exact")]), label="dups")


def test_unknown_step_is_a_config_error():
    with pytest.raises(ValueError, match="unknown step 'sentiment'"):
        CurateConfig(steps=("clean", "sentiment"))
