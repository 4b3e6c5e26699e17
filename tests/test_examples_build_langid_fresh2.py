"""Checks on the committed second fresh language-ID split
(examples/langid/fresh2.jsonl.zst, built by examples/build_langid_fresh2.py
from gettext catalogs): it shares no source file, no package and no
paragraph with the train, held-out and first fresh splits.  Reads the
committed files only."""
from __future__ import annotations

from collections import Counter

import pytest

zstandard = pytest.importorskip("zstandard")

from tests.test_examples_build_langid_fresh import MODEL_LANGS, norm, read  # noqa: E402

# The split under test and the splits it must not share anything with;
# tests/test_examples_build_langid_fresh3.py runs these tests on fresh3.
SPLIT = "fresh2"
OTHERS = ("train", "heldout", "fresh")


@pytest.fixture(scope="module")
def split_name() -> str:
    return SPLIT


@pytest.fixture(scope="module")
def others() -> tuple[str, ...]:
    return OTHERS


@pytest.fixture(scope="module")
def splits(split_name, others) -> dict[str, list[dict]]:
    return {name: read(f"{name}.jsonl.zst") for name in (split_name, *others)}


def test_fresh2_records_are_well_formed(splits, split_name):
    recs = splits[split_name]
    assert recs
    for r in recs:
        assert set(r) == {"id", "text", "lang", "origin"}
        assert r["lang"] in MODEL_LANGS
        assert r["id"].startswith(f"langid-{split_name}:{r['origin']}#")
        assert r["origin"].endswith(".mo") and "/usr/share/locale/" in r["origin"]
        assert r["text"].strip()
    assert len({r["id"] for r in recs}) == len(recs)
    assert len({norm(r["text"]) for r in recs}) == len(recs)


def test_fresh2_caps(splits, split_name):
    recs = splits[split_name]
    assert max(Counter(r["lang"] for r in recs).values()) <= 300
    # At most 15 per catalog file (per package and domain for English msgids).
    assert max(Counter((r["lang"], r["origin"]) for r in recs if r["lang"] != "en").values()) <= 15


def test_fresh2_shares_no_origin_or_package_with_other_splits(splits, split_name, others):
    origins = {r["origin"] for r in splits[split_name]}
    used = {r["origin"] for name in others for r in splits[name]}
    assert not origins & used
    pkg = lambda o: o.split("/", 1)[0]  # noqa: E731
    assert not {pkg(o) for o in origins} & {pkg(o) for o in used}


def test_fresh2_shares_no_paragraph_with_other_splits(splits, split_name, others):
    used_norm = {norm(r["text"]) for name in others for r in splits[name]}
    shared = [r["id"] for r in splits[split_name] if norm(r["text"]) in used_norm]
    assert not shared, shared[:5]


def test_fresh2_paragraphs_are_not_inside_other_texts(splits, split_name, others):
    # Per language to stay fast; build_langid_fresh2.py itself checks across all languages.
    by_lang: dict[str, set[str]] = {}
    for name in others:
        for r in splits[name]:
            by_lang.setdefault(r["lang"], set()).add(norm(r["text"]))
    blobs = {lang: "\n".join(sorted(keys)) for lang, keys in by_lang.items()}
    inside = [r["id"] for r in splits[split_name] if norm(r["text"]) in blobs.get(r["lang"], "")]
    assert not inside, inside[:5]
