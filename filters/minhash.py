"""Deduplication arithmetic: normalisation, shingles, MinHash signatures, LSH bands.

Pure functions with no Beam in them, so the pipeline's dedup transforms
(``pipeline.dedup``) stay thin and everything here is testable on its own:

- ``exact_key``: a digest of the text after a configurable normalisation
  (case, whitespace, punctuation); equal keys mean exact duplicates.
- ``shingle_hashes``: 32-bit hashes of a document's word or character
  n-grams. Computed with numpy over the whole text at once (a polynomial
  prefix hash of the code points, from which every shingle's hash is an O(1)
  difference), because a Python loop over shingles is the slow part of most
  MinHash implementations.
- ``signatures``: MinHash signatures for many documents in one batched numpy
  pass, using datasketch's ``affine32`` permutation scheme (the default of
  datasketch 2.0): identical to ``datasketch.MinHash(num_perm, seed,
  hashfunc=<our shingle hash>).update_batch(shingles)``, so ``LeanMinHash``
  can wrap our signatures and the estimator is the one datasketch documents.
- ``optimal_bands_rows``: the b x r split of ``num_perm`` for a Jaccard
  threshold, chosen as datasketch's ``MinHashLSH`` does (minimise the weighted
  false-positive plus false-negative areas under the S-curve).
- ``band_keys``: one bucket key per band; documents sharing any key become
  candidate pairs.

Word shingles and CJK: Chinese and Japanese put no spaces between words, so a
whitespace tokeniser would see a paragraph as one "word" and give it one
shingle. The word tokeniser here makes every Han, Hiragana and Katakana
character a token of its own, so CJK text gets about one shingle per
character while other scripts keep whole words. Code is handled by the caller
choosing character shingles (see ``pipeline.dedup.NearDedupConfig``).
"""

from __future__ import annotations

import functools
import hashlib
import re
from typing import Iterable, Sequence

import numpy as np

WORD = "word"
CHAR = "char"
SHINGLE_KINDS = (WORD, CHAR)

# Hash widths of the affine32 scheme: shingle hashes, permuted values and
# signatures are all uint32; the "no shingle seen" value is the maximum.
MAX_HASH = np.uint32(0xFFFFFFFF)

_WS = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w\s]|_")
# Scripts written without spaces between words: one token per character.
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
_TOKEN = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+")


# ---------------------------------------------------------------------------
# Exact duplicates
# ---------------------------------------------------------------------------


def normalize_exact(
    text: str,
    *,
    lowercase: bool = True,
    collapse_whitespace: bool = True,
    strip_punctuation: bool = False,
) -> str:
    """The text as exact dedup compares it.

    ``strip_punctuation`` removes every character that is neither a letter,
    digit nor whitespace (punctuation and symbols, and ``_``), so "Hello,
    world!" and "Hello world" compare equal. Whitespace is collapsed after
    punctuation is removed, so removal never leaves double spaces behind.
    """
    if lowercase:
        text = text.lower()
    if strip_punctuation:
        text = _PUNCT.sub("", text)
    if collapse_whitespace:
        text = _WS.sub(" ", text).strip()
    return text


def exact_key(text: str, **normalisation: bool) -> bytes:
    """A 16-byte digest of ``normalize_exact(text, **normalisation)``.

    16 bytes keep the shuffle small while collisions stay out of reach
    (2^-64 for a billion documents).
    """
    norm = normalize_exact(text, **normalisation)
    return hashlib.blake2b(norm.encode("utf-8"), digest_size=16).digest()


# ---------------------------------------------------------------------------
# Shingles
# ---------------------------------------------------------------------------

_M64 = (1 << 64) - 1
# Base of the polynomial string hash: a fixed odd 64-bit constant (odd, so it
# is invertible modulo 2^64, which the prefix-difference trick needs).
_BASE = 0x9E3779B97F4A7C15
_BASE_INV = pow(_BASE, -1, 1 << 64)


class _Powers:
    """Cached powers BASE^k and BASE^-k (mod 2^64), grown by doubling on demand."""

    def __init__(self) -> None:
        self.pos = np.ones(1, dtype=np.uint64)
        self.neg = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if len(self.pos) < n:
            size = max(n, 2 * len(self.pos), 1024)
            # cumprod wraps modulo 2^64, which is exactly the arithmetic we want.
            self.pos = np.full(size, _BASE, dtype=np.uint64)
            self.neg = np.full(size, _BASE_INV, dtype=np.uint64)
            self.pos[0] = self.neg[0] = 1
            np.cumprod(self.pos, out=self.pos)
            np.cumprod(self.neg, out=self.neg)
        return self.pos[:n], self.neg[:n]


_POWERS = _Powers()


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: spreads the polynomial hash over all bits."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _span_hashes(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """32-bit hashes of ``text[s:e]`` for every (s, e), all in O(len(text)) numpy work.

    With c_k the code points (+1, so that a NUL still counts) and
    S_j = sum_{k<j} c_k B^-k, the polynomial hash of text[s:e] is
    (S_e - S_s) * B^(e-1), everything modulo 2^64. The length is mixed in
    before the finaliser so spans of different lengths never share a hash by
    construction.
    """
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + np.uint64(1)
    pos, neg = _POWERS.get(len(codes) + 1)
    prefix = np.zeros(len(codes) + 1, dtype=np.uint64)
    np.cumsum(codes * neg[: len(codes)], out=prefix[1:])
    h = (prefix[ends] - prefix[starts]) * pos[ends - 1]
    h = h + (ends - starts).astype(np.uint64) * np.uint64(0x2545F4914F6CDD1D)
    return (_fmix64(h) >> np.uint64(32)).astype(np.uint32)


def word_tokens(text: str) -> list[str]:
    """Lower-cased word tokens: runs of letters/digits, and each CJK character alone."""
    return _TOKEN.findall(text.lower())


def word_shingles(text: str, n: int) -> list[str]:
    """The distinct word n-grams of ``text`` as strings (tokens joined by one space).

    The reference definition that ``shingle_hashes(..., WORD, n)`` hashes;
    used by tests and by the quality benchmark's exact Jaccard. A text with
    fewer than ``n`` tokens is one shingle (all its tokens); no tokens, none.
    """
    toks = word_tokens(text)
    if not toks:
        return []
    if len(toks) < n:
        return [" ".join(toks)]
    return sorted({" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)})


def char_normalize(text: str) -> str:
    """Lower case with whitespace runs collapsed: what character shingles are cut from.

    Collapsing whitespace makes re-indented code and re-wrapped prose shingle
    the same way.
    """
    return _WS.sub(" ", text.lower()).strip()


def char_shingles(text: str, n: int) -> list[str]:
    """The distinct character n-grams of ``char_normalize(text)`` (reference definition)."""
    norm = char_normalize(text)
    if not norm:
        return []
    if len(norm) < n:
        return [norm]
    return sorted({norm[i : i + n] for i in range(len(norm) - n + 1)})


def shingles(text: str, kind: str, n: int) -> list[str]:
    """Reference shingle strings for ``kind`` ("word" or "char")."""
    if kind == WORD:
        return word_shingles(text, n)
    if kind == CHAR:
        return char_shingles(text, n)
    raise ValueError(f"unknown shingle kind {kind!r} (expected one of {SHINGLE_KINDS})")


def hash_shingle(shingle: str) -> int:
    """The 32-bit hash of one shingle string: the same value ``shingle_hashes`` gives it.

    Slow (one call per shingle); exists so tests can check the batched path
    against datasketch, which takes a per-item hash function.
    """
    n = len(shingle)
    return int(_span_hashes(shingle, np.array([0]), np.array([n]))[0]) if n else 0


def shingle_hashes(text: str, kind: str, n: int) -> np.ndarray:
    """Distinct 32-bit hashes of the document's shingles (uint32, sorted).

    Equal, as a set, to ``{hash_shingle(s) for s in shingles(text, kind, n)}``.
    Word shingles are spans of the tokens joined by single spaces, so an
    n-gram's hash is the hash of the span from its first token's start to its
    last token's end: one prefix hash serves every shingle.
    """
    if n < 1:
        raise ValueError(f"shingle size must be >= 1, got {n}")
    if kind == WORD:
        toks = word_tokens(text)
        if not toks:
            return np.zeros(0, dtype=np.uint32)
        joined = " ".join(toks)
        lens = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
        ends = np.cumsum(lens + 1) - 1  # token i ends at ends[i]; a space follows
        starts = ends - lens
        if len(toks) < n:
            s, e = starts[:1], ends[-1:]
        else:
            s, e = starts[: len(toks) - n + 1], ends[n - 1 :]
        return np.unique(_span_hashes(joined, s, e))
    if kind == CHAR:
        norm = char_normalize(text)
        if not norm:
            return np.zeros(0, dtype=np.uint32)
        m = min(n, len(norm))
        s = np.arange(len(norm) - m + 1, dtype=np.int64)
        return np.unique(_span_hashes(norm, s, s + m))
    raise ValueError(f"unknown shingle kind {kind!r} (expected one of {SHINGLE_KINDS})")


# ---------------------------------------------------------------------------
# MinHash signatures
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=16)
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The (a, b) uint32 arrays of datasketch's affine32 scheme for ``seed``.

    Generated exactly as ``datasketch.MinHash(num_perm, seed)`` generates them
    (a ``RandomState(seed)``: odd multipliers, then offsets), so a signature
    made here equals datasketch's for the same shingle hashes.
    """
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


# Rows of the (shingles x num_perm) matrix built at once: 8192 x 128 x 4 bytes
# = 4 MiB, small enough for any worker, large enough to amortise numpy calls.
_BLOCK_ROWS = 8192


def signatures(hash_sets: Sequence[np.ndarray], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """MinHash signatures of many documents at once: uint32 array (len(hash_sets), num_perm).

    ``hash_sets[i]`` holds document i's shingle hashes (uint32). Documents are
    packed into blocks of about ``_BLOCK_ROWS`` shingles; each block is one
    broadcast ``a * fmix32(h) + b`` (uint32 arithmetic wraps, which is the
    scheme's modulo 2^32) and one ``np.minimum.reduceat`` per document
    boundary, so many small documents cost a handful of numpy calls, and a
    huge one is streamed block by block with a running minimum. A document
    with no shingles gets all ``MAX_HASH``.
    """
    a, b = permutations(num_perm, seed)
    out = np.full((len(hash_sets), num_perm), MAX_HASH, dtype=np.uint32)
    i = 0
    while i < len(hash_sets):
        # Gather documents until the block is full (always at least one).
        j, rows = i, 0
        while j < len(hash_sets) and (j == i or rows + len(hash_sets[j]) <= _BLOCK_ROWS):
            rows += len(hash_sets[j])
            j += 1
        group = [np.asarray(h, dtype=np.uint32) for h in hash_sets[i:j]]
        sizes = np.array([len(h) for h in group])
        if j - i == 1 and rows > _BLOCK_ROWS:
            h = _fmix32(group[0])
            acc = out[i]
            for k in range(0, rows, _BLOCK_ROWS):
                block = h[k : k + _BLOCK_ROWS, None] * a + b
                np.minimum(acc, block.min(axis=0), out=acc)
        elif rows:
            h = _fmix32(np.concatenate(group))
            phv = h[:, None] * a + b
            nonempty = np.flatnonzero(sizes)
            offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])[nonempty]
            out[i + nonempty] = np.minimum.reduceat(phv, offsets, axis=0)
        i = j
    return out


def signature(text: str, kind: str, n: int, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """One document's signature (uint32, num_perm); see ``signatures``."""
    return signatures([shingle_hashes(text, kind, n)], num_perm, seed)[0]


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """The MinHash estimate of Jaccard similarity: the fraction of equal slots."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


def jaccard(a: Iterable, b: Iterable) -> float:
    """Exact Jaccard similarity of two sets (1.0 for two empty sets)."""
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


# ---------------------------------------------------------------------------
# LSH bands
# ---------------------------------------------------------------------------


def collision_probability(s: float, bands: int, rows: int) -> float:
    """P(two documents with Jaccard ``s`` share at least one band): 1 - (1 - s^r)^b."""
    return 1.0 - (1.0 - s**rows) ** bands


@functools.lru_cache(maxsize=64)
def optimal_bands_rows(
    threshold: float,
    num_perm: int,
    false_positive_weight: float = 0.5,
    false_negative_weight: float = 0.5,
) -> tuple[int, int]:
    """The (bands, rows) with bands * rows <= num_perm that best separates at ``threshold``.

    Minimises w_fp * FP + w_fn * FN where FP is the area under the collision
    curve below the threshold (pairs that should not meet but do) and FN the
    area above it that the curve misses, over every b and r with
    b * r <= num_perm. This is datasketch's ``MinHashLSH`` rule, so the split
    matches what ``MinHashLSH(threshold, num_perm)`` would use (for 128
    permutations at 0.8: 9 bands of 13 rows).
    """
    from scipy.integrate import quad

    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {threshold}")
    if num_perm < 2:
        raise ValueError(f"num_perm must be >= 2, got {num_perm}")
    best, best_err = (1, num_perm), float("inf")
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp, _ = quad(lambda s: collision_probability(s, b, r), 0.0, threshold)
            fn, _ = quad(lambda s: 1.0 - collision_probability(s, b, r), threshold, 1.0)
            err = fp * false_positive_weight + fn * false_negative_weight
            if err < best_err:
                best, best_err = (b, r), err
    return best


def band_keys(sig: np.ndarray, bands: int, rows: int, namespace: bytes = b"") -> list[bytes]:
    """One 16-byte bucket key per band of ``sig``.

    The key hashes the band's index and ``namespace`` with its ``rows``
    values, so equal values in different bands, or in signatures of different
    shingle kinds (word vs character), never land in one bucket.
    """
    if bands * rows > len(sig):
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} values, signature has {len(sig)}")
    raw = np.ascontiguousarray(sig[: bands * rows], dtype=np.uint32).reshape(bands, rows)
    keys = []
    for i in range(bands):
        h = hashlib.blake2b(digest_size=16)
        h.update(namespace)
        h.update(i.to_bytes(4, "little"))
        h.update(raw[i].tobytes())
        keys.append(h.digest())
    return keys
