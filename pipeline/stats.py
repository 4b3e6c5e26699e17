"""Counting what a curate job did, so that every number adds up.

Counts come from the pipeline's own outputs, not from Beam metrics: metrics
are best effort on some runners, while a count of the elements of a
PCollection is exact. ``CollectStats`` turns the job's outcome PCollections
into one small summary dictionary; ``assemble_stats`` (plain Python, run by
the driver after the job) turns that into ``stats.json`` and checks

    read = kept + errors + duplicates + sum(rejected)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import apache_beam as beam

from filters.document import Document

SNIPPET_CHARS = 300
SAMPLES_PER_REASON = 3


class AccountingError(AssertionError):
    """The counts of a job do not add up: a bug, never a user error."""


def doc_bytes(doc: Document) -> int:
    return len(doc.text.encode("utf-8"))


def error_kind(reason: str) -> str:
    """``invalid_json: Expecting value`` → ``invalid_json``."""
    return reason.split(":", 1)[0].split(" ", 1)[0]


def _sample_rank(doc_id: str) -> str:
    # A hash rather than the id itself, so samples are spread over inputs, yet fixed.
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()


class _SumPairs(beam.CombineFn):
    """Sums ``(key, (count, bytes))`` pairs into one dict ``{key: [count, bytes]}``."""

    def create_accumulator(self):
        return {}

    def add_input(self, acc, element):
        key, (n, b) = element
        cur = acc.get(key)
        if cur is None:
            acc[key] = [n, b]
        else:
            cur[0] += n
            cur[1] += b
        return acc

    def merge_accumulators(self, accs):
        out: dict = {}
        for acc in accs:
            for key, (n, b) in acc.items():
                cur = out.setdefault(key, [0, 0])
                cur[0] += n
                cur[1] += b
        return out

    def extract_output(self, acc):
        return acc


def _kept_keys(doc: Document):
    b = doc_bytes(doc)
    yield "kept", (1, b)
    yield f"kept_lang:{doc.source}/{doc.lang or 'und'}", (1, b)
    if doc.meta.get("code_lang"):
        yield f"kept_code:{doc.meta['code_lang']}", (1, b)
    if "toxicity" in doc.meta:
        level = doc.meta.get("toxicity_level") or ("untagged" if doc.meta["toxicity"] is not None else "unscored")
        yield f"kept_tox:{level}", (1, b)


def _read_keys(doc: Document):
    yield "read_docs", (1, doc_bytes(doc))
    yield f"read_source:{doc.source}", (1, doc_bytes(doc))


def _rejected_keys(item):
    reason, doc = item
    yield f"rejected:{reason}", (1, doc_bytes(doc))


def _duplicate_keys(record: dict):
    yield f"duplicates:{record['kind']}", (1, int(record.get("bytes", 0)))


def _error_keys(err):
    yield f"errors:{error_kind(err.reason)}", (1, 0)


class CollectStats(beam.PTransform):
    """Outcome PCollections → one dict with counts, bytes, and sample rejects."""

    def __init__(self, samples_per_reason: int = SAMPLES_PER_REASON):
        super().__init__()
        self.samples_per_reason = samples_per_reason

    def expand(self, outcomes: dict):
        parts = [
            outcomes["read"] | "ReadKeys" >> beam.FlatMap(_read_keys),
            outcomes["kept"] | "KeptKeys" >> beam.FlatMap(_kept_keys),
            outcomes["rejected"] | "RejectedKeys" >> beam.FlatMap(_rejected_keys),
            outcomes["errors"] | "ErrorKeys" >> beam.FlatMap(_error_keys),
        ]
        parts.append(outcomes["duplicates"] | "DuplicateKeys" >> beam.FlatMap(_duplicate_keys))
        counts = parts | "AllKeys" >> beam.Flatten() | "Sum" >> beam.CombineGlobally(_SumPairs())
        samples = (
            outcomes["rejected"]
            | "SampleKey" >> beam.Map(lambda item: (item[0], (_sample_rank(item[1].id), item[1].id, item[1].text[:SNIPPET_CHARS])))
            | "SamplePerReason" >> beam.combiners.Top.PerKey(self.samples_per_reason, key=lambda s: s[0], reverse=True)
            | "SampleList" >> beam.combiners.ToList()
        )
        error_samples = (
            outcomes["errors"]
            | "ErrorSampleKey" >> beam.Map(lambda e: (error_kind(e.reason), (_sample_rank(f"{e.file}:{e.line}:{e.offset}"), e.to_json())))
            | "ErrorSamplePerKind" >> beam.combiners.Top.PerKey(self.samples_per_reason, key=lambda s: s[0], reverse=True)
            | "ErrorSampleList" >> beam.combiners.ToList()
        )
        dedup = [
            outcomes[name] | f"{name}List" >> beam.combiners.ToList()
            for name in ("cluster_sizes", "components")
        ]
        return counts | "WithSamples" >> beam.Map(
            lambda c, s, e, sizes, comps: {
                "counts": c,
                "samples": sorted(s),
                "error_samples": sorted(e),
                "cluster_sizes": sorted((r["kind"], r["size"], r["clusters"]) for r in sizes),
                "components": sorted(comps, key=lambda r: json.dumps(r, sort_keys=True)),
            },
            beam.pvalue.AsSingleton(samples),
            beam.pvalue.AsSingleton(error_samples),
            *[beam.pvalue.AsSingleton(d) for d in dedup],
        )


def assemble_stats(summary: dict, *, extra: dict[str, Any] | None = None) -> dict:
    """``stats.json`` from the job's summary; raises AccountingError if counts do not add up."""
    counts = {k: tuple(v) for k, v in summary["counts"].items()}

    def total(prefix: str) -> tuple[int, int]:
        n = sum(v[0] for k, v in counts.items() if k.startswith(prefix))
        b = sum(v[1] for k, v in counts.items() if k.startswith(prefix))
        return n, b

    def by(prefix: str, index: int = 0) -> dict[str, int]:
        return {k[len(prefix):]: v[index] for k, v in sorted(counts.items()) if k.startswith(prefix)}

    docs_read = counts.get("read_docs", (0, 0))
    errors = total("errors:")[0]
    kept = counts.get("kept", (0, 0))
    rejected = by("rejected:")
    duplicates = {"exact": counts.get("duplicates:exact", (0, 0))[0], "near": counts.get("duplicates:near", (0, 0))[0]}
    stats = {
        "read": docs_read[0] + errors,
        "kept": kept[0],
        "errors": errors,
        "duplicates": duplicates,
        "rejected": rejected,
        "bytes": {
            "read": docs_read[1],
            "kept": kept[1],
            "rejected": by("rejected:", 1),
            "duplicates": {"exact": counts.get("duplicates:exact", (0, 0))[1], "near": counts.get("duplicates:near", (0, 0))[1]},
        },
        "errors_by_kind": by("errors:"),
        "read_by_source": by("read_source:"),
        "kept_by_source_lang": {k: {"docs": v[0], "bytes": v[1]} for k, v in sorted(counts.items()) if k.startswith("kept_lang:") for k in [k[len("kept_lang:"):]]},
        "kept_by_toxicity_level": by("kept_tox:"),
        "kept_by_code_lang": {k: {"docs": v[0], "bytes": v[1]} for k, v in sorted(counts.items()) if k.startswith("kept_code:") for k in [k[len("kept_code:"):]]},
        "dedup": {
            "cluster_sizes": {
                kind: {str(size): n for k, size, n in summary.get("cluster_sizes", []) if k == kind}
                for kind in sorted({k for k, _, _ in summary.get("cluster_sizes", [])})
            },
            "components": summary.get("components", []),
        },
        "samples": {
            "rejected": {reason: [{"id": i, "text": t} for _, i, t in items] for reason, items in summary.get("samples", [])},
            "errors": {kind: [json.loads(j) for _, j in items] for kind, items in summary.get("error_samples", [])},
        },
    }
    if extra:
        stats.update(extra)
    check_accounting(stats)
    return stats


def check_accounting(stats: dict) -> None:
    total = stats["kept"] + stats["errors"] + sum(stats["duplicates"].values()) + sum(stats["rejected"].values())
    if stats["read"] != total:
        raise AccountingError(
            f"read={stats['read']} but kept+errors+duplicates+rejected={total}: documents were lost or counted twice"
        )


def funnel(stats: dict, stage_of_reason) -> list[dict]:
    """Rows of (stage, docs, bytes) after each stage, in pipeline order, for the report.

    ``stage_of_reason(reason)`` gives ``(position, stage name)`` for a reject reason.
    """
    stages: dict[tuple[int, str], list[int]] = {}
    # Every step that ran gets a row, also when it rejected nothing.
    for step in stats.get("job", {}).get("steps", []):
        stages.setdefault(tuple(stage_of_reason(step + ":")), [0, 0])
    for reason, n in stats["rejected"].items():
        cur = stages.setdefault(tuple(stage_of_reason(reason)), [0, 0])
        cur[0] += n
        cur[1] += stats["bytes"]["rejected"].get(reason, 0)
    rows = [{"stage": "read (valid records)", "docs": stats["read"] - stats["errors"], "bytes": stats["bytes"]["read"]}]
    docs, size = rows[0]["docs"], rows[0]["bytes"]
    for (_, stage), (n, b) in sorted(stages.items()):
        docs, size = docs - n, size - b
        rows.append({"stage": f"after {stage}", "docs": docs, "bytes": size})
    for kind in ("exact", "near"):
        n = stats["duplicates"][kind]
        b = stats["bytes"]["duplicates"][kind]
        docs, size = docs - n, size - b
        rows.append({"stage": f"after {kind} dedup", "docs": docs, "bytes": size})
    return rows
