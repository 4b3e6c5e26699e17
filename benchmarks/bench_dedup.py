"""Near-dedup speed: palmkit (Beam DirectRunner) against datatrove's MinHash dedup.

    python3 -m venv /tmp/dtvenv && /tmp/dtvenv/bin/pip install datatrove spacy regex tokenizers orjson "xxhash<4"
    .venv/bin/python benchmarks/bench_dedup.py --datatrove-python /tmp/dtvenv/bin/python

datatrove lives in its own virtualenv (it pins its own numpy and friends), so
its side runs as a subprocess of that interpreter; palmkit's side runs as a
subprocess of this one. Each measurement is a fresh process, timed from the
outside, and its peak resident memory is read from ``wait4``. Figures are
medians over ``--repeats`` runs, printed side by side with ratios.

Same corpus, same machine, same work:

- the corpus is ``benchmarks/dedup_quality.py``'s (real Python files in
  several versions, license files, paragraphs and edited copies), written
  once as one JSONL file that both sides read;
- both use word 5-grams (palmkit's code rule is switched off so code files
  are shingled the way datatrove does it), 14 bands x 9 rows (palmkit's
  split for threshold 0.8), one process each (DirectRunner in memory; datatrove
  LocalPipelineExecutor with workers=1);
- "signatures": read the JSONL, shingle, MinHash (datatrove: its stage 1,
  which also writes the signatures);
- "whole dedup": read JSONL -> kept documents written as JSONL. datatrove:
  signature, buckets, cluster and filter stages. palmkit: ``NearDedup``
  (exact dedup off, since datatrove's MinHash has none) including the
  candidate verification datatrove does not do.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

BANDS, ROWS = 14, 9

DATATROVE_SCRIPT = textwrap.dedent(
    """
    import glob, json, os, sys, time
    from datatrove.executor.local import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter, MinhashDedupSignature)
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from datatrove.utils.hashing import HashConfig

    mode, corpus, work, bands, rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    cfg = MinhashConfig(n_grams=5, num_buckets=bands, hashes_per_bucket=rows, hash_config=HashConfig(precision=64))
    logs = os.path.join(work, "logs")
    def run(name, pipeline, tasks=1):
        t0 = time.perf_counter()
        LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=1, logging_dir=f"{logs}/{name}").run()
        return time.perf_counter() - t0
    times = {}
    times["signature"] = run("sig", [JsonlReader(corpus), MinhashDedupSignature(f"{work}/sigs", config=cfg)])
    if mode == "dedup":
        times["buckets"] = run("buckets", [MinhashDedupBuckets(f"{work}/sigs", f"{work}/buckets", config=cfg)], tasks=bands)
        times["cluster"] = run("cluster", [MinhashDedupCluster(f"{work}/buckets", f"{work}/remove", config=cfg)])
        times["filter"] = run("filter", [
            JsonlReader(corpus),
            MinhashDedupFilter(f"{work}/remove", exclusion_writer=JsonlWriter(f"{work}/removed")),
            JsonlWriter(f"{work}/kept"),
        ])
    removed = 0
    for path in glob.glob(f"{work}/removed/*"):
        import gzip
        with gzip.open(path, "rt") as f:
            removed += sum(1 for _ in f)
    print(json.dumps({"times": times, "removed": removed}))
    """
)


# ---------------------------------------------------------------------------
# palmkit's side (runs in a child process)
# ---------------------------------------------------------------------------


def _near_config():
    from pipeline.dedup import DedupConfig, ExactDedupConfig, NearDedupConfig, lsh_parameters

    near = NearDedupConfig(code_char_shingles=False)
    assert tuple(lsh_parameters(near)[:2]) == (BANDS, ROWS), lsh_parameters(near)
    return DedupConfig(exact=ExactDedupConfig(enabled=False), near=near)


def child_signatures(corpus: str) -> dict:
    from filters import minhash as mh
    from filters.document import Document

    cfg = _near_config().near
    t0 = time.perf_counter()
    batch, n = [], 0
    with open(corpus, encoding="utf-8") as f:
        for line in f:
            batch.append(mh.shingle_hashes(Document.from_json(line).text, "word", cfg.ngram))
            if len(batch) == cfg.batch_size:
                mh.signatures(batch, cfg.num_perm, cfg.seed)
                n, batch = n + len(batch), []
    if batch:
        mh.signatures(batch, cfg.num_perm, cfg.seed)
        n += len(batch)
    return {"times": {"signature": time.perf_counter() - t0}, "docs": n}


def child_dedup(corpus: str, work: str) -> dict:
    import apache_beam as beam

    from filters.document import Document
    from pipeline.dedup import Deduplicate

    cfg = _near_config()
    t0 = time.perf_counter()
    with beam.Pipeline() as p:
        r = p | beam.io.ReadFromText(corpus) | beam.Map(Document.from_json) | Deduplicate(cfg)
        r["kept"] | "KeptJson" >> beam.Map(Document.to_json) | "WriteKept" >> beam.io.WriteToText(f"{work}/kept")
        r["duplicates"] | "DupJson" >> beam.Map(json.dumps) | "WriteDups" >> beam.io.WriteToText(f"{work}/removed")
    seconds = time.perf_counter() - t0
    removed = sum(sum(1 for _ in open(os.path.join(work, f))) for f in os.listdir(work) if f.startswith("removed"))
    return {"times": {"dedup": seconds}, "removed": removed}


# ---------------------------------------------------------------------------
# The parent: build the corpus, run children, report
# ---------------------------------------------------------------------------


def run_measured(cmd: list[str]) -> tuple[dict, float, float, float]:
    """Runs cmd: (its last stdout line as JSON, wall seconds, peak RSS in MiB, CPU seconds), via wait4.

    CPU seconds (user + system, all threads) are reported beside wall time
    because this machine's two cores are shared: wall time carries the
    neighbours' load, CPU time much less so.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed with exit code {proc.returncode}")
    return json.loads(out.strip().splitlines()[-1]), wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--datatrove-python", help="python of a virtualenv with datatrove, spacy and xxhash")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-keys", type=int, default=250)
    ap.add_argument("--paragraphs", type=int, default=400)
    ap.add_argument("--workdir", help="keep inputs and outputs here (default: a temporary folder)")
    ap.add_argument("--json", help="write the results here as JSON")
    ap.add_argument("--child", choices=["signatures", "dedup"], help=argparse.SUPPRESS)
    ap.add_argument("--corpus", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.child == "signatures":
        print(json.dumps(child_signatures(args.corpus)))
        return 0
    if args.child == "dedup":
        print(json.dumps(child_dedup(args.corpus, args.out)))
        return 0

    import dedup_quality

    work = args.workdir or tempfile.mkdtemp(prefix="bench_dedup_")
    os.makedirs(os.path.join(work, "corpus"), exist_ok=True)
    corpus = os.path.join(work, "corpus", "corpus.jsonl")
    docs = dedup_quality.build_corpus(args.max_keys, args.paragraphs)
    with open(corpus, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(doc.to_json() + "\n")
    mb = os.path.getsize(corpus) / 2**20
    print(f"corpus: {len(docs)} documents, {mb:.1f} MiB JSONL; {BANDS} bands x {ROWS} rows, word 5-grams; "
          f"{args.repeats} repeats, medians", flush=True)

    me = [sys.executable, os.path.abspath(__file__)]
    rows: dict[str, list] = {}

    def record(name, result, wall, peak, cpu):
        rows.setdefault(name, []).append((result, wall, peak, cpu))
        print(f"  {name}: {wall:.1f}s wall, {cpu:.1f}s CPU, peak {peak:.0f} MiB, {json.dumps(result.get('times'))}", flush=True)

    dt_script = os.path.join(work, "datatrove_run.py")
    with open(dt_script, "w") as f:
        f.write(DATATROVE_SCRIPT)
    for rep in range(args.repeats):
        out = os.path.join(work, f"palmkit-{rep}")
        shutil.rmtree(out, ignore_errors=True)
        os.makedirs(out)
        record("palmkit signatures", *run_measured(me + ["--child", "signatures", "--corpus", corpus]))
        record("palmkit whole dedup", *run_measured(me + ["--child", "dedup", "--corpus", corpus, "--out", out]))
        if args.datatrove_python:
            for mode in ("signature", "dedup"):
                dt_work = os.path.join(work, f"datatrove-{mode}-{rep}")
                shutil.rmtree(dt_work, ignore_errors=True)
                record(
                    f"datatrove {'signatures' if mode == 'signature' else 'whole dedup'}",
                    *run_measured([args.datatrove_python, dt_script, mode, os.path.join(work, "corpus"), dt_work, str(BANDS), str(ROWS)]),
                )

    summary = {}
    for name, runs in rows.items():
        wall = statistics.median(r[1] for r in runs)
        cpu = statistics.median(r[3] for r in runs)
        summary[name] = {
            "seconds": wall,
            "cpu_seconds": cpu,
            "docs_per_s": len(docs) / wall,
            "docs_per_cpu_s": len(docs) / cpu,
            "peak_mib": statistics.median(r[2] for r in runs),
            "removed": runs[-1][0].get("removed"),
            "stage_seconds": {k: statistics.median(r[0]["times"][k] for r in runs) for k in runs[0][0]["times"]},
        }
    print("\n| measurement | palmkit docs/s (wall) | datatrove docs/s (wall) | ratio | palmkit docs/CPU-s | "
          "datatrove docs/CPU-s | ratio | palmkit peak MiB | datatrove peak MiB |")
    print("|---|---|---|---|---|---|---|---|---|")
    for what in ("signatures", "whole dedup"):
        ours, theirs = summary.get(f"palmkit {what}"), summary.get(f"datatrove {what}")
        if not ours:
            continue
        if not theirs:
            print(f"| {what} | {ours['docs_per_s']:.0f} | - | - | {ours['docs_per_cpu_s']:.0f} | - | - | {ours['peak_mib']:.0f} | - |")
            continue
        print(f"| {what} | {ours['docs_per_s']:.0f} | {theirs['docs_per_s']:.0f} | "
              f"{ours['docs_per_s'] / theirs['docs_per_s']:.1f}x | {ours['docs_per_cpu_s']:.0f} | "
              f"{theirs['docs_per_cpu_s']:.0f} | {ours['docs_per_cpu_s'] / theirs['docs_per_cpu_s']:.1f}x | "
              f"{ours['peak_mib']:.0f} | {theirs['peak_mib']:.0f} |")
    for name, s in summary.items():
        print(f"{name}: median {s['seconds']:.1f}s wall, {s['cpu_seconds']:.1f}s CPU (stages {json.dumps({k: round(v, 1) for k, v in s['stage_seconds'].items()})}), removed {s['removed']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"docs": len(docs), "corpus_mib": mb, "summary": summary}, f, indent=2)
    if not args.workdir:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
