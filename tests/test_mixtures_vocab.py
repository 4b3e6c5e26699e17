"""mixtures.vocab: PaLM's vocabulary properties, checked on a tiny real vocabulary.

Lossless round trips on every document of the shared test corpus (prose in
nine languages, Python, Go, a Makefile with tabs and trailing spaces) and, once
it exists, on every document of the bundled sample corpus (examples/corpus).
"""

from __future__ import annotations

import json
import pathlib

import pytest
import zstandard

from mixtures import vocab
from mixtures.vocab import EOS_ID, PAD_ID, UNK_ID, VocabConfig
from tests.test_pipeline_sample import GO_SOURCE, MAKEFILE, corpus_documents, train_test_vocab

SAMPLE_CORPUS = pathlib.Path(__file__).resolve().parent.parent / "examples" / "corpus"


@pytest.fixture(scope="module")
def sp(tmp_path_factory):
    return vocab.load(train_test_vocab(str(tmp_path_factory.mktemp("vocab"))))


def _sample_corpus_texts():
    """Every document of examples/corpus: prose records' text and every code file."""
    if not SAMPLE_CORPUS.is_dir():
        return []
    texts = []
    for path in sorted(SAMPLE_CORPUS.rglob("*")):
        if not path.is_file():
            continue
        if path.name.endswith(".jsonl.zst") and path.relative_to(SAMPLE_CORPUS).parts[0] != "code":
            raw = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read()
            texts += [(f"{path.name}:{i}", json.loads(line)["text"]) for i, line in enumerate(raw.decode().splitlines()) if line]
        elif path.relative_to(SAMPLE_CORPUS).parts[0] == "code":
            try:
                texts.append((str(path), path.read_text(encoding="utf-8")))
            except UnicodeDecodeError:
                continue  # binary files never reach the tokenizer (curate's code filter drops them)
    return texts


def test_round_trip_is_lossless_on_every_test_document(sp):
    docs = corpus_documents()
    assert {d["lang"] for d in docs} >= {"en", "de", "fr", "es", "it", "pl", "nl", "ja", "ru", "code"}
    for d in docs:
        assert sp.decode(sp.encode(d["text"])) == d["text"], d["id"]


def _round_trip_failures(sp, texts):
    texts = [(name, text) for name, text in texts if "\u2581" not in text]
    assert texts
    decoded = sp.decode(sp.encode([text for _, text in texts]))  # batched: thousands of documents
    return [name for (name, text), back in zip(texts, decoded) if back != text]


@pytest.mark.slow  # 20M characters through a 500-piece vocabulary: ~30 s
@pytest.mark.skipif(not SAMPLE_CORPUS.is_dir(), reason="examples/corpus not built yet")
def test_round_trip_is_lossless_on_every_sample_corpus_document(sp):
    assert _round_trip_failures(sp, _sample_corpus_texts()) == []


@pytest.mark.skipif(not SAMPLE_CORPUS.is_dir(), reason="examples/corpus not built yet")
def test_round_trip_is_lossless_on_a_slice_of_the_sample_corpus(sp):
    texts = _sample_corpus_texts()
    # Every 50th document, plus every code file indented with tabs or ending lines in spaces.
    picked = texts[::50] + [(n, t) for n, t in texts if "/code/" in n and ("\t" in t or " \n" in t)][:40]
    assert _round_trip_failures(sp, picked) == []


@pytest.mark.parametrize(
    "text",
    [
        GO_SOURCE,  # tab indentation
        MAKEFILE,  # tabs, trailing spaces and a trailing tab
        "def f(x):\n    if x:\n        return  x  \n\n\n",  # space indentation, double spaces, blank lines
        "  leading spaces and trailing ones   ",
        "\n\nstarts with newlines",
        "Grüße aus Köln 🙂 — «ça va?» 日本語\r\n",  # unseen characters fall back to bytes
        "",
    ],
)
def test_whitespace_and_unseen_characters_survive(sp, text):
    assert sp.decode(sp.encode(text)) == text


def test_indentation_has_whitespace_only_pieces(sp):
    pieces = sp.encode("        return x", out_type=str)
    assert pieces[0] == "\u2581" * len(pieces[0]) and len(pieces[0]) > 1  # a run of spaces is one piece
    assert len(sp.encode("\n")) == 1  # the newline is one token, not a byte


def test_digits_are_split_one_per_token(sp):
    for number in ("2026", "3.14159", "780000000000", "1,024"):
        pieces = [p.lstrip("\u2581") for p in sp.encode(number, out_type=str)]
        digits = [p for p in pieces if any(c.isdigit() for c in p)]
        assert all(len(p) == 1 for p in digits), pieces
        assert "".join(digits) == "".join(c for c in number if c.isdigit())


def test_unseen_characters_use_byte_fallback_not_unk(sp):
    ids = sp.encode("🙂")
    assert UNK_ID not in ids
    assert [sp.id_to_piece(i) for i in ids] == ["<0xF0>", "<0x9F>", "<0x99>", "<0x82>"]


def test_special_symbols_have_fixed_single_ids(sp):
    assert (sp.pad_id(), sp.eos_id(), sp.unk_id(), sp.bos_id()) == (PAD_ID, EOS_ID, UNK_ID, -1)
    assert (PAD_ID, EOS_ID, UNK_ID) == (0, 1, 2)
    specials = vocab.special_ids(sp)
    tox = [specials[s] for s in vocab.DEFAULT_CONTROL_SYMBOLS]
    assert len(set(tox)) == 3 and all(sp.is_control(i) for i in tox)
    assert [sp.id_to_piece(i) for i in tox] == list(vocab.DEFAULT_CONTROL_SYMBOLS)
    assert specials["\n"] == sp.encode("\n")[0]
    # Control symbols are never made from text: a page cannot forge its own toxicity tag.
    forged = sp.encode("<tox:low> hello")
    assert not set(forged) & set(tox)
    assert sp.decode(forged) == "<tox:low> hello"
    vocab.check_vocab(sp, vocab.DEFAULT_CONTROL_SYMBOLS)


def test_the_space_mark_is_the_one_irreversible_character(sp):
    assert not vocab.lossless(sp, "a\u2581b")
    assert vocab.lossless(sp, "a b")


def test_trainer_options_are_palms():
    opts = vocab.trainer_options(VocabConfig())
    assert opts["vocab_size"] == 256_000
    assert opts["normalization_rule_name"] == "identity"
    assert opts["remove_extra_whitespaces"] is False and opts["add_dummy_prefix"] is False
    assert opts["split_digits"] and opts["byte_fallback"] and opts["allow_whitespace_only_pieces"]
    assert (opts["pad_id"], opts["eos_id"], opts["unk_id"], opts["bos_id"]) == (0, 1, 2, -1)
    assert opts["user_defined_symbols"][0] == "\n"
    assert opts["control_symbols"] == ["<tox:low>", "<tox:medium>", "<tox:high>"]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"vocab_size": 200}, "vocab_size must exceed the 263 reserved pieces"),
        ({"model_type": "word"}, "model_type must be"),
        ({"control_symbols": ("<a>", "<a>")}, "must be distinct"),
        ({"user_defined_symbols": ("\n",)}, "not the newline"),
        ({"character_coverage": 0.5}, "character_coverage"),
    ],
)
def test_bad_vocab_configs(changes, message):
    with pytest.raises(ValueError, match=message):
        VocabConfig(**changes)


def test_training_writes_model_vocab_and_record(tmp_path):
    model = train_test_vocab(str(tmp_path), vocab_size=520)
    record = json.loads((tmp_path / "spm.json").read_text())
    assert record["sha256"] == vocab.file_sha256(model)
    assert record["trainer_options"]["split_digits"] is True
    assert (tmp_path / "spm.vocab").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".spm-")]  # no temporary left behind


def test_a_vocabulary_too_small_for_the_characters_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="vocab_size 300 is too small for the sample's characters"):
        train_test_vocab(str(tmp_path), vocab_size=300)
