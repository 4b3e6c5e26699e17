"""pipeline.canaries: each kind's construction, exact repetitions in the written shards, no marks, the budget."""

from __future__ import annotations

import collections
import dataclasses
import json
import logging
import os
import re
import stat

import numpy as np
import pytest

from mixtures.recipe import load_recipe
from mixtures.shards import ShardSet, decode_example, encode_example
from mixtures.vocab import EOS_ID, file_sha256, load
from palmkit.config import ConfigError, load_config
from pipeline import canaries
from pipeline.canaries import CanaryConfig, KindCounts
from pipeline.options import build_options
from pipeline.sample import sort_key
from pipeline.tokenize import TokenizeConfig, run_tokenize
from tests.test_pipeline_sample import corpus_documents, train_test_vocab, write_curated_tree

SEQ_LEN = 64
# en is the only large language of the test plan at large_share 0.4 (it holds about half the tokens).
TEST_CANARIES = CanaryConfig(
    enabled=True, seed=3, repetitions=(1, 4), languages=("en", "de"), large_share=0.4,
    interleave=KindCounts(large=1, small=0), shuffle=KindCounts(large=1, small=1), secret=KindCounts(large=1, small=1),
    min_source_tokens=300, max_source_tokens=400, num_references=500,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("planting")
    root = write_curated_tree(str(base / "cur"))
    model = train_test_vocab(str(base / "vocab"))
    return {"base": base, "root": root, "model": model, "cache": str(base / "cache"), "sp": load(model)}


def demo_recipe(**changes):
    return dataclasses.replace(load_recipe("demo"), total_tokens=40_000, seq_len=SEQ_LEN, **changes)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def _run(corpus, out, cfg=TEST_CANARIES, options=None, **kw):
    handler = _Collect()
    logging.getLogger("pipeline.canaries").addHandler(handler)
    try:
        manifest = run_tokenize(demo_recipe(), corpus["root"], corpus["model"], out, options or build_options(workers=1),
                                cfg=TokenizeConfig(examples_per_shard=100, canaries=cfg), cache_dir=corpus["cache"], **kw)
    finally:
        logging.getLogger("pipeline.canaries").removeHandler(handler)
    return manifest, handler.lines


@pytest.fixture(scope="module")
def planted(corpus):
    out = str(corpus["base"] / "shards")
    manifest, warnings = _run(corpus, out)
    plain = str(corpus["base"] / "plain")
    plain_manifest, _ = _run(corpus, plain, cfg=CanaryConfig())
    return {"out": out, "manifest": manifest, "warnings": warnings, "record": canaries.read_canaries(out + ".canaries.json"),
            "plain": plain, "plain_manifest": plain_manifest}


def packed_streams(out: str, manifest: dict) -> dict[str, np.ndarray]:
    """Each source's packed token stream, rows put back in packing order.

    The job shuffles rows by a key, ``sort_key(seed, "<source>/<bucket>", row)``; its shard is the
    key modulo the shard count and a shard holds its rows sorted by key. With one bucket per
    source, that gives every row's place, so canaries cut across rows are whole again here.
    """
    num_shards = len(manifest["shards"])
    by_shard = collections.defaultdict(list)
    for source, s in manifest["sources"].items():
        for i in range(s["examples"]):
            key = sort_key(manifest["seed"], f"{source}/0", i)
            by_shard[int(key[:12], 16) % num_shards].append((key, source, i))
    shards, rows, start = ShardSet(out), {}, 0
    for index, entry in enumerate(manifest["shards"]):
        keys = sorted(by_shard[index])
        assert len(keys) == entry["examples"]
        for (_, source, i), row in zip(keys, shards.read(range(start, start + len(keys)))):
            rows[(source, i)] = row
        start += len(keys)
    return {source: np.concatenate([rows[(source, i)] for i in range(s["examples"])]).astype(np.int64)
            for source, s in manifest["sources"].items() if s["examples"]}


def occurrences(stream: np.ndarray, needle) -> int:
    needle = np.asarray(needle, np.int64)
    if len(stream) < len(needle):
        return 0
    starts = np.flatnonzero(stream[: len(stream) - len(needle) + 1] == needle[0])
    return sum(1 for p in starts if np.array_equal(stream[p : p + len(needle)], needle))


# ---------------------------------------------------------------------------
# Construction, without Beam
# ---------------------------------------------------------------------------


def test_interleave_alternates_blocks_and_keeps_each_documents_order():
    a = list(range(1000, 1130))  # 130 tokens
    b = list(range(2000, 2175))  # 175 tokens: cut to 130
    ids = canaries.interleave_ids(a, b, 50)
    assert len(ids) == 260
    assert ids[:50] == a[:50] and ids[50:100] == b[:50]
    assert ids[100:150] == a[50:100] and ids[150:200] == b[50:100]
    assert ids[200:230] == a[100:130] and ids[230:260] == b[100:130]
    assert [x for x in ids if x < 2000] == a and [x for x in ids if x >= 2000] == b[:130]
    # The default audit split: prefix [20, 80) crosses the block boundary at 50, suffix [80, 110) the one at 100.
    prefix, suffix = canaries.audit_split(ids, CanaryConfig())
    assert prefix == a[20:50] + b[:30] and suffix == b[30:50] + a[50:60]


def test_shuffle_keeps_the_multiset_of_tokens():
    ids = [5, 5, 7, 9, 11, 11, 11, 3] * 70
    rng = np.random.default_rng(0)
    out = canaries.shuffle_ids(ids, rng)
    assert sorted(out) == sorted(ids) and out != ids
    assert canaries.shuffle_ids(ids, np.random.default_rng(0)) == out


def test_language_bins_by_token_share():
    tokens = {"en": 600, "de": 200, "fr": 150, "sw": 50}
    assert canaries.language_bins(tokens, 0.5) == {"de": "small", "en": "large", "fr": "small", "sw": "small"}
    # de is large: the languages before it hold 60% < 80%; fr is not (80%).
    assert canaries.language_bins(tokens, 0.8) == {"de": "large", "en": "large", "fr": "small", "sw": "small"}
    assert set(canaries.language_bins(tokens, 1.0).values()) == {"large"}


def _schedule(cfg, langs=("en",), bins=None):
    bins = bins or {lang: "large" for lang in langs}
    return canaries.Schedule(cfg, {lang: 1000 for lang in langs}, bins, {lang: (("web", lang),) for lang in langs})


def test_build_uses_each_source_document_once_in_rank_order(corpus):
    cfg = CanaryConfig(seed=1, repetitions=(1, 10), interleave=KindCounts(2, 1), shuffle=KindCounts(1, 1),
                       secret=KindCounts(0, 0), min_source_tokens=110)
    sp = corpus["sp"]
    docs = [(rank, f"web/en/d{rank}", ("web", "en"), [300 + rank] * 120 + list(range(3, 13)) * 3) for rank in range(20)]
    built = canaries.build_canaries(_schedule(cfg), {"en": docs[::-1]}, sp)
    assert [c["kind"] for c in built] == ["interleave"] * 4 + ["shuffle"] * 2
    assert [c["repetitions"] for c in built] == [1, 1, 10, 10, 1, 10]
    assert [c["id"] for c in built] == [f"canary-{i:05d}" for i in range(6)]
    used = [k for c in built for k in c["source_ids"]]
    assert used == [f"web/en/d{r}" for r in range(10)]  # best ranks first, none twice
    # Fewer documents than scheduled: fewer canaries, reported.
    few = canaries.build_canaries(_schedule(cfg), {"en": docs[:5]}, sp)
    assert [c["kind"] for c in few] == ["interleave", "interleave", "shuffle"]
    assert canaries.shortfalls(_schedule(cfg), few) == [
        "canaries: en: 2 of 4 interleave canaries (too few documents of 110 tokens)",
        "canaries: en: 1 of 2 shuffle canaries (too few documents of 110 tokens)"]


def test_secrets_and_references_come_from_one_distribution(corpus):
    from scipy import stats

    cfg = CanaryConfig(seed=5, repetitions=(1, 2), interleave=KindCounts(0, 0), shuffle=KindCounts(0, 0),
                       secret=KindCounts(large=60, small=0), num_references=3000,
                       secret_templates=("my secret number is {secret}", "the code is {secret}."))
    sp = corpus["sp"]
    built = canaries.build_canaries(_schedule(cfg), {}, sp)
    assert not any("references" in c for c in built)  # the job does not carry them
    canaries.draw_references(built, cfg)
    assert len(built) == 120 and {c["kind"] for c in built} == {"secret"}
    secrets = [c["secret"] for c in built]
    assert len(set(secrets)) == len(secrets) and all(re.fullmatch(r"\d{9}", s) for s in secrets)
    inserted = set(secrets)
    for c in built[:5]:
        refs = c["references"]
        assert len(refs) == len(set(refs)) == 3000 and not inserted & set(refs)
        assert all(re.fullmatch(r"\d{9}", r) for r in refs)
        before, after = c["template"].split("{secret}")
        assert c["text"] == before + c["secret"] + after
        assert c["token_ids"] == c["prefix_ids"] + c["secret_ids"] + (sp.encode(after) if after else [])
        assert c["prefix_ids"] == sp.encode(before) and c["secret_ids"] == sp.encode(c["secret"])
        assert sp.decode(c["token_ids"]) == c["text"]
    assert {c["template"] for c in built} == set(cfg.secret_templates)
    # Same distribution: the secrets' values and digits are indistinguishable from the references'.
    refs = np.array([int(r) for r in built[0]["references"]])
    assert stats.ks_2samp(np.array([int(s) for s in secrets]), refs).pvalue > 1e-3
    assert stats.ks_2samp(refs, np.random.default_rng(0).integers(0, 10**9, 3000)).pvalue > 1e-3
    for values in (secrets, built[0]["references"]):
        digits = np.array([int(d) for v in values for d in v])
        assert stats.chisquare(np.bincount(digits, minlength=10)).pvalue > 1e-3
    # Deterministic: the same seed draws the same values.
    again = canaries.build_canaries(_schedule(cfg), {}, sp)
    canaries.draw_references(again, cfg)
    assert again == built


def test_clear_of_tail_moves_canary_copies_out_of_the_dropped_tail():
    def doc(key, n, canary=False):
        return (key, np.ones(n, np.int32), ("", "canary", key) if canary else ("web", "en"), None)

    docs = [doc("a", 30), doc("b", 20, True), doc("c", 25), doc("d", 10, True), doc("e", 8)]  # 93 tokens, tail 29
    out = canaries.clear_of_tail(docs, 64)
    assert [d[0] for d in out] == ["a", "b", "d", "c", "e"]  # c + e (33 tokens) cover the tail
    assert canaries.clear_of_tail(docs[:1] + docs[2:3], 64)[0][0] == "a"  # no canaries: unchanged
    with pytest.raises(RuntimeError, match="too little data around the canaries"):
        canaries.clear_of_tail([doc("x", 10, True), doc("y", 5)], 64)


def test_config_is_a_nested_tokenize_config_with_overrides():
    cfg = load_config(TokenizeConfig, None, ["canaries.enabled=true", "canaries.repetitions=[1,10,100]",
                                             "canaries.interleave.small=3", "canaries.max_source_tokens=900"])
    assert cfg.canaries.enabled and cfg.canaries.repetitions == (1, 10, 100)
    assert cfg.canaries.interleave == KindCounts(large=2, small=3) and cfg.canaries.max_source_tokens == 900
    assert TokenizeConfig().canaries == CanaryConfig() and not CanaryConfig().enabled
    with pytest.raises(ConfigError, match="unknown config key 'canaries.bogus'"):
        load_config(TokenizeConfig, None, ["canaries.bogus=1"])
    with pytest.raises(ConfigError, match="repetitions must be distinct positive counts"):
        load_config(TokenizeConfig, None, ["canaries.repetitions=[0, 1]"])
    with pytest.raises(ConfigError, match="min_source_tokens"):
        load_config(TokenizeConfig, None, ["canaries.min_source_tokens=100"])


def test_budget_warning():
    assert canaries.budget_warning(100, 10_000, 0.01) is None
    assert canaries.budget_warning(101, 10_000, 0.01) == (
        "canaries: 101 canary tokens are 1.01% of 10000 training tokens, above canaries.max_fraction=0.01")


# ---------------------------------------------------------------------------
# Planted by the tokenize job
# ---------------------------------------------------------------------------


def test_canaries_json_record(corpus, planted):
    record, manifest = planted["record"], planted["manifest"]
    path = planted["out"] + ".canaries.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not os.path.exists(path + ".partial")
    assert record["format"] == "palmkit-canaries-v1" and record["seed"] == 3
    assert record["vocab"] == {"path": os.path.abspath(corpus["model"]), "sha256": file_sha256(corpus["model"])}
    assert record["schedule"]["repetitions"] == [1, 4] and record["schedule"]["lang_bins"] == {"de": "small", "en": "large"}
    assert record["training_tokens"] == manifest["tokens"]
    assert record["total_canary_tokens"] == manifest["canary_tokens"] == sum(
        len(c["token_ids"]) * c["repetitions"] for c in record["canaries"])
    kinds = collections.Counter((c["lang"], c["kind"]) for c in record["canaries"])
    assert kinds == {("de", "shuffle"): 2, ("de", "secret"): 2, ("en", "interleave"): 2, ("en", "shuffle"): 2,
                     ("en", "secret"): 2}
    sp = corpus["sp"]
    texts = {f"{d['source']}/{d['lang']}/{d['id']}": d["text"] for d in corpus_documents()}
    # Source documents: the best-ranked eligible ones of each language (seeded hash order), none twice.
    schedule = canaries.Schedule(TEST_CANARIES, {}, {"en": "large", "de": "small"}, {})
    for lang, need in (("en", 6), ("de", 2)):
        eligible = [next(canaries._eligible(((k.split("/")[0], lang), k, sp.encode(t)), schedule), None)
                    for k, t in texts.items() if k.split("/")[1] == lang]
        best = [d[1] for d in sorted((e[1] for e in eligible if e), key=canaries._rank)[:need]]
        used = [k for c in record["canaries"] if c["lang"] == lang for k in c["source_ids"]]
        assert sorted(used) == sorted(best) and len(set(used)) == len(used)
    for c in record["canaries"]:
        assert set(c) >= {"id", "kind", "lang", "lang_bin", "repetitions", "source_ids", "text", "token_ids", "prefix_ids"}
        assert c["lang_bin"] == {"en": "large", "de": "small"}[c["lang"]]
        if c["kind"] == "secret":
            assert c["source_ids"] == [] and len(c["references"]) == 500 and "suffix_ids" not in c
            continue
        sources = [sp.encode(texts[k]) for k in c["source_ids"]]
        assert all(300 <= len(s) <= 400 for s in sources)
        if c["kind"] == "interleave":
            assert c["token_ids"] == canaries.interleave_ids(sources[0], sources[1], 50)
        else:
            assert sorted(c["token_ids"]) == sorted(sources[0]) and c["token_ids"] != sources[0]
        assert c["text"] == sp.decode(c["token_ids"])
        assert (c["prefix_ids"], c["suffix_ids"]) == (c["token_ids"][20:80], c["token_ids"][80:110])
    # The canaries are a large share of this tiny training set: the budget warning says so.
    frac = record["total_canary_tokens"] / record["training_tokens"]
    assert frac > 0.01
    assert any("above canaries.max_fraction=0.01" in w for w in planted["warnings"])


def test_repetitions_are_exact_in_the_written_shards(planted):
    record, manifest = planted["record"], planted["manifest"]
    streams = packed_streams(planted["out"], manifest)
    everything = np.concatenate(list(streams.values()))
    assert len(everything) == manifest["tokens"]
    for c in record["canaries"]:
        assert occurrences(everything, c["token_ids"]) == c["repetitions"], c["id"]
        # A copy is a document of its own: an end-of-document id follows it.
        assert occurrences(everything, c["token_ids"] + [EOS_ID]) == c["repetitions"], c["id"]
    # The manifest's counts include the canaries: they add exactly their tokens (and end-of-document ids).
    copies = sum(c["repetitions"] for c in record["canaries"])
    plain = planted["plain_manifest"]["sources"]
    for name, s in manifest["sources"].items():
        assert s["tokens"] == s["examples"] * SEQ_LEN
    added = sum(s["document_tokens"] for s in manifest["sources"].values()) - sum(s["document_tokens"] for s in plain.values())
    assert added == manifest["canary_tokens"] + copies
    assert sum(s["documents"] for s in manifest["sources"].values()) - sum(s["documents"] for s in plain.values()) == copies


def test_nothing_in_the_shards_or_manifest_marks_a_canary(planted):
    out, manifest, plain = planted["out"], planted["manifest"], planted["plain_manifest"]
    assert sorted(os.listdir(out)) == sorted(os.listdir(planted["plain"]))  # no canary file among the shards
    assert set(manifest) == set(plain) and manifest["canary_tokens"] > 0 and plain["canary_tokens"] == 0
    for name, s in manifest["sources"].items():
        assert set(s) == set(plain["sources"][name])
    text = json.dumps(manifest)
    assert "canary-" not in text and "secret" not in text and "interleave" not in text
    assert "canaries" not in text  # not even the record's path
    # Every record is a bare Example with one `targets` feature: re-encoding its tokens gives its bytes.
    shards = ShardSet(out)
    for entry in manifest["shards"]:
        path = os.path.join(out, entry["file"])
        data = open(path, "rb").read()
        offsets = np.fromfile(path[: -len(".tfrecord")] + ".idx", "<u8")
        for off in offsets:
            n = int.from_bytes(data[off : off + 8], "little")
            payload = data[off + 12 : off + 12 + n]
            assert payload == encode_example(decode_example(payload))
    shards.close()


def test_the_record_stays_out_of_the_shard_folder(corpus, tmp_path):
    out = str(tmp_path / "s")
    with pytest.raises(ValueError, match="kept apart from the shards"):
        _run(corpus, out, canaries_out=os.path.join(out, "canaries.json"))
    # A later run without canaries removes the record an earlier one left beside the same folder.
    with open(out + ".canaries.json", "w") as f:
        f.write("{}")
    _run(corpus, out, cfg=CanaryConfig())
    assert not os.path.exists(out + ".canaries.json")


def test_tokenize_command_plants_canaries(corpus, tmp_path, capsys):
    from palmkit.cli import main

    common = ["--curated", corpus["root"], "--vocab", corpus["model"], "--workers", "1", "--cache", corpus["cache"]]
    out, record = str(tmp_path / "shards"), str(tmp_path / "private" / "c.json")
    assert main(["tokenize", "demo", "total_tokens=40000", f"seq_len={SEQ_LEN}", "canaries.enabled=true",
                 "canaries.repetitions=[1,2]", "canaries.languages=[en]", "canaries.min_source_tokens=300",
                 "canaries.max_source_tokens=400", "canaries.num_references=100", *common, "--output", out,
                 "--canaries-out", record]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["canaries"] == {"path": record, "count": 12}
    assert stat.S_IMODE(os.stat(record).st_mode) == 0o600
    assert len(canaries.read_canaries(record)["canaries"]) == 12
    assert main(["tokenize", "demo", "canaries.bogus=1", *common, "--output", out]) == 2
    assert "unknown config key 'canaries.bogus'" in capsys.readouterr().err


@pytest.mark.slow
def test_same_canaries_and_bytes_on_one_and_two_workers(corpus, planted, tmp_path):
    from apache_beam.options.pipeline_options import DirectOptions

    files = []
    for workers in (1, 2):
        options = build_options(workers=workers)
        options.view_as(DirectOptions).direct_running_mode = "multi_processing"
        out = str(tmp_path / f"w{workers}")
        _run(corpus, out, options=options)
        got = {name: open(os.path.join(out, name), "rb").read() for name in sorted(os.listdir(out))}
        got["canaries.json"] = open(out + ".canaries.json", "rb").read()
        files.append(got)
    assert files[0] == files[1]
    assert files[0]["manifest.json"] == open(os.path.join(planted["out"], "manifest.json"), "rb").read()
    # The canary record differs only in where it is (none of it names the shard folder).
    assert json.loads(files[0]["canaries.json"]) == planted["record"]


@pytest.mark.slow
def test_demo_stages_plant_canaries(corpus, tmp_path):
    from pipeline.demo_stages import DEMO_CANARIES, run_demo_stages

    result = run_demo_stages(corpus["root"], str(tmp_path / "demo"), build_options(workers=1))
    path = result["canaries"]
    assert path == str(tmp_path / "demo" / "shards.canaries.json") and not path.startswith(result["shards"] + "/")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    record = canaries.read_canaries(path)
    assert sorted(set(record["schedule"]["lang_bins"].values())) == ["large", "small"]
    assert {c["repetitions"] for c in record["canaries"]} == set(DEMO_CANARIES.repetitions) == {1, 10, 100}
    assert {c["kind"] for c in record["canaries"]} == {"interleave", "shuffle", "secret"}
    manifest = ShardSet(result["shards"]).manifest
    assert manifest["canary_tokens"] == record["total_canary_tokens"] > 0
    assert record["training_tokens"] == result["tokens"]
