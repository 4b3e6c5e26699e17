"""Throughput of ``palmkit curate`` against a read/write-only job and against datatrove, on the sample corpus.

    .venv/bin/python benchmarks/bench_curate.py --datatrove-python /tmp/dtvenv-curate/bin/python
        [--workers 2] [--repeats 3] [--corpus examples/corpus] [--only NAME,...]

Runs, ``--repeats`` times each, back to back and alternating so that load
from other users of the machine falls on every side alike:

- ``curate``: ``run_curate(CurateConfig())`` on the whole corpus (web,
  conversations, books, wiki as JSONL, code as a tree; ``palmkit.demo.corpus_inputs``):
  the default steps (clean, language ID with the shipped model, Gopher
  quality and repetition, code rules, toxicity), exact and MinHash dedup,
  every output written;
- ``curate-nodedup``: the same with dedup off: the filters alone;
- ``passthrough``: the same job with ``steps=()`` and dedup off: read, the
  (empty) filter DoFn, stats, shard writers. The floor of the Beam job;
- ``curate-prose``: the four JSONL sources only, the input datatrove reads
  (datatrove has no reader for a code tree), with only the steps datatrove
  runs (``DATATROVE_STEPS``: language ID, Gopher quality, Gopher
  repetition), dedup off, rejects written;
- ``datatrove``: datatrove's ``LocalPipelineExecutor`` (tasks = workers) on
  those same JSONL files: ``JsonlReader`` → a fastText LID filter on OUR
  shipped model (``PalmkitLidFilter`` below; datatrove's own LanguageFilter
  downloads lid.176) → ``GopherQualityFilter`` → ``GopherRepetitionFilter``
  → ``JsonlWriter``, each filter with an exclusion writer (palmkit writes its
  rejects too). Runs under ``--datatrove-python``, an interpreter of a
  separate virtual environment with datatrove, fasttext and spacy (datatrove's
  English word tokenizer), never palmkit's.

Every side is a fresh child process; the figures cover the job only (not the
interpreter start or imports). CPU seconds are user+system time of the child
and all its descendants (Beam's SDK workers, datatrove's pool behind its
forkserver), polled from /proc from the job's start to its end. On a machine
shared with other jobs, documents per CPU second is the steadier per-core
figure; wall-clock throughput divided by the worker count is the other. MB
are UTF-8 bytes of document text read. Prints medians; this is a
measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(REPO, "filters", "data", "lid.palmkit.ftz")
SIDES = ("curate", "curate-nodedup", "passthrough", "curate-prose", "datatrove")
START = "#start"  # a child prints this when its job starts
LANGID_THRESHOLD = 0.5  # pipeline.curate.LangIdConfig's default, used on both sides
# The filter families the datatrove side runs, in palmkit's names.
DATATROVE_STEPS = ("langid", "gopher_quality", "gopher_repetition")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores (nproc), {cpu}, Python {platform.python_version()}"


# ---------------------------------------------------------------- palmkit side


def palmkit_child(side: str, corpus: str, output: str, workers: int, model: str) -> dict:
    """Runs one palmkit job in this (fresh) process; returns its figures."""
    sys.path.insert(0, REPO)
    import logging
    import pathlib

    logging.getLogger().setLevel(logging.ERROR)
    from palmkit.demo import corpus_inputs
    from pipeline.curate import CurateConfig, LangIdConfig, run_curate
    from pipeline.dedup import DedupConfig, ExactDedupConfig, NearDedupConfig
    from pipeline.options import build_options

    inputs = corpus_inputs(pathlib.Path(corpus))
    if side == "curate-prose":
        inputs = [spec for spec in inputs if spec.source != "code"]
    no_dedup = DedupConfig(exact=ExactDedupConfig(enabled=False), near=NearDedupConfig(enabled=False))
    langid = LangIdConfig(model=model, threshold=LANGID_THRESHOLD)
    cfg = {
        "curate": CurateConfig(langid=langid),
        "curate-nodedup": CurateConfig(langid=langid, dedup=no_dedup),
        "curate-prose": CurateConfig(steps=DATATROVE_STEPS, langid=langid, dedup=no_dedup),
        "passthrough": CurateConfig(steps=(), dedup=no_dedup),
    }[side]
    options = build_options("DirectRunner", workers)
    print(START, flush=True)
    t0 = time.perf_counter()
    stats = run_curate(cfg, inputs, output, options)
    seconds = time.perf_counter() - t0
    return {
        "docs": stats["read"],
        "bytes": stats["bytes"]["read"],
        "kept": stats["kept"],
        "seconds": seconds,
    }


# -------------------------------------------------------------- datatrove side
# Everything below up to the next banner runs under --datatrove-python and
# imports nothing of palmkit's.


def _datatrove_lid_filter_class():
    from datatrove.pipeline.filters.base_filter import BaseFilter

    class PalmkitLidFilter(BaseFilter):
        """datatrove filter: fastText LID with palmkit's shipped model, as palmkit calls it.

        Top-1 label through the C++ binding (``model.f.predict``, the call
        filters.langid makes, which also sidesteps fastText's numpy-2 bug),
        text on one line; keeps documents scoring at least ``threshold``.
        """

        name = "palmkit LID"

        def __init__(self, model_path: str, threshold: float, exclusion_writer=None):
            super().__init__(exclusion_writer)
            self.model_path = model_path
            self.threshold = threshold
            self._model = None

        def filter(self, doc) -> bool | tuple[bool, str]:
            if self._model is None:
                import fasttext

                self._model = fasttext.load_model(self.model_path)
            line = " ".join(doc.text.split("\n")).strip()
            if not line:
                return False, "low_confidence"
            [(prob, label)] = self._model.f.predict(line.encode("utf-8", "replace") + b"\n", 1, 0.0, "replace")
            doc.metadata["language"] = label.removeprefix("__label__")
            doc.metadata["language_score"] = min(1.0, prob)
            return prob >= self.threshold or (False, "low_confidence")

    return PalmkitLidFilter


def datatrove_child(corpus: str, output: str, workers: int, model: str) -> dict:
    import logging

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    try:
        from loguru import logger

        logger.remove()  # datatrove logs every step of every task at INFO
        logger.add(sys.stderr, level="WARNING")
    except ImportError:
        logging.getLogger().setLevel(logging.WARNING)

    def rejects(name: str):
        return JsonlWriter(f"{output}/rejected/{name}", compression="zstd")

    lid = _datatrove_lid_filter_class()(model, LANGID_THRESHOLD, exclusion_writer=rejects("langid"))
    pipeline = [
        JsonlReader(corpus, glob_pattern="*/*.jsonl.zst", compression="zstd"),
        lid,
        GopherQualityFilter(exclusion_writer=rejects("gopher_quality")),
        GopherRepetitionFilter(exclusion_writer=rejects("gopher_repetition")),
        JsonlWriter(f"{output}/curated", compression="zstd"),
    ]
    executor = LocalPipelineExecutor(pipeline, tasks=workers, workers=workers, logging_dir=f"{output}/logs", skip_completed=False)
    print(START, flush=True)
    t0 = time.perf_counter()
    executor.run()
    seconds = time.perf_counter() - t0
    with open(f"{output}/logs/stats.json") as fh:
        merged = json.load(fh)  # one entry per step, in order; exclusion writers are not listed
    docs = merged[0]["stats"]["documents"]["total"]
    kept = merged[-1]["stats"]["total"]
    return {"docs": docs, "kept": kept, "seconds": seconds}


# ------------------------------------------------------------------- the driver


def prose_text_bytes(corpus: str) -> tuple[int, int]:
    """(documents, UTF-8 text bytes) of the JSONL sources, as both sides read them."""
    import glob

    import zstandard

    docs = size = 0
    for path in sorted(glob.glob(os.path.join(corpus, "*", "*.jsonl.zst"))):
        with open(path, "rb") as fh, zstandard.ZstdDecompressor().stream_reader(fh) as reader:
            for line in reader.read().decode("utf-8").splitlines():
                docs += 1
                size += len(json.loads(line)["text"].encode("utf-8"))
    return docs, size


class TreeCpu:
    """CPU seconds of a process and all its descendants, by polling /proc.

    getrusage cannot see them all: datatrove's workers are children of a
    forkserver, Beam's of the SDK harness. Each process's last-seen
    utime+stime counts, so up to one poll interval of a process's final work
    can be missed (the workers here live for the whole job).
    """

    def __init__(self, root: int, interval: float = 0.5):
        self.root = root
        self.interval = interval
        self.seen: dict[tuple[int, str], int] = {}
        self.tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._stop.wait(self.interval):
            self.scan()

    def scan(self) -> None:
        parent: dict[int, int] = {}
        times: dict[int, tuple[str, int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid = int(entry)
            parent[pid] = int(fields[1])
            times[pid] = (fields[19], int(fields[11]) + int(fields[12]))
        children: dict[int, list[int]] = {}
        for pid, ppid in parent.items():
            children.setdefault(ppid, []).append(pid)
        stack = [self.root]
        while stack:
            pid = stack.pop()
            if pid in times:
                start, ticks = times[pid]
                self.seen[(pid, start)] = ticks
            stack.extend(children.get(pid, ()))

    def seconds(self) -> float:
        return sum(self.seen.values()) / self.tick

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.seconds()


def run_side(side: str, args, scratch: str) -> dict:
    """One child run; its CPU seconds from the job's start marker to its exit."""
    output = os.path.join(scratch, side)
    shutil.rmtree(output, ignore_errors=True)
    python = args.datatrove_python if side == "datatrove" else sys.executable
    cmd = [python, os.path.abspath(__file__), "--child", side, "--corpus", args.corpus, "--output", output,
           "--workers", str(args.workers), "--model", args.model]
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True, cwd=REPO)
        poller = TreeCpu(proc.pid)
        cpu_at_start, lines = 0.0, []
        for line in proc.stdout:
            if line.strip() == START:
                poller.scan()
                cpu_at_start = poller.seconds()
            lines.append(line)
        proc.wait()
        cpu = poller.stop() - cpu_at_start
        if proc.returncode != 0:
            err.seek(0)
            sys.exit(f"{side} failed:\n{err.read()[-4000:]}")
    figures = json.loads(lines[-1])
    figures["cpu"] = cpu
    shutil.rmtree(output, ignore_errors=True)
    return figures


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--corpus", default=os.path.join(REPO, "examples", "corpus"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default=MODEL)
    parser.add_argument("--datatrove-python", help="interpreter of a venv with datatrove, fasttext and spacy")
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(SIDES)}")
    parser.add_argument("--json", help="also write every run's figures here")
    parser.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.corpus = os.path.abspath(args.corpus)

    if args.child:
        if args.child == "datatrove":
            figures = datatrove_child(args.corpus, args.output, args.workers, args.model)
        else:
            figures = palmkit_child(args.child, args.corpus, args.output, args.workers, args.model)
        print(json.dumps(figures))
        return 0

    sides = args.only.split(",") if args.only else list(SIDES)
    if "datatrove" in sides and not args.datatrove_python:
        sides.remove("datatrove")
        print("# no --datatrove-python: datatrove side skipped")
    prose_docs, prose_bytes = prose_text_bytes(args.corpus)
    runs: dict[str, list[dict]] = {side: [] for side in sides}
    with tempfile.TemporaryDirectory(prefix="bench-curate-") as scratch:
        for repeat in range(args.repeats):
            for side in sides:
                figures = run_side(side, args, scratch)
                if side == "datatrove":
                    figures["bytes"] = prose_bytes
                    if figures["docs"] != prose_docs:
                        print(f"# warning: datatrove read {figures['docs']} documents, the JSONL files hold {prose_docs}")
                runs[side].append(figures)
                print(f"# repeat {repeat + 1} {side}: {figures['docs']} docs, kept {figures['kept']}, "
                      f"{figures['seconds']:.1f} s, {figures['cpu']:.1f} CPU s", flush=True)

    print(f"\n# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}; "
          f"load average at the end {os.getloadavg()[0]:.1f}")
    print(f"# workers {args.workers}, {args.repeats} repeats, medians; model {os.path.relpath(args.model, REPO)}")
    print(f"{'side':16}{'docs':>7}{'MB':>7}{'kept':>7}{'s':>8}{'docs/s':>9}{'MB/s':>7}"
          f"{'docs/s/worker':>15}{'CPU s':>8}{'docs/CPU s':>12}{'MB/CPU s':>10}")
    summary = {}
    for side in sides:
        r = runs[side]
        docs, size, kept = r[0]["docs"], r[0]["bytes"], r[0]["kept"]
        seconds = statistics.median(x["seconds"] for x in r)
        cpu = statistics.median(x["cpu"] for x in r)
        summary[side] = {"docs": docs, "bytes": size, "kept": kept, "seconds": seconds, "cpu": cpu,
                         "docs_s": docs / seconds, "mb_s": size / 1e6 / seconds,
                         "docs_cpu_s": docs / cpu, "mb_cpu_s": size / 1e6 / cpu}
        s = summary[side]
        print(f"{side:16}{docs:7d}{size / 1e6:7.1f}{kept:7d}{seconds:8.1f}{s['docs_s']:9.0f}{s['mb_s']:7.2f}"
              f"{s['docs_s'] / args.workers:15.0f}{cpu:8.1f}{s['docs_cpu_s']:12.0f}{s['mb_cpu_s']:10.2f}")
    for a, b in (("curate", "passthrough"), ("curate-nodedup", "passthrough"), ("curate-prose", "datatrove")):
        if a in summary and b in summary:
            print(f"# {a} / {b}: wall throughput x{summary[a]['docs_s'] / summary[b]['docs_s']:.2f}, "
                  f"per CPU second x{summary[a]['docs_cpu_s'] / summary[b]['docs_cpu_s']:.2f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"machine": machine(), "workers": args.workers, "runs": runs, "summary": summary}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
