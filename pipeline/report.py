"""A self-contained HTML report of a curate job: funnel, languages, reasons, examples.

Plots are matplotlib PNGs embedded as base64, so the page is one file that
opens anywhere (a laptop, a bucket browser, an email attachment).
"""

from __future__ import annotations

import base64
import html
import io
import json
from typing import Callable

import matplotlib

matplotlib.use("Agg")  # no display on workers or CI
import matplotlib.pyplot as plt  # noqa: E402

from pipeline.stats import funnel  # noqa: E402

CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{margin-bottom:0}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
pre{background:#f8f8f8;padding:.5em;white-space:pre-wrap;max-height:12em;overflow:auto;font-size:85%}
.muted{color:#777}.ok{color:#070}.bad{color:#a00}
"""


def _png(fig) -> str:
    buf = io.BytesIO()
    # Fixed metadata keeps the PNG bytes, and so the report, reproducible.
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return f'<img alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _barh(labels: list[str], values: list[float], title: str, xlabel: str) -> str:
    if not labels:
        return '<p class="muted">nothing to plot</p>'
    fig, ax = plt.subplots(figsize=(8, max(1.5, 0.28 * len(labels) + 0.8)))
    ax.barh(range(len(labels)), values, color="#4a7ab5")
    positive = [v for v in values if v > 0]
    if positive and max(positive) / min(positive) > 100:
        # Counts spanning orders of magnitude: a log axis keeps the small bars visible.
        ax.set_xscale("log")
        xlabel += " (log scale)"
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    return _png(fig)


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def page_start(title: str) -> list[str]:
    """The opening of a report page: head, style and title."""
    return [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{CSS}</style></head><body>",
            f"<h1>{html.escape(title)}</h1>"]


def table(headers: list[str], rows: list[list]) -> str:
    """An HTML table; ints get thousands separators, floats three significant digits."""
    return _table(headers, rows)


def dedup_section(stats: dict) -> list[str]:
    """The "Duplicate clusters" section: LSH parameters, cluster-size histograms, convergence."""
    dedup = stats.get("dedup", {})
    if not dedup:
        return []
    parts = ["<h2>Duplicate clusters</h2>"]
    if dedup.get("bands"):
        parts.append(f"<p class='muted'>MinHash LSH: {dedup['num_perm']} permutations, {dedup['bands']} bands × {dedup['rows']} rows for Jaccard ≥ {dedup['threshold']}</p>")
    for kind, sizes in dedup.get("cluster_sizes", {}).items():
        keys = sorted(sizes, key=int)
        parts.append(_barh([f"size {k}" for k in keys], [sizes[k] for k in keys], f"{kind} duplicate clusters per size", "clusters"))
        parts.append(_table(["cluster size", f"{kind} clusters"], [[int(k), sizes[k]] for k in keys]))
    for comp in dedup.get("components", []):
        parts.append(f"<p class='muted'>connected components: {comp.get('rounds')} rounds, converged: {comp.get('converged')}</p>")
    return parts


def render_report(stats: dict, *, stage_of_reason: Callable[[str], str], title: str = "palmkit curate report") -> str:
    """The report page for ``stats`` (as written to stats.json)."""
    parts = page_start(title)
    if stats.get("job"):
        job = stats["job"]
        parts.append(f"<p class='muted'>inputs: {html.escape(', '.join(job.get('inputs', [])))} · runner: {html.escape(str(job.get('runner')))} · workers: {html.escape(str(job.get('workers')))}</p>")

    dup_total = sum(stats["duplicates"].values())
    rej_total = sum(stats["rejected"].values())
    ok = stats["read"] == stats["kept"] + stats["errors"] + dup_total + rej_total
    parts.append("<h2>Summary</h2>")
    parts.append(_table(
        ["", "documents", "share of read"],
        [[name, n, f"{100 * n / max(1, stats['read']):.1f}%"] for name, n in [
            ("read", stats["read"]), ("kept", stats["kept"]), ("errors (dead letters)", stats["errors"]),
            ("duplicates", dup_total), ("rejected by filters", rej_total)]],
    ))
    parts.append(f"<p class='{'ok' if ok else 'bad'}'>read = kept + errors + duplicates + rejected: "
                 f"{stats['read']:,} = {stats['kept']:,} + {stats['errors']:,} + {dup_total:,} + {rej_total:,} "
                 f"({'holds' if ok else 'DOES NOT HOLD'})</p>")

    rows = funnel(stats, stage_of_reason)
    parts.append("<h2>Funnel</h2>")
    parts.append(_table(["stage", "documents", "bytes"], [[r["stage"], r["docs"], _mb(r["bytes"])] for r in rows]))
    parts.append(_barh([r["stage"] for r in rows], [r["docs"] for r in rows], "Documents after each stage", "documents"))
    parts.append("<p class='muted'>Bytes are UTF-8 text bytes at the point each document left the funnel (after cleaning).</p>")

    langs = stats.get("kept_by_source_lang", {})
    by_lang: dict[str, int] = {}
    for key, v in langs.items():
        lang = key.split("/", 1)[1]
        by_lang[lang] = by_lang.get(lang, 0) + v["bytes"]
    parts.append("<h2>Languages (kept)</h2>")
    top = sorted(by_lang.items(), key=lambda kv: -kv[1])[:40]
    parts.append(_barh([k for k, _ in top], [v / 1e6 for _, v in top], "Kept text per language", "MB"))
    parts.append(_table(["source/lang", "documents", "bytes"], [[k, v["docs"], _mb(v["bytes"])] for k, v in langs.items()]))

    code = stats.get("kept_by_code_lang", {})
    parts.append("<h2>Code languages (kept)</h2>")
    items = sorted(code.items(), key=lambda kv: -kv[1]["bytes"])
    parts.append(_barh([k for k, _ in items], [v["bytes"] / 1e6 for _, v in items], "Kept code per language", "MB"))

    tox = stats.get("toxicity")
    if tox:
        parts.append("<h2>Toxicity control tokens</h2>")
        parts.append(f"<p class='muted'>scorer: {html.escape(tox['scorer']['name'])} {html.escape(tox['scorer']['version'])}"
                     f" (languages: {html.escape(', '.join(tox['scorer_languages']) or 'any')}); tagged fraction {tox['fraction']}, "
                     f"thresholds {html.escape(json.dumps(tox['thresholds']))}, seed {tox['seed']}</p>")
        levels = tox.get("levels", {})
        parts.append(_table(["level", "kept documents"], [[k, v] for k, v in levels.items()]))
    parts.append("<h2>Reject reasons</h2>")
    reasons = sorted(stats["rejected"].items(), key=lambda kv: -kv[1])
    parts.append(_barh([k for k, _ in reasons], [v for _, v in reasons], "Rejected documents per reason", "documents"))
    parts.append(_table(["reason", "documents", "bytes"], [[k, v, _mb(stats["bytes"]["rejected"].get(k, 0))] for k, v in reasons]))

    if stats.get("errors_by_kind"):
        parts.append("<h2>Dead letters (malformed input)</h2>")
        parts.append(_table(["reason", "records"], [[k, v] for k, v in stats["errors_by_kind"].items()]))
        for kind, samples in stats["samples"].get("errors", {}).items():
            for s in samples[:2]:
                where = f"{s.get('file')}" + (f" line {s['line']}" if "line" in s else "") + (f" offset {s['offset']}" if "offset" in s else "")
                parts.append(f"<p><b>{html.escape(kind)}</b> <span class='muted'>{html.escape(where)}</span></p><pre>{html.escape(s.get('raw', ''))}</pre>")

    parts += dedup_section(stats)

    parts.append("<h2>Examples of rejected documents</h2>")
    for reason, samples in stats["samples"].get("rejected", {}).items():
        parts.append(f"<h3>{html.escape(reason)}</h3>")
        for s in samples:
            parts.append(f"<p class='muted'>{html.escape(s['id'])}</p><pre>{html.escape(s['text'])}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)
