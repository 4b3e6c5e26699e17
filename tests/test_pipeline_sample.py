"""pipeline.sample: curated reading, deterministic copies, the tokenizer sample, token counts.

Also home of ``write_curated_tree``, the small real-text curated corpus the
mixture and tokenize tests share: Article 1 of the Universal Declaration of
Human Rights in nine languages, prose from Python's own documentation
strings, and real source code (Python from the standard library, plus Go and
a Makefile with tabs and trailing spaces).
"""

from __future__ import annotations

import inspect
import json
import os
import textwrap

import pytest
import zstandard

UDHR_ARTICLE_1 = {
    "en": "All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience and should act towards one another in a spirit of brotherhood.",
    "de": "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.",
    "fr": "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et de conscience et doivent agir les uns envers les autres dans un esprit de fraternité.",
    "es": "Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados como están de razón y conciencia, deben comportarse fraternalmente los unos con los otros.",
    "it": "Tutti gli esseri umani nascono liberi ed eguali in dignità e diritti. Essi sono dotati di ragione e di coscienza e devono agire gli uni verso gli altri in spirito di fratellanza.",
    "pl": "Wszyscy ludzie rodzą się wolni i równi pod względem swej godności i swych praw. Są oni obdarzeni rozumem i sumieniem i powinni postępować wobec innych w duchu braterstwa.",
    "nl": "Alle mensen worden vrij en gelijk in waardigheid en rechten geboren. Zij zijn begiftigd met verstand en geweten, en behoren zich jegens elkander in een geest van broederschap te gedragen.",
    "ja": "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。",
    "ru": "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и совестью и должны поступать в отношении друг друга в духе братства.",
}

GO_SOURCE = "package main\n\nimport \"fmt\"\n\n// Sum adds the numbers 1..n.\nfunc Sum(n int) int {\n\ttotal := 0\n\tfor i := 1; i <= n; i++ {\n\t\ttotal += i\n\t}\n\treturn total\n}\n\nfunc main() {\n\tfmt.Println(Sum(100), 5050)   \n}\n"
MAKEFILE = "all: build\n\nbuild:\n\tgo build -o bin/sum ./...  \n\ntest:\n\tgo test ./...\n\t@echo \"done\"\t\n"


def _stdlib_sources():
    import json.encoder
    import shlex
    import textwrap as tw

    return {m.__name__: inspect.getsource(m) for m in (tw, shlex, json.encoder)}


def _docstrings() -> list[str]:
    import collections
    import functools
    import itertools

    out = []
    for module in (collections, functools, itertools, textwrap, os.path):
        for name in sorted(dir(module)):
            doc = inspect.getdoc(getattr(module, name))
            if doc and len(doc) > 200:
                out.append(doc)
    return out


def corpus_documents() -> list[dict]:
    """The shared test corpus as curated Documents (dicts), deterministic."""
    docs = []
    for lang, text in UDHR_ARTICLE_1.items():
        for i in range(3):  # three "conversation turns" per language, each a real sentence pair
            docs.append({"id": f"udhr-{lang}-{i}", "text": text if i == 0 else f"{text}\n\n{i + 1}. {text}",
                         "source": "conversations", "lang": lang, "lang_score": 0.99, "meta": {}})
    for i, doc in enumerate(_docstrings()):
        source = "web" if i % 3 else "books"
        docs.append({"id": f"doc-{i:04d}", "text": doc, "source": source, "lang": "en", "lang_score": 0.95, "meta": {}})
    for lang in ("de", "fr"):
        docs.append({"id": f"wiki-{lang}", "text": UDHR_ARTICLE_1[lang] + "\n" + UDHR_ARTICLE_1["en"],
                     "source": "wiki", "lang": lang, "lang_score": 0.9, "meta": {}})
    docs.append({"id": "wiki-en", "text": _docstrings()[0], "source": "wiki", "lang": "en", "lang_score": 0.9, "meta": {}})
    code = dict(_stdlib_sources())
    code["main.go"] = GO_SOURCE
    code["Makefile"] = MAKEFILE
    for name, text in sorted(code.items()):
        docs.append({"id": f"code-{name}", "text": text, "source": "code", "lang": "code", "lang_score": 1.0,
                     "meta": {"code_lang": "go" if name.endswith(".go") else "make" if name == "Makefile" else "python"}})
    return docs


def write_curated_tree(root: str, docs: list[dict] | None = None, parts: int = 2) -> str:
    """Writes ``root/curated/<source>/<lang>/part-*.jsonl.zst`` like ``palmkit curate``; returns root."""
    docs = corpus_documents() if docs is None else docs
    groups: dict[tuple[str, str], list[dict]] = {}
    for d in docs:
        groups.setdefault((d["source"], d["lang"]), []).append(d)
    for (source, lang), items in groups.items():
        directory = os.path.join(root, "curated", source, lang)
        os.makedirs(directory, exist_ok=True)
        n = min(parts, len(items))
        for s in range(n):
            lines = "".join(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in items[s::n])
            with open(os.path.join(directory, f"part-{s:05d}-of-{n:05d}.jsonl.zst"), "wb") as f:
                f.write(zstandard.ZstdCompressor().compress(lines.encode("utf-8")))
    return root


def train_test_vocab(directory: str, vocab_size: int = 500) -> str:
    """A tiny vocabulary trained on the shared corpus's lines, without Beam; returns the model path."""
    from mixtures.vocab import VocabConfig, train_vocab
    from pipeline.sample import sentence_lines

    os.makedirs(directory, exist_ok=True)
    text_path = os.path.join(directory, "lines.txt")
    with open(text_path, "w", encoding="utf-8") as f:
        for doc in corpus_documents():
            for line in sentence_lines(doc["text"], 4096):
                f.write(line + "\n")
    model = os.path.join(directory, "spm.model")
    cfg = VocabConfig(vocab_size=vocab_size, hard_vocab_limit=False, input_sentence_size=100_000, num_threads=1)
    train_vocab([text_path], model, cfg)
    return model


# ---------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------

from pipeline import sample  # noqa: E402  (the helpers above are imported by other test modules)
from pipeline.options import build_options  # noqa: E402


def test_copies_are_deterministic_and_follow_the_rate():
    keys = [f"web/en/doc-{i}" for i in range(20_000)]
    for rate in (0.0, 0.3, 1.0, 2.5):
        kept = [sample.copies(7, k, rate) for k in keys]
        assert kept == [sample.copies(7, k, rate) for k in keys]
        mean = sum(len(c) for c in kept) / len(keys)
        assert mean == pytest.approx(rate, abs=0.02)
    assert sample.copies(7, "x", 1.0) == [0]
    assert all(c[:2] == [0, 1] for c in (sample.copies(7, k, 2.5) for k in keys[:100]))
    # Another seed draws other documents.
    assert [sample.copies(8, k, 0.5) for k in keys[:200]] != [sample.copies(7, k, 0.5) for k in keys[:200]]


def test_sentence_lines_drop_empty_lines_and_cut_long_ones():
    assert sample.sentence_lines("a\n\n  \nb c", 1000) == ["a", "b c"]
    long_line = " ".join(["wort"] * 2000)  # ~10 kB
    pieces = sample.sentence_lines(long_line, 1024)
    assert all(len(p.encode()) <= 1024 for p in pieces)
    assert "".join(pieces) == long_line


def test_list_curated_finds_every_folder_and_language(tmp_path):
    write_curated_tree(str(tmp_path))
    files = sample.list_curated(str(tmp_path))
    assert ("code", "code") in files and ("conversations", "ja") in files and ("wiki", "fr") in files
    # The curated/ folder itself works as well as the curate output folder.
    assert sample.list_curated(str(tmp_path / "curated")) == files
    docs = [d for paths in files.values() for p in paths for d in sample.read_curated_file(p)]
    assert len(docs) == len(corpus_documents())
    with pytest.raises(FileNotFoundError):
        sample.list_curated(str(tmp_path / "nothing"))


def test_largest_first_orders_work_items_by_file_size(tmp_path):
    items = []
    for name, size in [("a", 10), ("b", 300), ("c", 10), ("d", 50)]:
        path = tmp_path / f"{name}.jsonl"
        path.write_bytes(b"x" * size)
        items.append(("web", "en", str(path)))
    ordered = sample.largest_first(reversed(items))
    assert [os.path.basename(p) for _, _, p in ordered] == ["b.jsonl", "d.jsonl", "a.jsonl", "c.jsonl"]
    assert sample.largest_first(items) == ordered  # ties by item: the same order whatever comes in
    # Compressed shards count by their text: well-compressed text is not mistaken for little text.
    repetitive, varied = tmp_path / "r.jsonl.zst", tmp_path / "v.jsonl.zst"
    repetitive.write_bytes(zstandard.ZstdCompressor().compress(b"abc " * 50_000))
    varied.write_bytes(zstandard.ZstdCompressor().compress(os.urandom(20_000)))
    assert os.path.getsize(repetitive) < os.path.getsize(varied)
    assert sample.text_bytes(str(repetitive)) == 200_000 and sample.text_bytes(str(varied)) == 20_000
    zst = [("web", "en", str(varied)), ("web", "en", str(repetitive))]
    assert [p for _, _, p in sample.largest_first(zst)] == [str(repetitive), str(varied)]


def test_sample_rates_follow_the_recipe_not_the_corpus():
    from mixtures.recipe import load_recipe

    chars = {"web": {"en": 1_000_000}, "code": {"code": 10_000}, "conversations": {"en": 500_000, "ja": 5_000},
             "books": {"en": 100_000}, "wiki": {"en": 50_000}}
    rates = sample.sample_rates(load_recipe("demo"), chars, sample_chars=200_000, max_epochs=4.0)
    # code holds 0.6% of the characters but gets its 5% share of the sample: 10,000 chars at rate 1.
    assert rates[("code", "code")] == pytest.approx(1.0)
    assert rates[("web", "en")] == pytest.approx(0.28 * 200_000 / 1_000_000)
    # temperature 0.5 gives Japanese (1% of conversations) 9% of them: ten times the rate of English.
    ja_chars = 100_000 * 5_000**0.5 / (500_000**0.5 + 5_000**0.5)
    assert rates[("conversations", "ja")] == pytest.approx(ja_chars / 5_000)
    assert rates[("conversations", "ja")] == pytest.approx(10 * rates[("conversations", "en")])
    # A tiny language is capped at max_epochs.
    chars["conversations"]["ja"] = 50
    assert sample.sample_rates(load_recipe("demo"), chars, 200_000, 4.0)[("conversations", "ja")] == 4.0


def test_sample_for_tokenizer_is_deterministic_and_weighted(tmp_path):
    from mixtures.recipe import load_recipe

    write_curated_tree(str(tmp_path / "cur"))
    recipe = load_recipe("demo")
    runs = []
    for name in ("a", "b"):
        out = sample.sample_for_tokenizer(recipe, str(tmp_path / "cur"), str(tmp_path / name), build_options(workers=1),
                                          sample_chars=60_000, max_epochs=4.0, seed=3)
        runs.append([open(f, "rb").read() for f in out["files"]])
    assert runs[0] == runs[1] and runs[0]
    text = b"".join(runs[0]).decode("utf-8")
    assert "\n\n" not in text  # one non-empty sentence per line
    assert "func Sum(n int) int {" in text or "def " in text  # code is represented
    assert "すべての人間は" in text  # and so is the smallest language


def test_count_tokens_matches_direct_encoding_and_is_cached(tmp_path):
    from mixtures.vocab import load

    root = write_curated_tree(str(tmp_path / "cur"))
    model = train_test_vocab(str(tmp_path / "vocab"))
    cache = str(tmp_path / "cache")
    counts = sample.count_tokens(root, model, build_options(workers=1), cache)
    sp = load(model)
    expected: dict = {}
    for d in corpus_documents():
        entry = expected.setdefault(d["source"], {}).setdefault(d["lang"], {"docs": 0, "tokens": 0})
        entry["docs"] += 1
        entry["tokens"] += len(sp.encode(d["text"])) + 1
    assert counts == expected
    cached = os.listdir(cache)
    assert len(cached) == 1
    assert sample.count_tokens(root, model, build_options(workers=1), cache) == counts
    assert os.listdir(cache) == cached
    # Any changed shard changes the key.
    key = sample.counts_key(sample.list_curated(root), model)
    write_curated_tree(root, [{"id": "new", "text": "Neu.", "source": "web", "lang": "de", "lang_score": 1.0, "meta": {}}])
    assert sample.counts_key(sample.list_curated(root), model) != key


def test_toxicity_levels_become_control_ids_only_when_asked(tmp_path):
    """A curated document tagged ``toxicity_level`` starts with the id of ``<tox:level>`` when encoded."""
    import sentencepiece as spm

    from pipeline.sample import EncodeBatches, read_curated_file

    docs = [
        {"id": "a", "text": "Plain words here.", "source": "web", "lang": "en", "lang_score": 1.0, "meta": {"toxicity": 0.9, "toxicity_level": "high"}},
        {"id": "b", "text": "Plain words here.", "source": "web", "lang": "en", "lang_score": 1.0, "meta": {"toxicity": 0.01}},
    ]
    root = write_curated_tree(str(tmp_path / "cur"), docs, parts=1)
    [path] = [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    assert [t for _, t in read_curated_file(path)] == ["Plain words here."] * 2
    marked = dict(read_curated_file(path, control_tokens=True))
    model = train_test_vocab(str(tmp_path / "vocab"))
    enc = EncodeBatches(model)
    enc.setup()
    (_, _, ids_a), (_, _, ids_b) = enc.process([("web", "a", marked["a"]), ("web", "b", marked["b"])])
    sp = spm.SentencePieceProcessor(model_file=model)
    assert ids_a[0] == sp.piece_to_id("<tox:high>") and ids_a[1:] == ids_b == sp.encode("Plain words here.")
    # Counting gives the same lengths as the ids.
    counter = EncodeBatches(model, lengths_only=True)
    counter.setup()
    assert [n for *_, n in counter.process([("web", "a", marked["a"])])] == [len(ids_a)]


def test_dealt_in_turn_balances_the_turn_by_turn_deal():
    from pipeline.sample import dealt_in_turn

    cost = {f"f{i}": c for i, c in enumerate([7.4, 6.6, 6.6, 6.3, 6.1, 5.9, 5.9, 5.7, 5.5, 5.4, 5.3, 5.3, 5.3, 5.3, 5.3, 5.2])}
    for workers in (2, 3, 5):
        order = dealt_in_turn(cost, cost, workers)
        assert sorted(order) == sorted(cost)
        loads = [sum(cost[it] for it in order[k::workers]) for k in range(workers)]
        plain = sorted(cost, key=lambda it: -cost[it])
        plain_loads = [sum(cost[it] for it in plain[k::workers]) for k in range(workers)]
        assert max(loads) - min(loads) <= max(plain_loads) - min(plain_loads)
        assert max(loads) - min(loads) <= max(cost.values())
        counts = [len(order[k::workers]) for k in range(workers)]
        assert max(counts) - min(counts) <= 1
    assert dealt_in_turn(cost, cost, 1) == sorted(cost, key=lambda it: (-cost[it], it))
    assert dealt_in_turn(["a"], {"a": 1}, 4) == ["a"]
