"""pipeline.tokenize: exact token accounting, determinism across workers, seqio read-back, the commands."""

from __future__ import annotations

import collections
import dataclasses
import json
import os

import numpy as np
import pytest
from apache_beam.options.pipeline_options import DirectOptions

from mixtures.recipe import load_recipe, recipe_from_dict
from mixtures.shards import ShardSet, _sha256_file
from mixtures.vocab import EOS_ID, file_sha256, load
from pipeline.options import build_options
from pipeline.tokenize import EmptySourceError, TokenizeConfig, run_tokenize
from tests.test_pipeline_sample import corpus_documents, train_test_vocab, write_curated_tree

SEQ_LEN = 64


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("tokenize")
    root = write_curated_tree(str(base / "cur"))
    model = train_test_vocab(str(base / "vocab"))
    return {"base": base, "root": root, "model": model, "cache": str(base / "cache")}


def demo_recipe(**changes):
    return dataclasses.replace(load_recipe("demo"), total_tokens=40_000, seq_len=SEQ_LEN, **changes)


def _options(workers: int, multi_processing: bool = False):
    options = build_options(workers=workers)
    if multi_processing:
        options.view_as(DirectOptions).direct_running_mode = "multi_processing"
    return options


@pytest.fixture(scope="module")
def in_memory_run(corpus):
    out = str(corpus["base"] / "shards-inmemory")
    manifest = run_tokenize(demo_recipe(), corpus["root"], corpus["model"], out, _options(1),
                            cfg=TokenizeConfig(examples_per_shard=100), cache_dir=corpus["cache"])
    return out, manifest


def _files(directory):
    return {name: open(os.path.join(directory, name), "rb").read() for name in sorted(os.listdir(directory))}


def test_manifest_tokens_are_the_tokens_the_reader_yields(corpus, in_memory_run):
    out, manifest = in_memory_run
    shards = ShardSet(out, verify_crc=True)
    rows = shards.read(range(len(shards)))
    assert rows.shape == (manifest["examples"], SEQ_LEN)
    assert manifest["tokens"] == rows.size == manifest["examples"] * SEQ_LEN
    assert sum(s["examples"] for s in manifest["sources"].values()) == manifest["examples"]
    assert sum(s["tokens"] for s in manifest["sources"].values()) == manifest["tokens"]
    for name, s in manifest["sources"].items():
        assert s["tokens"] == s["examples"] * SEQ_LEN
        assert s["document_tokens"] - s["dropped_tokens"] == s["tokens"]
        assert 0 <= s["dropped_tokens"] < SEQ_LEN * 1  # one packing bucket per source at this size
    # Every (source, language) lands within half a document of its plan, even code: five files
    # of very different sizes sampled at a rate of 0.07.
    sp = load(corpus["model"])
    longest, langs = {}, {}
    for d in corpus_documents():
        longest[d["source"]] = max(longest.get(d["source"], 0), len(sp.encode(d["text"])) + 1)
        langs.setdefault(d["source"], set()).add(d["lang"])
    for name, s in manifest["sources"].items():
        assert abs(s["document_tokens"] - s["planned_tokens"]) <= len(langs[name]) * (longest[name] / 2 + 1), name
    assert manifest["sources"]["conversations"]["tokens"] > manifest["sources"]["wiki"]["tokens"]
    # The shard count follows from the planned tokens, so it is known before any row exists.
    assert len(manifest["shards"]) == -(-manifest["plan"]["planned_tokens"] // (SEQ_LEN * 100))
    for entry in manifest["shards"]:
        assert entry["sha256"] == _sha256_file(os.path.join(out, entry["file"]))
    assert manifest["vocab"]["sha256"] == file_sha256(corpus["model"])
    assert manifest["vocab"]["size"] == load(corpus["model"]).get_piece_size()
    assert manifest["recipe"]["name"] == "demo" and manifest["seq_len"] == SEQ_LEN
    assert not os.path.exists(os.path.join(out, "_summary"))
    assert not os.path.exists(os.path.join(out, "_exchange"))  # token batches and rows between steps


def test_rate_one_keeps_every_document_token_once(corpus, tmp_path):
    """One source planned at exactly its size: the shards hold every document token once, minus the tail."""
    sp = load(corpus["model"])
    code_docs = [d for d in corpus_documents() if d["source"] == "code"]
    doc_tokens = collections.Counter()
    for d in code_docs:
        doc_tokens.update(sp.encode(d["text"]) + [EOS_ID])
    recipe = recipe_from_dict({"name": "code_only", "total_tokens": sum(doc_tokens.values()), "seq_len": SEQ_LEN,
                               "sources": {"code": {"share": 1.0}}})
    out = str(tmp_path / "shards")
    manifest = run_tokenize(recipe, corpus["root"], corpus["model"], out, _options(1), cache_dir=corpus["cache"])
    assert manifest["sources"]["code"]["epochs"] == pytest.approx(1.0)
    assert manifest["sources"]["code"]["documents"] == len(code_docs)
    rows = ShardSet(out).read(range(manifest["examples"]))
    in_shards = collections.Counter(rows.ravel().tolist())
    assert not in_shards - doc_tokens  # nothing that is not in the documents
    assert sum((doc_tokens - in_shards).values()) == manifest["sources"]["code"]["dropped_tokens"] < SEQ_LEN
    # Documents are joined by end-of-document ids, and rows cut across them (no padding).
    assert in_shards[EOS_ID] >= len(code_docs) - 1 and 0 not in in_shards


def test_a_source_without_data_is_an_error(corpus, tmp_path):
    recipe = recipe_from_dict({"name": "t", "total_tokens": 1000, "seq_len": SEQ_LEN,
                               "sources": {"code": {"share": 0.5}, "news": {"share": 0.5}}})
    with pytest.raises(EmptySourceError, match="'news' has share 0.5 but no curated data"):
        run_tokenize(recipe, corpus["root"], corpus["model"], str(tmp_path / "s"), _options(1), cache_dir=corpus["cache"])


def test_a_rerun_replaces_the_earlier_shards(corpus, tmp_path):
    out = str(tmp_path / "s")
    first = run_tokenize(demo_recipe(), corpus["root"], corpus["model"], out, _options(1),
                         cfg=TokenizeConfig(examples_per_shard=50), cache_dir=corpus["cache"])
    second = run_tokenize(demo_recipe(seed=1), corpus["root"], corpus["model"], out, _options(1),
                          cfg=TokenizeConfig(examples_per_shard=1000), cache_dir=corpus["cache"])
    assert len(first["shards"]) > 1 and len(second["shards"]) == 1
    assert sorted(os.listdir(out)) == ["manifest.json", "shard-00000-of-00001.idx", "shard-00000-of-00001.tfrecord"]


@pytest.mark.slow
def test_same_bytes_on_one_and_two_workers(corpus, in_memory_run, tmp_path):
    outputs = []
    for workers in (1, 2):
        out = str(tmp_path / f"w{workers}")
        run_tokenize(demo_recipe(), corpus["root"], corpus["model"], out, _options(workers, multi_processing=True),
                     cfg=TokenizeConfig(examples_per_shard=100), cache_dir=corpus["cache"])
        outputs.append(_files(out))
    assert len(outputs[0]) > 3
    assert outputs[0] == outputs[1]
    assert outputs[0] == _files(in_memory_run[0])  # and the same as the in-memory runner's
    # Another seed shuffles differently.
    other = str(tmp_path / "seed1")
    run_tokenize(demo_recipe(seed=1), corpus["root"], corpus["model"], other, _options(1),
                 cfg=TokenizeConfig(examples_per_shard=100), cache_dir=corpus["cache"])
    records = lambda files: {v for n, v in files.items() if n.endswith(".tfrecord")}  # noqa: E731
    assert not records(_files(other)) & records(outputs[0])


def test_wide_tokens_between_steps_give_the_same_bytes(corpus, in_memory_run, tmp_path, monkeypatch):
    """A vocabulary over 65,536 pieces sends tokens as int32 between steps; the shards do not change."""
    import pipeline.tokenize as tokenize

    monkeypatch.setattr(tokenize, "token_dtype", lambda size: "<i4")
    out = str(tmp_path / "wide")
    run_tokenize(demo_recipe(), corpus["root"], corpus["model"], out, _options(1),
                 cfg=TokenizeConfig(examples_per_shard=100), cache_dir=corpus["cache"])
    assert _files(out) == _files(in_memory_run[0])


@pytest.mark.slow
def test_many_buckets_and_repeats_same_bytes_on_one_and_two_workers(corpus, tmp_path):
    """Several packing buckets per source, rates above 2 with partial copies, small encoder batches."""
    outputs = []
    for workers in (1, 2):
        out = str(tmp_path / f"w{workers}")
        manifest = run_tokenize(dataclasses.replace(demo_recipe(), total_tokens=120_000), corpus["root"], corpus["model"], out,
                                _options(workers, multi_processing=workers > 1),
                                cfg=TokenizeConfig(examples_per_shard=100, bucket_tokens=5000, batch_size=7),
                                cache_dir=corpus["cache"])
        outputs.append(_files(out))
    assert max(s["epochs"] for s in manifest["sources"].values()) > 2
    assert outputs[0] == outputs[1]
    shards = ShardSet(out, verify_crc=True)
    rows = shards.read(range(len(shards)))
    assert manifest["tokens"] == rows.size == sum(s["tokens"] for s in manifest["sources"].values())
    for s in manifest["sources"].values():
        assert s["document_tokens"] - s["dropped_tokens"] == s["tokens"]


@pytest.mark.slow  # importing seqio imports TensorFlow (~10 s)
def test_seqio_reads_the_shards_back(corpus, in_memory_run):
    import seqio

    from mixtures.seqio_tasks import register_shard_sets, register_shards

    out, manifest = in_memory_run
    task, mixture = register_shards(out)
    assert task.name == "palmkit_demo" and mixture.name == "palmkit_demo_mixture"
    ds = task.get_dataset({"targets": SEQ_LEN}, split="train", shuffle=False)
    got = np.stack([ex["targets"] for ex in ds.as_numpy_iterator()])
    assert got.dtype == np.int32 and got.shape == (manifest["examples"], SEQ_LEN)
    expected = ShardSet(out).read(range(manifest["examples"]))
    assert sorted(map(bytes, got.astype(np.int64))) == sorted(map(bytes, expected.astype(np.int64)))
    vocab = task.output_features["targets"].vocabulary
    assert vocab.eos_id == EOS_ID and vocab.vocab_size == load(corpus["model"]).get_piece_size()
    mixed = seqio.get_mixture_or_task("palmkit_demo_mixture").get_dataset({"targets": SEQ_LEN}, split="train", shuffle=False)
    assert next(iter(mixed.as_numpy_iterator()))["targets"].shape == (SEQ_LEN,)
    # Several shard sets mix by token count unless given rates.
    both = register_shard_sets("palmkit_test_sets", {out: None})
    assert [(t.name, rate) for t, rate in zip(both.tasks, [both.get_rate(t) for t in both.tasks])] == [
        ("palmkit_test_sets.0", float(manifest["tokens"]))]


# ---------------------------------------------------------------------------
# The commands
# ---------------------------------------------------------------------------


def test_mix_plan_and_tokenize_commands(corpus, tmp_path, capsys):
    from palmkit.cli import main

    common = ["--curated", corpus["root"], "--vocab", corpus["model"], "--workers", "1", "--cache", corpus["cache"]]
    assert main(["mix", "plan", "demo", "total_tokens=40000", *common, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in plan["sources"]] == ["conversations", "web", "books", "code", "wiki"]
    assert plan["sources"][0]["wanted"] == 20_000
    assert main(["mix", "plan", "palm_780b", *common]) == 0
    table = capsys.readouterr().out
    assert "! news: no curated data under news" in table
    out = str(tmp_path / "shards")
    assert main(["tokenize", "demo", "total_tokens=40000", f"seq_len={SEQ_LEN}", *common, "--output", out,
                 "--examples-per-shard", "100"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["examples"] == ShardSet(out).num_examples
    # User errors are one line and exit code 2.
    assert main(["tokenize", "demo", "bogus=1", *common, "--output", out]) == 2
    assert "unknown config key 'bogus'" in capsys.readouterr().err
    assert main(["tokenize", "palm_780b", *common, "--output", out]) == 2
    assert "'news' has share 0.01 but no curated data" in capsys.readouterr().err
    assert main(["mix", "plan", "demo", "--curated", corpus["root"], "--vocab", "missing.model"]) == 2
    assert "vocabulary not found: missing.model" in capsys.readouterr().err


@pytest.mark.slow
def test_tokenizer_command_and_demo_stages(corpus, tmp_path, capsys):
    from palmkit.cli import main
    from pipeline.demo_stages import run_demo_stages

    model = str(tmp_path / "tok" / "spm.model")
    assert main(["tokenizer", "train", "demo", "vocab_size=600", "hard_vocab_limit=false", "sample_chars=200000",
                 "--curated", corpus["root"], "--output", model, "--workers", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["pieces"] == 600
    assert main(["tokenizer", "train", "demo", "vocab_size=300", "--curated", corpus["root"], "--output", model,
                 "--workers", "1"]) == 2
    assert "too small for the sample's characters" in capsys.readouterr().err

    result = run_demo_stages(corpus["root"], str(tmp_path / "demo"), _options(1))
    assert set(result) >= {"vocab", "vocab_pieces", "plan", "plan_table", "shards", "examples", "tokens", "sources", "warnings"}
    assert os.path.exists(result["vocab"]) and os.path.exists(result["plan_table"])
    assert ShardSet(result["shards"]).num_examples == result["examples"] > 0
    assert result["tokens"] == result["examples"] * load_recipe("demo").seq_len


def test_pack_reads_no_tokens_when_copies_are_in_exchange_files(corpus, tmp_path, monkeypatch):
    """Without canaries or repeated sort keys, packing works from keys and lengths (no _unpack_batches)."""
    import pipeline.tokenize_pack as tokenize_pack

    def refuse(*args, **kwargs):
        raise AssertionError("tokens unpacked")

    monkeypatch.setattr(tokenize_pack, "_unpack_batches", refuse)
    out = str(tmp_path / "by-reference")
    run_tokenize(demo_recipe(), corpus["root"], corpus["model"], out, _options(1),
                 cfg=TokenizeConfig(examples_per_shard=100), cache_dir=corpus["cache"])
    assert os.path.exists(os.path.join(out, "manifest.json"))
