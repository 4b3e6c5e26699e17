"""pipeline.dedup on planted duplicates: exact copies, near copies at known Jaccard,
transitive chains, code and CJK, accounting, and determinism across worker counts."""

import glob
import json
import random

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.testing import test_pipeline as beam_testing
from apache_beam.testing.util import assert_that, equal_to
from datasketch import LeanMinHash, MinHashLSH

from filters import minhash as mh
from filters.document import Document
from pipeline.dedup import (
    ConnectedComponents,
    DedupConfig,
    Deduplicate,
    ExactDedupConfig,
    ExactVerify,
    NearDedupConfig,
    bucket_edges,
    exact_jaccard,
    lsh_parameters,
    shingle_choice,
)

THRESHOLD = 0.8
NEAR = NearDedupConfig(threshold=THRESHOLD, max_rounds=6)
CONFIG = DedupConfig(near=NEAR)


# ---------------------------------------------------------------------------
# The planted corpus
# ---------------------------------------------------------------------------


def _words(rng: random.Random, n: int) -> list[str]:
    return [f"w{rng.randrange(10**6)}" for _ in range(n)]


def _edit(words: list[str], positions: list[int], tag: str) -> list[str]:
    """Replaces words at ``positions`` with shorter unique words, so the original stays the longest."""
    out = list(words)
    for k, i in enumerate(positions):
        out[i] = f"{tag}{k}"
    return out


def _spread(start: int, count: int, gap: int = 6) -> list[int]:
    """Positions at least 5 apart, so each edit breaks exactly 5 word 5-grams."""
    return [start + gap * k for k in range(count)]


def word_jaccard(a: str, b: str) -> float:
    return mh.jaccard(mh.word_shingles(a, 5), mh.word_shingles(b, 5))


def build_corpus():
    """Documents plus what each plant is: {"exact": [...], "pairs": {...}, "chain": [...], ...}."""
    rng = random.Random(13)
    docs = []
    plants = {}

    # Unrelated background documents (Jaccard ~ 0 with everything).
    for i in range(30):
        docs.append(Document(id=f"bg{i:02d}", text=" ".join(_words(rng, 300)), source="web"))

    # Exact copies: case and whitespace variants of one document.
    orig = " ".join(_words(rng, 300))
    docs += [
        Document(id="ex-a", text=orig, source="web"),
        Document(id="ex-b", text=orig.upper(), source="books"),  # same length: id breaks the tie
        Document(id="ex-c", text=orig.replace(" ", "  ", 3), source="web"),  # longest: survives
    ]
    plants["exact"] = {"survivor": "ex-c", "removed": ["ex-a", "ex-b"]}

    # Near copies at known Jaccard (400 words = 396 shingles; k spread edits give (396-5k)/(396+5k)).
    plants["pairs"] = {}
    for name, k in [("above", 2), ("near_above", 7), ("near_below", 10), ("below", 26)]:
        base = _words(rng, 400)
        copy = _edit(base, _spread(10, k), "e")
        a, b = f"{name}-orig", f"{name}-copy"
        docs += [Document(id=a, text=" ".join(base), source="web"), Document(id=b, text=" ".join(copy), source="web")]
        plants["pairs"][name] = (a, b, word_jaccard(" ".join(base), " ".join(copy)))

    # A chain T0 ~ T1 ~ T2 ~ T3: neighbours at J ~ 0.88, two apart ~ 0.78, three apart ~ 0.70.
    chain = [_words(rng, 600)]
    for step in range(3):
        chain.append(_edit(chain[-1], _spread(5 + 150 * step, 7), f"c{step}-"))
    docs += [Document(id=f"chain{i}", text=" ".join(t), source="web") for i, t in enumerate(chain)]
    plants["chain"] = [f"chain{i}" for i in range(4)]

    # Code: a Python file and a copy with one renamed variable (character shingles).
    code = "\n".join(
        f"def handler_{i}(request, payload):\n    value = payload.get('field_{i}', {i})\n    return request.respond(value * {i})\n"
        for i in range(40)
    )
    docs += [
        Document(id="code-a", text=code, source="github", meta={"code_lang": "python"}),
        Document(id="code-b", text=code.replace("field_7'", "field_seven'"), source="github", meta={"code_lang": "python"}),
    ]
    # CJK: a Chinese text and a copy with two characters changed (one word token per character).
    zh = "".join(chr(0x4E00 + rng.randrange(20000)) for _ in range(400))
    docs += [
        Document(id="zh-a", text=zh, source="web", lang="zh"),
        Document(id="zh-b", text=zh[:100] + "你" + zh[101:300] + "好" + zh[301:], source="web", lang="zh"),
    ]
    # Empty after tokenising: joins no bucket, is kept.
    docs.append(Document(id="empty", text="!!! ???", source="web"))
    rng.shuffle(docs)
    return docs, plants


DOCS, PLANTS = build_corpus()
BY_ID = {d.id: d for d in DOCS}


def run_dedup(docs, cfg, out_dir, **options):
    """Runs Deduplicate, writes its outputs as JSON lines, reads them back, with the counters."""
    p = beam.Pipeline(options=PipelineOptions(**options))
    r = p | beam.Create(docs, reshuffle=False) | Deduplicate(cfg)
    for name in ("duplicates", "cluster_sizes", "components"):
        r[name] | f"Json{name}" >> beam.Map(json.dumps, sort_keys=True) | f"Write{name}" >> beam.io.WriteToText(
            str(out_dir / name)
        )
    r["kept"] | "KeptIds" >> beam.Map(lambda d: d.id) | "WriteKept" >> beam.io.WriteToText(str(out_dir / "kept"))
    result = p.run()
    result.wait_until_finish()

    def lines(name):
        return [line for f in sorted(glob.glob(str(out_dir / name) + "*")) for line in open(f) if line.strip()]

    counters = {}
    for c in result.metrics().query()["counters"]:
        counters[c.key.metric.name] = counters.get(c.key.metric.name, 0) + c.committed
    return {
        "kept": sorted(x.strip() for x in lines("kept")),
        "duplicates": sorted((json.loads(x) for x in lines("duplicates")), key=lambda d: d["id"]),
        "cluster_sizes": sorted((json.loads(x) for x in lines("cluster_sizes")), key=lambda d: (d["kind"], d["size"])),
        "components": [json.loads(x) for x in lines("components")],
        "counters": counters,
    }


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    return run_dedup(DOCS, CONFIG, tmp_path_factory.mktemp("dedup"))


def survivor_of(result):
    return {d["id"]: d["survivor"] for d in result["duplicates"]}


# ---------------------------------------------------------------------------
# Planted outcomes
# ---------------------------------------------------------------------------


def test_every_document_is_kept_or_a_duplicate_exactly_once(result):
    kept = result["kept"]
    dup_ids = [d["id"] for d in result["duplicates"]]
    assert len(kept) + len(dup_ids) == len(DOCS)
    assert sorted(kept + dup_ids) == sorted(d.id for d in DOCS)
    # Survivors are kept documents.
    assert {d["survivor"] for d in result["duplicates"]} <= set(kept)


def test_exact_copies_keep_the_longest(result):
    s = survivor_of(result)
    exact = PLANTS["exact"]
    for rid in exact["removed"]:
        assert s[rid] == exact["survivor"]
    kinds = {d["id"]: (d["kind"], d["source"]) for d in result["duplicates"]}
    assert kinds["ex-a"] == ("exact", "web") and kinds["ex-b"] == ("exact", "books")
    assert exact["survivor"] in result["kept"]


def test_near_copies_at_known_jaccard(result):
    s = survivor_of(result)
    pairs = PLANTS["pairs"]
    assert pairs["above"][2] == pytest.approx(386 / 406)
    assert pairs["below"][2] < 0.55
    # Well above the threshold: removed, the longer original survives. Well below: both kept.
    assert s["above-copy"] == "above-orig"
    assert "below-orig" in result["kept"] and "below-copy" in result["kept"]
    # Near the threshold: removed iff datasketch's LSH index (same b x r) makes them
    # candidates, the estimate comes within the margin, and the exact Jaccard reaches it.
    params = lsh_parameters(NEAR)
    for name in ("near_above", "near_below"):
        a, b, true_j = pairs[name]
        assert abs(true_j - THRESHOLD) < 0.05
        sig_a, sig_b = (mh.signature(BY_ID[x].text, "word", 5, NEAR.num_perm, NEAR.seed) for x in (a, b))
        lsh = MinHashLSH(num_perm=NEAR.num_perm, params=(params.bands, params.rows))
        lsh.insert(a, LeanMinHash(seed=NEAR.seed, hashvalues=sig_a, scheme="affine32"))
        candidate = a in lsh.query(LeanMinHash(seed=NEAR.seed, hashvalues=sig_b, scheme="affine32"))
        close = mh.estimate_jaccard(sig_a, sig_b) >= THRESHOLD - NEAR.estimate_margin
        expected = candidate and close and true_j >= THRESHOLD
        assert (s.get(b) == a) == expected, name
        assert a in result["kept"]


def test_transitive_chain_is_one_cluster_with_one_survivor(result):
    chain = PLANTS["chain"]
    texts = [BY_ID[i].text for i in chain]
    sigs = [mh.signature(t, "word", 5) for t in texts]
    params = lsh_parameters(NEAR)
    keys = [set(mh.band_keys(sig, params.bands, params.rows)) for sig in sigs]
    # The premise: neighbours are similar, meet in a bucket and pass the estimate check;
    # documents two or three apart are not near-duplicates, so never linked directly.
    for i in range(3):
        assert word_jaccard(texts[i], texts[i + 1]) > 0.85
        assert keys[i] & keys[i + 1]
        assert mh.estimate_jaccard(sigs[i], sigs[i + 1]) >= THRESHOLD - NEAR.estimate_margin
    assert word_jaccard(texts[0], texts[2]) < THRESHOLD and word_jaccard(texts[0], texts[3]) < THRESHOLD
    s = survivor_of(result)
    assert chain[0] in result["kept"]
    assert [s.get(i) for i in chain[1:]] == [chain[0]] * 3
    assert {"kind": "near", "size": 4, "clusters": 1} in result["cluster_sizes"]


def test_code_uses_character_shingles_and_is_deduplicated(result):
    assert shingle_choice(BY_ID["code-a"], NEAR) == ("char", NEAR.char_ngram)
    assert shingle_choice(BY_ID["bg00"], NEAR) == ("word", 5)
    s = survivor_of(result)
    assert s["code-a"] == "code-b"  # "field_seven" made code-b the longer one


def test_cjk_near_copy_is_removed(result):
    assert len(mh.word_shingles(BY_ID["zh-a"].text, 5)) == 396
    assert survivor_of(result)["zh-b"] == "zh-a"


def test_background_and_empty_documents_are_kept(result):
    assert {d.id for d in DOCS if d.id.startswith("bg")} | {"empty"} <= set(result["kept"])


def test_counters_histogram_and_convergence(result):
    dups = result["duplicates"]
    n_exact = sum(d["kind"] == "exact" for d in dups)
    n_near = sum(d["kind"] == "near" for d in dups)
    assert n_exact == 2
    assert result["counters"]["duplicates:exact"] == n_exact
    assert result["counters"]["duplicates:near"] == n_near
    assert {"kind": "exact", "size": 3, "clusters": 1} in result["cluster_sizes"]
    # Every near duplicate is counted once in the histogram (size - 1 removals per cluster).
    near_rows = [r for r in result["cluster_sizes"] if r["kind"] == "near"]
    assert sum((r["size"] - 1) * r["clusters"] for r in near_rows) == n_near
    [report] = result["components"]
    assert report["converged"] and 1 <= report["rounds"] < report["max_rounds"]
    assert result["counters"]["cc:converged"] == 1


def test_same_result_on_two_worker_processes(result, tmp_path):
    """DirectRunner with 2 worker processes gives the in-memory run's exact outputs."""
    multi = run_dedup(DOCS, CONFIG, tmp_path, direct_num_workers=2, direct_running_mode="multi_processing")
    assert multi["kept"] == result["kept"]
    assert multi["duplicates"] == result["duplicates"]
    assert multi["cluster_sizes"] == result["cluster_sizes"]


# ---------------------------------------------------------------------------
# Stages on their own
# ---------------------------------------------------------------------------


def test_exact_only_and_disabled():
    docs = [Document(id="a", text="Same text"), Document(id="b", text="same  text"), Document(id="c", text="other")]
    exact_only = DedupConfig(near=NearDedupConfig(enabled=False))
    off = DedupConfig(exact=ExactDedupConfig(enabled=False), near=NearDedupConfig(enabled=False))
    strip = DedupConfig(exact=ExactDedupConfig(strip_punctuation=True), near=NearDedupConfig(enabled=False))
    with beam_testing.TestPipeline() as p:
        pc = p | beam.Create(docs + [Document(id="d", text="Other!")])
        r = pc | "ExactOnly" >> Deduplicate(exact_only)
        assert_that(r["kept"] | "Ids1" >> beam.Map(lambda d: d.id), equal_to(["b", "c", "d"]), label="kept1")
        assert_that(
            r["duplicates"], equal_to([{"id": "a", "survivor": "b", "kind": "exact", "source": "", "bytes": 9}]), label="dups1"
        )
        assert_that(r["components"], equal_to([]), label="components1")
        r2 = pc | "Off" >> Deduplicate(off)
        assert_that(r2["kept"] | "Ids2" >> beam.Map(lambda d: d.id), equal_to(["a", "b", "c", "d"]), label="kept2")
        assert_that(r2["duplicates"], equal_to([]), label="dups2")
        r3 = pc | "Strip" >> Deduplicate(strip)
        assert_that(r3["kept"] | "Ids3" >> beam.Map(lambda d: d.id), equal_to(["b", "d"]), label="kept3")


def _components_oracle(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for u, v in edges:
        ru, rv = find(u), find(v)
        if ru != rv:
            parent[max(ru, rv)] = min(ru, rv)
    return {x: find(x) for x in parent if find(x) != x}


def test_connected_components_matches_union_find_and_reports_convergence():
    rng = random.Random(3)
    path = list(range(100, 160))
    rng.shuffle(path)
    edges = list(zip(path, path[1:]))  # a long path in random order
    edges += [(rng.randrange(1000, 1200), rng.randrange(1000, 1200)) for _ in range(150)]  # random graph
    edges += [(5, 9), (9, 5), (7, 9)]  # repeated and reversed edges
    edges = [(min(u, v), max(u, v)) for u, v in edges if u != v]
    expected = sorted(_components_oracle(edges).items())
    with beam_testing.TestPipeline() as p:
        cc = p | beam.Create(edges) | ConnectedComponents(max_rounds=10)
        assert_that(cc["labels"], equal_to(expected), label="labels")
        assert_that(
            cc["report"] | beam.Map(lambda r: (r["converged"], r["rounds"] < 10)),
            equal_to([(True, True)]),
            label="report",
        )


def test_connected_components_reports_non_convergence_but_labels_every_node():
    path = list(range(64))
    random.Random(4).shuffle(path)
    edges = [(min(u, v), max(u, v)) for u, v in zip(path, path[1:])]
    with beam_testing.TestPipeline() as p:
        cc = p | beam.Create(edges) | ConnectedComponents(max_rounds=1)
        # Each labelled node once, always with a smaller label; unlabelled nodes are kept as
        # roots, so an unconverged run keeps too much, never loses a document.
        labels = cc["labels"]
        assert_that(
            labels | beam.Map(lambda kv: kv[0]) | beam.combiners.Count.PerElement() | beam.Values() | beam.Distinct(),
            equal_to([1]),
            label="once",
        )
        assert_that(labels | "Smaller" >> beam.Map(lambda kv: kv[1] < kv[0]) | "D" >> beam.Distinct(), equal_to([True]), label="smaller")
        assert_that(
            cc["report"], equal_to([{"rounds": 1, "max_rounds": 1, "converged": False}]), label="report"
        )


def _sig(rng, base=None, changes=0):
    sig = rng.integers(0, 2**32, 128, dtype=np.uint32) if base is None else base.copy()
    for i in rng.choice(128, changes, replace=False):
        sig[i] ^= 1
    return sig


def test_bucket_edges_verify_and_spanning_forest():
    rng = np.random.default_rng(0)
    a = _sig(rng)
    members = [((0, "a"), a.tobytes()), ((0, "b"), _sig(rng, a, 5).tobytes()), ((0, "c"), _sig(rng, a, 15).tobytes())]
    members.append(((0, "z"), _sig(rng).tobytes()))  # unrelated but sharing the bucket
    edges, checks, compared, passing = bucket_edges(reversed(members), 128, 0.8, True, 256)
    assert compared == 6 and passing == 3  # a-b, a-c, b-c pass; z passes with nobody
    assert edges == [((0, "a"), (0, "b")), ((0, "a"), (0, "c"))] and checks == []  # 2 edges span 3 nodes
    star, _, _, _ = bucket_edges(members, 128, 0.8, False, 256)
    assert star == [((0, "a"), m[0]) for m in members[1:]]
    # A bucket larger than all_pairs compares members with its first all_pairs members only.
    big = [((0, f"m{i:03d}"), _sig(rng, a, 5).tobytes()) for i in range(40)]
    edges, _, compared, _ = bucket_edges(big, 128, 0.8, True, 8)
    assert compared == 8 * 7 // 2 + 32 * 8
    assert len(edges) == 39


def test_bucket_edges_sends_only_unsettled_close_pairs_to_the_exact_check():
    rng = np.random.default_rng(1)
    a = _sig(rng)
    b = _sig(rng, a, 4)  # estimate 0.97 with a: certain
    c = _sig(rng, a, 26)  # ~0.80: in [0.7, 0.9), unsure
    d = _sig(rng, a, 60)  # ~0.53: dropped
    members = [((0, x), s.tobytes()) for x, s in zip("abcd", (a, b, c, d))]
    edges, checks, _, _ = bucket_edges(members, 128, 0.7, True, 256, certain=0.9)
    assert edges == [((0, "a"), (0, "b"))]
    assert checks == [((0, "a"), (0, "c")), ((0, "b"), (0, "c"))]
    # Once c is certain with b, its unsure pair with a is settled inside the bucket.
    c2 = _sig(rng, b, 3)
    members = [((0, x), s.tobytes()) for x, s in zip("abc", (a, b, c2))]
    edges, checks, _, _ = bucket_edges(members, 128, 0.7, True, 256, certain=0.9)
    assert len(edges) == 2 and checks == []


def test_exact_verify_keeps_only_pairs_at_the_threshold():
    def hashes(*xs):
        return np.array(sorted(xs), dtype=np.uint32).tobytes()

    sets = [("a", hashes(*range(10))), ("b", hashes(*range(1, 11))), ("c", hashes(*range(3, 13))), ("d", hashes(1))]
    assert exact_jaccard(sets[0][1], sets[1][1]) == pytest.approx(9 / 11)
    assert exact_jaccard(sets[0][1], sets[2][1]) == pytest.approx(7 / 13)
    pairs = [("a", "b"), ("a", "b"), ("a", "c"), ("b", "c"), ("a", "d"), ("a", "missing")]
    with beam_testing.TestPipeline() as p:
        edges = (p | "Pairs" >> beam.Create(pairs), p | "Sets" >> beam.Create(sets)) | ExactVerify(0.8)
        # a-b at 9/11 passes once (the repeated pair is made distinct); b-c at 8/12 does not.
        assert_that(edges, equal_to([("a", "b")]))


def test_estimate_only_verification_also_finds_planted_copies(tmp_path):
    docs = [d for d in DOCS if d.id.startswith(("above", "below", "bg0", "code"))]
    cfg = DedupConfig(near=NearDedupConfig(verify_exact=False, max_rounds=3))
    out = run_dedup(docs, cfg, tmp_path)
    assert {d["id"]: d["survivor"] for d in out["duplicates"]} == {"above-copy": "above-orig", "code-a": "code-b"}
    assert "near:candidate_pairs" not in out["counters"]  # no exact checks ran


def test_config_validation_and_lsh_parameters():
    with pytest.raises(ValueError, match="shingle"):
        NearDedupConfig(shingle="token")
    with pytest.raises(ValueError, match="threshold"):
        NearDedupConfig(threshold=1.5)
    params = lsh_parameters(NearDedupConfig(false_negative_weight=0.5))
    assert (params.bands, params.rows) == (9, 13)
    assert "9 bands x 13 rows" in str(params)


def test_config_loads_with_dotted_overrides():
    from palmkit.config import ConfigError, load_config

    cfg = load_config(DedupConfig, None, ["near.threshold=0.7", "exact.strip_punctuation=true", "near.verify_exact=false"])
    assert cfg.near.threshold == 0.7 and cfg.exact.strip_punctuation and not cfg.near.verify_exact
    assert (lsh_parameters(cfg.near).bands, lsh_parameters(cfg.near).rows) == (20, 6)
    with pytest.raises(ConfigError, match="near.bands"):
        load_config(DedupConfig, None, ["near.bands=3"])
    with pytest.raises(ConfigError, match="shingle"):
        load_config(DedupConfig, None, ["near.shingle=token"])
