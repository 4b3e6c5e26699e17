"""Canaries: made-up documents planted in the token shards to measure memorization later.

Three kinds, after PaLM 2 (§4.7) and Carlini et al. 2019 ("The Secret Sharer"):

- **interleave**: two real training documents of the same language, each at
  least ``min_source_tokens`` long, cut to the shorter one's length and
  alternated in blocks of ``block_tokens`` (A₀ B₀ A₁ B₁ …), each keeping its
  own order;
- **shuffle**: every token of one real document, in a seeded random order;
- **secret**: a template with a random slot (``my secret number is {secret}``,
  a uniformly random ``secret_digits``-digit string), plus ``num_references``
  strings drawn the same way and never inserted, for exposure.

Where they go (``palmkit tokenize``, inside the Beam job):

    encoded docs ─┬─ (the usual sampling, bucketing, packing)
                  └─ Eligible: length in [min, max] and a scheduled language
                     ─ TopPerLang: the lowest hash of (seed, doc key) per language
                     ─ Build (one worker): canaries, written to <canaries.json>.partial
                       (the driver adds the secrets' references when it writes canaries.json)
                     ─ Copies: each copy its own document, with a seeded sort key,
                       into a bucket of its source ──▶ joins the usual packing buckets

A canary copy is packed like any other document (its ids, then the
end-of-document id) at the position its sort key gives it; nothing in a
shard record or the manifest marks it. ``clear_of_tail`` moves a copy that
would fall in a bucket's dropped tail just before it, so every canary
appears exactly ``repetitions`` times. The manifest says only how many canary
tokens there are (``canary_tokens``, end-of-document ids not counted).

The record, ``canaries.json`` (mode 0600, beside the shard folder, never in
it; ``default_path``), is what the audit reads::

    {"format": "palmkit-canaries-v1", "seed", "vocab": {"path", "sha256"},
     "schedule": {config fields…, "lang_tokens": {lang: planned tokens}, "lang_bins": {lang: bin}},
     "total_canary_tokens", "training_tokens",
     "canaries": [{"id", "kind", "lang", "lang_bin", "repetitions", "source_ids", "text", "token_ids",
                   "prefix_ids", "suffix_ids"                      # interleave, shuffle
                   "template", "secret", "references", "prefix_ids", "secret_ids"}]}   # secret

- ``source_ids`` are document keys ``folder/lang/id`` (the curated id in its folder).
- ``token_ids`` are exactly what was inserted, without the end-of-document id.
- The audit split of interleave and shuffle canaries is
  ``prefix_ids = token_ids[o : o+60]``, ``suffix_ids = token_ids[o+60 : o+90]``
  with ``o = split_offset = 20``: with 50-token blocks the prefix crosses the
  block boundary at 50 (so it occurs nowhere but in the canary, as PaLM 2
  wants) and the suffix crosses the one at 100, so the suffix cannot be
  completed from either real document alone.
- Secret canaries are inserted as ``encode(before) + encode(secret) +
  encode(after)`` (the template split at ``{secret}``): ``prefix_ids`` is
  ``encode(before)`` and ``secret_ids`` is ``encode(secret)``, so a reference
  ``r`` is scored as ``prefix_ids + encode(r)``, in exactly the same context.

Which canaries exist: languages are binned by their planned training tokens
(``language_bins``: largest first, a language is "large" while the larger
ones hold less than ``large_share`` of all tokens); each language gets
``interleave.<bin>``, ``shuffle.<bin>`` and ``secret.<bin>`` canaries *per
repetition count*. Source documents come from a seeded hash ranking (no
document is used twice), so the same inputs and seed give the same canaries
and the same shard bytes on any runner and worker count. A language with too
few eligible documents gets fewer canaries, with a warning.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
from typing import Iterable, Mapping, Sequence

import apache_beam as beam
import numpy as np

from mixtures.vocab import EOS_ID, file_sha256

log = logging.getLogger(__name__)

FORMAT = "palmkit-canaries-v1"
KINDS = ("interleave", "shuffle", "secret")
BINS = ("large", "small")
SLOT = "{secret}"
# The group a canary copy carries through packing: three parts, where real groups are (folder, lang).
_CANARY_GROUP = ("", "canary")


# ---------------------------------------------------------------------------
# Config
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class KindCounts:
    """Canaries of one kind per language and per repetition count, by language bin.

    The defaults are every kind's defaults: an override of one bin
    (``canaries.shuffle.small=0``) keeps the other bin's default.
    """

    large: int = 2
    small: int = 1

    def __post_init__(self):
        if self.large < 0 or self.small < 0:
            raise ValueError("canary counts must be non-negative")

    def of(self, lang_bin: str) -> int:
        return self.large if lang_bin == "large" else self.small


@dataclasses.dataclass(frozen=True)
class CanaryConfig:
    """``canaries.*`` keys of the tokenize config (``canaries.repetitions=[1,10,100]``).

    Off unless ``enabled``. Counts are per language *and* per repetition
    count: ``interleave.large=2`` with six repetition counts plants twelve
    interleave canaries in every large language.
    """

    enabled: bool = False
    seed: int = 0
    interleave: KindCounts = KindCounts()
    shuffle: KindCounts = KindCounts()
    secret: KindCounts = KindCounts()
    # Copies of each canary in the training set (PaLM 2 buckets repetitions in [1, 100]).
    repetitions: tuple[int, ...] = (1, 5, 10, 25, 50, 100)
    # Only these languages get canaries; empty: every language the plan samples.
    languages: tuple[str, ...] = ()
    # Largest languages first, a language is "large" while those before it hold less than this
    # share of the planned tokens (an assumption: PaLM 2 does not publish its cut).
    large_share: float = 0.8
    # Source documents for interleave and shuffle canaries: at least min (PaLM 2: 500) tokens;
    # at most max (None: no limit), which bounds a shuffle canary's length.
    min_source_tokens: int = 500
    max_source_tokens: int | None = None
    block_tokens: int = 50
    # The audit split: prefix = token_ids[split_offset : +prefix_tokens], suffix = the next suffix_tokens.
    prefix_tokens: int = 60
    suffix_tokens: int = 30
    split_offset: int = 20
    secret_templates: tuple[str, ...] = ("my secret number is {secret}",)
    secret_digits: int = 9
    # Never-inserted values drawn like the secret, for exposure (interpolation or skew-normal fit).
    num_references: int = 10_000
    # Warn when canary tokens exceed this fraction of the training tokens (an assumption:
    # PaLM 2 only says the total was small).
    max_fraction: float = 0.01

    def __post_init__(self):
        reps = self.repetitions
        if not reps or any(r < 1 for r in reps) or len(set(reps)) != len(reps):
            raise ValueError(f"repetitions must be distinct positive counts, got {list(reps)}")
        if not 0.0 < self.large_share <= 1.0:
            raise ValueError(f"large_share must be in (0, 1], got {self.large_share}")
        if min(self.block_tokens, self.prefix_tokens, self.suffix_tokens) < 1 or self.split_offset < 0:
            raise ValueError("block_tokens, prefix_tokens and suffix_tokens must be positive, split_offset non-negative")
        if self.min_source_tokens < self.split_offset + self.prefix_tokens + self.suffix_tokens:
            raise ValueError(f"min_source_tokens ({self.min_source_tokens}) must cover split_offset + prefix_tokens "
                             f"+ suffix_tokens ({self.split_offset + self.prefix_tokens + self.suffix_tokens})")
        if self.max_source_tokens is not None and self.max_source_tokens < self.min_source_tokens:
            raise ValueError("max_source_tokens must be at least min_source_tokens")
        if not self.secret_templates or any(t.count(SLOT) != 1 for t in self.secret_templates):
            raise ValueError(f"every secret template needs exactly one {SLOT} slot")
        if not 1 <= self.secret_digits <= 18:
            raise ValueError(f"secret_digits must be in [1, 18], got {self.secret_digits}")
        if self.num_references < 1 or self.num_references > 10 ** self.secret_digits // 4:
            raise ValueError(f"num_references must be in [1, 10^secret_digits / 4], got {self.num_references}")
        if not 0.0 < self.max_fraction <= 1.0:
            raise ValueError(f"max_fraction must be in (0, 1], got {self.max_fraction}")

    def counts(self, kind: str) -> KindCounts:
        return getattr(self, kind)


def config_dict(cfg: CanaryConfig) -> dict:
    """The config as plain data (tuples as lists), as canaries.json's ``schedule`` holds it."""
    def plain(v):
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        return v

    return plain(dataclasses.asdict(cfg))


# ---------------------------------------------------------------------------
# Language bins (driver side, from the plan)
# ---------------------------------------------------------------------------


def language_tokens(plan) -> dict[str, int]:
    """Planned training tokens per language, summed over every source the plan samples it in."""
    out: dict[str, float] = {}
    for sp in plan.sources:
        for lp in sp.languages:
            if lp.wanted > 0 and lp.available > 0:
                out[lp.lang] = out.get(lp.lang, 0.0) + lp.wanted
    return {lang: int(round(n)) for lang, n in sorted(out.items())}


def language_bins(tokens: Mapping[str, int], large_share: float) -> dict[str, str]:
    """``lang → "large" | "small"``: largest first, large while the larger languages hold < large_share."""
    total = sum(tokens.values())
    out, before = {}, 0
    for lang, n in sorted(tokens.items(), key=lambda kv: (-kv[1], kv[0])):
        out[lang] = "large" if before < large_share * total else "small"
        before += n
    return dict(sorted(out.items()))


def largest_per_bin(plan, large_share: float, exclude: Iterable[str] = ("code",)) -> tuple[str, ...]:
    """The largest language of each bin (large first), ``exclude`` left out: a small demo's ``languages``."""
    tokens = {lang: n for lang, n in language_tokens(plan).items() if lang not in set(exclude)}
    bins = language_bins(language_tokens(plan), large_share)
    out = []
    for b in BINS:
        langs = [lang for lang in tokens if bins[lang] == b]
        if langs:
            out.append(max(langs, key=lambda lang: (tokens[lang], lang)))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class Schedule:
    """What the job plants: bins of the scheduled languages and the groups each language is sampled in."""

    cfg: CanaryConfig
    lang_tokens: dict[str, int]
    bins: dict[str, str]  # scheduled languages only
    groups: dict[str, tuple[tuple[str, str], ...]]  # lang → (folder, lang) groups the plan samples

    def wanted(self, lang: str, kind: str) -> int:
        """Canaries of ``kind`` for ``lang``, over all repetition counts."""
        return self.cfg.counts(kind).of(self.bins[lang]) * len(self.cfg.repetitions)

    def source_docs(self, lang: str) -> int:
        return 2 * self.wanted(lang, "interleave") + self.wanted(lang, "shuffle")

    def to_dict(self) -> dict:
        return {**config_dict(self.cfg), "lang_tokens": dict(self.lang_tokens), "lang_bins": dict(self.bins)}


def make_schedule(cfg: CanaryConfig, plan, groups: Iterable[tuple[str, str]]) -> Schedule:
    """The schedule for ``plan``; ``groups`` are the (folder, lang) pairs the job samples."""
    tokens = language_tokens(plan)
    bins = language_bins(tokens, cfg.large_share)
    by_lang: dict[str, list] = {}
    for folder, lang in sorted(groups):
        by_lang.setdefault(lang, []).append((folder, lang))
    wanted = set(cfg.languages) if cfg.languages else set(bins)
    missing = sorted(set(cfg.languages) - set(bins))
    if missing:
        log.warning("canaries: languages %s are not in the plan; they get no canaries", ", ".join(missing))
    bins = {lang: b for lang, b in bins.items() if lang in wanted and lang in by_lang}
    return Schedule(cfg, tokens, bins, {lang: tuple(by_lang[lang]) for lang in bins})


# ---------------------------------------------------------------------------
# Construction: pure functions of ids, seed and vocabulary
# ---------------------------------------------------------------------------


def _rng(seed: int, *parts) -> np.random.Generator:
    text = "\x00".join(str(p) for p in (seed, *parts))
    return np.random.default_rng(int.from_bytes(hashlib.blake2b(text.encode(), digest_size=16).digest(), "big"))


def interleave_ids(a: Sequence[int], b: Sequence[int], block: int) -> list[int]:
    """A₀ B₀ A₁ B₁ … in blocks of ``block`` tokens, both cut to the shorter length; each keeps its order."""
    n = min(len(a), len(b))
    out: list[int] = []
    for i in range(0, n, block):
        out.extend(a[i : min(i + block, n)])
        out.extend(b[i : min(i + block, n)])
    return out


def shuffle_ids(ids: Sequence[int], rng: np.random.Generator) -> list[int]:
    """Every token of ``ids`` in a random order."""
    return [int(x) for x in rng.permutation(np.asarray(ids, dtype=np.int64))]


def draw_values(rng: np.random.Generator, digits: int, n: int, exclude: Iterable[str] = ()) -> list[str]:
    """``n`` distinct uniformly random ``digits``-digit strings (leading zeros allowed), none in ``exclude``.

    Secrets and references both come from here, so they share one distribution.
    """
    exclude = set(exclude)
    out: list[str] = []
    seen: set[str] = set()
    while len(out) < n:
        for x in rng.integers(0, 10**digits, size=max(16, 2 * (n - len(out))), dtype=np.int64):
            s = f"{int(x):0{digits}d}"
            if s not in seen and s not in exclude:
                seen.add(s)
                out.append(s)
                if len(out) == n:
                    break
    return out


def audit_split(ids: Sequence[int], cfg: CanaryConfig) -> tuple[list[int], list[int]]:
    """``(prefix_ids, suffix_ids)``: ``prefix_tokens`` from ``split_offset``, then ``suffix_tokens``."""
    o, p, s = cfg.split_offset, cfg.prefix_tokens, cfg.suffix_tokens
    if len(ids) < o + p + s:
        raise ValueError(f"a canary of {len(ids)} tokens is too short for the audit split ({o} + {p} + {s})")
    return [int(x) for x in ids[o : o + p]], [int(x) for x in ids[o + p : o + p + s]]


def _slots(schedule: Schedule, lang: str, kind: str) -> list[int]:
    """The repetition count of each canary of ``kind`` in ``lang``, in id order."""
    return [r for r in schedule.cfg.repetitions for _ in range(schedule.cfg.counts(kind).of(schedule.bins[lang]))]


def build_canaries(schedule: Schedule, ranked: Mapping[str, Sequence[tuple]], sp) -> list[dict]:
    """Every canary of the schedule, in id order, each with a private ``_group`` for placement.

    ``ranked`` maps a language to its eligible documents ``(rank, key, (folder, lang), ids)``
    (any order; they are sorted by rank here); ``sp`` is the SentencePiece processor.
    """
    cfg, seed = schedule.cfg, schedule.cfg.seed
    out: list[dict] = []

    def add(lang, kind, reps, group, **fields):
        cid = f"canary-{len(out):05d}"
        out.append({"id": cid, "kind": kind, "lang": lang, "lang_bin": schedule.bins[lang], "repetitions": reps,
                    **fields, "_group": list(group)})
        return cid

    for lang in sorted(schedule.bins):
        docs = sorted(ranked.get(lang, ()), key=lambda d: (d[0], d[1]))
        docs.reverse()  # pop() takes the best-ranked

        for reps in _slots(schedule, lang, "interleave"):
            if len(docs) < 2:
                break
            a, b = docs.pop(), docs.pop()
            ids = interleave_ids(a[3], b[3], cfg.block_tokens)
            prefix, suffix = audit_split(ids, cfg)
            add(lang, "interleave", reps, a[2], source_ids=[a[1], b[1]], text=sp.decode(ids), token_ids=ids,
                prefix_ids=prefix, suffix_ids=suffix)
        for reps in _slots(schedule, lang, "shuffle"):
            if not docs:
                break
            a = docs.pop()
            ids = shuffle_ids(a[3], _rng(seed, "shuffle", a[1]))
            prefix, suffix = audit_split(ids, cfg)
            add(lang, "shuffle", reps, a[2], source_ids=[a[1]], text=sp.decode(ids), token_ids=ids,
                prefix_ids=prefix, suffix_ids=suffix)
        for reps in _slots(schedule, lang, "secret"):
            n = len(out)
            groups = schedule.groups[lang]
            group = groups[int(hashlib.blake2b(f"{seed}\x00group\x00{n}".encode(), digest_size=8).hexdigest(), 16) % len(groups)]
            template = cfg.secret_templates[n % len(cfg.secret_templates)]
            add(lang, "secret", reps, group, source_ids=[], template=template)

    # Secrets: distinct across canaries, drawn in id order (references come later: draw_references).
    secrets = [c for c in out if c["kind"] == "secret"]
    taken: set[str] = set()
    for c in secrets:
        c["secret"] = draw_values(_rng(seed, "secret", c["id"]), cfg.secret_digits, 1, exclude=taken)[0]
        taken.add(c["secret"])
    for c in secrets:
        before, after = c["template"].split(SLOT)
        prefix, secret_ids = sp.encode(before), sp.encode(c["secret"])
        ids = prefix + secret_ids + (sp.encode(after) if after else [])
        c.update(text=before + c["secret"] + after, token_ids=ids, prefix_ids=prefix, secret_ids=secret_ids)
    return out


def draw_references(canaries: Sequence[dict], cfg: CanaryConfig) -> None:
    """Adds ``references`` to every secret canary: ``num_references`` values drawn like its secret, none inserted.

    Done on the driver when the record is written, so the job never carries them.
    """
    taken = {c["secret"] for c in canaries if c["kind"] == "secret"}
    for c in canaries:
        if c["kind"] == "secret":
            c["references"] = draw_values(_rng(cfg.seed, "references", c["id"]), cfg.secret_digits,
                                          cfg.num_references, exclude=taken)


def shortfalls(schedule: Schedule, canaries: Sequence[Mapping]) -> list[str]:
    """One line per language and kind that got fewer canaries than scheduled (too few source documents)."""
    got: dict[tuple[str, str], int] = {}
    for c in canaries:
        got[(c["lang"], c["kind"])] = got.get((c["lang"], c["kind"]), 0) + 1
    lines = []
    for lang in sorted(schedule.bins):
        for kind in KINDS:
            want = schedule.wanted(lang, kind)
            if got.get((lang, kind), 0) < want:
                lines.append(f"canaries: {lang}: {got.get((lang, kind), 0)} of {want} {kind} canaries "
                             f"(too few documents of {schedule.cfg.min_source_tokens}"
                             f"{'' if schedule.cfg.max_source_tokens is None else '-' + str(schedule.cfg.max_source_tokens)} tokens)")
    return lines


# ---------------------------------------------------------------------------
# Placement and packing
# ---------------------------------------------------------------------------


def is_canary(doc) -> bool:
    """Whether a packing element ``(sort key, tokens, group, coin)`` is a canary copy."""
    return len(doc[2]) == 3 and tuple(doc[2][:2]) == _CANARY_GROUP


def copy_elements(canary: Mapping, schedule_seed: int, recipe_seed: int, sources: Mapping[tuple[str, str], str],
                  buckets: Mapping[str, int]):
    """``((source, bucket), (sort key, ids + [eos], canary group, None))`` for each copy of ``canary``.

    A copy's sort key (its position in the bucket) and bucket come from a hash
    of (recipe seed, canary seed, id, copy); its source is the one it was drawn from.
    """
    source = sources[tuple(canary["_group"])]
    tokens = np.asarray(list(canary["token_ids"]) + [EOS_ID], dtype=np.int32)
    for k in range(canary["repetitions"]):
        sk = hashlib.blake2b(f"{recipe_seed}\x01\x00canary\x00{schedule_seed}\x00{canary['id']}\x01{k}".encode(),
                             digest_size=8).hexdigest()
        bucket = int(sk[:8], 16) % buckets[source]
        yield (source, bucket), (sk, tokens, (*_CANARY_GROUP, canary["id"]), None)


def clear_of_tail(docs: list, seq_len: int) -> list:
    """Documents in packing order → the same order, but with no canary copy in the dropped tail.

    A bucket drops its last ``len % seq_len`` tokens. Canary copies among the
    documents that reach into that tail move, in order, to just before them, so
    the tail holds real documents only and every copy is packed whole.
    """
    if not any(is_canary(d) for d in docs):
        return docs
    tail = sum(len(d[1]) for d in docs) % seq_len
    covered, moved, kept, i = 0, [], [], len(docs)
    while covered < tail and i > 0:
        i -= 1
        if is_canary(docs[i]):
            moved.append(docs[i])
        else:
            kept.append(docs[i])
            covered += len(docs[i][1])
    if covered < tail:
        raise RuntimeError(f"a packing bucket holds {covered} real tokens, fewer than its {tail}-token tail: "
                           "too little data around the canaries to pack them whole (plant fewer or larger sources)")
    return docs[:i] + moved[::-1] + kept[::-1]


# ---------------------------------------------------------------------------
# The Beam branch
# ---------------------------------------------------------------------------


def _eligible(t, schedule: Schedule):
    group, key, ids = t
    lang = group[1]
    cfg = schedule.cfg
    if lang in schedule.bins and schedule.source_docs(lang) > 0 and len(ids) >= cfg.min_source_tokens and (
            cfg.max_source_tokens is None or len(ids) <= cfg.max_source_tokens):
        rank = int(hashlib.blake2b(f"{cfg.seed}\x00source\x00{key}".encode(), digest_size=8).hexdigest(), 16)
        yield lang, (rank, key, tuple(group), list(ids))


def _rank(doc):
    return doc[0], doc[1]


def _trim(element, schedule: Schedule):
    lang, docs = element
    return lang, sorted(docs, key=_rank)[: schedule.source_docs(lang)]


class _Build(beam.DoFn):
    """All languages' ranked documents (one list) → one element: the list of canaries."""

    def __init__(self, schedule: Schedule, model_path: str):
        self.schedule, self.model_path = schedule, model_path

    def process(self, ranked):
        from apache_beam.io.filesystems import FileSystems
        from apache_beam.io.filesystem import CompressionTypes
        import sentencepiece as spm

        with FileSystems.open(self.model_path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            sp = spm.SentencePieceProcessor(model_proto=f.read())
        yield build_canaries(self.schedule, dict(ranked), sp)


def _write_partial(canaries, path: str) -> None:
    write_private(path, json.dumps({"canaries": canaries}, sort_keys=True).encode("utf-8"))


def _copies(canaries, schedule: Schedule, recipe_seed: int, sources, buckets):
    for c in canaries:
        yield from copy_elements(c, schedule.cfg.seed, recipe_seed, sources, buckets)


class PlantCanaries(beam.PTransform):
    """Encoded documents ``((folder, lang), key, ids)`` → packing elements of every canary copy.

    Also writes the canaries (without the driver's totals) to ``partial_path``.
    """

    def __init__(self, schedule: Schedule, model_path: str, partial_path: str, recipe_seed: int,
                 sources: Mapping[tuple[str, str], str], buckets: Mapping[str, int]):
        super().__init__()
        self.schedule, self.model_path, self.partial_path = schedule, model_path, partial_path
        self.recipe_seed, self.sources, self.buckets = recipe_seed, dict(sources), dict(buckets)

    def expand(self, docs):
        most = max([self.schedule.source_docs(lang) for lang in self.schedule.bins] + [1])
        canaries = (
            docs
            | "Eligible" >> beam.FlatMap(_eligible, self.schedule)
            | "TopPerLang" >> beam.combiners.Top.PerKey(most, key=_rank, reverse=True)
            | "Trim" >> beam.Map(_trim, self.schedule)
            | "Collect" >> beam.combiners.ToList()
            | "Build" >> beam.ParDo(_Build(self.schedule, self.model_path))
        )
        canaries | "WritePartial" >> beam.Map(_write_partial, self.partial_path)
        return canaries | "Copies" >> beam.FlatMap(_copies, self.schedule, self.recipe_seed, self.sources, self.buckets)


# ---------------------------------------------------------------------------
# Driver: the record beside the shards
# ---------------------------------------------------------------------------


def default_path(output: str) -> str:
    """``<shard folder>.canaries.json``: beside the shard folder, never inside it."""
    return os.path.abspath(output).rstrip("/") + ".canaries.json"


def write_private(path: str, data: bytes) -> None:
    """Writes ``data`` to a local ``path`` with mode 0600, through a temporary name and a rename."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    os.replace(tmp, path)


def budget_warning(total_canary_tokens: int, training_tokens: int, max_fraction: float) -> str | None:
    """The warning when canaries take more than ``max_fraction`` of the training tokens, else None."""
    if training_tokens <= 0 or total_canary_tokens <= max_fraction * training_tokens:
        return None
    return (f"canaries: {total_canary_tokens} canary tokens are {total_canary_tokens / training_tokens:.2%} of "
            f"{training_tokens} training tokens, above canaries.max_fraction={max_fraction:g}")


def remove_stale(output: str) -> None:
    """Removes ``default_path(output)`` left by an earlier run that planted canaries (this one plants none)."""
    path = default_path(output)
    if os.path.exists(path):
        log.warning("canaries: removing %s from an earlier run (this run plants no canaries)", path)
        os.remove(path)


def read_canaries(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class CanaryJob:
    """The driver's side of planting: the schedule before the job, canaries.json after it.

    ``run_tokenize`` makes one (``prepare``), adds ``transform()`` to its
    pipeline, passes ``tokens()`` to the manifest and calls ``finish``.
    """

    def __init__(self, cfg: CanaryConfig, plan, rates: Mapping[tuple[str, str], tuple], buckets: Mapping[str, int],
                 model_path: str, recipe_seed: int, path: str):
        self.cfg, self.model_path, self.recipe_seed, self.path = cfg, model_path, recipe_seed, os.path.abspath(path)
        self.sources = {group: r[0] for group, r in rates.items()}
        self.buckets = dict(buckets)
        self.schedule = make_schedule(cfg, plan, rates)
        self.partial_path = self.path + ".partial"
        self._canaries: list[dict] | None = None
        self.warnings: list[str] = []

    def prepare(self, output: str) -> None:
        """Refuses a record path inside the shard folder; removes an earlier partial record."""
        out = os.path.abspath(output).rstrip("/") + "/"
        if self.path.startswith(out):
            raise ValueError(f"canaries.json must be kept apart from the shards, not inside {output}: {self.path}")
        if os.path.exists(self.partial_path):
            os.remove(self.partial_path)

    def transform(self) -> PlantCanaries:
        return PlantCanaries(self.schedule, self.model_path, self.partial_path, self.recipe_seed, self.sources,
                             self.buckets)

    def canaries(self) -> list[dict]:
        if self._canaries is None:
            self._canaries = read_canaries(self.partial_path)["canaries"]
        return self._canaries

    def tokens(self) -> int:
        """Tokens of every planted copy, end-of-document ids not counted (the manifest's ``canary_tokens``)."""
        return sum(len(c["token_ids"]) * c["repetitions"] for c in self.canaries())

    def finish(self, manifest: Mapping) -> dict:
        """Writes canaries.json (mode 0600), logs shortfalls and the budget warning; returns the record."""
        canaries = [{k: v for k, v in c.items() if not k.startswith("_")} for c in self.canaries()]
        draw_references(canaries, self.cfg)
        record = {
            "format": FORMAT,
            "seed": self.cfg.seed,
            "vocab": {"path": os.path.abspath(self.model_path), "sha256": file_sha256(self.model_path)},
            "schedule": self.schedule.to_dict(),
            "total_canary_tokens": self.tokens(),
            "training_tokens": int(manifest["tokens"]),
            "canaries": canaries,
        }
        write_private(self.path, (json.dumps(record, sort_keys=True) + "\n").encode("utf-8"))
        os.remove(self.partial_path)
        self.warnings = shortfalls(self.schedule, canaries)
        for line in self.warnings:
            log.warning("%s", line)
        warning = budget_warning(record["total_canary_tokens"], record["training_tokens"], self.cfg.max_fraction)
        if warning:
            log.warning("%s", warning)
            self.warnings.append(warning)
        log.info("canaries: %d planted (%d tokens) → %s", len(canaries), record["total_canary_tokens"], self.path)
        return record
