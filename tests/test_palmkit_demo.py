"""``palmkit demo`` on a small slice of the sample corpus (the full demo is what `make demo` runs)."""

import json
import pathlib
import shutil

import pytest
import zstandard

from palmkit import cli
from palmkit.demo import DEFAULT_CORPUS, corpus_inputs


def test_corpus_inputs_name_every_source():
    inputs = corpus_inputs(DEFAULT_CORPUS)
    assert [i.source for i in inputs] == ["books", "code", "conversations", "web", "wiki"]
    assert next(i for i in inputs if i.source == "code").glob.endswith("/**")


def test_unknown_stage_is_one_line(tmp_path, capsys):
    assert cli.main(["demo", "--output", str(tmp_path), "--stages", "curate,trian"]) == 2
    assert capsys.readouterr().err.strip() == "palmkit demo: error: unknown stage 'trian' (stages: curate, data, train, audit)"


@pytest.mark.slow
def test_demo_curate_stage_on_a_small_corpus(tmp_path, capsys):
    corpus = tmp_path / "corpus"
    (corpus / "web").mkdir(parents=True)
    lines = zstandard.ZstdDecompressor().decompress((DEFAULT_CORPUS / "web" / "installation-guide.jsonl.zst").read_bytes()).splitlines()
    (corpus / "web" / "part.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(b"\n".join(lines[:60]) + b"\n"))
    shutil.copytree(DEFAULT_CORPUS / "code" / "more-itertools", corpus / "code" / "more-itertools")
    out = tmp_path / "out"
    assert cli.main(["demo", "--corpus", str(corpus), "--output", str(out), "--stages", "curate", "--workers", "1"]) == 0
    assert capsys.readouterr().out.strip() == f"demo finished; index: {out / 'index.html'}"
    stats = json.loads((out / "curate" / "stats.json").read_text())
    assert stats["read"] == 60 + len(list((corpus / "code").rglob("*.py")))
    assert "curate/report.html" in (out / "index.html").read_text()
