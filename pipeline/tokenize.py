"""The tokenize job: curated shards + recipe + vocabulary → packed, shuffled token shards.

    read curated ─ sample/repeat per document ─ encode (batched) ─ bucket ─ pack ─ shuffle ─ write shards
                                                                                     └─ manifest.json (driver)

The same inputs and seed give the same bytes on any runner and worker count,
because nothing depends on the order elements arrive in:

1. **Sampling.** Each (folder, lang) has a rate from the plan (its epochs).
   Every document is kept ⌊rate⌋ times, and once more when its coin,
   ``unit_hash(seed, doc key, ⌊rate⌋)``, is at most the group's threshold.
   The threshold is chosen from all the group's coins and token counts so the
   partial copy supplies (rate − ⌊rate⌋) × the group's tokens to within half a
   document (``partial_copy_threshold``): a source hits its planned tokens
   even when its documents are few and uneven. Whether a copy is kept depends
   on the seed, its document's id and copy number, and the group's contents;
   never on the order documents arrive in. Only copies whose coin is within a
   bound just above the expected threshold (``candidate_bound``) travel to the
   packing step, which keeps those at or under the threshold.
2. **Packing.** Each kept copy gets a sort key, a hash of (seed, doc key, copy).
   Its source and the key pick a bucket; a bucket sorts its documents by key,
   joins them with the end-of-document id and cuts rows of exactly ``seq_len``
   tokens. The tail shorter than a row is dropped (no padding) and counted.
   A row holds tokens of one source only, so per-source accounting is exact.
3. **Shuffling.** Each row gets a key, a hash of (seed, source, bucket, row).
   The number of shards follows from the planned tokens; a row's shard is its
   key modulo that number; rows inside a shard are sorted by key. That is a
   seeded global shuffle without any worker seeing all rows.

Shards are written with ``mixtures.shards.write_shard``; the driver writes
``manifest.json`` last (token and example counts per source, per-shard
checksums, vocabulary checksum, recipe and plan), so a manifest marks a
complete run. ``run_demo_stages`` chains tokenizer training, the plan and this
job for ``palmkit demo``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems

from mixtures import shards as shard_format
from mixtures.plan import Plan, make_plan
from mixtures.recipe import Recipe
from mixtures.vocab import EOS_ID, file_sha256
from mixtures.vocab import load as load_vocab
from pipeline import canaries as canary_plant
from pipeline.sample import (
    EncodeBatches,
    ReadCurated,
    batch_elements,
    count_tokens,
    curated_items,
    list_curated,
    sort_key,
    token_table,
    unit_hash,
)
from pipeline.writers import write_atomically

log = logging.getLogger(__name__)

SUMMARY_DIR = "_summary"


@dataclasses.dataclass(frozen=True)
class TokenizeConfig:
    """How the job cuts its work; none of it changes which tokens end up in the shards except
    ``bucket_tokens`` (bucket boundaries decide which tails are dropped)."""

    examples_per_shard: int = 8192
    # Tokens per packing bucket: bounds the memory of one pack step.
    bucket_tokens: int = 64_000_000
    # Documents per SentencePiece call.
    batch_size: int = 512
    # Canaries planted among the documents (pipeline.canaries; off unless canaries.enabled).
    canaries: canary_plant.CanaryConfig = dataclasses.field(default_factory=canary_plant.CanaryConfig)

    def __post_init__(self):
        if self.examples_per_shard < 1 or self.bucket_tokens < 1 or self.batch_size < 1:
            raise ValueError("examples_per_shard, bucket_tokens and batch_size must be positive")


class EmptySourceError(ValueError):
    """A source with a positive share has no curated data: the mixture cannot be built."""


# ---------------------------------------------------------------------------
# Beam steps
# ---------------------------------------------------------------------------


def _keyed(t, rates: dict):
    """``(folder, lang, id, text)`` → ``((folder, lang), doc key, text)`` for groups the plan samples."""
    folder, lang, doc_id, text = t
    if (folder, lang) in rates:
        yield (folder, lang), f"{folder}/{lang}/{doc_id}", text


def _coin(t, rates: dict, seed: int):
    """``((folder, lang), (coin of the partial copy, tokens + 1))``: what the threshold is chosen from."""
    group, key, ids = t
    return group, (unit_hash(seed, key, math.floor(rates[group][1])), len(ids) + 1)


def partial_copy_threshold(coins, rate: float) -> float:
    """The coin threshold that makes the partial copy supply ``(rate − ⌊rate⌋) × group tokens``.

    ``coins`` are ``(coin, tokens)`` for every document of a group. Taking
    documents in coin order (a seeded shuffle) and stopping where the running
    total is closest to the target keeps the source within half a document of
    its plan; a coin below a fixed ``rate − ⌊rate⌋`` (plain Bernoulli) would
    miss it by a lot wherever documents are few or of very different sizes.
    Returns -1 when the partial copy keeps nothing.
    """
    frac = rate - math.floor(rate)
    if frac <= 0:
        return -1.0
    coins = sorted(coins)
    target = frac * sum(n for _, n in coins)
    best, best_err, total = -1.0, target, 0
    for coin, n in coins:
        total += n
        if abs(total - target) < best_err:
            best, best_err = coin, abs(total - target)
        if total >= target:
            break
    return best


def candidate_bound(rate: float, documents: int | None) -> float:
    """Coins above this bound are not sent on as partial-copy candidates.

    The threshold lands near ``rate − ⌊rate⌋``; how far above depends on how
    many documents share the group and how uneven they are. Four standard
    deviations of the token mass below a coin value (allowing a size spread
    of three times the mean) plus two documents' worth of slack keeps the
    threshold under the bound in practice, while a down-sampled source does
    not ship all its documents through the packing shuffle only to drop most
    of them. Unknown document counts send every document (bound 1).
    """
    frac = rate - math.floor(rate)
    if frac <= 0:
        return -1.0
    if not documents:
        return 1.0
    return min(1.0, frac + 4.0 * math.sqrt(10.0 * frac / documents) + 2.0 / documents)


def _threshold(element, rates: dict):
    group, coins = element
    return group, partial_copy_threshold(coins, rates[group][1])


def _to_buckets(t, rates: dict, buckets: dict, seed: int):
    """``((source, bucket), (sort key, ids + [eos], group, coin))`` per copy that may be kept.

    Copies 0 … ⌊rate⌋−1 are always kept (coin None); copy ⌊rate⌋ travels as a
    candidate when its coin is within the group's bound, and the pack step
    keeps it when the coin is at most the group's threshold.
    """
    group, key, ids = t
    source, rate, bound = rates[group]
    whole = math.floor(rate)
    copies = [(k, None) for k in range(whole)]
    coin = unit_hash(seed, key, whole)
    if coin <= bound:
        copies.append((whole, coin))
    if not copies:
        return
    tokens = np.asarray(ids + [EOS_ID], dtype=np.int32)
    for k, c in copies:
        sk = sort_key(seed, key, k)
        bucket = int(sk[:8], 16) % buckets[source]
        yield (source, bucket), (sk, tokens, group, c)


class PackBucket(beam.DoFn):
    """A bucket's documents → rows of exactly ``seq_len`` tokens, each keyed for the shuffle.

    Partial-copy candidates whose coin is above their group's threshold are
    dropped first. Main output: ``(row key, source, row)``. Tagged ``stats``:
    one ``(source, (documents, tokens, packed tokens, dropped tokens, rows))``.
    """

    def __init__(self, seq_len: int, seed: int):
        self.seq_len, self.seed = seq_len, seed

    def process(self, element, thresholds):
        (source, bucket), docs = element
        docs = [d for d in docs if d[3] is None or d[3] <= thresholds.get(d[2], -1.0)]
        keys = [d[0] for d in docs]
        if len(set(keys)) == len(keys):
            docs.sort(key=lambda d: d[0])
        else:  # the same document id twice in a group: break the tie by content
            docs.sort(key=lambda d: (d[0], d[1].tobytes()))
        docs = canary_plant.clear_of_tail(docs, self.seq_len)  # no canary copy in the dropped tail
        stream = np.concatenate([d[1] for d in docs]) if docs else np.zeros(0, np.int32)
        rows = len(stream) // self.seq_len
        packed = stream[: rows * self.seq_len].reshape(rows, self.seq_len)
        for i in range(rows):
            yield sort_key(self.seed, f"{source}/{bucket}", i), source, packed[i]
        yield beam.pvalue.TaggedOutput(
            "stats", (source, (len(docs), len(stream), rows * self.seq_len, len(stream) - rows * self.seq_len, rows))
        )


class WriteShardFn(beam.DoFn):
    """All rows of one shard, sorted by key, → ``mixtures.shards.write_shard``; yields the manifest entry."""

    def __init__(self, output: str):
        self.output = output

    def process(self, element):
        (shard, num_shards), rows = element
        rows = sorted(rows, key=lambda r: r[0])
        per_source: dict[str, int] = {}
        for _, source, _ in rows:
            per_source[source] = per_source.get(source, 0) + 1
        matrix = np.stack([r[2] for r in rows]).astype(np.int64)
        path = os.path.join(self.output, shard_format.shard_name(shard, num_shards))
        entry = shard_format.write_shard(path, matrix)
        beam.metrics.Metrics.counter("tokenize", "shards").inc()
        yield {"index": shard, "entry": entry, "sources": per_source}


def _assign_shard(row, num_shards: int):
    key, source, tokens = row
    return (int(key[:12], 16) % num_shards, num_shards), (key, source, tokens)


def _sum_stats(rows):
    out = [0, 0, 0, 0, 0]
    for r in rows:
        out = [a + b for a, b in zip(out, r)]
    return tuple(out)


def build_tokenize_pipeline(p, items, rates, buckets, num_shards: int, model_path: str, output: str,
                            recipe: Recipe, cfg: TokenizeConfig, canaries=None) -> None:
    """Adds the tokenize job to ``p``; its summary lands in ``output/_summary/``.

    ``rates`` maps each sampled (folder, lang) to (source, rate, candidate bound).
    Encoded documents flow straight into the packing shuffle; only their coins
    and lengths take the side branch that picks each group's threshold.
    ``canaries`` (a ``pipeline.canaries.CanaryJob``) adds the canary copies to the packing buckets.
    """
    seed = recipe.seed
    docs = (
        p
        | "ReadCurated" >> ReadCurated(items, control_tokens=True)
        | "Key" >> beam.FlatMap(_keyed, rates)
        | "Batch" >> batch_elements(cfg.batch_size)
        | "Encode" >> beam.ParDo(EncodeBatches(model_path))
    )
    thresholds = (
        docs
        | "Coins" >> beam.Map(_coin, rates, seed)
        | "GroupCoins" >> beam.GroupByKey()
        | "Threshold" >> beam.Map(_threshold, rates)
    )
    bucketed = docs | "Bucket" >> beam.FlatMap(_to_buckets, rates, buckets, seed)
    if canaries is not None:
        bucketed = (bucketed, docs | "Canaries" >> canaries.transform()) | "WithCanaries" >> beam.Flatten()
    packed = (
        bucketed
        | "GroupBucket" >> beam.GroupByKey()
        | "Pack" >> beam.ParDo(PackBucket(recipe.seq_len, seed), beam.pvalue.AsDict(thresholds)).with_outputs("stats", main="rows")
    )
    shard_entries = (
        packed.rows
        | "AssignShard" >> beam.Map(_assign_shard, num_shards)
        | "GroupShard" >> beam.GroupByKey()
        | "WriteShard" >> beam.ParDo(WriteShardFn(output))
    )
    summary = f"{output}/{SUMMARY_DIR}"
    (
        shard_entries
        | "ShardList" >> beam.combiners.ToList()
        | "WriteShardList" >> beam.Map(lambda es, d: write_atomically(f"{d}/shards.json", json.dumps(es, sort_keys=True).encode()), summary)
    )
    (
        packed.stats
        | "SumStats" >> beam.CombinePerKey(_sum_stats)
        | "StatsList" >> beam.combiners.ToList()
        | "WriteStats" >> beam.Map(lambda st, d: write_atomically(f"{d}/sources.json", json.dumps(sorted(st)).encode()), summary)
    )


# ---------------------------------------------------------------------------
# Driver
# ---------------------------------------------------------------------------

_OUTPUT_RE = re.compile(r"^(shard-\d{5}-of-\d{5}\.(tfrecord|idx)|manifest\.json)$")


def clear_outputs(output: str) -> None:
    """Removes shards, indexes, manifest and summary of an earlier run (and nothing else)."""
    if not os.path.isdir(output):
        return
    for name in os.listdir(output):
        if _OUTPUT_RE.match(name) or name.endswith(".tmp"):
            os.remove(os.path.join(output, name))
    summary = os.path.join(output, SUMMARY_DIR)
    if os.path.isdir(summary):
        for name in os.listdir(summary):
            os.remove(os.path.join(summary, name))
        os.rmdir(summary)


def shard_count(plan: Plan, seq_len: int, examples_per_shard: int) -> int:
    """Shards for the planned tokens: fixed before the job, so a row's shard is known when it is made."""
    return max(1, math.ceil(plan.planned_tokens / seq_len / examples_per_shard))


def group_rates(plan: Plan) -> dict[tuple[str, str], tuple[str, float, float]]:
    """``(folder, lang) → (source, rate, candidate bound)`` for every group the plan samples."""
    out = {}
    for (folder, lang), (source, rate) in plan.rates().items():
        if rate > 0:
            docs = plan.documents.get(folder, {}).get(lang)
            out[(folder, lang)] = (source, rate, candidate_bound(rate, docs))
    return out


def bucket_counts(plan: Plan, bucket_tokens: int) -> dict[str, int]:
    """Buckets per source, from its planned tokens: fixed before the job, so the same on every worker."""
    return {sp.name: max(1, math.ceil(sp.planned / bucket_tokens)) for sp in plan.sources}


def plan_for(recipe: Recipe, curated_dir: str, model_path: str, options, cache_dir: str | None = None) -> Plan:
    """Counts tokens (cached) and makes the recipe's plan."""
    counts = count_tokens(curated_dir, model_path, options, cache_dir)
    documents = {folder: {lang: c["docs"] for lang, c in langs.items()} for folder, langs in counts.items()}
    return make_plan(recipe, token_table(counts), documents=documents)


def run_tokenize(recipe: Recipe, curated_dir: str, model_path: str, output: str, options,
                 cfg: TokenizeConfig | None = None, plan: Plan | None = None, cache_dir: str | None = None,
                 canaries_out: str | None = None) -> dict:
    """Runs the whole job and returns the manifest it wrote to ``output/manifest.json``.

    With ``cfg.canaries.enabled`` it plants canaries and writes their record to
    ``canaries_out`` (default ``<output>.canaries.json``, beside the shards).

    ``plan`` defaults to a fresh plan (token counts cached in ``cache_dir``).
    Raises EmptySourceError when a source with a positive share has no data.
    """
    cfg = cfg or TokenizeConfig()
    if "://" in output:
        raise ValueError("token shards are written to a local folder (mixtures.shards writes local files)")
    if plan is None:
        plan = plan_for(recipe, curated_dir, model_path, options, cache_dir)
    for sp in plan.sources:
        if sp.wanted > 0 and sp.available == 0:
            raise EmptySourceError(f"source {sp.name!r} has share {sp.share:g} but no curated data under {', '.join(sp.paths)}")
    for warning in plan.warnings:
        log.warning("plan: %s", warning)
    rates = group_rates(plan)
    files = list_curated(curated_dir)
    items = curated_items(files, rates)
    buckets = bucket_counts(plan, cfg.bucket_tokens)
    num_shards = shard_count(plan, recipe.seq_len, cfg.examples_per_shard)
    output = os.path.abspath(output)
    job = None
    if cfg.canaries.enabled:
        job = canary_plant.CanaryJob(cfg.canaries, plan, rates, buckets, model_path, recipe.seed,
                                     canaries_out or canary_plant.default_path(output))
        job.prepare(output)
    else:
        canary_plant.remove_stale(output)
    clear_outputs(output)
    os.makedirs(output, exist_ok=True)
    with beam.Pipeline(options=options) as p:
        build_tokenize_pipeline(p, items, rates, buckets, num_shards, model_path, output, recipe, cfg, canaries=job)
    manifest = finish_tokenize(recipe, plan, model_path, output, cfg, num_shards, job.tokens() if job else 0)
    if job:
        job.finish(manifest)
    return manifest


def _read_json(path: str, default):
    if not FileSystems.exists(path):
        return default
    with FileSystems.open(path) as f:
        return json.loads(f.read().decode("utf-8"))


def finish_tokenize(recipe: Recipe, plan: Plan, model_path: str, output: str, cfg: TokenizeConfig,
                    num_shards: int, canary_tokens: int = 0) -> dict:
    """Driver side, after the job: fills shards no row hashed to, writes manifest.json last."""
    summary = os.path.join(output, SUMMARY_DIR)
    written = _read_json(os.path.join(summary, "shards.json"), [])
    stats = {source: s for source, s in _read_json(os.path.join(summary, "sources.json"), [])}
    seq_len = recipe.seq_len
    by_index = {w["index"]: w["entry"] for w in written}
    entries = []
    for i in range(num_shards):
        entry = by_index.get(i)
        if entry is None:  # a shard no row hashed to still exists, empty, so the file names add up
            entry = shard_format.write_shard(os.path.join(output, shard_format.shard_name(i, num_shards)),
                                             np.zeros((0, seq_len), np.int64))
        entries.append(entry)
    examples_per_source: dict[str, int] = {}
    for w in written:
        for source, n in w["sources"].items():
            examples_per_source[source] = examples_per_source.get(source, 0) + n
    sources = {}
    for sp in plan.sources:
        docs, doc_tokens, packed, dropped, rows = stats.get(sp.name, (0, 0, 0, 0, 0))
        if rows != examples_per_source.get(sp.name, 0):
            raise RuntimeError(f"{sp.name}: packed {rows} rows but shards hold {examples_per_source.get(sp.name, 0)}")
        sources[sp.name] = {
            "share": sp.share,
            "planned_tokens": round(sp.planned),
            "available_tokens": sp.available,
            "epochs": sp.epochs,
            "documents": docs,  # kept copies, repeats counted
            "document_tokens": doc_tokens,  # their tokens, end-of-document ids included
            "dropped_tokens": dropped,  # bucket tails shorter than a row
            "examples": rows,
            "tokens": packed,
        }
    manifest = shard_format.write_manifest(
        output,
        seq_len,
        # size: the piece count, which the trainer checks model.vocab_size against.
        vocab={"path": os.path.abspath(model_path), "sha256": file_sha256(model_path),
               "size": load_vocab(model_path).get_piece_size()},
        shards=entries,
        examples=sum(e["examples"] for e in entries),
        tokens=sum(e["examples"] for e in entries) * seq_len,
        # Tokens of planted canary copies (counted in the totals above too); which ones is in canaries.json only.
        canary_tokens=canary_tokens,
        sources=sources,
        seed=recipe.seed,
        eos_id=EOS_ID,
        recipe=recipe.to_dict(),
        plan=plan.to_dict(),
        # No runner or worker count here: the manifest is as byte-identical as the shards.
        job={"examples_per_shard": cfg.examples_per_shard, "bucket_tokens": cfg.bucket_tokens},
    )
    for name in os.listdir(summary):
        os.remove(os.path.join(summary, name))
    os.rmdir(summary)
    return manifest
