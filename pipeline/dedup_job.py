"""The ``palmkit dedup`` job: Document shards in; kept shards, duplicates, stats and a report out.

``run_dedup`` is the whole job around ``pipeline.dedup.Deduplicate``, the
same transform curate runs after its filters:

    ReadInputs (documents=True) ──docs──► Deduplicate ──kept──► kept/<source>/<lang>/part-*.jsonl.zst
        │ errors                              │ duplicates         duplicates/part-*.jsonl
        ▼                                     ▼                    (removed id -> survivor id)
    errors/part-*.jsonl             all outcomes ─► CollectStats ─► _summary/ ─► report.html, stats.json

Inputs are read by curate's readers with ``documents=True``: a JSONL record
that is a palmkit Document (a line of a curate output's ``curated/`` tree)
keeps its ``source``, ``lang``, ``lang_score`` and ``meta``, so a kept
document is written back byte for byte as it was read and the kept tree has
curate's ``<source>/<lang>`` layout. Other JSONL records (only ``id`` and
``text``, say) become Documents as curate makes them, with the input's source
name (``NAME=PATH``) and lang ``und``. Malformed records are dead letters in
``errors/``, as in curate.

Settings are ``DedupJobConfig``: the ``reader`` and ``dedup`` sections and
``records_per_shard`` under the same keys as in ``CurateConfig``, so
``dedup.near.threshold=0.7`` means the same thing to both commands.

Counting is curate's (``pipeline.stats``): from the outcome PCollections, with

    read = kept + errors + duplicates.exact + duplicates.near

checked by the driver before it writes ``stats.json`` (last, as the marker of
a complete job). Outputs are byte-identical for any runner and worker count
(``pipeline.writers``).
"""

from __future__ import annotations

import dataclasses
import html
import json
import logging
import os

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipeline.curate import SUMMARY_FILE, clear_outputs, write_config
from pipeline.dedup import DedupConfig, Deduplicate, lsh_parameters
from pipeline.readers import InputSpec, ReadInputs
from pipeline.records import ReaderConfig
from pipeline.report import dedup_section, page_start, table
from pipeline.stats import AccountingError, CollectStats, assemble_stats
from pipeline.writers import WriteDeadLetters, WriteDuplicateMap, WriteJsonlShards, write_atomically

log = logging.getLogger(__name__)

OUTPUT_PARTS = ("kept", "errors", "duplicates", "_summary", "config.yaml", "stats.json", "report.html")


@dataclasses.dataclass(frozen=True)
class DedupJobConfig:
    """What ``palmkit dedup`` does, as YAML keys (the same keys as curate's sections)."""

    reader: ReaderConfig = dataclasses.field(default_factory=ReaderConfig)
    dedup: DedupConfig = dataclasses.field(default_factory=DedupConfig)
    records_per_shard: int = 10_000

    def __post_init__(self):
        if self.records_per_shard < 1:
            raise ValueError("records_per_shard must be at least 1")
        if not (self.dedup.exact.enabled or self.dedup.near.enabled):
            raise ValueError("dedup.exact.enabled and dedup.near.enabled are both false: nothing to do")


def kept_group(doc) -> str:
    """``kept/<source>/<lang>``: curate's ``curated/`` layout."""
    return f"kept/{doc.source or 'unknown'}/{doc.lang or 'und'}"


def _write_summary(summary: dict, output: str) -> None:
    write_atomically(f"{output.rstrip('/')}/{SUMMARY_FILE}", json.dumps(summary, sort_keys=True).encode())


def build_dedup_pipeline(p: beam.Pipeline, cfg: DedupJobConfig, inputs: list[InputSpec], output: str) -> None:
    """Adds the whole dedup job to ``p``: read, deduplicate, write shards and dead letters, stats."""
    out = output.rstrip("/")
    read = p | "Read" >> ReadInputs(inputs, cfg.reader, documents=True)
    result = read["docs"] | "Dedup" >> Deduplicate(cfg.dedup)
    (
        result["kept"]
        | "KeptLines" >> beam.Map(lambda d: (kept_group(d), d.id, d.to_json()))
        | "WriteKept" >> WriteJsonlShards(out, ".jsonl.zst", cfg.records_per_shard)
    )
    read["errors"] | "WriteErrors" >> WriteDeadLetters(out, cfg.records_per_shard)
    result["duplicates"] | "WriteDuplicates" >> WriteDuplicateMap(out, cfg.records_per_shard)
    outcomes = {
        "read": read["docs"],
        "kept": result["kept"],
        "rejected": p | "NoRejects" >> beam.Create([]),
        "errors": read["errors"],
        "duplicates": result["duplicates"],
        "cluster_sizes": result["cluster_sizes"],
        "components": result["components"],
    }
    outcomes | "Stats" >> CollectStats() | "WriteSummary" >> beam.Map(_write_summary, out)


def dedup_stats(summary: dict, cfg: DedupJobConfig, job: dict) -> dict:
    """``stats.json`` of a dedup job from its summary; raises AccountingError if the counts do not add up."""
    stats = assemble_stats(summary, extra={"job": job})
    # Curate's fields that a dedup job has no use for (nothing is rejected or scored).
    for key in ("rejected", "kept_by_toxicity_level"):
        stats.pop(key, None)
    stats["bytes"].pop("rejected", None)
    stats["samples"].pop("rejected", None)
    total = stats["kept"] + stats["errors"] + sum(stats["duplicates"].values())
    if stats["read"] != total:
        raise AccountingError(f"read={stats['read']} but kept+errors+duplicates={total}")
    dedup = cfg.dedup
    stats["dedup"]["exact"] = dataclasses.asdict(dedup.exact)
    if dedup.near.enabled:
        params = lsh_parameters(dedup.near)
        stats["dedup"].update({"bands": params.bands, "rows": params.rows, "num_perm": dedup.near.num_perm, "threshold": dedup.near.threshold})
    stats["dedup"]["near"] = dataclasses.asdict(dedup.near)
    return stats


def render_dedup_report(stats: dict, title: str = "palmkit dedup report") -> str:
    """A one-page report: the accounting, kept documents per source/language, dead letters, clusters."""
    parts = page_start(title)
    job = stats.get("job", {})
    parts.append(f"<p class='muted'>inputs: {html.escape(', '.join(job.get('inputs', [])))} · runner: "
                 f"{html.escape(str(job.get('runner')))} · workers: {html.escape(str(job.get('workers')))}</p>")
    dups = stats["duplicates"]
    read = stats["read"]
    ok = read == stats["kept"] + stats["errors"] + dups["exact"] + dups["near"]
    parts.append("<h2>Summary</h2>")
    rows = [("read", read), ("kept", stats["kept"]), ("errors (dead letters)", stats["errors"]),
            ("exact duplicates", dups["exact"]), ("near duplicates", dups["near"])]
    parts.append(table(["", "documents", "share of read"], [[k, n, f"{100 * n / max(1, read):.1f}%"] for k, n in rows]))
    parts.append(f"<p class='{'ok' if ok else 'bad'}'>read = kept + errors + exact + near: {read:,} = {stats['kept']:,} + "
                 f"{stats['errors']:,} + {dups['exact']:,} + {dups['near']:,} ({'holds' if ok else 'DOES NOT HOLD'})</p>")
    b = stats["bytes"]
    parts.append(table(["", "MB"], [["read", b["read"] / 1e6], ["kept", b["kept"] / 1e6],
                                    ["exact duplicates", b["duplicates"]["exact"] / 1e6], ["near duplicates", b["duplicates"]["near"] / 1e6]]))
    parts.append("<h2>Kept documents per source/language</h2>")
    parts.append(table(["source/lang", "documents", "MB"], [[k, v["docs"], v["bytes"] / 1e6] for k, v in stats.get("kept_by_source_lang", {}).items()]))
    if stats.get("errors_by_kind"):
        parts.append("<h2>Dead letters (malformed input)</h2>")
        parts.append(table(["reason", "records"], [[k, v] for k, v in stats["errors_by_kind"].items()]))
    parts += dedup_section(stats)
    parts.append("<p class='muted'>duplicates/ lists every removed id with its survivor; follow survivor links to reach a kept document.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def finish_dedup(cfg: DedupJobConfig, output: str, job: dict) -> dict:
    """Driver side, after the pipeline: report.html, then stats.json (the completion marker)."""
    out = output.rstrip("/")
    with FileSystems.open(f"{out}/{SUMMARY_FILE}") as fh:
        summary = json.loads(fh.read().decode("utf-8"))
    stats = dedup_stats(summary, cfg, job)
    write_config(out, cfg, "dedup")
    write_atomically(f"{out}/report.html", render_dedup_report(stats).encode("utf-8"))
    write_atomically(f"{out}/stats.json", json.dumps(stats, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return stats


def run_dedup(cfg: DedupJobConfig, inputs: list[InputSpec], output: str, options) -> dict:
    """Runs the dedup job to completion and returns its stats."""
    clear_outputs(output, OUTPUT_PARTS)
    if "://" not in output:
        os.makedirs(output, exist_ok=True)
    with beam.Pipeline(options=options) as p:
        build_dedup_pipeline(p, cfg, inputs, output)
    all_options = options.get_all_options()
    job = {
        "inputs": [spec.label for spec in inputs],
        "runner": all_options.get("runner"),
        "workers": all_options.get("direct_num_workers"),
    }
    return finish_dedup(cfg, output, job)


__all__ = ["DedupJobConfig", "OUTPUT_PARTS", "build_dedup_pipeline", "dedup_stats", "render_dedup_report", "run_dedup"]
