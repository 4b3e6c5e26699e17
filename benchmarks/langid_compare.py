"""palmkit's shipped language-ID model against langid.py, on the same held-out paragraphs.

    .venv/bin/python benchmarks/langid_compare.py --langid-python /tmp/langidvenv/bin/python
        [--model filters/data/lid.palmkit.ftz] [--heldout examples/langid/heldout.jsonl.zst]
        [--markdown] [--json OUT.json]

langid.py (the ``langid`` package, which ships its own model) is not a
palmkit dependency, so it runs in its own virtual environment, e.g.

    python3 -m venv /tmp/langidvenv && /tmp/langidvenv/bin/pip install langid numpy

and this script talks to it through a child process of that interpreter
(``--langid-python``). palmkit's side runs in this process through
``filters.langid.LanguageIdentifier``, exactly as ``palmkit curate`` calls it.

langid.py is scored twice:

- restricted: ``set_languages`` limited to the languages palmkit's model
  claims, so both choose among the same labels (the fair comparison);
- unrestricted: all 97 of its languages (what a user of langid.py gets).

langid.py says ``no`` for Norwegian where the corpus says ``nb`` (Bokmål);
``no`` is counted as ``nb`` (the only alias). ``nn`` stays wrong.

For each language where palmkit is below, an exact one-sided McNemar test
on the paragraphs only one of the two gets right; and a paired bootstrap
(``--bootstrap``): in what share of same-sized resamples of the split
palmkit is at least level on every language, i.e. how decisive the
per-language comparison on this many paragraphs is.

Also prints how palmkit's top-1 scores are distributed on the held-out
paragraphs, to choose ``langid.threshold``: the share of correctly labelled
paragraphs that a threshold would reject, and the share of wrong labels it
would let through. This is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from filters.langid import LanguageIdentifier  # noqa: E402
from palmkit.commands.langid import read_labelled  # noqa: E402

ALIASES = {"no": "nb"}  # langid.py's label -> the corpus's label
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9)

# Runs under the other interpreter. Reads {"texts", "languages"} as JSON on
# stdin, writes {"restricted": [...], "unrestricted": [...], "seconds": {...}}.
_LANGID_CHILD = r"""
import json, sys, time
from langid.langid import LanguageIdentifier, model
job = json.load(sys.stdin)
out = {"seconds": {}, "languages_known": None}
for mode in ("restricted", "unrestricted"):
    ident = LanguageIdentifier.from_modelstring(model, norm_probs=True)
    if out["languages_known"] is None:
        out["languages_known"] = sorted(ident.nb_classes)
    if mode == "restricted":
        ident.set_languages(job["languages"])
    start = time.perf_counter()
    out[mode] = [list(ident.classify(t)) for t in job["texts"]]
    out["seconds"][mode] = time.perf_counter() - start
json.dump(out, sys.stdout)
"""


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return f"{os.cpu_count()} cores (nproc), {cpu}, Python {platform.python_version()}"


def run_langid_py(python: str, texts: list[str], languages: list[str]) -> dict:
    job = json.dumps({"texts": texts, "languages": languages})
    result = subprocess.run([python, "-c", _LANGID_CHILD], input=job, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"langid.py child failed ({python}):\n{result.stderr.strip()}")
    return json.loads(result.stdout)


def accuracy_by_language(truth: list[str], predicted: list[str]) -> dict[str, tuple[int, int]]:
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for true, pred in zip(truth, predicted):
        counts[true][0] += 1
        counts[true][1] += int(true == pred)
    return {lang: (n, ok) for lang, (n, ok) in counts.items()}


def paired_test(truth: list[str], ours: list[str], theirs: list[str], lang: str) -> tuple[int, int, float]:
    """Exact one-sided McNemar test on one language's paragraphs: (paragraphs
    only palmkit gets right, paragraphs only langid.py gets right, the chance
    of langid.py winning at least that many of the discordant pairs if
    neither classifier were better)."""
    only_ours = sum(1 for t, a, b in zip(truth, ours, theirs) if t == lang and a == t != b)
    only_theirs = sum(1 for t, a, b in zip(truth, ours, theirs) if t == lang and b == t != a)
    n = only_ours + only_theirs
    p = sum(math.comb(n, k) for k in range(only_theirs, n + 1)) / 2**n if n else 1.0
    return only_ours, only_theirs, p


def chance_at_least_everywhere(truth: list[str], ours: list[str], theirs: list[str], resamples: int = 10_000,
                               seed: int = 0) -> tuple[float, dict[str, float]]:
    """How often palmkit would come out at least level with langid.py on every
    language of a split like this one: per language, draw as many paragraphs
    as it has, with replacement (the paired bootstrap), and count the draws
    where palmkit gets at least as many right.  Returns (the share of
    ``resamples`` draws of the whole split with no language below, the share
    below for each language).  It measures how decisive a per-language
    comparison on this many paragraphs can be, not which classifier is better."""
    import numpy as np

    rng = np.random.default_rng(seed)
    everywhere = np.ones(resamples, dtype=bool)
    below: dict[str, float] = {}
    for lang in sorted(set(truth)):
        # +1 where only palmkit is right, -1 where only langid.py is, 0 otherwise.
        diff = np.array([int(a == t) - int(b == t) for t, a, b in zip(truth, ours, theirs) if t == lang], dtype=np.int8)
        if not diff.any():
            below[lang] = 0.0
            continue
        draws = rng.integers(0, len(diff), size=(resamples, len(diff)))
        behind = diff[draws].sum(axis=1, dtype=np.int64) < 0
        below[lang] = float(behind.mean())
        everywhere &= ~behind
    return float(everywhere.mean()), below


def threshold_table(truth: list[str], predicted: list[str], scores: list[float]) -> list[dict]:
    """For each threshold: correct paragraphs it rejects, wrong labels it keeps."""
    correct = [s for t, p, s in zip(truth, predicted, scores) if t == p]
    wrong = [s for t, p, s in zip(truth, predicted, scores) if t != p]
    rows = []
    for th in THRESHOLDS:
        rows.append({
            "threshold": th,
            "correct_below": sum(s < th for s in correct) / max(1, len(correct)),
            "wrong_kept": sum(s >= th for s in wrong) / max(1, len(wrong)),
            "all_below": sum(s < th for s in scores) / max(1, len(scores)),
        })
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--model", default=os.path.join(REPO, "filters", "data", "lid.palmkit.ftz"))
    parser.add_argument("--heldout", default=os.path.join(REPO, "examples", "langid", "heldout.jsonl.zst"))
    parser.add_argument("--langid-python", required=True, help="a Python interpreter that can import langid")
    parser.add_argument("--markdown", action="store_true", help="print the per-language table as Markdown")
    parser.add_argument("--json", help="also write every figure here")
    parser.add_argument("--bootstrap", type=int, default=10_000, metavar="N",
                        help="paired bootstrap draws for the chance of being at least level on every language "
                        "(default 10000; 0 skips it)")
    args = parser.parse_args(argv)

    records = read_labelled([args.heldout])
    texts = [r["text"] for r in records]
    ident = LanguageIdentifier(args.model)
    claimed = ident.languages
    truth = [ident.lang_of(r["lang"]) for r in records]

    start = time.perf_counter()
    ours = ident.predict(texts)
    ours_seconds = time.perf_counter() - start
    ours_lang = [lang for lang, _ in ours]
    ours_score = [score for _, score in ours]

    theirs = run_langid_py(args.langid_python, texts, claimed)
    missing = sorted(set(claimed) - set(theirs["languages_known"]))
    restricted = [ALIASES.get(lang, lang) for lang, _ in theirs["restricted"]]
    unrestricted = [ALIASES.get(lang, lang) for lang, _ in theirs["unrestricted"]]

    acc = {
        "palmkit": accuracy_by_language(truth, ours_lang),
        "langid.py (restricted)": accuracy_by_language(truth, restricted),
        "langid.py (all 97)": accuracy_by_language(truth, unrestricted),
    }
    systems = list(acc)
    langs = sorted(set(truth))

    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine()}")
    print(f"# model {os.path.relpath(args.model, REPO)} ({os.path.getsize(args.model):,} bytes), "
          f"{len(claimed)} languages; held-out {len(records)} paragraphs from {os.path.relpath(args.heldout, REPO)}")
    print(f"# langid.py restricted to the model's {len(claimed)} languages"
          + (f" (langid.py lacks: {', '.join(missing)})" if missing else "") + "; 'no' counted as 'nb'")
    sep = "|" if args.markdown else " "
    header = ["lang", "n", *systems, "palmkit - restricted"]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
    else:
        print(f"{'lang':6}{'n':>5}  " + "".join(f"{s:>24}" for s in systems) + f"{'palmkit - restricted':>22}")
    worse = []
    for lang in langs:
        n = acc["palmkit"][lang][0]
        values = [acc[s][lang][1] / n for s in systems]
        delta = values[0] - values[1]
        if delta < 0:
            worse.append(lang)
        if args.markdown:
            print(f"| {lang} | {n} | " + " | ".join(f"{v:.3f}" for v in values) + f" | {delta:+.3f} |")
        else:
            print(f"{lang:6}{n:5d}  " + "".join(f"{v:24.3f}" for v in values) + f"{delta:+22.3f}")
    totals = []
    macros = []
    for s in systems:
        totals.append(sum(ok for _, ok in acc[s].values()) / len(records))
        macros.append(statistics.mean(acc[s][lang][1] / acc[s][lang][0] for lang in langs))
    for name, row in (("all", totals), ("macro", macros)):
        if args.markdown:
            print(f"| **{name}** | {len(records) if name == 'all' else len(langs)} | " + " | ".join(f"{v:.3f}" for v in row)
                  + f" | {row[0] - row[1]:+.3f} |")
        else:
            print(f"{name:6}{len(records) if name == 'all' else len(langs):5d}  " + "".join(f"{v:24.3f}" for v in row)
                  + f"{row[0] - row[1]:+22.3f}")
    print(f"# languages where palmkit is below langid.py (restricted): {', '.join(worse) or 'none'}")
    # One or two paragraphs decide "below" where both are near 100%: say how likely that is by chance.
    paired = {lang: paired_test(truth, ours_lang, restricted, lang) for lang in worse}
    if paired:
        print("# paired, on the languages below (only palmkit right / only langid.py right, exact one-sided "
              "McNemar p): " + ", ".join(f"{lang} {a}/{b} p={p:.3g}" for lang, (a, b, p) in paired.items()))
    if args.bootstrap:
        chance, below_share = chance_at_least_everywhere(truth, ours_lang, restricted, args.bootstrap)
        shaky = sorted(((share, lang) for lang, share in below_share.items() if share >= 0.05), reverse=True)
        print(f"# paired bootstrap ({args.bootstrap} draws of each language's paragraphs): palmkit at least level with "
              f"langid.py (restricted) on every language in {chance:.1%} of draws; below in 5% of draws or more: "
              + (", ".join(f"{lang} {share:.0%}" for share, lang in shaky) or "none"))
    print(f"# speed, paragraphs/s on one core: palmkit {len(texts) / ours_seconds:,.0f}, "
          f"langid.py restricted {len(texts) / theirs['seconds']['restricted']:,.0f}, "
          f"all 97 {len(texts) / theirs['seconds']['unrestricted']:,.0f}")

    confusions = Counter((t, p) for t, p in zip(truth, ours_lang) if t != p)
    print("# palmkit's most frequent confusions (true -> predicted: count): "
          + ", ".join(f"{t}->{p}: {c}" for (t, p), c in confusions.most_common(12)))

    table = threshold_table(truth, ours_lang, ours_score)
    correct_scores = sorted(s for t, p, s in zip(truth, ours_lang, ours_score) if t == p)
    q = statistics.quantiles(correct_scores, n=100)
    print(f"# palmkit top-1 score on correct paragraphs: p1 {q[0]:.3f}, p5 {q[4]:.3f}, p10 {q[9]:.3f}, median {q[49]:.3f}")
    print(f"{'threshold':>10}{'correct below':>15}{'wrong kept':>12}{'all below':>11}")
    for row in table:
        print(f"{row['threshold']:10.2f}{row['correct_below']:15.3%}{row['wrong_kept']:12.3%}{row['all_below']:11.3%}")
    per_lang_below = {}
    for lang in langs:
        scores = [s for t, p, s in zip(truth, ours_lang, ours_score) if t == lang and p == lang]
        per_lang_below[lang] = {th: sum(s < th for s in scores) / max(1, len(scores)) for th in (0.5, 0.65)}
    hardest = sorted(langs, key=lambda lang: -per_lang_below[lang][0.65])[:8]
    print("# correct paragraphs below 0.5 / 0.65, hardest languages: "
          + ", ".join(f"{lang} {per_lang_below[lang][0.5]:.1%}/{per_lang_below[lang][0.65]:.1%}" for lang in hardest))

    if args.json:
        with open(args.json, "w") as fh:
            json.dump({
                "machine": machine(),
                "model": args.model,
                "model_bytes": os.path.getsize(args.model),
                "languages": claimed,
                "n": len(records),
                "accuracy": {s: {lang: acc[s][lang][1] / acc[s][lang][0] for lang in langs} for s in systems},
                "overall": dict(zip(systems, totals)),
                "macro": dict(zip(systems, macros)),
                "thresholds": table,
                "per_language_below": per_lang_below,
                "paired_where_below": {lang: dict(zip(("only_palmkit", "only_langid_py", "p"), v))
                                       for lang, v in paired.items()},
                "bootstrap": ({"draws": args.bootstrap, "at_least_level_everywhere": chance, "below_share": below_share}
                              if args.bootstrap else None),
            }, fh, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
