"""Reading curated shards for the mixture stages, the tokenizer's training sample, and token counts.

Three Beam pieces live here, shared by ``palmkit tokenizer train``, ``palmkit
mix plan`` and ``palmkit tokenize``:

- ``list_curated`` / ``ReadCurated``: the curated tree
  ``CURATED/curated/<folder>/<lang>/part-*.jsonl.zst`` as
  ``(folder, lang, doc_id, text)`` tuples, one file per work item.
- ``sample_for_tokenizer``: a deterministic, recipe-weighted sample of
  curated text written as one-sentence-per-line files for SentencePiece.
  Shares come from the recipe with characters standing in for tokens (there
  is no vocabulary yet), so code and small languages get their share of the
  sample instead of their share of the raw corpus.
- ``count_tokens``: tokens per folder and language under a vocabulary,
  cached under a key made of the vocabulary's and every input file's sha256.

Sampling decisions are per document and per copy: copy *k* of a document is
kept when ``unit_hash(seed, key, k) < rate - k``, so a rate of 0.3 keeps about
30% of documents and 2.5 keeps every document twice and half of them three
times, the same ones on any runner and worker count.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import os
import posixpath
import shutil
import tempfile
from typing import Iterable, Iterator, Mapping

import apache_beam as beam
import zstandard
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from filters.toxicity import control_token
from mixtures.plan import make_plan
from mixtures.recipe import Recipe
from pipeline.writers import WriteJsonlShards, write_atomically

log = logging.getLogger(__name__)

CURATED = "curated"
COUNTS_FORMAT = "palmkit-token-counts-v1"


# ---------------------------------------------------------------------------
# Deterministic per-document decisions
# ---------------------------------------------------------------------------


def unit_hash(seed: int, key: str, copy: int = 0) -> float:
    """A uniform number in [0, 1) fixed by (seed, key, copy): the coin every sampling decision flips."""
    digest = hashlib.blake2b(f"{seed}\x00{key}\x00{copy}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def sort_key(seed: int, key: str, copy: int = 0) -> str:
    """A 16-hex-digit key fixed by (seed, key, copy); sorting by it is a seeded shuffle."""
    return hashlib.blake2b(f"{seed}\x01{key}\x01{copy}".encode("utf-8"), digest_size=8).hexdigest()


def copies(seed: int, key: str, rate: float) -> list[int]:
    """The copies of a document kept at sampling ``rate``: copy k survives when its coin is below rate - k."""
    return [k for k in range(math.ceil(rate)) if unit_hash(seed, key, k) < rate - k]


# ---------------------------------------------------------------------------
# The curated tree
# ---------------------------------------------------------------------------


def curated_root(directory: str) -> str:
    """``DIR/curated`` when DIR is a curate output folder, else DIR itself (already the curated/ folder)."""
    directory = directory.rstrip("/")
    nested = f"{directory}/{CURATED}"
    if "://" in directory:
        return nested if FileSystems.match([f"{nested}/*/*/*"])[0].metadata_list else directory
    return nested if os.path.isdir(nested) else directory


def list_curated(directory: str) -> dict[tuple[str, str], list[str]]:
    """``(folder, lang) → sorted shard paths`` of a curated tree; raises FileNotFoundError when empty."""
    root = curated_root(directory)
    pattern = f"{root}/*/*/part-*.jsonl*"
    matched = FileSystems.match([pattern])[0].metadata_list
    out: dict[tuple[str, str], list[str]] = {}
    for meta in matched:
        rel = meta.path[len(root) + 1:] if meta.path.startswith(root + "/") else meta.path
        parts = rel.split("/")
        if len(parts) != 3:
            continue
        out.setdefault((parts[0], parts[1]), []).append(meta.path)
    if not out:
        raise FileNotFoundError(f"no curated shards under {root} (expected {root}/<source>/<lang>/part-*.jsonl.zst)")
    return {k: sorted(v) for k, v in sorted(out.items())}


# A document that curate tagged with a toxicity level (meta.toxicity_level) reaches the
# encoder as CONTROL_MARK + level + CONTROL_MARK + text. NUL never occurs in curated text
# (readers refuse it and cleaning removes control characters), so the mark cannot be forged
# by a document; EncodeBatches turns it into the id of the control symbol <tox:level>, which
# SentencePiece itself never produces from text.
CONTROL_MARK = "\x00"


def read_curated_file(path: str, control_tokens: bool = False) -> Iterator[tuple[str, str]]:
    """``(doc_id, text)`` of every Document line in one curated shard (.jsonl or .jsonl.zst).

    With ``control_tokens``, a document's toxicity level (if curate tagged it)
    is marked at the start of its text for ``EncodeBatches``.
    """
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as raw:
        stream = zstandard.ZstdDecompressor().stream_reader(raw) if path.endswith((".zst", ".zstd")) else raw
        for line in io.TextIOWrapper(stream, encoding="utf-8", newline="\n"):
            if line.strip():
                record = json.loads(line)
                text = record["text"]
                level = (record.get("meta") or {}).get("toxicity_level") if control_tokens else None
                if level:
                    text = f"{CONTROL_MARK}{level}{CONTROL_MARK}{text}"
                yield str(record["id"]), text


def _read_item(item: tuple[str, str, str], control_tokens: bool = False) -> Iterator[tuple[str, str, str, str]]:
    folder, lang, path = item
    for doc_id, text in read_curated_file(path, control_tokens):
        yield folder, lang, doc_id, text


class ReadCurated(beam.PTransform):
    """``[(folder, lang, path)]`` → ``(folder, lang, doc_id, text)``, one shard per work item.

    ``control_tokens``: mark toxicity levels for the encoder (tokenize and token
    counts); off for the tokenizer's training sample.
    """

    def __init__(self, items: Iterable[tuple[str, str, str]], control_tokens: bool = False):
        super().__init__()
        self.items = sorted(items)
        self.control_tokens = control_tokens

    def expand(self, pbegin):
        return (
            pbegin
            | "Files" >> beam.Create(self.items)
            | "Spread" >> beam.Reshuffle()
            | "Read" >> beam.FlatMap(_read_item, self.control_tokens)
        )


def curated_items(files: Mapping[tuple[str, str], list[str]], keep: Iterable[tuple[str, str]] | None = None):
    keep = set(keep) if keep is not None else None
    return [(f, l, p) for (f, l), paths in files.items() if keep is None or (f, l) in keep for p in paths]


def text_bytes(path: str) -> int:
    """Uncompressed bytes of a curated shard: the size a zstd frame header records, else the file's size.

    What encoding a shard costs follows its text, not its compressed size:
    code compresses better than prose, so by compressed size a worker dealt
    code files gets more text.
    """
    if path.endswith((".zst", ".zstd")):
        with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            head = f.read(18)  # the longest zstd frame header
        try:
            size = zstandard.frame_content_size(head)
        except zstandard.ZstdError:
            size = -1
        if size >= 0:
            return size
    matched = FileSystems.match([path])[0].metadata_list
    return matched[0].size_in_bytes if matched else 0


def largest_first(items: Iterable[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Work items ``(folder, lang, path)`` by text size (``text_bytes``), largest first, ties by item.

    The DirectRunner deals a stage's input to its workers in turn, in the
    order it arrives, so this order gives each worker a share of large and
    small files alike; a runner that hands out work as workers free up starts
    the longest items first.
    """
    items = list(items)
    sizes = {p: text_bytes(p) for _, _, p in items}
    return sorted(items, key=lambda it: (-sizes[it[2]], it))


def dealt_in_turn(items: Iterable, cost: Mapping, workers: int) -> list:
    """Work items ordered so that dealing them to ``workers`` in turn gives each about the same ``cost``.

    The DirectRunner's multi-process mode deals a stage's input to its workers
    in turn (item *i* to worker *i* mod W). Items go largest first, a round of
    W at a time; in each round the largest goes to the least loaded worker so
    far, so every worker gets as many items as in a plain deal and the loads
    stay within about one small item of each other. The order in which items
    arrive changes no output of the jobs that use it, only how long they take.
    """
    items = sorted(items, key=lambda it: (-cost[it], it))
    if workers <= 1 or len(items) <= workers:
        return items
    loads = [0.0] * workers
    bins: list[list] = [[] for _ in range(workers)]
    for first in range(0, len(items), workers):
        least = sorted(range(workers), key=lambda b: (loads[b], b))
        for item, b in zip(items[first:first + workers], least):
            bins[b].append(item)
            loads[b] += cost[item]
    # A short last round went to the first bins in `least`: those deal first in every round.
    most = max(len(b) for b in bins)
    turn = [b for b in range(workers) if len(bins[b]) == most] + [b for b in range(workers) if len(bins[b]) < most]
    return [bins[b][j] for j in range(most) for b in turn if j < len(bins[b])]


# ---------------------------------------------------------------------------
# Encoding in batches, SentencePiece loaded once per worker
# ---------------------------------------------------------------------------


class EncodeBatches(beam.DoFn):
    """Batches of ``(…, text)`` tuples → the same tuples with the text replaced by its token ids.

    The processor is loaded once per worker in ``setup``; a whole batch goes
    to ``encode`` at once, which is where DirectRunner's per-element overhead
    stops dominating. ``lengths_only`` yields the token count instead of ids.
    """

    def __init__(self, model_path: str, lengths_only: bool = False):
        self.model_path = model_path
        self.lengths_only = lengths_only
        self._sp = None

    def setup(self):
        import sentencepiece as spm

        with FileSystems.open(self.model_path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
            proto = f.read()
        self._sp = spm.SentencePieceProcessor(model_proto=proto)

    def _split_control(self, text: str) -> tuple[list[int], str]:
        """``([control id], text)`` for a text marked by ``read_curated_file``, else ``([], text)``."""
        if not text.startswith(CONTROL_MARK):
            return [], text
        level, _, rest = text[1:].partition(CONTROL_MARK)
        piece = control_token(level)
        pid = self._sp.piece_to_id(piece)
        if self._sp.id_to_piece(pid) != piece:
            # A vocabulary built without this level's symbol: the document goes in untagged.
            beam.metrics.Metrics.counter("tokenize", f"control_token_missing:{piece}").inc()
            return [], rest
        beam.metrics.Metrics.counter("tokenize", f"control_token:{piece}").inc()
        return [pid], rest

    def process(self, batch):
        prefixes, texts = zip(*(self._split_control(item[-1]) for item in batch))
        # One thread per worker: Beam already runs a worker per core.
        encoded = self._sp.encode(list(texts), num_threads=1)
        for item, prefix, ids in zip(batch, prefixes, encoded):
            ids = prefix + ids if prefix else ids
            yield (*item[:-1], len(ids) if self.lengths_only else ids)


def batch_elements(max_batch: int = 512):
    return beam.BatchElements(min_batch_size=min(16, max_batch), max_batch_size=max_batch)


# ---------------------------------------------------------------------------
# Token counts (palmkit mix plan), cached by input checksums
# ---------------------------------------------------------------------------


def _sum2(rows):
    docs = tokens = 0
    for d, t in rows:
        docs, tokens = docs + d, tokens + t
    return docs, tokens


def _file_digest(path: str) -> str:
    h = hashlib.sha256()
    with FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED) as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def counts_key(files: Mapping[tuple[str, str], list[str]], model_path: str) -> str:
    """sha256 over the vocabulary's bytes and every shard's (folder, lang, name, sha256)."""
    h = hashlib.sha256()
    h.update(COUNTS_FORMAT.encode())
    h.update(_file_digest(model_path).encode())
    for (folder, lang), paths in sorted(files.items()):
        for path in paths:
            h.update(f"\x00{folder}/{lang}/{posixpath.basename(path)}:{_file_digest(path)}".encode())
    return h.hexdigest()


def count_tokens(curated_dir: str, model_path: str, options, cache_dir: str | None = None) -> dict:
    """``{folder: {lang: {"docs", "tokens"}}}``; ``tokens`` includes one end-of-document id per document.

    The answer is cached as ``cache_dir/<key>.json`` (see ``counts_key``), so
    planning twice over unchanged shards with the same vocabulary reads the
    corpus only to checksum it.
    """
    files = list_curated(curated_dir)
    key = counts_key(files, model_path)
    cache_path = f"{cache_dir.rstrip('/')}/{key}.json" if cache_dir else None
    if cache_path and FileSystems.exists(cache_path):
        with FileSystems.open(cache_path) as f:
            log.info("token counts from cache %s", cache_path)
            return json.loads(f.read().decode("utf-8"))["counts"]
    scratch = cache_dir or tempfile.mkdtemp(prefix="palmkit-counts-")  # removed below when ours
    out_path = f"{scratch.rstrip('/')}/.counts-{key}.json"
    with beam.Pipeline(options=options) as p:
        (
            p
            | "ReadCurated" >> ReadCurated(curated_items(files), control_tokens=True)
            | "Batch" >> batch_elements()
            | "Encode" >> beam.ParDo(EncodeBatches(model_path, lengths_only=True))
            # +1: every document is followed by an end-of-document id when packed.
            | "PerDoc" >> beam.Map(lambda t: ((t[0], t[1]), (1, t[3] + 1)))
            | "Sum" >> beam.CombinePerKey(_sum2)
            | "ToList" >> beam.combiners.ToList()
            | "Write" >> beam.Map(_write_counts, out_path)
        )
    with FileSystems.open(out_path) as f:
        record = json.loads(f.read().decode("utf-8"))
    FileSystems.delete([out_path])
    if not cache_dir:
        os.rmdir(scratch)
    record["key"] = key
    if cache_path:
        write_atomically(cache_path, json.dumps(record, indent=2, sort_keys=True).encode("utf-8"))
    return record["counts"]


def _write_counts(rows, path: str) -> None:
    counts: dict = {}
    for (folder, lang), (docs, tokens) in sorted(rows):
        counts.setdefault(folder, {})[lang] = {"docs": docs, "tokens": tokens}
    write_atomically(path, json.dumps({"format": COUNTS_FORMAT, "counts": counts}, sort_keys=True).encode("utf-8"))


def token_table(counts: Mapping[str, Mapping[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    """``{folder: {lang: tokens}}``: what ``mixtures.plan.make_plan`` takes."""
    return {folder: {lang: c["tokens"] for lang, c in langs.items()} for folder, langs in counts.items()}


# ---------------------------------------------------------------------------
# The tokenizer's training sample
# ---------------------------------------------------------------------------


def sentence_lines(text: str, max_bytes: int) -> list[str]:
    """The non-empty lines of ``text``, long ones cut at spaces into pieces under ``max_bytes``.

    SentencePiece skips training lines longer than ``max_sentence_length``
    bytes; long prose paragraphs would be lost without the cut.
    """
    out = []
    limit = max(16, max_bytes // 4)  # UTF-8 is at most 4 bytes per character
    for line in text.split("\n"):
        while len(line) > limit and len(line.encode("utf-8")) > max_bytes:
            cut = line.rfind(" ", limit // 2, limit)
            cut = cut if cut > 0 else limit
            out.append(line[:cut])
            line = line[cut:]
        if line.strip():
            out.append(line)
    return out


def sample_rates(recipe: Recipe, chars: Mapping[str, Mapping[str, int]], sample_chars: int,
                 max_epochs: float) -> dict[tuple[str, str], float]:
    """``(folder, lang) → rate`` so the sample holds about ``sample_chars`` characters split as the recipe says."""
    scaled = Recipe(
        name=recipe.name,
        total_tokens=max(1, int(sample_chars)),
        sources=recipe.sources,
        seq_len=recipe.seq_len,
        seed=recipe.seed,
    )
    plan = make_plan(scaled, chars)
    return {key: min(rate, max_epochs) for key, (_, rate) in plan.rates().items()}


def _sample_doc(t, rates, seed: int, max_bytes: int):
    folder, lang, doc_id, text = t
    rate = rates.get((folder, lang), 0.0)
    key = f"{folder}/{lang}/{doc_id}"
    for k in copies(seed, key, rate):
        base = sort_key(seed, key, k)
        for i, line in enumerate(sentence_lines(text, max_bytes)):
            yield "sample", f"{base}:{i:08d}", line


def sample_for_tokenizer(recipe: Recipe, curated_dir: str, output: str, options, *, sample_chars: int,
                         max_epochs: float = 4.0, max_bytes: int = 16_384, seed: int = 0,
                         lines_per_file: int = 1_000_000) -> dict:
    """Writes the recipe-weighted sample to ``output/sample/part-*.txt``; returns its files and rates.

    One pass counts characters per (folder, lang); the rates follow from the
    recipe (``sample_rates``); a second pass keeps each document's copies by
    their coins and writes its lines, shards and line order fixed by hashes.
    """
    files = list_curated(curated_dir)
    out = output.rstrip("/")
    chars_path = f"{out}/.chars.json"
    with beam.Pipeline(options=options) as p:
        (
            p
            | "ReadCurated" >> ReadCurated(curated_items(files))
            | "Chars" >> beam.Map(lambda t: ((t[0], t[1]), len(t[3])))
            | "Sum" >> beam.CombinePerKey(sum)
            | "ToList" >> beam.combiners.ToList()
            | "Write" >> beam.Map(lambda rows, path: write_atomically(path, json.dumps(sorted(rows)).encode()), chars_path)
        )
    with FileSystems.open(chars_path) as f:
        rows = json.loads(f.read().decode("utf-8"))
    FileSystems.delete([chars_path])
    chars: dict[str, dict[str, int]] = {}
    for (folder, lang), n in rows:
        chars.setdefault(folder, {})[lang] = n
    rates = sample_rates(recipe, chars, sample_chars, max_epochs)
    keep = [k for k, r in rates.items() if r > 0]
    if not keep:
        raise ValueError(f"the recipe {recipe.name!r} selects none of the curated folders under {curated_dir}")
    if "://" not in out:
        os.makedirs(out, exist_ok=True)
    summary_path = f"{out}/.sample-files.json"
    with beam.Pipeline(options=options) as p:
        (
            p
            | "ReadCurated" >> ReadCurated(curated_items(files, keep))
            | "Sample" >> beam.FlatMap(_sample_doc, rates, seed, max_bytes)
            | "WriteSample" >> WriteJsonlShards(out, ".txt", lines_per_file)
            | "ToList" >> beam.combiners.ToList()
            | "Summary" >> beam.Map(lambda rows, path: write_atomically(path, json.dumps(rows).encode()), summary_path)
        )
    sample_files = []
    if FileSystems.exists(summary_path):
        with FileSystems.open(summary_path) as f:
            sample_files = sorted(json.loads(f.read().decode("utf-8")), key=lambda r: r["file"])
        FileSystems.delete([summary_path])
    return {
        "files": [f"{out}/{r['file']}" for r in sample_files],
        "lines": sum(r["records"] for r in sample_files),
        "chars": chars,
        "rates": {f"{f}/{l}": r for (f, l), r in sorted(rates.items())},
    }


# ---------------------------------------------------------------------------
# palmkit tokenizer train: sample, then SentencePiece
# ---------------------------------------------------------------------------


def run_tokenizer_train(recipe: Recipe, curated_dir: str, model_path: str, cfg, options,
                        sample_dir: str | None = None) -> dict:
    """Draws the recipe-weighted sample (``sample_dir``, default ``<model stem>.sample/``) and trains on it.

    ``cfg`` is a ``mixtures.vocab.VocabConfig``. Returns the vocabulary's
    record (``mixtures.vocab.train_vocab``) with the sample's line count and rates.
    """
    from mixtures.vocab import train_vocab

    if not model_path.endswith(".model"):
        raise ValueError(f"the vocabulary path must end in .model, got {model_path}")
    sample_dir = sample_dir or model_path[: -len(".model")] + ".sample"
    if "://" not in sample_dir:
        # An earlier sample may have had a different number of parts.
        shutil.rmtree(os.path.join(sample_dir, "sample"), ignore_errors=True)
    sample = sample_for_tokenizer(
        recipe, curated_dir, sample_dir, options,
        sample_chars=cfg.sample_chars, max_epochs=cfg.max_sample_epochs,
        max_bytes=cfg.max_sentence_length, seed=cfg.seed,
    )
    if not sample["files"]:
        raise ValueError(f"the tokenizer sample from {curated_dir} is empty")
    log.info("tokenizer sample: %d lines in %d file(s)", sample["lines"], len(sample["files"]))
    record = train_vocab(sample["files"], model_path, cfg)
    record["sample"] = {"lines": sample["lines"], "rates": sample["rates"], "dir": sample_dir}
    return record
