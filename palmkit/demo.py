"""The demo: palmkit's stages in order on the bundled sample corpus.

Kept out of ``palmkit/commands`` so it stays importable and testable; each
stage is one call into the package that owns it:

    curate (pipeline.curate) → tokenizer, plan, shards with canaries
    (pipeline.demo_stages) → train (train.loop) → generate (train.decode)
    → audit (train.audit)

and ``demo-out/index.html`` links every stage's report.
"""

from __future__ import annotations

import html
import json
import logging
import os
import pathlib

from palmkit.errors import UsageError

log = logging.getLogger("palmkit.demo")

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO_ROOT / "examples" / "corpus"
TRAIN_CONFIG = REPO_ROOT / "configs" / "train" / "demo_cpu.yaml"
CODE_SOURCE = "code"
STAGES = ("curate", "data", "train", "audit")


def corpus_inputs(corpus: pathlib.Path):
    """One input per source folder: JSONL shards for prose, the folder itself for code."""
    from pipeline.readers import parse_input

    if not corpus.is_dir():
        raise UsageError(f"sample corpus not found: {corpus} (run from a palmkit checkout or pass --corpus)")
    inputs = []
    for child in sorted(corpus.iterdir()):
        if not child.is_dir():
            continue
        if child.name == CODE_SOURCE:
            inputs.append(parse_input(f"{child.name}={child}", child.name))
        else:
            inputs.append(parse_input(f"{child.name}={child}/*.jsonl.zst", child.name))
    if not inputs:
        raise UsageError(f"sample corpus {corpus} has no source folders")
    return inputs


def _train(out: pathlib.Path, shards: str, overrides: list[str]) -> dict:
    from palmkit.config import load_config
    from train.config import TrainConfig
    from train.loop import train

    cfg = load_config(TrainConfig, TRAIN_CONFIG, [f"data.shards={shards}", f"output_dir={out / 'train'}", *overrides])
    result = train(cfg)
    return {"steps": result.step, "metrics": result.last_metrics, "rollbacks": result.rollbacks, "output_dir": cfg.output_dir}


def _sample(train_dir: str, prompt: str) -> dict:
    """A short greedy continuation with and without a control token: proof the model and vocabulary line up."""
    from palmkit.generate import generate_text

    return {
        "prompt": prompt,
        "plain": generate_text(train_dir, prompt, max_tokens=24),
        "control_low": generate_text(train_dir, prompt, max_tokens=24, control="low"),
    }


def _index(out: pathlib.Path, summary: dict) -> str:
    """demo-out/index.html: one line per stage with its numbers and a link to its report."""
    rows = []
    curate = summary.get("curate")
    if curate:
        rows.append(("curate", "curate/report.html", f"read {curate['read']:,}, kept {curate['kept']:,}, "
                     f"errors {curate['errors']:,}, duplicates {sum(curate['duplicates'].values()):,}"))
    data = summary.get("data")
    if data:
        rows.append(("tokenizer, plan, shards", "data/plan.txt", f"{data['examples']:,} examples, {data['tokens']:,} tokens, "
                     f"{data.get('canary_count', 0)} canaries planted"))
    trained = summary.get("train")
    if trained:
        loss = trained["metrics"].get("loss")
        rows.append(("train", "train/metrics.jsonl", f"{trained['steps']} steps, final loss {loss:.3f}" if loss is not None else f"{trained['steps']} steps"))
    audit = summary.get("audit")
    if audit:
        rows.append(("audit", "audit/audit.html", audit.get("headline", "memorization audit")))
    body = "".join(
        f"<tr><td>{html.escape(stage)}</td><td><a href='{html.escape(link)}'>{html.escape(link)}</a></td><td>{html.escape(text)}</td></tr>"
        for stage, link, text in rows
    )
    sample = summary.get("sample")
    sample_html = ""
    if sample:
        sample_html = (f"<h2>Generation</h2><p>prompt: <code>{html.escape(sample['prompt'])}</code></p>"
                       f"<pre>{html.escape(sample['plain'])}</pre><p>with &lt;tox:low&gt;:</p><pre>{html.escape(sample['control_low'])}</pre>")
    page = (
        "<!doctype html><html><head><meta charset='utf-8'><title>palmkit demo</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto}td{padding:.3em .8em;border-bottom:1px solid #ddd}</style>"
        f"</head><body><h1>palmkit demo</h1><table>{body}</table>{sample_html}</body></html>"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return os.fspath(path)


def run_demo(output: str, options, corpus: str | None = None, stages: tuple[str, ...] = STAGES,
             train_overrides: list[str] | None = None) -> str:
    """Runs ``stages`` in order into ``output``; returns the path of the index page."""
    from pipeline.curate import CurateConfig, run_curate

    corpus_dir = pathlib.Path(corpus) if corpus else DEFAULT_CORPUS
    out = pathlib.Path(output)
    out.mkdir(parents=True, exist_ok=True)
    summary: dict = {}
    curated = os.fspath(out / "curate")
    if "curate" in stages:
        inputs = corpus_inputs(corpus_dir)
        log.info("demo 1/4: curate %d sources from %s", len(inputs), corpus_dir)
        stats = run_curate(CurateConfig(), inputs, curated, options)
        summary["curate"] = {k: stats[k] for k in ("read", "kept", "errors", "duplicates")}
    if "data" in stages:
        from pipeline.demo_stages import run_demo_stages

        log.info("demo 2/4: tokenizer, mixture plan, token shards with canaries")
        data = run_demo_stages(curated, os.fspath(out / "data"), options)
        if data.get("canaries"):
            with open(data["canaries"], encoding="utf-8") as fh:
                data["canary_count"] = len(json.load(fh)["canaries"])
        summary["data"] = {k: v for k, v in data.items() if k not in ("plan",)}
    if "train" in stages:
        log.info("demo 3/4: train a small PaLM on the shards")
        summary["train"] = _train(out, os.fspath(out / "data" / "shards"), list(train_overrides or []))
        summary["sample"] = _sample(summary["train"]["output_dir"], "The ")
    if "audit" in stages:
        from palmkit.audit import run_audit

        log.info("demo 4/4: memorization audit")
        # Fewer references and windows than the command's defaults: the demo's model is tiny
        # and its exposures cap at log2(200) ≈ 7.6 bits, enough to show 1 vs 10 vs 100 copies.
        result = run_audit(os.fspath(out / "train"), os.fspath(out / "data" / "shards.canaries.json"),
                           os.fspath(out / "data" / "shards"), os.fspath(out / "audit"),
                           max_references=200, max_sequences_per_bucket=200, beam_options=options)
        summary["audit"] = {"headline": result.get("headline", "see audit.html")}
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True, default=str), encoding="utf-8")
    return _index(out, summary)
