"""The audit's plots (matplotlib PNGs) and its self-contained HTML section (``audit.html``).

Everything here reads the result dict ``train.audit.audit`` builds; nothing is
recomputed. The HTML embeds the PNGs as data URIs, so the page works when it is
copied or linked from another report.
"""

from __future__ import annotations

import base64
import html
import os
from typing import Any, Sequence

PLOTS = {
    "exposure": "exposure_vs_repetitions.png",
    "canary_extraction": "canary_extraction_vs_repetitions.png",
    "training_extraction": "training_extraction_vs_repeats.png",
    "membership": "membership_auc_vs_repetitions.png",
}


def _x_positions(reps: Sequence[int]) -> tuple[list[int], dict[int, int], list[str]]:
    values = sorted(set(reps))
    pos = {r: i for i, r in enumerate(values)}
    labels = ["never\n(control)" if r == 0 else str(r) for r in values]
    return values, pos, labels


def plots(result: dict, output_dir: str) -> dict[str, str]:
    """Writes the PNGs that have data; returns {name: file name}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written: dict[str, str] = {}

    rows = [r for r in result.get("exposure", {}).get("summary", []) if r["interpolation"]["n"]]
    if rows:
        fig, ax = plt.subplots(figsize=(6, 4))
        _, pos, labels = _x_positions([r["repetitions"] for r in rows])
        for lang_bin in sorted({r["lang_bin"] for r in rows}):
            sel = [r for r in rows if r["lang_bin"] == lang_bin]
            xs = [pos[r["repetitions"]] for r in sel]
            for est, style in (("interpolation", "-o"), ("extrapolation", "--s")):
                ax.errorbar(xs, [r[est]["mean"] for r in sel], yerr=[r[est]["std"] for r in sel], fmt=style, capsize=3, label=f"{lang_bin}, {est}")
        recs = result["exposure"]["records"]
        if recs:
            ax.axhline(max(r["max_interpolation"] for r in recs), color="grey", lw=0.8, ls=":", label="interpolation ceiling log₂ n")
        ax.set_xticks(range(len(labels)), labels)
        ax.set(xlabel="repetitions in training", ylabel="exposure (bits)", title="Secret canaries: exposure (mean ± std)")
        ax.legend(fontsize=7)
        written["exposure"] = _save(fig, output_dir, PLOTS["exposure"])

    rows = result.get("canary_extraction", {}).get("summary", [])
    if rows:
        fig, axes = plt.subplots(1, 2, figsize=(10, 4))
        _, pos, labels = _x_positions([r["repetitions"] for r in rows])
        for kind in sorted({r["kind"] for r in rows}):
            for lang_bin in sorted({r["lang_bin"] for r in rows if r["kind"] == kind}):
                sel = [r for r in rows if r["kind"] == kind and r["lang_bin"] == lang_bin]
                xs = [pos[r["repetitions"]] for r in sel]
                style = "-o" if lang_bin == "all" else "--."
                axes[0].plot(xs, [r["exact_rate"] for r in sel], style, label=f"{kind}, {lang_bin}")
                axes[1].plot(xs, [r["token_fraction"]["mean"] for r in sel], style, label=f"{kind}, {lang_bin}")
        for ax, ylabel in zip(axes, ("exact-match rate (30-token suffix)", "mean matched-token fraction")):
            ax.set_xticks(range(len(labels)), labels)
            ax.set(xlabel="repetitions in training", ylabel=ylabel, ylim=(-0.03, 1.03))
        axes[0].legend(fontsize=7)
        fig.suptitle("Interleave and shuffle canaries: greedy extraction from a 60-token prefix")
        written["canary_extraction"] = _save(fig, output_dir, PLOTS["canary_extraction"])

    rows = result.get("training_extraction", {}).get("summary", [])
    if rows:
        fig, ax = plt.subplots(figsize=(6, 4))
        xs = range(len(rows))
        ax.plot(xs, [r["exact_rate"] for r in rows], "-o", label="exact match (50 tokens)")
        ax.plot(xs, [r["token_fraction"]["mean"] for r in rows], "--s", label="matched-token fraction")
        for x, r in zip(xs, rows):
            ax.annotate(f"n={r['n']}", (x, r["exact_rate"]), fontsize=6, textcoords="offset points", xytext=(0, 5))
        ax.set_xticks(list(xs), [r["bucket"] for r in rows])
        ax.set(xlabel="times the 100-token sequence occurs in the shards", ylabel="rate", ylim=(-0.03, 1.03),
               title="Training data: 50-token prompt, greedy 50")
        ax.legend(fontsize=7)
        written["training_extraction"] = _save(fig, output_dir, PLOTS["training_extraction"])

    rows = [r for r in result.get("membership", {}).get("summary", []) if r["repetitions"]]
    if rows:
        fig, ax = plt.subplots(figsize=(6, 4))
        _, pos, labels = _x_positions([r["repetitions"] for r in rows])
        for kind in sorted({r["kind"] for r in rows}):
            sel = [r for r in rows if r["kind"] == kind]
            for score, style in (("loss", "-o"), ("zlib_ratio", ":^")) + tuple((s, "--s") for s in result["membership"]["scores"] if s.startswith("min_k"))[-1:]:
                ax.plot([pos[r["repetitions"]] for r in sel], [r.get(f"auc_{score}") for r in sel], style, label=f"{kind}, {score}")
        ax.axhline(0.5, color="grey", lw=0.8, ls=":")
        ax.set_xticks(range(len(labels)), labels)
        ax.set(xlabel="repetitions in training", ylabel="AUC, canaries vs. never-inserted controls", ylim=(-0.03, 1.03),
               title="Membership-inference scores")
        ax.legend(fontsize=6)
        written["membership"] = _save(fig, output_dir, PLOTS["membership"])
    return written


def _save(fig: Any, output_dir: str, name: str) -> str:
    fig.tight_layout()
    fig.savefig(os.path.join(output_dir, name), dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return name


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3f}"
    if isinstance(v, dict) and "mean" in v:
        return "–" if v["mean"] is None else f"{v['mean']:.2f} ± {v['std']:.2f}"
    return html.escape(str(v))


def _table(rows: Sequence[dict], columns: Sequence[tuple[str, str]]) -> str:
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in columns)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(r.get(key))}</td>" for key, _ in columns) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(output_dir: str, name: str | None) -> str:
    if not name or not os.path.exists(os.path.join(output_dir, name)):
        return ""
    data = base64.b64encode(open(os.path.join(output_dir, name), "rb").read()).decode()
    return f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'


STYLE = """
section.palmkit-audit{font-family:system-ui,sans-serif;max-width:60em;line-height:1.4}
section.palmkit-audit table{border-collapse:collapse;margin:.5em 0 1em;font-size:90%}
section.palmkit-audit td,section.palmkit-audit th{border:1px solid #ccc;padding:2px 8px;text-align:right}
section.palmkit-audit th{background:#f3f3f3}
section.palmkit-audit img{max-width:100%}
section.palmkit-audit .note{color:#555;font-size:90%}
"""


def section_html(result: dict, output_dir: str) -> str:
    """The audit as one ``<section>`` (with its own style), for embedding in a larger report."""
    p = result.get("plots", {})
    parts = [f"<section class='palmkit-audit'><style>{STYLE}</style><h2>Memorization audit</h2>"]
    ck = result.get("checkpoint", {})
    parts.append(f"<p class='note'>checkpoint {html.escape(str(ck.get('dir', '')))} step {_fmt(ck.get('step'))}; "
                 f"{result['canaries']['count']} canaries ({', '.join(f'{k}: {v}' for k, v in result['canaries']['by_kind'].items())}).</p>")

    exp = result.get("exposure", {})
    parts.append("<h3>Exposure of secret canaries</h3><p class='note'>exposure = log₂|R| − log₂ rank (Carlini et al. 2019). "
                 "Interpolation ranks the canary among its sampled references (ceiling log₂ n); extrapolation fits a skew-normal "
                 "to the references' log-perplexities. Repetitions 0: a reference ranked among the others (never inserted). "
                 f"References tokenized by: {html.escape(str(exp.get('references_from', '–')))}.</p>")
    parts.append(_img(output_dir, p.get("exposure")))
    parts.append(_table(exp.get("summary", []), [("repetitions", "repetitions"), ("lang_bin", "language bin"),
                                                  ("interpolation", "interpolation (bits)"), ("extrapolation", "extrapolation (bits)")]))
    if exp.get("skipped"):
        parts.append(f"<p class='note'>skipped: {html.escape(', '.join(s['id'] + ' (' + s['reason'] + ')' for s in exp['skipped']))}</p>")

    ce = result.get("canary_extraction", {})
    parts.append("<h3>Canary extraction</h3><p class='note'>Greedy 30 tokens from the 60-token prefix of interleave and shuffle canaries "
                 "(PaLM 2 §4.7). Repetitions 0: matched controls that were never inserted.</p>")
    parts.append(_img(output_dir, p.get("canary_extraction")))
    parts.append(_table(ce.get("summary", []), [("kind", "kind"), ("repetitions", "repetitions"), ("lang_bin", "language bin"), ("n", "n"),
                                                 ("exact_rate", "exact-match rate"), ("token_fraction", "matched-token fraction")]))

    te = result.get("training_extraction")
    if te:
        rep = te.get("repeats", {})
        parts.append(f"<h3>Training-data extraction</h3><p class='note'>{te['prompt_tokens']}-token prompt, greedy {te['continuation_tokens']}, "
                     f"exact match per repetition bucket. Windows: {html.escape(str(rep.get('windows', '')))}.</p>")
        parts.append(_img(output_dir, p.get("training_extraction")))
        hist = rep.get("histogram", {})
        rows = [{**r, "population": hist.get(r["bucket"])} for r in te.get("summary", [])]
        parts.append(_table(rows, [("bucket", "repeats"), ("population", "distinct sequences"), ("n", "sampled"),
                                   ("exact_rate", "exact-match rate"), ("token_fraction", "matched-token fraction")]))

    mem = result.get("membership", {})
    if mem:
        parts.append("<h3>Membership-inference scores</h3><p class='note'>Means per kind and repetitions (0: controls). "
                     "AUC: canaries vs. controls of the same kind, oriented so that 0.5 is chance and 1 separates them fully. "
                     "loss: nats/token; zlib: log-perplexity over zlib bits; min_k_*: mean lowest-k% log-prob.</p>")
        parts.append(_img(output_dir, p.get("membership")))
        cols = [("kind", "kind"), ("repetitions", "repetitions"), ("n", "n")]
        for s in mem.get("scores", []):
            cols += [(s, s), (f"auc_{s}", f"AUC {s}")]
        parts.append(_table(mem.get("summary", []), cols))
    parts.append("</section>")
    return "\n".join(x for x in parts if x)


def write_html(result: dict, output_dir: str) -> str:
    """``audit.html``: the section as a standalone page."""
    body = section_html(result, output_dir)
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>palmkit memorization audit</title></head><body>{body}</body></html>\n"
    path = os.path.join(output_dir, "audit.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
