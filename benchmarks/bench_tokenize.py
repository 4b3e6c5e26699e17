"""Throughput of ``palmkit tokenize`` against SentencePiece's own encoder, on the same text and cores.

    .venv/bin/python benchmarks/bench_tokenize.py [--mb 24] [--workers 1,2] [--repeats 3]

Builds a curated tree from real text on this machine (the Python standard
library's and installed packages' source files as code documents, their
docstrings as English prose), trains a vocabulary on it, then alternates, ``--repeats`` times:

- raw: ``SentencePieceProcessor.encode(all texts, num_threads=W)``, texts
  already in memory: the ceiling, nothing but encoding;
- raw, batched: the same texts in calls of 512 × W texts (``num_threads=W``),
  as the job calls the encoder: a stricter ceiling, since one call over all
  texts also pays for building every id as a Python int at once;
- palmkit: the tokenize job (``pipeline.tokenize.run_tokenize``) on the
  DirectRunner with W workers (in memory for 1, processes above), every source at rate 1 so it
  encodes exactly the same texts, and also reads and parses the shards,
  packs, shuffles and writes token shards with checksums.

All rates are the same token count (the texts' tokens) over wall time, so
their ratio is the share of raw encoding speed the whole job keeps. CPU
seconds (this process and its finished children: the DirectRunner's worker
processes) are printed too: on a shared machine they move less with other
jobs' load than wall time does. The plan
(token counts) is made once beforehand, as ``palmkit mix plan`` would cache it.
Prints medians; this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import ast
import json
import logging
import os
import platform
import resource
import statistics
import sys
import sysconfig
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import zstandard  # noqa: E402

from mixtures.recipe import recipe_from_dict  # noqa: E402
from mixtures.shards import ShardSet, write_shard  # noqa: E402
from mixtures.vocab import VocabConfig, load, train_vocab  # noqa: E402
from pipeline.options import build_options  # noqa: E402
from pipeline.sample import sentence_lines  # noqa: E402
from pipeline.tokenize import TokenizeConfig, plan_for, run_tokenize  # noqa: E402


def python_documents(limit_bytes: int) -> tuple[list[dict], list[dict]]:
    """(code, prose) documents from this Python's standard library and installed packages.

    Code: whole ``.py`` files. Prose: their docstrings longer than 200
    characters (English). Prose is taken up to half of ``limit_bytes``, code
    fills the rest; the walk is sorted, so the corpus is the same on every run.
    """
    roots = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    paths = []
    for root in roots:
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in ("test", "tests", "idlelib", "__pycache__")
                             and not (directory == roots[0] and d == "site-packages"))
            paths += [os.path.join(directory, f) for f in sorted(files) if f.endswith(".py")]
    code, prose, code_bytes, prose_bytes = [], [], 0, 0
    for path in paths:
        if code_bytes + prose_bytes >= limit_bytes:
            break
        try:
            text = open(path, encoding="utf-8").read()
            tree = ast.parse(text)
        except (UnicodeDecodeError, SyntaxError, ValueError, RecursionError):
            continue
        rel = os.path.relpath(path, os.path.dirname(roots[0]))
        for node in ast.walk(tree):
            if prose_bytes >= limit_bytes // 2:
                break
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = ast.get_docstring(node)
                if doc and len(doc) > 200:
                    prose.append({"id": f"{rel}:{getattr(node, 'lineno', 0)}", "text": doc, "source": "web",
                                  "lang": "en", "lang_score": 1.0, "meta": {}})
                    prose_bytes += len(doc.encode())
        if code_bytes < limit_bytes - limit_bytes // 2 or prose_bytes >= limit_bytes // 2:
            code.append({"id": rel, "text": text, "source": "code", "lang": "code", "lang_score": 1.0, "meta": {}})
            code_bytes += len(text.encode())
    return code, prose


def write_tree(root: str, docs: list[dict], parts: int = 8) -> None:
    groups: dict[tuple[str, str], list[dict]] = {}
    for d in docs:
        groups.setdefault((d["source"], d["lang"]), []).append(d)
    for (source, lang), items in groups.items():
        directory = os.path.join(root, "curated", source, lang)
        os.makedirs(directory, exist_ok=True)
        for s in range(parts):
            lines = "".join(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in items[s::parts])
            with open(os.path.join(directory, f"part-{s:05d}-of-{parts:05d}.jsonl.zst"), "wb") as f:
                f.write(zstandard.ZstdCompressor(level=3).compress(lines.encode()))


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the DirectRunner's worker processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=24, help="megabytes of text (default 24)")
    parser.add_argument("--workers", default="1,2", help="DirectRunner workers = encoder threads, comma-separated (default 1,2)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--vocab-size", type=int, default=8000)
    parser.add_argument("--workdir", default=None, help="keep inputs and outputs here (default: a temporary folder)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    work = args.workdir or tempfile.mkdtemp(prefix="bench-tokenize-")
    code, prose = python_documents(int(args.mb * 1e6))
    docs = code + prose
    texts = [d["text"] for d in docs]
    write_tree(work, docs)
    print(f"corpus: {len(code)} code files + {len(prose)} docstrings, {sum(len(t.encode()) for t in texts) / 1e6:.1f} MB")

    lines_path = os.path.join(work, "vocab-lines.txt")
    with open(lines_path, "w", encoding="utf-8") as f:
        for t in texts[::4]:
            f.writelines(line + "\n" for line in sentence_lines(t, 16384))
    model = os.path.join(work, "spm.model")
    t0 = time.perf_counter()
    train_vocab([lines_path], model, VocabConfig(vocab_size=args.vocab_size, input_sentence_size=300_000))
    print(f"vocabulary: {args.vocab_size} pieces, trained in {time.perf_counter() - t0:.1f} s")
    sp = load(model)

    workers = [int(w) for w in args.workers.split(",")]
    options = build_options(workers=max(workers))
    total_chars = sum(len(t) for t in texts)
    recipe = recipe_from_dict({
        "name": "bench", "total_tokens": 1, "seq_len": 2048, "seed": 0,
        "sources": {"code": {"share": 0.5}, "web": {"share": 0.5}},
    })
    t0 = time.perf_counter()
    plan = plan_for(recipe, work, model, options, cache_dir=os.path.join(work, "counts"))
    count_s = time.perf_counter() - t0
    # Shares equal to each source's tokens, total equal to all tokens: every document exactly once.
    available = {sp_.name: sp_.available for sp_ in plan.sources}
    total = sum(available.values())
    recipe = recipe_from_dict({
        "name": "bench", "total_tokens": total, "seq_len": 2048, "seed": 0,
        "sources": {name: {"share": n / total} for name, n in available.items()},
    })
    plan = plan_for(recipe, work, model, options, cache_dir=os.path.join(work, "counts"))

    tokens = sum(len(ids) for ids in sp.encode(texts, num_threads=max(workers)))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} "
          f"(shared); python {platform.python_version()}")
    print(f"tokens: {tokens:,} ({total_chars / tokens:.2f} chars/token); "
          f"token count job (mix plan, uncached): {tokens / count_s / 1e6:.2f} M tokens/s")
    for w in workers:
        options = build_options(workers=w)
        raw_s, batched_s, job_s, raw_cpu, job_cpu = [], [], [], [], []
        step = 512 * w
        for r in range(args.repeats):
            c0, t0 = cpu_seconds(), time.perf_counter()
            sp.encode(texts, num_threads=w)
            raw_s.append(time.perf_counter() - t0)
            raw_cpu.append(cpu_seconds() - c0)
            t0 = time.perf_counter()
            for i in range(0, len(texts), step):
                sp.encode(texts[i : i + step], num_threads=w)
            batched_s.append(time.perf_counter() - t0)
            c0, t0 = cpu_seconds(), time.perf_counter()
            manifest = run_tokenize(recipe, work, model, os.path.join(work, "shards"), options,
                                    cfg=TokenizeConfig(examples_per_shard=1024), plan=plan)
            job_s.append(time.perf_counter() - t0)
            job_cpu.append(cpu_seconds() - c0)
            print(f"  {w} worker(s), run {r + 1}: raw {raw_s[-1]:.2f} s ({raw_cpu[-1]:.2f} CPU s), "
                  f"raw batched {batched_s[-1]:.2f} s, palmkit tokenize {job_s[-1]:.2f} s ({job_cpu[-1]:.2f} CPU s), "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
        written = sum(s["document_tokens"] for s in manifest["sources"].values())
        assert written == tokens + len(texts), (written, tokens)  # every token once, plus one eos per document
        med = statistics.median
        raw_rate, batched_rate, job_rate = tokens / med(raw_s), tokens / med(batched_s), tokens / med(job_s)
        if w == 1:
            # How much of the job is mixtures.shards.write_shard: the same rows written again, alone, on one core.
            shard_dir = os.path.join(work, "shards")
            rows = ShardSet(shard_dir).read(range(manifest["examples"]))
            t0 = time.perf_counter()
            write_shard(os.path.join(work, "rewrite.tfrecord"), rows)
            write_s = time.perf_counter() - t0
            print(f"  mixtures.shards.write_shard of the same {len(rows):,} rows alone: {write_s:.2f} s "
                  f"({write_s / med(job_s):.0%} of the 1-worker job's median)")
        mode = "in-memory" if w == 1 else "multi-processing"
        print(f"{w} worker(s) ({mode}): raw encode median {med(raw_s):.2f} s = {raw_rate / 1e6:.2f} M tokens/s; "
              f"raw batched {med(batched_s):.2f} s = {batched_rate / 1e6:.2f} M tokens/s; "
              f"palmkit tokenize median {med(job_s):.2f} s = {job_rate / 1e6:.2f} M tokens/s; "
              f"ratio {job_rate / raw_rate:.0%} (to batched: {job_rate / batched_rate:.0%}); "
              f"CPU s raw {med(raw_cpu):.2f}, job {med(job_cpu):.2f} ({med(raw_cpu) / med(job_cpu):.0%})  "
              f"({len(manifest['shards'])} shards, {manifest['examples']:,} examples)", flush=True)

if __name__ == "__main__":
    main()
