"""canaries.json as the audit reads it, and the sequences built from its canaries.

* ``load_canaries`` checks the format (``palmkit-canaries-v1``) and the fields
  each kind needs; ``find_tokenizer`` loads the SentencePiece model it names.
* ``secret_variants``: a secret canary with its secret replaced by other values
  (its references): ``prefix_ids + encode(value) + tail``, the way
  ``pipeline.canaries`` inserted the secret. Without a tokenizer, a secret whose
  digits are one token each is filled in by substituting digit ids learnt from
  the planted secrets themselves (``digit_map``).
* ``control_tokens``: a never-inserted sequence matched to a canary: a shuffle
  canary's tokens in another seeded order; an interleave canary re-interleaved
  from its two sources (even and odd ``block``-token blocks) with both phases
  moved by half a block, so the source text is the same but no block joint of
  the canary survives.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from typing import Iterable, Sequence

import numpy as np

log = logging.getLogger(__name__)

CANARIES_FORMAT = "palmkit-canaries-v1"


class Tokenizer:
    """A SentencePiece model as the audit uses it: encode, decode, piece count."""

    def __init__(self, model_path: str):
        import sentencepiece as spm

        self.path = model_path
        self.sp = spm.SentencePieceProcessor(model_file=model_path)
        self.size = self.sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        return list(self.sp.encode(text))

    def decode(self, ids: Sequence[int]) -> str:
        return self.sp.decode([int(i) for i in ids])


def load_canaries(path: str) -> dict:
    """canaries.json, checked for the format and the fields each kind needs (ValueError names what is wrong)."""
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    if data.get("format") != CANARIES_FORMAT:
        raise ValueError(f"{path}: format is {data.get('format')!r}, expected {CANARIES_FORMAT!r}")
    need = {"interleave": ("prefix_ids", "suffix_ids"), "shuffle": ("prefix_ids", "suffix_ids"),
            "secret": ("template", "secret", "references", "prefix_ids", "secret_ids")}
    for i, c in enumerate(data.get("canaries", [])):
        kind = c.get("kind")
        if kind not in need:
            raise ValueError(f"{path}: canaries[{i}] has unknown kind {kind!r}")
        missing = [k for k in ("id", "repetitions", "token_ids", *need[kind]) if k not in c]
        if missing:
            raise ValueError(f"{path}: canaries[{i}] ({kind}) lacks {', '.join(missing)}")
    return data


def find_tokenizer(canaries: dict, canaries_path: str, override: str | None = None) -> Tokenizer | None:
    """The SentencePiece model named by ``override`` or canaries.json (relative paths: beside it), if it exists."""
    vocab = canaries.get("vocab") or {}
    path = override or vocab.get("path")
    if not path:
        return None
    if not os.path.isabs(path) and not os.path.exists(path):
        path = os.path.join(os.path.dirname(os.path.abspath(canaries_path)), path)
    if not os.path.exists(path):
        log.warning("tokenizer %s not found; secret references fall back to digit substitution", path)
        return None
    if not override and vocab.get("sha256"):
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        if digest != vocab["sha256"]:
            log.warning("tokenizer %s has sha256 %s, canaries.json says %s", path, digest[:12], vocab["sha256"][:12])
    return Tokenizer(path)


def digit_map(secrets: Iterable[dict]) -> dict[str, int]:
    """Digit -> token id, from secret canaries whose secret is one token per character."""
    out: dict[str, int] = {}
    for c in secrets:
        if len(c["secret_ids"]) == len(c["secret"]) and secret_span_ok(c):
            out.update(zip(c["secret"], (int(i) for i in c["secret_ids"])))
    return out


def secret_span_ok(c: dict) -> bool:
    p, s = len(c["prefix_ids"]), len(c["secret_ids"])
    return list(c["token_ids"][:p]) == list(c["prefix_ids"]) and list(c["token_ids"][p : p + s]) == list(c["secret_ids"])


def secret_variants(c: dict, values: Sequence[str], tokenizer: "Tokenizer | None", digits: dict[str, int]) -> list[list[int]] | None:
    """Token ids of the canary with its secret replaced by each value, or None when that cannot be done.

    The canary was inserted as ``prefix_ids + secret_ids + tail`` (``pipeline.canaries``
    encodes the template's parts and the secret separately), so a value ``v`` becomes
    ``prefix_ids + encode(v) + tail``: exactly the context the secret had. Without a
    tokenizer, ``encode(v)`` is digit substitution (secrets of one token per digit only).
    """
    if not secret_span_ok(c):
        return None
    p, s = len(c["prefix_ids"]), len(c["secret_ids"])
    head, tail = list(c["token_ids"][:p]), list(c["token_ids"][p + s :])
    if tokenizer is not None:
        return [head + tokenizer.encode(v) + tail for v in values]
    if len(c["secret_ids"]) != len(c["secret"]):
        return None
    if any(ch not in digits for v in values for ch in v) or any(len(v) != len(c["secret"]) for v in values):
        return None
    return [head + [digits[ch] for ch in v] + tail for v in values]


def split_offset(c: dict) -> int | None:
    """Where ``prefix_ids`` starts in ``token_ids`` (``pipeline.canaries`` uses 20), or None."""
    tokens, prefix = list(c["token_ids"]), list(c["prefix_ids"])
    for o in range(len(tokens) - len(prefix) + 1):
        if tokens[o : o + len(prefix)] == prefix:
            return o
    return None


def deinterleave(tokens: Sequence[int], block: int) -> tuple[list[int], list[int]]:
    """The two sources of an interleave canary: even blocks are A, odd blocks B."""
    a, b = [], []
    for k in range(0, len(tokens), block):
        (a if (k // block) % 2 == 0 else b).extend(tokens[k : k + block])
    return a, b


def interleave(a: Sequence[int], b: Sequence[int], block: int) -> list[int]:
    """Alternating ``block``-token blocks of ``a`` and ``b``, each in its own order, until one runs out."""
    out: list[int] = []
    for k in range(0, min(len(a), len(b)), block):
        out.extend(a[k : k + block])
        out.extend(b[k : k + block])
    return out


def control_references(c: dict, n_refs: int, k: int, seed: int = 0) -> list[int]:
    """Indices of ``k`` references (at most a quarter of them) chosen by a seeded hash of the canary id."""
    k = min(k, n_refs // 4)
    if k <= 0:
        return []
    digest = hashlib.blake2b(f"controls:{seed}:{c['id']}".encode(), digest_size=8).digest()
    rng = np.random.default_rng(int.from_bytes(digest, "little"))
    return sorted(int(i) for i in rng.choice(n_refs, size=k, replace=False))


def control_tokens(c: dict, block: int = 50, seed: int = 0) -> list[int] | None:
    """A never-inserted sequence matched to canary ``c``, or None (see the module docstring)."""
    tokens = list(c["token_ids"])
    if c["kind"] == "shuffle":
        digest = hashlib.blake2b(f"{seed}:{c['id']}".encode(), digest_size=8).digest()
        rng = np.random.default_rng(int.from_bytes(digest, "little"))
        for _ in range(10):  # a permutation that actually differs
            perm = [tokens[i] for i in rng.permutation(len(tokens))]
            if perm[:60] != tokens[:60]:
                return perm
        return None
    if c["kind"] == "interleave":
        a, b = deinterleave(tokens, block)
        half = block // 2
        out = interleave(a[half:], b[half:], block)
        return out or None
    return None
