"""Dedup memory per worker as the corpus grows (DirectRunner, multi-processing, 2 workers).

    .venv/bin/python benchmarks/dedup_memory.py --base 1500 --scales 1,2,4,8   # ~2 min on 2 shared cores
    .venv/bin/python benchmarks/dedup_memory.py --base 1500 --scales 1,2,4,8 --passthrough  # control, no dedup
    .venv/bin/python benchmarks/dedup_memory.py --base 12000 --scales 1 --workers 4          # smaller bundles
    .venv/bin/python benchmarks/dedup_memory.py --shuffle        # control: one GroupByKey of Documents, no palmkit DoFn
    .venv/bin/python benchmarks/dedup_memory.py --base 1500 --scales 1,2,8 --max-bundle-mb 0  # Beam's stock bundles

The speed benchmark (``bench_dedup.py``) reports the peak of one in-memory
DirectRunner process, which holds whole PCollections by design of that runner.
This one asks the other question: does any single *worker* need memory that
grows with the corpus?

Method. For each N = base x scale, a corpus of N documents is written as
JSONL shards: real documents from ``examples/corpus/*/*.jsonl.zst`` (one
seeded shuffle, so every N takes a prefix of the same mix of sources), plus
planted copies of some of them so dedup has work (3/4 near copies with 2-4
words substituted in a document of >= 300 words, 1/4 exact copies). A fresh
child process (the "driver") runs

    ReadFromText -> json -> Document -> Deduplicate(DedupConfig()) -> WriteToText (kept, duplicates)

on the DirectRunner with ``pipeline.options.build_options("DirectRunner", 2)``,
i.e. ``direct_running_mode=multi_processing`` and ``direct_num_workers=2``.
That runner (Beam's FnApiRunner) starts its SDK workers with
``/bin/sh -c "<python> -m apache_beam.runners.worker.sdk_worker_main"``; a
thread in the driver walks the driver's descendants every 0.2 s and reads
``VmHWM`` (peak resident set) and ``VmRSS`` from ``/proc/<pid>/status`` of
every process whose command line contains ``sdk_worker_main`` and that is a
Python interpreter (not the shell), and of the driver itself. VmHWM is the
kernel's own high-water mark, so a peak between two polls is not missed as
long as the worker is still alive at the next poll.

Reported per N: documents, removed (exact + near), max VmHWM over the worker
processes, the driver's VmHWM, wall seconds of the pipeline, and CPU seconds
(user + system) of the driver process and its workers.
``--passthrough`` runs the same read, parse and write with no dedup in
between (the control); ``--workers`` changes how many SDK workers (on Beam's
stock bundling, also how large a share of each stage's input one worker gets).

Controls and settings. ``--shuffle`` reads, keys each Document by a
digest of its text, groups and writes, with no palmkit DoFn: the shape of
ExactDedup. ``--max-bundle-mb MB`` is ``build_options(max_bundle_mb=MB)``,
palmkit's cap on the encoded input of one local bundle
(``pipeline/local_runner.py``); by default the product's default, and 0
gives Beam's stock bundling (each stage's input cut into exactly one bundle
per worker) without palmkit's ``MALLOC_MMAP_THRESHOLD_`` for the workers.
``--mmap-threshold BYTES`` also sets glibc's ``MALLOC_MMAP_THRESHOLD_`` for
the driver (build_options sets it only for the workers, which start later).
Each row also reports the largest stage input the runner saw and, for
stages cut into more than one bundle per worker, the number of bundles and
the largest bundle's encoded bytes.

What the numbers mean: in this runner the driver process is not only a
coordinator. It runs the shuffles (GroupByKey buffers) and holds every
stage's output between stages, so its memory grows with the corpus by design.
On Dataflow there is no such process: shuffles go to the shuffle service and
workers hold their bundles. The workers here run the same DoFns a Dataflow
worker runs, on bundles the runner hands them.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

SHARDS = 4
POLL_S = 0.2


# ---------------------------------------------------------------------------
# Corpus
# ---------------------------------------------------------------------------


def load_real_docs(seed: int = 0) -> list[dict]:
    import zstandard

    docs = []
    for path in sorted(glob.glob(os.path.join(REPO, "examples", "corpus", "*", "*.jsonl.zst"))):
        source = os.path.basename(os.path.dirname(path))
        name = os.path.basename(path).split(".")[0]
        with open(path, "rb") as f:
            data = zstandard.ZstdDecompressor().stream_reader(f).read().decode("utf-8")
        for i, line in enumerate(data.splitlines()):
            if not line.strip():
                continue
            rec = json.loads(line)
            docs.append({"id": f"{name}/{rec.get('id', i)}", "text": rec["text"], "source": source,
                         "lang": rec.get("lang", "")})
    random.Random(seed).shuffle(docs)
    return docs


def python_source_docs(limit: int) -> list[dict]:
    """Up to ``limit`` real code documents: this Python's standard library and installed packages' .py files.

    Appended after the sample corpus (``--more-real``) so that N can go past
    the sample corpus's ~14,000 documents; the walk is sorted, so the pool is
    the same on every run on one machine. Files over 200 KB or under 20 words are skipped.
    """
    import sysconfig

    roots = [sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"]]
    docs = []
    for root in roots:
        for directory, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__",)
                             and not (directory == roots[0] and d == "site-packages"))
            for name in sorted(files):
                if len(docs) >= limit:
                    return docs
                path = os.path.join(directory, name)
                if not name.endswith(".py") or os.path.getsize(path) > 200_000:
                    continue
                try:
                    text = open(path, encoding="utf-8").read()
                except (UnicodeDecodeError, OSError):
                    continue
                if len(text.split()) >= 20:
                    docs.append({"id": "py/" + os.path.relpath(path, roots[0]), "text": text,
                                 "source": "code", "lang": "code"})
    return docs


def build_corpus(real: list[dict], n: int, out_dir: str, seed: int = 1) -> dict:
    """n documents: 80 % real, 15 % near copies (2-4 words changed), 5 % exact copies; JSONL shards."""
    rng = random.Random(seed)
    n_copies = n // 5
    n_real = n - n_copies
    if n_real > len(real):
        raise SystemExit(f"N={n} needs {n_real} real documents, only {len(real)} available")
    base = real[:n_real]
    long_docs = [d for d in base if len(d["text"].split()) >= 300]
    vocab = [w for d in long_docs[:200] for w in d["text"].split()]
    docs = [dict(d, id=f"r{i:06d}/{d['id']}") for i, d in enumerate(base)]
    n_near = n_copies * 3 // 4
    for j in range(n_copies):
        src = rng.choice(long_docs)
        if j < n_near:
            words = src["text"].split()
            for pos in rng.sample(range(len(words)), rng.randint(2, 4)):
                words[pos] = rng.choice(vocab)
            text, kind = " ".join(words), "near"
        else:
            text, kind = src["text"], "exact"
        docs.append(dict(src, id=f"c{j:06d}/{kind}/{src['id']}", text=text))
    rng.shuffle(docs)
    os.makedirs(out_dir, exist_ok=True)
    nbytes = 0
    for s in range(SHARDS):
        with open(os.path.join(out_dir, f"part-{s:02d}.jsonl"), "w", encoding="utf-8") as f:
            for d in docs[s::SHARDS]:
                line = json.dumps(d, ensure_ascii=False) + "\n"
                nbytes += len(line.encode("utf-8"))
                f.write(line)
    return {"docs": len(docs), "real": n_real, "near_copies": n_near, "exact_copies": n_copies - n_near,
            "mib": nbytes / 2**20}


# ---------------------------------------------------------------------------
# The driver (a child process per N)
# ---------------------------------------------------------------------------


def _status_kib(pid: int) -> tuple[int, int] | None:
    """(VmHWM, VmRSS) in KiB from /proc/<pid>/status, None when the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            vals = {}
            for line in f:
                if line.startswith(("VmHWM:", "VmRSS:")):
                    key, value = line.split(":", 1)
                    vals[key] = int(value.split()[0])
        return vals.get("VmHWM", 0), vals.get("VmRSS", 0)
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None


class Poller(threading.Thread):
    """Every POLL_S: VmHWM/VmRSS of each SDK worker (descendant running sdk_worker_main) and of this process."""

    def __init__(self):
        super().__init__(daemon=True)
        import psutil

        self.me = psutil.Process()
        self.stop = threading.Event()
        self.workers: dict[int, dict] = {}
        self.driver_rss_max = 0
        self.polls = 0

    def run(self):
        import psutil

        while not self.stop.is_set():
            self.poll(psutil)
            self.stop.wait(POLL_S)
        self.poll(psutil)

    def poll(self, psutil):
        self.polls += 1
        mine = _status_kib(os.getpid())
        if mine:
            self.driver_rss_max = max(self.driver_rss_max, mine[1])
        try:
            kids = self.me.children(recursive=True)
        except psutil.Error:
            return
        for p in kids:
            try:
                cmd = p.cmdline()
            except psutil.Error:
                continue
            # The shell that Popen(shell=True) starts has the command in one argv string; skip it.
            if not cmd or "python" not in os.path.basename(cmd[0]) or not any("sdk_worker_main" in a for a in cmd):
                continue
            st = _status_kib(p.pid)
            if st is None:
                continue
            w = self.workers.setdefault(p.pid, {"hwm_kib": 0, "rss_max_kib": 0, "cmd": " ".join(cmd)})
            w["hwm_kib"] = max(w["hwm_kib"], st[0])
            w["rss_max_kib"] = max(w["rss_max_kib"], st[1])


def child(corpus_dir: str, out_dir: str, workers: int, pipeline: str = "dedup", max_bundle_mb: float | None = None) -> dict:
    import hashlib

    import apache_beam as beam

    from filters.document import Document
    from pipeline.dedup import DedupConfig, Deduplicate
    from pipeline import local_runner
    from pipeline.options import build_options

    before = _status_kib(os.getpid())
    poller = Poller()
    poller.start()
    if os.environ.get("DEDUP_MEMORY_WORKER_MALLOC") and "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        import pipeline.options

        pipeline.options.MALLOC_MMAP_THRESHOLD = int(os.environ["DEDUP_MEMORY_WORKER_MALLOC"])  # --worker-malloc
    options = build_options("DirectRunner", workers, max_bundle_mb=max_bundle_mb)
    local_runner.last_stages.clear()
    t0 = time.perf_counter()
    with beam.Pipeline(options=options) as p:
        docs = (
            p
            | "Read" >> beam.io.ReadFromText(os.path.join(corpus_dir, "part-*.jsonl"))
            | "Parse" >> beam.Map(lambda line: Document.from_dict(json.loads(line)))
        )
        if pipeline == "passthrough":
            # Control 1: the same read, parse and write with no dedup in between.
            r = {"kept": docs, "duplicates": p | "NoDups" >> beam.Create([])}
        elif pipeline == "shuffle":
            # Control 2: one shuffle of whole Documents keyed by a digest of their text (ExactDedup's
            # shape without palmkit's DoFns): read -> key -> GroupByKey -> values -> write.
            kept = (
                docs
                | "Key" >> beam.Map(lambda d: (hashlib.sha1(d.text.encode("utf-8")).digest(), d))
                | "Shuffle" >> beam.GroupByKey()
                | "Values" >> beam.FlatMap(lambda kv: kv[1])
            )
            r = {"kept": kept, "duplicates": p | "NoDups" >> beam.Create([])}
        else:
            r = docs | Deduplicate(DedupConfig())
        r["kept"] | "KeptJson" >> beam.Map(Document.to_json) | "WriteKept" >> beam.io.WriteToText(f"{out_dir}/kept")
        r["duplicates"] | "DupJson" >> beam.Map(json.dumps) | "WriteDups" >> beam.io.WriteToText(f"{out_dir}/removed")
    wall = time.perf_counter() - t0
    poller.stop.set()
    poller.join()
    after = _status_kib(os.getpid())

    def count(prefix):
        return sum(sum(1 for _ in open(f)) for f in glob.glob(f"{out_dir}/{prefix}*"))

    return {
        "wall_s": wall,
        "kept": count("kept"),
        "removed": count("removed"),
        "workers": {str(pid): w for pid, w in poller.workers.items()},
        "worker_max_hwm_mib": max((w["hwm_kib"] for w in poller.workers.values()), default=0) / 1024,
        "driver_before_mib": before[1] / 1024,
        "driver_hwm_mib": after[0] / 1024,
        "driver_rss_max_mib": poller.driver_rss_max / 1024,
        "polls": poller.polls,
        "max_bundle_bytes": local_runner.current_max_bundle_bytes(),
        "worker_env_mmap_threshold": os.environ.get("MALLOC_MMAP_THRESHOLD_", ""),
        # Stages the bounded runner cut into more than one bundle per worker.
        "bounded_stages": [{"parts": st["parts"], "bytes": st["bytes"], "max_part_bytes": max(st["part_bytes"])}
                           for st in local_runner.last_stages if not st["stock"]],
        "largest_stage_bytes": max((st["bytes"] or 0 for st in local_runner.last_stages), default=0),
    }


# ---------------------------------------------------------------------------
# The parent
# ---------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()
    return f"{os.cpu_count()} CPUs ({model or platform.processor()}), load average {load[0]:.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=int, default=1500, help="documents at scale 1")
    ap.add_argument("--scales", default="1,2,4,8")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--more-real", type=int, default=0, metavar="N",
                    help="append up to N of this machine's Python source files to the pool of real documents, "
                         "after the sample corpus, so N can exceed its ~14,000 documents")
    ap.add_argument("--keep", action="store_true", help="keep the temporary corpus and outputs")
    ap.add_argument("--passthrough", action="store_true",
                    help="control: read, parse and write the same corpus with no dedup in between")
    ap.add_argument("--shuffle", action="store_true",
                    help="control: read, parse, one GroupByKey of whole Documents, write (no palmkit DoFns)")
    ap.add_argument("--max-bundle-mb", type=float, default=None,
                    help="build_options(max_bundle_mb=...): palmkit's cap on one local bundle's encoded input "
                         "(default: palmkit's default; 0: Beam's stock bundling, one bundle per worker per stage)")
    ap.add_argument("--worker-malloc", type=int, default=None, metavar="BYTES",
                    help="the MALLOC_MMAP_THRESHOLD_ build_options sets for the workers with bounded bundles "
                         "(default: the product's, pipeline.options.MALLOC_MMAP_THRESHOLD; 0: none, glibc's "
                         "dynamic threshold), to measure bundles and allocator apart")
    ap.add_argument("--mmap-threshold", type=int, default=0,
                    help="set MALLOC_MMAP_THRESHOLD_ (bytes) for the driver and workers: glibc then returns every "
                         "buffer at least this large to the system when it is freed (0: glibc's default)")
    ap.add_argument("--child", nargs=5, metavar=("CORPUS_DIR", "OUT_DIR", "WORKERS", "PIPELINE", "MAX_BUNDLE_MB"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        corpus_dir, out_dir, workers, pipeline, mb = args.child
        print(json.dumps(child(corpus_dir, out_dir, int(workers), pipeline, None if mb == "default" else float(mb))))
        return

    pipeline = "passthrough" if args.passthrough else "shuffle" if args.shuffle else "dedup"
    described = {"passthrough": "passthrough (no dedup)", "shuffle": "one GroupByKey of Documents (no dedup)",
                 "dedup": "Deduplicate"}[pipeline]
    if args.max_bundle_mb is None:
        from pipeline.local_runner import DEFAULT_MAX_BUNDLE_MB

        described += f", palmkit's default bundles (max_bundle_mb={DEFAULT_MAX_BUNDLE_MB})"
    elif args.max_bundle_mb == 0:
        described += ", Beam's stock bundles (max_bundle_mb=0)"
    else:
        described += f", max_bundle_mb={args.max_bundle_mb:g}"
    env = dict(os.environ)
    if args.worker_malloc is not None:
        env["DEDUP_MEMORY_WORKER_MALLOC"] = str(args.worker_malloc)
        described += f", workers' MALLOC_MMAP_THRESHOLD_ {args.worker_malloc or 'unset'}"
    if args.mmap_threshold:
        env["MALLOC_MMAP_THRESHOLD_"] = str(args.mmap_threshold)
        described += f", MALLOC_MMAP_THRESHOLD_={args.mmap_threshold}"
    print(f"machine: {machine()}; pipeline: {described}", flush=True)
    real = load_real_docs()
    if args.more_real:
        real += python_source_docs(args.more_real)
    tmp = tempfile.mkdtemp(prefix="dedup_memory_")
    rows = []
    try:
        for scale in [int(s) for s in args.scales.split(",")]:
            n = args.base * scale
            corpus_dir, out_dir = os.path.join(tmp, f"corpus_{n}"), os.path.join(tmp, f"out_{n}")
            info = build_corpus(real, n, corpus_dir)
            ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", corpus_dir, out_dir,
                                   str(args.workers), pipeline,
                                   "default" if args.max_bundle_mb is None else str(args.max_bundle_mb)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            if proc.returncode != 0:
                sys.stderr.write(proc.stderr[-4000:])
                raise SystemExit(f"N={n}: driver failed with {proc.returncode}")
            ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            res = json.loads(proc.stdout.strip().splitlines()[-1])
            # CPU seconds of the driver and its reaped descendants (the SDK workers), user + system,
            # corpus writing excluded: steadier than wall time on a shared machine.
            res["cpu_s"] = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
            res["sys_s"] = ru1.ru_stime - ru0.ru_stime
            res.update(info, scale=scale, load_after=os.getloadavg()[0], max_bundle_mb=args.max_bundle_mb,
                       mmap_threshold=args.mmap_threshold)
            rows.append(res)
            print(f"N={n}: {len(res['workers'])} worker processes, per-worker VmHWM MiB "
                  f"{sorted(round(w['hwm_kib'] / 1024) for w in res['workers'].values())}, "
                  f"driver before pipeline {res['driver_before_mib']:.0f} MiB, "
                  f"removed {res['removed']} (planted {info['near_copies']} near + {info['exact_copies']} exact), "
                  f"{res['wall_s']:.1f} s wall, {res['cpu_s']:.1f} s CPU ({res['sys_s']:.1f} system); largest stage input {res['largest_stage_bytes'] / 2**20:.1f} MiB, "
                  f"bounded stages (parts, max part MiB) "
                  f"{[(b['parts'], round(b['max_part_bytes'] / 2**20, 1)) for b in res['bounded_stages']]}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    print()
    print("| docs | JSONL MiB | removed | max worker RSS MiB (VmHWM) | driver RSS MiB (VmHWM) | wall s | CPU s |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['docs']:,} | {r['mib']:.1f} | {r['removed']:,} | {r['worker_max_hwm_mib']:.0f} | "
              f"{r['driver_hwm_mib']:.0f} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} |")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                       "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
