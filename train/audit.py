"""The memorization audit: exposure, canary extraction, training-data extraction, membership scores.

Inputs: a model (``train.extraction.AuditModel``), the ``canaries.json`` that
``palmkit tokenize`` wrote (format ``palmkit-canaries-v1``), optionally the
token shards and a sample of their 100-token windows with repetition counts
(``pipeline.repeats``; the command line runs that job and passes the sample).

1. **Exposure** (secret canaries; Carlini et al. 2019). Each canary's
   template filled with its secret and with each of its sampled references is
   scored as a whole sequence; exposure = log₂|R| − log₂ rank, estimated by
   interpolation among the references and by skew-normal extrapolation
   (``train.exposure``). *Controls*: a few references per canary, chosen at
   random (seeded; not the first ones, since a list of references may be
   sorted), each ranked among the others the same way: secrets that were
   never inserted, whose exposure should average 1/ln 2 ≈ 1.4 bits.
2. **Canary extraction** (interleave, shuffle; PaLM 2 §4.7): greedy 30 tokens
   from the 60-token prefix; exact match and matched-token fraction.
3. **Training-data extraction** (PaLM, PaLM 2): for each sampled window,
   prompt with its first 50 tokens, decode 50 greedily, exact match per
   repetition bucket.
4. **Membership scores** (loss, zlib ratio, Min-K%) for every canary and for
   never-inserted controls built to match it: a shuffle canary's tokens in
   another seeded order; an interleave canary re-interleaved from its two
   sources with both phases moved by half a block (same source text, block
   joints that never occurred); a secret template filled with a reference.
   Reported as means and as AUC (canary vs. control of the same kind).

Reference sequences need the tokenizer (``canaries.json`` names it). Without
one, a secret whose digits are one token each (``len(secret_ids) ==
len(secret)``) is filled in by substituting digit ids learnt from the secrets
themselves; other secret canaries are skipped and listed under ``skipped``.

Scored sequences longer than the training rows (``max_len``) are cut to
``max_len`` tokens: the model never saw a longer context.

Outputs in ``output_dir``: ``audit.json`` (summaries and per-canary records),
``training_extraction.jsonl`` (one line per sampled window), PNG plots and a
self-contained ``audit.html`` (``train.audit_report``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from collections import defaultdict
from typing import Any, Iterable, Sequence

import numpy as np

from train import exposure as ex
# load_canaries, find_tokenizer and Tokenizer are part of this module's API (the command uses them from here).
from train.audit_canaries import (  # noqa: F401
    Tokenizer, control_references, control_tokens, digit_map, find_tokenizer, load_canaries, secret_span_ok, secret_variants, split_offset,
)
from train.extraction import AuditModel, longest_matched_prefix, match_stats

log = logging.getLogger(__name__)

EXTRACTION_KINDS = ("interleave", "shuffle")


@dataclasses.dataclass
class AuditConfig:
    max_sequences_per_bucket: int = 1000  # training-data windows per repetition bucket (pipeline.repeats samples them)
    prompt_tokens: int = 50  # training-data extraction: prompt, then greedy continuation of the rest of the window
    continuation_tokens: int = 50
    max_references: int | None = None  # per secret canary (None: all in canaries.json)
    min_k: tuple[float, ...] = (0.1, 0.2)  # Min-K% probability fractions
    block: int = 50  # interleave block size (PaLM 2), for the controls
    max_len: int | None = None  # cut scored sequences to this many tokens (default: the shards' seq_len)
    controls_per_secret: int = 5  # references ranked among the others as never-inserted controls
    seed: int = 0  # which references are controls; shuffle controls' order


def _groups(records: Iterable[dict], keys: Sequence[str]) -> dict[tuple, list[dict]]:
    out: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        out[tuple(r.get(k) for k in keys)].append(r)
    return dict(sorted(out.items(), key=lambda kv: tuple((v is None, str(v) if not isinstance(v, (int, float)) else v) for v in kv[0])))


# ---------------------------------------------------------------------------
# 1. Exposure
# ---------------------------------------------------------------------------


def exposure_audit(model: AuditModel, canaries: Sequence[dict], tokenizer: Tokenizer | None, cfg: AuditConfig) -> dict:
    """Per secret canary: Px, its rank among the references, both exposure estimates; and its controls."""
    secrets = [c for c in canaries if c["kind"] == "secret"]
    digits = digit_map(secrets)
    records, skipped, jobs = [], [], []
    for c in secrets:
        refs = list(c["references"])[: cfg.max_references] if cfg.max_references else list(c["references"])
        variants = secret_variants(c, [c["secret"]] + refs, tokenizer, digits)
        if variants is None or len(refs) < 4:
            reason = "prefix_ids + secret_ids do not start token_ids" if not secret_span_ok(c) else "no tokenizer and secret not one token per digit"
            skipped.append({"id": c["id"], "reason": reason if variants is None else "fewer than 4 references"})
            continue
        variants[0] = list(c["token_ids"])  # the canary exactly as planted
        jobs.append((c, refs, variants))
    seqs = [_cut(v, cfg.max_len) for _, _, vs in jobs for v in vs]
    px_all = iter(ex.log_perplexity_list(model.log_probs(seqs, desc="exposure")))
    for c, refs, variants in jobs:
        px = np.array([next(px_all) for _ in variants])
        px_c, px_r = px[0], px[1:]
        bits = ex.space_bits(c["secret"])
        params = ex.fit_skewnorm(px_r)
        base = {"id": c["id"], "lang": c.get("lang"), "lang_bin": c.get("lang_bin"), "space_bits": bits}
        records.append({
            **base, "repetitions": int(c["repetitions"]), "inserted": True, "px": float(px_c),
            "px_references_mean": float(px_r.mean()), "px_references_std": float(px_r.std()),
            "rank_among_references": int(1 + (px_r < px_c).sum()), "references": len(refs),
            "max_interpolation": math.log2(len(refs)),
            "exposure_interpolation": float(ex.exposure_interpolation(px_c, px_r)),
            "exposure_extrapolation": float(ex.exposure_extrapolation(px_c, px_r, bits, params)),
        })
        # Controls: references picked at random (seeded), each ranked among the others as if it were the secret.
        for k, j in enumerate(control_references(c, len(refs), cfg.controls_per_secret, cfg.seed)):
            ctrl_r = np.delete(px_r, j)
            records.append({
                **base, "id": f"{c['id']}/control{k}", "repetitions": 0, "inserted": False, "px": float(px_r[j]),
                "reference": refs[j], "rank_among_references": int(1 + (ctrl_r < px_r[j]).sum()), "references": len(ctrl_r),
                "max_interpolation": math.log2(len(ctrl_r)),
                "exposure_interpolation": float(ex.exposure_interpolation(px_r[j], ctrl_r)),
                "exposure_extrapolation": float(ex.exposure_extrapolation(px_r[j], ctrl_r, bits, params)),
            })
    summary = []
    for keys in (("repetitions",), ("repetitions", "lang_bin")):
        for group, rs in _groups(records, keys).items():
            summary.append({**dict(zip(keys, group)), "lang_bin": group[1] if len(group) > 1 else "all",
                            "interpolation": ex.mean_spread([r["exposure_interpolation"] for r in rs]),
                            "extrapolation": ex.mean_spread([r["exposure_extrapolation"] for r in rs])})
    return {"records": records, "summary": summary, "skipped": skipped,
            "references_from": "tokenizer" if tokenizer is not None else "digit substitution"}


def _cut(seq: Sequence[int], max_len: int | None) -> list[int]:
    return list(seq)[:max_len] if max_len else list(seq)


# ---------------------------------------------------------------------------
# 2. Canary extraction (and 4.'s controls, which are built here too)
# ---------------------------------------------------------------------------


def canary_extraction(model: AuditModel, canaries: Sequence[dict], cfg: AuditConfig) -> dict:
    """Greedy suffix from prefix, for interleave/shuffle canaries and their controls."""
    items = []
    for c in canaries:
        if c["kind"] not in EXTRACTION_KINDS:
            continue
        base = {"kind": c["kind"], "lang": c.get("lang"), "lang_bin": c.get("lang_bin")}
        items.append(({**base, "id": c["id"], "repetitions": int(c["repetitions"]), "inserted": True}, c["prefix_ids"], c["suffix_ids"]))
        ctrl, o = control_tokens(c, cfg.block, cfg.seed), split_offset(c)
        p, n = len(c["prefix_ids"]), len(c["suffix_ids"])
        if ctrl is not None and o is not None and len(ctrl) >= o + p + n:  # the control split where the canary's is
            items.append(({**base, "id": f"{c['id']}/control", "repetitions": 0, "inserted": False}, ctrl[o : o + p], ctrl[o + p : o + p + n]))
    records = []
    by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
    for k, (_, pre, suf) in enumerate(items):
        by_shape[(len(pre), len(suf))].append(k)
    for (p, s), idx in sorted(by_shape.items()):
        prompts = np.array([items[k][1] for k in idx], np.int32).reshape(len(idx), p)
        truth = np.array([items[k][2] for k in idx], np.int32).reshape(len(idx), s)
        gen = model.greedy(prompts, s, desc=f"canary extraction ({p}->{s})")
        exact, frac = match_stats(gen, truth)
        lead = longest_matched_prefix(gen, truth)
        for j, k in enumerate(idx):
            records.append({**items[k][0], "exact": bool(exact[j]), "token_fraction": float(frac[j]), "matched_prefix": int(lead[j])})
    records.sort(key=lambda r: (r["kind"], r["id"]))
    summary = []
    for keys in (("kind", "repetitions"), ("kind", "repetitions", "lang_bin")):
        for group, rs in _groups(records, keys).items():
            row = dict(zip(keys, group))
            row.setdefault("lang_bin", "all")
            summary.append({**row, "n": len(rs), "exact_rate": float(np.mean([r["exact"] for r in rs])),
                            "token_fraction": ex.mean_spread([r["token_fraction"] for r in rs])})
    return {"records": records, "summary": summary}


# ---------------------------------------------------------------------------
# 3. Training-data extraction
# ---------------------------------------------------------------------------


def training_extraction(model: AuditModel, shards, windows: Sequence[dict], cfg: AuditConfig, bucket_order: Sequence[str] = ()) -> dict:
    """Prompt with each window's first ``prompt_tokens``, greedy ``continuation_tokens``, exact match per bucket."""
    p, n = cfg.prompt_tokens, cfg.continuation_tokens
    windows = list(windows)
    if not windows:
        return {"records": [], "summary": [], "prompt_tokens": p, "continuation_tokens": n}
    rows = shards.read([w["example"] for w in windows])
    seqs = np.stack([rows[i, w["offset"] : w["offset"] + p + n] for i, w in enumerate(windows)])
    if seqs.shape[1] != p + n:
        raise ValueError(f"windows hold {seqs.shape[1]} tokens, need prompt {p} + continuation {n}")
    gen = model.greedy(seqs[:, :p], n, desc="training-data extraction")
    exact, frac = match_stats(gen, seqs[:, p:])
    records = [{**{k: w[k] for k in ("hash", "count", "bucket", "example", "offset")}, "exact": bool(e), "token_fraction": float(f)}
               for w, e, f in zip(windows, exact, frac)]
    order = {b: i for i, b in enumerate(bucket_order)}
    summary = []
    for (bucket,), rs in sorted(_groups(records, ("bucket",)).items(), key=lambda kv: order.get(kv[0][0], len(order))):
        summary.append({"bucket": bucket, "n": len(rs), "exact_rate": float(np.mean([r["exact"] for r in rs])),
                        "token_fraction": ex.mean_spread([r["token_fraction"] for r in rs]),
                        "count": ex.mean_spread([r["count"] for r in rs])})
    return {"records": records, "summary": summary, "prompt_tokens": p, "continuation_tokens": n}


# ---------------------------------------------------------------------------
# 4. Membership-inference scores
# ---------------------------------------------------------------------------


def membership_audit(model: AuditModel, canaries: Sequence[dict], tokenizer: Tokenizer | None, cfg: AuditConfig) -> dict:
    """loss, zlib ratio, Min-K% for every canary and its control; AUC canary vs. control per kind and repetitions."""
    items = []  # (record, tokens, bytes for zlib)
    digits = digit_map([c for c in canaries if c["kind"] == "secret"])

    def as_bytes(tokens, text=None):
        if text is not None:
            return text.encode("utf-8")
        return tokenizer.decode(tokens).encode("utf-8") if tokenizer is not None else ex.token_bytes(tokens)

    for c in canaries:
        base = {"kind": c["kind"], "lang": c.get("lang"), "lang_bin": c.get("lang_bin")}
        tokens = _cut(c["token_ids"], cfg.max_len)
        text = c.get("text") if tokenizer is not None and len(tokens) == len(c["token_ids"]) else None
        items.append(({**base, "id": c["id"], "repetitions": int(c["repetitions"]), "inserted": True}, tokens, as_bytes(tokens, text)))
        if c["kind"] == "secret":
            pick = control_references(c, len(c["references"]), 1, cfg.seed)
            filled = secret_variants(c, [c["references"][pick[0]]], tokenizer, digits) if pick else None
            ctrl = filled[0] if filled else None
        else:
            ctrl = control_tokens(c, cfg.block, cfg.seed)
        if ctrl is not None:
            ctrl = _cut(ctrl, cfg.max_len)
            items.append(({**base, "id": f"{c['id']}/control", "repetitions": 0, "inserted": False}, ctrl, as_bytes(ctrl)))
    lps = model.log_probs([t for _, t, _ in items], desc="membership scores")
    records = [{**rec, **ex.membership_scores(lp, data, cfg.min_k)} for (rec, _, data), lp in zip(items, lps)]
    scores = ["loss", "zlib_ratio"] + [f"min_k_{int(round(k * 100))}" for k in cfg.min_k]
    summary = []
    for (kind, reps), rs in _groups(records, ("kind", "repetitions")).items():
        controls = [r for r in records if r["kind"] == kind and not r["inserted"]]
        row = {"kind": kind, "repetitions": reps, "n": len(rs)}
        for s in scores:
            row[s] = ex.mean_spread([r[s] for r in rs])["mean"]
            if reps:  # canaries vs. all controls of their kind; AUC > 0.5: the score tells them apart
                sign = ex.member_sign(s)
                row[f"auc_{s}"] = ex.auc([sign * r[s] for r in rs], [sign * r[s] for r in controls])
        summary.append(row)
    return {"records": records, "summary": summary, "scores": scores}


# ---------------------------------------------------------------------------
# All of it
# ---------------------------------------------------------------------------


def audit(
    model: AuditModel,
    canaries: dict,
    output_dir: str,
    *,
    shards=None,
    windows: Sequence[dict] | None = None,
    repeats: dict | None = None,
    tokenizer: Tokenizer | None = None,
    cfg: AuditConfig | None = None,
    meta: dict | None = None,
    report: bool = True,
) -> dict:
    """Runs every part whose inputs are given; writes audit.json (+ plots and audit.html); returns the result."""
    cfg = cfg or AuditConfig()
    if cfg.max_len is None and shards is not None:
        cfg = dataclasses.replace(cfg, max_len=shards.seq_len)
    os.makedirs(output_dir, exist_ok=True)
    items = canaries.get("canaries", [])
    result: dict[str, Any] = {
        "format": "palmkit-audit-v1",
        **(meta or {}),
        "config": dataclasses.asdict(cfg),
        "canaries": {"count": len(items), "by_kind": {k: sum(c["kind"] == k for c in items) for k in ("interleave", "shuffle", "secret")},
                     "seed": canaries.get("seed"), "schedule": canaries.get("schedule")},
    }
    log.info("audit: %d canaries, %d training windows", len(items), len(windows or []))
    result["exposure"] = exposure_audit(model, items, tokenizer, cfg)
    result["canary_extraction"] = canary_extraction(model, items, cfg)
    if shards is not None and windows is not None:
        order = list((repeats or {}).get("histogram", {}))
        te = training_extraction(model, shards, windows, cfg, order)
        with open(os.path.join(output_dir, "training_extraction.jsonl"), "w", encoding="utf-8") as f:
            for r in te.pop("records"):
                f.write(json.dumps(r) + "\n")
        te["records_file"] = "training_extraction.jsonl"
        te["repeats"] = {k: v for k, v in (repeats or {}).items() if k != "samples"}
        result["training_extraction"] = te
    result["membership"] = membership_audit(model, items, tokenizer, cfg)
    result["headline"] = headline(result)
    if report:
        from train import audit_report

        result["plots"] = audit_report.plots(result, output_dir)
    tmp = os.path.join(output_dir, "audit.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2, default=_json_default)
        f.write("\n")
    os.replace(tmp, os.path.join(output_dir, "audit.json"))
    if report:
        audit_report.write_html(result, output_dir)
    return result


def headline(result: dict) -> str:
    """One line: mean exposure and canary exact-extraction rate per repetition count."""
    parts = []
    exp = [r for r in result.get("exposure", {}).get("summary", []) if r["lang_bin"] == "all" and r["interpolation"]["n"]]
    if exp:
        parts.append("exposure " + ", ".join(
            f"{'controls' if r['repetitions'] == 0 else str(r['repetitions']) + 'x'} {r['interpolation']['mean']:.1f} bits" for r in exp))
    ext: dict[int, list[float]] = defaultdict(list)
    for r in result.get("canary_extraction", {}).get("records", []):
        ext[r["repetitions"]].append(float(r["exact"]))
    if ext:
        parts.append("canary extraction " + ", ".join(
            f"{'controls' if k == 0 else str(k) + 'x'} {np.mean(v):.0%}" for k, v in sorted(ext.items())))
    return "; ".join(parts) or "no canaries audited"


def _json_default(o: Any) -> Any:
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
