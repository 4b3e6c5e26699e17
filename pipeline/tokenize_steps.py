"""The tokenize job's Beam steps: read, sample and encode; pick thresholds; pack; write shards.

``build_tokenize_pipeline`` adds them to a pipeline; ``pipeline.tokenize``
holds the config and the driver that plans the job, runs it and writes the
manifest, and its docstring describes the design (exchange files, sampling,
packing, shuffling) these steps implement. This module holds the read/encode
side (ReadEncode, thresholds, the packing element, exchange files);
the pack and write steps are in ``pipeline.tokenize_pack``.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import os
from typing import TYPE_CHECKING

import apache_beam as beam
import numpy as np

from mixtures.recipe import Recipe
from mixtures.vocab import EOS_ID
from pipeline.sample import EncodeBatches, read_curated_file, sort_key, unit_hash
from pipeline.tokenize_pack import PackBucket, WriteShardFn, _write_arrays

if TYPE_CHECKING:
    from pipeline.tokenize import TokenizeConfig

SUMMARY_DIR = "_summary"
# Token batches and packed rows between steps, as files (see build_tokenize_pipeline); removed by finish_tokenize.
EXCHANGE_DIR = "_exchange"


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
    """``(group, [(coins, tokens + 1) arrays per batch])`` → ``(group, threshold)``."""
    group, parts = element
    coins = np.concatenate([np.frombuffer(c, "<f8") for c, _ in parts])
    sizes = np.concatenate([np.frombuffer(n, "<i8") for _, n in parts])
    return group, partial_copy_threshold(zip(coins.tolist(), sizes.tolist()), rates[group][1])


# A packing element is a batch of document copies bound for one bucket, as plain bytes so
# that Beam's coder copies it without pickling:
#     ((source, bucket), (group, keys, coins, lengths, tokens))
# group: the (folder, lang) of every copy in the batch (a canary copy: its canary group);
# keys: "<u8" sort keys (``int(sort_key(…), 16)``); coins: "<f8", NaN for a copy that is
# always kept; lengths: "<i4" tokens per copy, end-of-document id included; tokens: the
# copies' tokens one after another, as ``token_dtype`` (two bytes a token for vocabularies
# of up to 65,536 pieces: half the bytes through both shuffles).
_NO_COIN = float("nan")


def token_dtype(vocab_size: int) -> str:
    """The narrowest dtype that holds every id of a vocabulary: "<u2" up to 65,536 pieces, else "<i4"."""
    return "<u2" if vocab_size <= 1 << 16 else "<i4"


def _batch_value(group, keys, coins, lengths, tokens: np.ndarray, dtype: str):
    return (tuple(group), np.asarray(keys, "<u8").tobytes(), np.asarray(coins, "<f8").tobytes(),
            np.asarray(lengths, "<i4").tobytes(), np.ascontiguousarray(tokens, dtype).tobytes())


def _canary_batch(element, dtype: str):
    """A canary copy ``((source, bucket), (sort key, ids + [eos], group, None))`` → a packing batch of one."""
    where, (sk, tokens, group, coin) = element
    return where, _batch_value(group, [int(sk, 16)], [_NO_COIN if coin is None else coin], [len(tokens)], tokens, dtype)


def _exchange_name(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:20]


def _write_copies(exchange: str, path: str, group, held: dict):
    """One curated file's packing batches → ``copies-<hash of path>.bin`` in the exchange folder.

    Per (source, bucket), in sorted order, one section: sort keys "<u8", coins
    "<f8", lengths "<i4", tokens. Yields ``((source, bucket), (group, file,
    offset, copies, tokens))``: a few bytes through the shuffle, where the
    tokens were before.
    """
    out = os.path.join(exchange, f"copies-{_exchange_name(path)}.bin")
    arrays, sections = [], []
    for where in sorted(held):
        parts = held[where]
        keys, coins, lengths, tokens = (np.concatenate([b[i] for b in parts]) for i in range(4))
        arrays += [keys.astype("<u8"), coins.astype("<f8"), lengths.astype("<i4"), tokens]
        sections.append((where, len(keys), len(tokens)))
    offsets = _write_arrays(out, arrays)
    for i, (where, n, t) in enumerate(sections):
        yield where, (tuple(group), out, offsets[4 * i], n, t)


class ReadEncode(beam.DoFn):
    """A curated shard ``(folder, lang, path)`` → packing batches, read, sampled and encoded in one step.

    Documents go to SentencePiece ``batch_size`` at a time and leave as one
    element per (batch, bucket) with their tokens as bytes: no per-document
    Beam element, pickling or shuffle entry anywhere on the token path.

    Copies 0 … ⌊rate⌋−1 of a document are always kept (no coin); copy ⌊rate⌋
    travels as a candidate when its coin is within the group's bound, and the
    pack step keeps it when the coin is at most the group's threshold.

    Tagged ``coins`` (groups with a fractional rate only):
    ``(group, (coins, tokens + 1))`` of every document, the threshold's input.
    Tagged ``docs`` (with ``with_docs``, for the canary branch): ``(group, doc key, ids)``.
    """

    def __init__(self, model_path: str, rates: dict, buckets: dict, seed: int, batch_size: int,
                 dtype: str = "<i4", with_docs: bool = False, exchange: str | None = None):
        self.model_path, self.rates, self.buckets, self.seed = model_path, rates, buckets, seed
        self.batch_size, self.dtype, self.with_docs, self.exchange = batch_size, dtype, with_docs, exchange
        self._encoder = None

    def setup(self):
        self._encoder = EncodeBatches(self.model_path)
        self._encoder.setup()

    def process(self, item):
        folder, lang, path = item
        if (folder, lang) not in self.rates:
            return
        keys, texts = [], []
        held: dict = {}  # (source, bucket) → this file's batches for it, written to one exchange file below
        for doc_id, text in read_curated_file(path, control_tokens=True):
            keys.append(f"{folder}/{lang}/{doc_id}")
            texts.append(text)
            if len(texts) >= self.batch_size:
                yield from self._batch((folder, lang), keys, texts, held)
                keys, texts = [], []
        if texts:
            yield from self._batch((folder, lang), keys, texts, held)
        if held:
            yield from _write_copies(self.exchange, path, (folder, lang), held)

    def _batch(self, group, keys, texts, held: dict | None = None):
        source, rate, bound = self.rates[group]
        split = [self._encoder._split_control(t) for t in texts]
        encoded = self._encoder._sp.encode([t for _, t in split], num_threads=1)
        lengths = np.empty(len(keys), np.int64)
        for i, ((prefix, _), ids) in enumerate(zip(split, encoded)):
            if prefix:
                encoded[i] = ids = prefix + ids
            lengths[i] = len(ids) + 1
        total = int(lengths.sum())
        flat = np.fromiter(itertools.chain.from_iterable(itertools.chain(ids, (EOS_ID,)) for ids in encoded),
                           self.dtype, count=total)
        ends = np.cumsum(lengths)
        starts = ends - lengths
        if self.with_docs:
            for key, ids in zip(keys, encoded):
                yield beam.pvalue.TaggedOutput("docs", (group, key, ids))
        whole = math.floor(rate)
        if bound >= 0:  # a fractional rate: every document's coin feeds the threshold
            coins = [unit_hash(self.seed, key, whole) for key in keys]
            yield beam.pvalue.TaggedOutput("coins", (group, (np.asarray(coins, "<f8").tobytes(), lengths.astype("<i8").tobytes())))
        else:
            coins = None
        # Every copy: (document index, sort key, coin), copies 0 … ⌊rate⌋−1 first, then the candidates.
        docs = list(range(len(keys))) * whole
        sks = [int(sort_key(self.seed, key, k), 16) for k in range(whole) for key in keys]
        cs = [_NO_COIN] * len(sks)
        if coins is not None:
            for i, (key, coin) in enumerate(zip(keys, coins)):
                if coin <= bound:
                    docs.append(i)
                    sks.append(int(sort_key(self.seed, key, whole), 16))
                    cs.append(coin)
        if not docs:
            return
        docs, sks, cs = np.asarray(docs, np.int64), np.asarray(sks, np.uint64), np.asarray(cs, np.float64)
        nb = self.buckets[source]
        where = (sks >> np.uint64(32)) % np.uint64(nb)
        for bucket in np.unique(where).tolist():
            mine = np.flatnonzero(where == bucket)
            if len(mine) == len(keys) and (docs[mine] == np.arange(len(keys))).all():
                tokens = flat  # every document once, in order: the batch as encoded
            else:
                tokens = np.concatenate([flat[starts[i]:ends[i]] for i in docs[mine].tolist()])
            batch = (sks[mine], cs[mine], lengths[docs[mine]], tokens)
            if held is None or self.exchange is None:
                yield (source, bucket), _batch_value(group, *batch, self.dtype)
            else:
                held.setdefault((source, bucket), []).append(batch)


def build_tokenize_pipeline(p, items, rates, buckets, num_shards: int, model_path: str, output: str,
                            recipe: Recipe, cfg: TokenizeConfig, canaries=None, dtype: str = "<i4") -> None:
    """Adds the tokenize job to ``p``; its summary lands in ``output/_summary/``.

    ``rates`` maps each sampled (folder, lang) to (source, rate, candidate bound);
    ``dtype`` is the tokens' dtype between steps (``token_dtype``). Two
    shuffles: packing batches by bucket, then rows by shard. Neither carries
    tokens: ReadEncode writes each curated file's batches to one file in
    ``output/_exchange/``, Pack lays out rows as pieces of those files from
    the copies' keys and lengths, and WriteShard gathers them. On the
    DirectRunner with worker processes every shuffled byte passes through
    the runner process, twice per shuffle; through files, the steps read
    what they need from the page cache (the output folder is local anyway).
    Only groups with a fractional rate send coins down the side branch that
    picks their threshold. ``canaries`` (a ``pipeline.canaries.CanaryJob``)
    adds the canary copies to the packing buckets, carried in the elements.
    """
    seed = recipe.seed
    summary = f"{output}/{SUMMARY_DIR}"
    exchange = f"{output}/{EXCHANGE_DIR}"
    fractional = any(bound >= 0 for _, _, bound in rates.values())
    tags = (["coins"] if fractional else []) + (["docs"] if canaries is not None else [])
    read = (
        p
        # In the order given (run_tokenize: dealt_in_turn); Create reshuffles, spreading files over workers.
        | "Files" >> beam.Create(list(items))
        | "ReadEncode" >> beam.ParDo(ReadEncode(model_path, rates, buckets, seed, cfg.batch_size, dtype,
                                                with_docs=canaries is not None, exchange=exchange)
                                     ).with_outputs(*tags, main="batches")
    )
    side = []
    if fractional:
        side = [beam.pvalue.AsDict(
            read.coins
            | "GroupCoins" >> beam.GroupByKey()
            | "Threshold" >> beam.Map(_threshold, rates)
        )]
    bucketed = read.batches
    if canaries is not None:
        planted = read.docs | "Canaries" >> canaries.transform() | "CanaryBatches" >> beam.Map(_canary_batch, dtype)
        bucketed = (bucketed, planted) | "WithCanaries" >> beam.Flatten()
    (
        bucketed
        | "GroupBucket" >> beam.GroupByKey()
        | "Pack" >> beam.ParDo(PackBucket(recipe.seq_len, seed, num_shards, dtype, summary, exchange), *side)
        | "GroupShard" >> beam.GroupByKey()
        | "WriteShard" >> beam.ParDo(WriteShardFn(output, recipe.seq_len, dtype, summary))
    )
