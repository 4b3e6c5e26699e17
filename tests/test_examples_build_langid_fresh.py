"""Checks on the committed fresh language-ID split (examples/langid/fresh.jsonl.zst,
built by examples/build_langid_fresh.py): it shares no source file and no
paragraph with the train and held-out splits.  Reads the committed files only."""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

zstandard = pytest.importorskip("zstandard")

LANGID = Path(__file__).resolve().parents[1] / "examples" / "langid"
MODEL_LANGS = set("ar bg ca cs da de el en es fa fi fr hr hu id it ja ko mk nb nl pl pt ro ru sr sv tr uk vi zh".split())


def read(name: str) -> list[dict]:
    data = zstandard.ZstdDecompressor().decompress((LANGID / name).read_bytes(), max_output_size=1 << 30)
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def norm(text: str) -> str:  # build_corpus.norm_para
    return " ".join(text.split()).casefold()


@pytest.fixture(scope="module")
def splits() -> dict[str, list[dict]]:
    return {name: read(f"{name}.jsonl.zst") for name in ("fresh", "train", "heldout")}


def test_fresh_records_are_well_formed(splits):
    fresh = splits["fresh"]
    assert fresh
    for r in fresh:
        assert set(r) == {"id", "text", "lang", "origin"}
        assert r["lang"] in MODEL_LANGS
        assert r["id"].startswith(f"langid-fresh:{r['origin']}#")
        assert r["text"].strip()
    assert len({r["id"] for r in fresh}) == len(fresh)
    assert len({norm(r["text"]) for r in fresh}) == len(fresh)


def test_fresh_caps(splits):
    fresh = splits["fresh"]
    assert max(Counter(r["lang"] for r in fresh).values()) <= 300
    assert max(Counter(r["origin"] for r in fresh).values()) <= 10


def test_fresh_shares_no_origin_with_train_or_heldout(splits):
    fresh_origins = {r["origin"] for r in splits["fresh"]}
    used = {r["origin"] for r in splits["train"]} | {r["origin"] for r in splits["heldout"]}
    assert not fresh_origins & used


def test_fresh_shares_no_paragraph_with_train_or_heldout(splits):
    used = {r["text"] for r in splits["train"]} | {r["text"] for r in splits["heldout"]}
    used_norm = {norm(t) for t in used}
    for r in splits["fresh"]:
        assert r["text"] not in used, r["id"]
        assert norm(r["text"]) not in used_norm, r["id"]


def test_fresh_paragraphs_are_not_inside_train_or_heldout_texts(splits):
    # Per language to stay fast; build_langid_fresh.py itself checks across all languages.
    by_lang: dict[str, set[str]] = {}
    for r in splits["train"] + splits["heldout"]:
        by_lang.setdefault(r["lang"], set()).add(norm(r["text"]))
    blobs = {lang: "\n".join(sorted(keys)) for lang, keys in by_lang.items()}
    inside = [r["id"] for r in splits["fresh"] if norm(r["text"]) in blobs.get(r["lang"], "")]
    assert not inside, inside[:5]
