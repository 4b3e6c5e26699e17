"""The tokenize job: curated shards + recipe + vocabulary → packed, shuffled token shards.

    curated shard ─ read, sample/repeat, encode, bucket ─┬─ GroupByKey(bucket) ─ pack ─ GroupByKey(shard) ─ write shards
       (one work item)   (one DoFn, batches of documents) └─ coins ─ threshold (side input; fractional rates only)
                                                                          summary files ─ manifest.json (driver)

Between steps, tokens travel as files in ``<output>/_exchange/`` (removed
when the manifest is written), in the narrowest dtype the vocabulary allows
(``token_dtype``): each curated file's encoded copies, per bucket, in one
file. Pack reads only the copies' sort keys and lengths and lays the rows out
as pieces of those files (file, byte offset, tokens); the shard writer gathers
its rows from them. So the shuffles carry only references, no token passes
through a runner process, is read by Pack or written twice, and there is no
per-document element on the token path. The canary branch alone sees
per-document elements; its copies reach the packing buckets inside their
elements, and a bucket with canaries (or two copies with the same sort key)
is packed from its tokens and writes its rows, ordered by shard, to an
exchange file of its own.

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

Shards are written with ``mixtures.shards.write_shard``; each pack and write
step leaves its counts in ``_summary/`` and the driver writes
``manifest.json`` last (token and example counts per source, per-shard
checksums, vocabulary checksum, recipe and plan), so a manifest marks a
complete run. ``run_demo_stages`` chains tokenizer training, the plan and this
job for ``palmkit demo``.

This module holds the config and the driver (plan, work items, buckets,
shard count, manifest); the Beam steps are in ``pipeline.tokenize_steps``
(reading, sampling, encoding, and the pipeline itself) and
``pipeline.tokenize_pack`` (packing rows and writing shards).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
import shutil

import apache_beam as beam
import numpy as np
from apache_beam.io.filesystems import FileSystems

from mixtures import shards as shard_format
from mixtures.plan import Plan, make_plan
from mixtures.recipe import Recipe
from mixtures.vocab import EOS_ID, file_sha256
from mixtures.vocab import load as load_vocab
from pipeline import canaries as canary_plant
from pipeline.sample import count_tokens, curated_items, dealt_in_turn, list_curated, text_bytes, token_table
from pipeline.tokenize_steps import EXCHANGE_DIR, SUMMARY_DIR, build_tokenize_pipeline, candidate_bound, token_dtype

log = logging.getLogger(__name__)


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
    shutil.rmtree(os.path.join(output, EXCHANGE_DIR), ignore_errors=True)


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


def encode_costs(items, plan: Plan, rates: dict) -> dict:
    """Work item ``(folder, lang, path)`` → its estimated tokens: text bytes × its (source, lang)'s tokens per byte.

    Encoding time follows tokens more closely than text: code has more tokens
    per byte than prose (0.30 against 0.25 in the 96 MB benchmark) and costs
    more per byte to encode (about 116 against 86 ns).
    """
    sizes = {it: text_bytes(it[2]) for it in items}
    tokens = {(sp.name, lp.lang): lp.available for sp in plan.sources for lp in sp.languages}
    group = {it: (rates[(it[0], it[1])][0], it[1]) for it in items}
    text: dict = {}
    for it in items:
        text[group[it]] = text.get(group[it], 0) + sizes[it]
    overall = sum(tokens.get(g, 0) for g in text) / max(1, sum(text.values())) or 1.0
    per_byte = {g: tokens[g] / n if tokens.get(g) and n else overall for g, n in text.items()}
    return {it: sizes[it] * per_byte[group[it]] for it in items}


def dealt_workers(options) -> int:
    """How many workers the runner deals the work items to in turn: DirectRunner processes, else 1 (no deal)."""
    from apache_beam.options.pipeline_options import DirectOptions, StandardOptions

    runner = options.view_as(StandardOptions).runner
    direct = options.view_as(DirectOptions)
    if (runner is None or "DirectRunner" in str(runner)) and direct.direct_running_mode == "multi_processing":
        return direct.direct_num_workers or os.cpu_count() or 1
    return 1


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
    items = dealt_in_turn(items, encode_costs(items, plan, rates), dealt_workers(options))
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
        build_tokenize_pipeline(p, items, rates, buckets, num_shards, model_path, output, recipe, cfg, canaries=job,
                                dtype=token_dtype(load_vocab(model_path).get_piece_size()))
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
    names = sorted(os.listdir(summary)) if os.path.isdir(summary) else []
    written = [_read_json(os.path.join(summary, n), None) for n in names if n.startswith("shard-") and n.endswith(".json")]
    stats: dict[str, tuple] = {}
    for n in names:
        if n.startswith("pack-") and n.endswith(".json"):
            source, s = _read_json(os.path.join(summary, n), None)
            stats[source] = tuple(a + b for a, b in zip(stats.get(source, (0, 0, 0, 0, 0)), s))
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
    for name in names:
        os.remove(os.path.join(summary, name))
    if os.path.isdir(summary):
        os.rmdir(summary)
    shutil.rmtree(os.path.join(output, EXCHANGE_DIR), ignore_errors=True)
    return manifest
