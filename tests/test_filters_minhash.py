"""filters.minhash: normalisation, shingles, signatures against datasketch, LSH parameters."""

import random

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from filters import minhash as mh

TEXT = (
    "The quick brown fox jumps over the lazy dog. It was not amused, and it said so "
    "loudly to everyone near the river bank that Tuesday afternoon."
)


def random_text(rng: random.Random, words: int, vocab: int = 50_000) -> str:
    return " ".join(f"w{rng.randrange(vocab)}" for _ in range(words))


# --- exact -------------------------------------------------------------------


def test_normalize_exact_options():
    text = "  Hello,\tWorld!\n\nBye_now  "
    assert mh.normalize_exact(text) == "hello, world! bye_now"
    assert mh.normalize_exact(text, lowercase=False) == "Hello, World! Bye_now"
    assert mh.normalize_exact(text, collapse_whitespace=False) == text.lower()
    assert mh.normalize_exact(text, strip_punctuation=True) == "hello world byenow"


def test_exact_key_equal_after_normalisation_only():
    assert mh.exact_key("A  b\nC") == mh.exact_key("a b c")
    assert mh.exact_key("a, b") != mh.exact_key("a b")
    assert mh.exact_key("a, b", strip_punctuation=True) == mh.exact_key("a b", strip_punctuation=True)
    assert mh.exact_key("A b", lowercase=False) != mh.exact_key("a b", lowercase=False)
    assert len(mh.exact_key("x")) == 16


# --- shingles ----------------------------------------------------------------


def test_word_tokens_split_cjk_per_character_and_drop_punctuation():
    assert mh.word_tokens("Hello, wörld_2 foo-bar") == ["hello", "wörld", "2", "foo", "bar"]
    assert mh.word_tokens("我们今天去 Tokyo へ行く") == ["我", "们", "今", "天", "去", "tokyo", "へ", "行", "く"]


def test_cjk_text_gets_about_one_shingle_per_character():
    zh = "自然语言处理是人工智能的一个重要领域它研究计算机如何理解人类语言"
    assert len(mh.word_shingles(zh, 5)) == len(zh) - 4


@pytest.mark.parametrize(
    "text,kind,n",
    [
        (TEXT, "word", 5),
        (TEXT, "word", 1),
        (TEXT, "char", 24),
        (TEXT, "char", 3),
        ("two words", "word", 5),  # fewer tokens than n: one shingle
        ("short", "char", 24),
        ("中文文本，混合 English words 和标点。", "word", 5),
        ("def f(x):\n    return x + 1\n", "char", 8),
    ],
)
def test_batched_shingle_hashes_equal_per_shingle_reference(text, kind, n):
    expected = np.unique(np.array([mh.hash_shingle(s) for s in mh.shingles(text, kind, n)], dtype=np.uint32))
    assert np.array_equal(mh.shingle_hashes(text, kind, n), expected)


def test_short_and_empty_texts():
    assert mh.word_shingles("two words", 5) == ["two words"]
    assert mh.char_shingles("  Ab  c ", 24) == ["ab c"]
    for kind in mh.SHINGLE_KINDS:
        assert len(mh.shingle_hashes("", kind, 5)) == 0
    assert len(mh.shingle_hashes("!!! ...", "word", 5)) == 0


def test_char_shingles_ignore_indentation_and_case():
    a = "def f(x):\n    return X + 1\n"
    b = "def f(x):\n\treturn x + 1"
    assert np.array_equal(mh.shingle_hashes(a, "char", 10), mh.shingle_hashes(b, "char", 10))


def test_distinct_shingles_rarely_collide():
    rng = random.Random(0)
    text = random_text(rng, 100_000, vocab=10**7)
    ref = set(mh.word_shingles(text, 5))
    # 32-bit hashes of n distinct shingles: about n^2 / 2^33 collisions (1.2 here),
    # what a uniform hash gives; a biased one would give far more.
    collisions = len(ref) - len(mh.shingle_hashes(text, "word", 5))
    assert 0 <= collisions <= 8


def test_unknown_kind_and_bad_n():
    with pytest.raises(ValueError, match="unknown shingle kind"):
        mh.shingle_hashes("x", "token", 5)
    with pytest.raises(ValueError):
        mh.shingle_hashes("x", "word", 0)


# --- signatures --------------------------------------------------------------


@pytest.mark.parametrize("num_perm,seed", [(128, 1), (64, 7)])
def test_signature_equals_datasketch_minhash(num_perm, seed):
    for kind, n in [("word", 5), ("char", 24)]:
        m = MinHash(num_perm=num_perm, seed=seed, hashfunc=mh.hash_shingle)
        m.update_batch(mh.shingles(TEXT, kind, n))
        assert np.array_equal(mh.signature(TEXT, kind, n, num_perm, seed), m.hashvalues)


def test_batched_signatures_equal_one_by_one_including_huge_and_empty_docs():
    rng = random.Random(1)
    texts = [random_text(rng, k) for k in (3, 0, 50, 12_000, 0, 400, 1)]
    hashes = [mh.shingle_hashes(t, "word", 5) for t in texts]
    batched = mh.signatures(hashes, 128, 1)
    for t, h, sig in zip(texts, hashes, batched):
        assert np.array_equal(sig, mh.signatures([h], 128, 1)[0])
        if len(h) == 0:
            assert np.all(sig == mh.MAX_HASH)
    # The huge document (12k shingles > one block) still matches datasketch.
    m = MinHash(128, seed=1, hashfunc=mh.hash_shingle)
    m.update_batch(mh.word_shingles(texts[3], 5))
    assert np.array_equal(batched[3], m.hashvalues)


def test_estimate_matches_lean_minhash_and_tracks_true_jaccard():
    rng = random.Random(2)
    base = random_text(rng, 2000).split()
    for edits in (0, 10, 40, 120):
        other = list(base)
        for i in rng.sample(range(len(base)), edits):
            other[i] = "x" + other[i]
        a, b = " ".join(base), " ".join(other)
        sa, sb = mh.signature(a, "word", 5), mh.signature(b, "word", 5)
        est = mh.estimate_jaccard(sa, sb)
        lean_a = LeanMinHash(seed=1, hashvalues=sa, scheme="affine32")
        lean_b = LeanMinHash(seed=1, hashvalues=sb, scheme="affine32")
        assert est == pytest.approx(lean_a.jaccard(lean_b))
        true = mh.jaccard(mh.word_shingles(a, 5), mh.word_shingles(b, 5))
        sigma = (true * (1 - true) / 128) ** 0.5
        assert abs(est - true) <= 4 * sigma + 1e-9


# --- LSH ---------------------------------------------------------------------


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8, 0.9])
@pytest.mark.parametrize("num_perm", [64, 128])
def test_bands_rows_match_datasketch(threshold, num_perm):
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    assert mh.optimal_bands_rows(threshold, num_perm) == (lsh.b, lsh.r)


def test_bands_rows_weights_match_datasketch_and_reference_split():
    assert mh.optimal_bands_rows(0.8, 128) == (9, 13)  # RedPajama v2's split at 0.8
    lsh = MinHashLSH(threshold=0.8, num_perm=128, weights=(0.1, 0.9))
    assert mh.optimal_bands_rows(0.8, 128, 0.1, 0.9) == (lsh.b, lsh.r)
    with pytest.raises(ValueError):
        mh.optimal_bands_rows(1.0, 128)


def test_band_keys_share_exactly_the_equal_bands():
    rng = np.random.default_rng(0)
    sig = rng.integers(0, 2**32, 128, dtype=np.uint32)
    other = sig.copy()
    other[13 * 2 + 5] ^= 1  # change one value inside band 2
    ka, kb = mh.band_keys(sig, 9, 13), mh.band_keys(other, 9, 13)
    assert len(ka) == 9 and len(set(ka)) == 9
    assert [i for i in range(9) if ka[i] != kb[i]] == [2]
    # Values beyond bands * rows (128 - 117) do not matter.
    tail = sig.copy()
    tail[-1] ^= 1
    assert mh.band_keys(tail, 9, 13) == ka
    # The namespace separates shingle kinds.
    assert not set(mh.band_keys(sig, 9, 13, b"word5")) & set(mh.band_keys(sig, 9, 13, b"char24"))
    with pytest.raises(ValueError):
        mh.band_keys(sig, 10, 13)


def test_collision_probability_is_the_s_curve():
    assert mh.collision_probability(1.0, 9, 13) == 1.0
    assert mh.collision_probability(0.0, 9, 13) == 0.0
    assert mh.collision_probability(0.8, 9, 13) == pytest.approx(1 - (1 - 0.8**13) ** 9)
