"""The curate job: read → clean → language-ID → quality/code filters → dedup → write.

``Curate`` is the composite transform (Documents in; kept, rejected and
duplicates out) and ``run_curate`` the whole job around it: readers with dead
letters, the transform, deterministic shard writers, and the stats and report
the driver writes last. Which filter families run, and their thresholds, come
from ``CurateConfig``; the functions themselves live in ``filters/``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import zlib

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from filters import clean as clean_rules
from filters import code as code_rules
from filters import langid as langid_rules
from filters import quality as quality_rules
from filters import toxicity as toxicity_rules
from pipeline import steps as curate_steps
from pipeline.dedup import DedupConfig, Deduplicate, lsh_parameters
from pipeline.filtering import REJECTED, ApplySteps
from pipeline.readers import InputSpec, ReadInputs
from pipeline.records import ReaderConfig
from pipeline.report import render_report
from pipeline.stats import CollectStats, assemble_stats
from pipeline.writers import WriteDeadLetters, WriteDuplicateMap, WriteJsonlShards, write_atomically

log = logging.getLogger(__name__)

SUMMARY_FILE = "_summary/summary.json"
OUTPUT_PARTS = ("curated", "rejected", "errors", "duplicates", "_summary", "config.yaml", "stats.json", "report.html")


@dataclasses.dataclass(frozen=True)
class LangIdConfig:
    """fastText language ID. An empty ``model`` means the model shipped with palmkit."""

    model: str = ""
    threshold: float = langid_rules.DEFAULT_THRESHOLD
    # Per-language thresholds that replace ``threshold`` for the languages they
    # name, e.g. {da: 0.3, nb: 0.3}: closely related languages never score as
    # high as the others (docs/LANGID.md, "Threshold"). Keys are the model's
    # language codes; ``langid.thresholds.da=0.3`` sets one from the command line.
    thresholds: dict[str, float] = dataclasses.field(default_factory=dict)
    # "reject" drops low-confidence prose (reason langid:low_confidence);
    # "keep" keeps it under lang "und" so a later stage can decide.
    below_threshold: str = "reject"

    def __post_init__(self):
        if self.below_threshold not in ("reject", "keep"):
            raise ValueError(f"below_threshold must be 'reject' or 'keep', got {self.below_threshold!r}")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold}")
        for lang, limit in self.thresholds.items():
            if not lang or lang == "*" or lang != lang.strip():
                raise ValueError(f"thresholds: {lang!r} is not a language code")
            if not 0.0 <= limit <= 1.0:
                raise ValueError(f"thresholds.{lang} must be in [0, 1], got {limit}")

    def decision_threshold(self) -> float | dict[str, float]:
        """What ``filters.langid.langid_decision`` takes: the one threshold, or
        the per-language ones with ``threshold`` for every other language."""
        return {"*": self.threshold, **self.thresholds} if self.thresholds else self.threshold


@dataclasses.dataclass(frozen=True)
class CurateConfig:
    """Everything ``palmkit curate`` does, as YAML keys (see configs/curate/default.yaml)."""

    # Filter families to run. They always run in the order of curate_steps.STEP_ORDER;
    # this list only switches them on or off.
    steps: tuple[str, ...] = ("clean", "langid", "gopher_quality", "gopher_repetition", "code", "toxicity")
    reader: ReaderConfig = dataclasses.field(default_factory=ReaderConfig)
    clean: clean_rules.CleanConfig = dataclasses.field(default_factory=clean_rules.CleanConfig)
    langid: LangIdConfig = dataclasses.field(default_factory=LangIdConfig)
    gopher_quality: quality_rules.GopherQualityConfig = dataclasses.field(default_factory=quality_rules.GopherQualityConfig)
    gopher_repetition: quality_rules.GopherRepetitionConfig = dataclasses.field(default_factory=quality_rules.GopherRepetitionConfig)
    c4: quality_rules.C4Config = dataclasses.field(default_factory=quality_rules.C4Config)
    code: code_rules.CodeConfig = dataclasses.field(default_factory=code_rules.CodeConfig)
    toxicity: toxicity_rules.ToxicityTagConfig = dataclasses.field(default_factory=toxicity_rules.ToxicityTagConfig)
    dedup: DedupConfig = dataclasses.field(default_factory=DedupConfig)
    # Fraction of rejected documents written to rejected/<reason>/ (all are counted).
    rejected_sample: float = 1.0
    records_per_shard: int = 10_000
    seed: int = 0

    def __post_init__(self):
        unknown = [s for s in self.steps if s not in curate_steps.STEP_ORDER]
        if unknown:
            raise ValueError(f"unknown step {unknown[0]!r} (known: {', '.join(curate_steps.STEP_ORDER)})")
        if not 0.0 <= self.rejected_sample <= 1.0:
            raise ValueError(f"rejected_sample must be in [0, 1], got {self.rejected_sample}")
        if self.records_per_shard < 1:
            raise ValueError("records_per_shard must be at least 1")


class Curate(beam.PTransform):
    """Documents → ``{"kept", "rejected", "duplicates"}``.

    ``rejected`` holds ``(reason, Document)``; ``duplicates`` holds
    ``{"id", "survivor", "kind", "bytes", ...}`` records from dedup.
    """

    def __init__(self, cfg: CurateConfig):
        super().__init__()
        self.cfg = cfg

    def expand(self, docs):
        make_steps = curate_steps.StepFactory(self.cfg)
        filtered = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=32, max_batch_size=512)
            | "Filter" >> beam.ParDo(ApplySteps(make_steps)).with_outputs(REJECTED, main="kept")
        )
        deduped = filtered.kept | "Dedup" >> Deduplicate(self.cfg.dedup)
        return {
            "kept": deduped["kept"],
            "rejected": filtered[REJECTED],
            "duplicates": deduped["duplicates"],
            "cluster_sizes": deduped["cluster_sizes"],
            "components": deduped["components"],
        }


def _keep_sample(doc_id: str, fraction: float, seed: int) -> bool:
    if fraction >= 1.0:
        return True
    return zlib.crc32(f"{seed}:{doc_id}".encode()) / 2**32 < fraction


def reason_dir(reason: str) -> str:
    """``gopher_quality:min_words`` → ``gopher_quality.min_words`` (portable as a folder name)."""
    return "".join(c if c.isalnum() or c in "._-" else "." for c in reason)


def _write_summary(summary: dict, output: str) -> None:
    write_atomically(f"{output.rstrip('/')}/{SUMMARY_FILE}", json.dumps(summary, sort_keys=True).encode())


def build_curate_pipeline(p: beam.Pipeline, cfg: CurateConfig, inputs: list[InputSpec], output: str) -> None:
    """Adds the whole curate job to ``p``: read, curate, write shards, dead letters, stats."""
    out = output.rstrip("/")
    read = p | "Read" >> ReadInputs(inputs, cfg.reader)
    result = read["docs"] | "Curate" >> Curate(cfg)

    (
        result["kept"]
        | "KeptLines" >> beam.Map(lambda d: (f"curated/{d.source}/{d.lang or 'und'}", d.id, d.to_json()))
        | "WriteCurated" >> WriteJsonlShards(out, ".jsonl.zst", cfg.records_per_shard)
    )
    (
        result["rejected"]
        | "SampleRejected" >> beam.Filter(lambda r, f, s: _keep_sample(r[1].id, f, s), cfg.rejected_sample, cfg.seed)
        | "RejectedLines" >> beam.Map(
            lambda r: (f"rejected/{reason_dir(r[0])}", r[1].id, json.dumps({"reason": r[0], **r[1].to_dict()}, ensure_ascii=False, sort_keys=True))
        )
        | "WriteRejected" >> WriteJsonlShards(out, ".jsonl.zst", cfg.records_per_shard)
    )
    read["errors"] | "WriteErrors" >> WriteDeadLetters(out, cfg.records_per_shard)
    result["duplicates"] | "WriteDuplicates" >> WriteDuplicateMap(out, cfg.records_per_shard)
    outcomes = {
        "read": read["docs"],
        "kept": result["kept"],
        "rejected": result["rejected"],
        "errors": read["errors"],
        "duplicates": result["duplicates"],
        "cluster_sizes": result["cluster_sizes"],
        "components": result["components"],
    }
    (
        outcomes
        | "Stats" >> CollectStats()
        | "WriteSummary" >> beam.Map(_write_summary, out)
    )


def clear_outputs(output: str, parts: tuple[str, ...] = OUTPUT_PARTS) -> None:
    """Removes what an earlier run wrote (the job's ``parts``), so a re-run gives exactly the same tree."""
    out = output.rstrip("/")
    if "://" in out:
        # Object stores have no folders: delete every object under each prefix.
        patterns = [f"{out}/{part}/**" for part in parts] + [f"{out}/{part}" for part in parts]
        existing = sorted({m.path for r in FileSystems.match(patterns) for m in r.metadata_list})
    else:
        existing = [f"{out}/{part}" for part in parts if os.path.exists(f"{out}/{part}")]
    if existing:
        FileSystems.delete(existing)


def write_config(output: str, cfg, command: str) -> None:
    """``OUTPUT/config.yaml``: every key of the job's effective config (defaults,
    file and overrides together), so ``--config OUTPUT/config.yaml`` runs the
    same job again and a reader of the outputs can see what made them."""
    import yaml

    from palmkit.config import to_dict

    header = (f"# The effective config of this `palmkit {command}` run: every key, defaults included.\n"
              f"# `palmkit {command} --config config.yaml` with the same inputs gives the same outputs.\n")
    body = yaml.safe_dump(to_dict(cfg), sort_keys=False, allow_unicode=True)
    write_atomically(f"{output.rstrip('/')}/config.yaml", (header + body).encode("utf-8"))


def finish_curate(cfg: CurateConfig, output: str, job: dict) -> dict:
    """Driver side, after the pipeline: stats.json and report.html from the job's summary."""
    out = output.rstrip("/")
    with FileSystems.open(f"{out}/{SUMMARY_FILE}") as fh:
        summary = json.loads(fh.read().decode("utf-8"))
    stats = assemble_stats(summary, extra={"job": job})
    if "toxicity" in cfg.steps:
        scorer = toxicity_rules.scorer_from_config(cfg.toxicity.scorer, cfg.toxicity)
        stats["toxicity"] = {
            "scorer": toxicity_rules.scorer_info(scorer),
            "scorer_languages": list(getattr(scorer, "languages", None) or []),
            "fraction": cfg.toxicity.fraction,
            "thresholds": dict(cfg.toxicity.thresholds),
            "seed": cfg.toxicity.seed,
            "levels": stats.pop("kept_by_toxicity_level", {}),
        }
    if cfg.dedup.near.enabled:
        params = lsh_parameters(cfg.dedup.near)
        stats["dedup"].update({"bands": params.bands, "rows": params.rows, "num_perm": cfg.dedup.near.num_perm, "threshold": cfg.dedup.near.threshold})
    report = render_report(stats, stage_of_reason=curate_steps.stage_of_reason)
    # The config and the report first, stats.json last: stats.json marks a complete job.
    write_config(out, cfg, "curate")
    write_atomically(f"{out}/report.html", report.encode("utf-8"))
    write_atomically(f"{out}/stats.json", json.dumps(stats, indent=2, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return stats


def check_models(cfg: CurateConfig) -> None:
    """Fails before the job starts, on the driver, if a model the steps need is missing.

    Otherwise the first worker to load it would fail deep inside Beam.
    """
    if "langid" in cfg.steps:
        path = cfg.langid.model or curate_steps.default_langid_model()
        if "://" not in path and not os.path.exists(path):
            raise ValueError(f"language-ID model not found: {path} (set langid.model=PATH)")


def run_curate(cfg: CurateConfig, inputs: list[InputSpec], output: str, options) -> dict:
    """Runs the curate job to completion and returns its stats."""
    check_models(cfg)
    clear_outputs(output)
    if "://" not in output:
        os.makedirs(output, exist_ok=True)
    with beam.Pipeline(options=options) as p:
        build_curate_pipeline(p, cfg, inputs, output)
    job = {
        "inputs": [spec.label for spec in inputs],
        "runner": options.get_all_options().get("runner"),
        "workers": options.get_all_options().get("direct_num_workers"),
        "steps": list(cfg.steps),
    }
    return finish_curate(cfg, output, job)


__all__ = ["CurateConfig", "LangIdConfig", "Curate", "check_models", "run_curate", "build_curate_pipeline"]
