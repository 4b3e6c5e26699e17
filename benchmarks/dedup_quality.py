"""Precision and recall of near-duplicate removal on real near-duplicates.

    .venv/bin/python benchmarks/dedup_quality.py                 # ~3-4 minutes on 2 cores
    .venv/bin/python benchmarks/dedup_quality.py --max-keys 150  # smaller corpus, quicker

The corpus comes from what is installed on this machine, so the duplicates are
the kind a crawl meets, not synthetic ones:

- **code**: Python files that exist in several copies: libraries vendored
  inside pip / setuptools / pkg_resources next to their originals, in every
  Python install here (pyenv 2.7 and 3.6-3.13, virtualenvs), and the standard
  library's modules across those Python versions. Same relative module path
  = candidate family; how similar the copies are is whatever the versions
  made them. Marked ``meta["code_lang"] = "python"``, so character shingles.
- **licenses**: LICENSE/COPYING files of installed distributions (MIT, BSD,
  Apache with different copyright lines and years).
- **paragraphs**: prose paragraphs from the installed packages' long
  descriptions (METADATA), each distinct, plus an edited copy of most of them
  with a known fraction of words substituted, deleted or inserted.

Ground truth is the exact Jaccard similarity of the shingle sets (the same
shingles the dedup uses: words for prose, characters for code), with the
shingles hashed independently (Python's 64-bit SipHash of each shingle string). Exact
pairs are enumerated from a permissive LSH (42 bands x 3 rows over a second,
independently seeded signature): a pair at J >= 0.8 escapes it with
probability (1 - 0.8^3)^42 < 1e-12, so no true pair is missed in practice.

Metrics, with "true components" the connected components of the graph of
pairs at exact J >= threshold (duplicates connect transitively):

- removal precision: removed documents whose survivor is in their true
  component / removed documents (also given: whose survivor is directly at
  J >= threshold);
- removal recall: per true component C, the documents of C removed in favour
  of a survivor in C (at most |C| - 1) / sum of (|C| - 1);
- pair recall by Jaccard bin: true pairs that end in the same cluster.
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import random
import re
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from filters import minhash as mh  # noqa: E402
from filters.document import Document  # noqa: E402

VENDOR_DIRS = ("pip/_vendor/", "setuptools/_vendor/", "pkg_resources/_vendor/", "pkg_resources/extern/")
VENDORED = {
    "requests", "urllib3", "idna", "certifi", "packaging", "rich", "pygments", "tomli", "platformdirs",
    "distlib", "msgpack", "cachecontrol", "resolvelib", "chardet", "pyparsing", "six.py", "distro",
    "colorama", "webencodings", "html5lib", "progress", "pep517", "pyproject_hooks", "tenacity",
    "typing_extensions.py", "appdirs.py", "ordered_set.py", "more_itertools", "jaraco", "zipp",
    "importlib_metadata", "importlib_resources", "truststore", "tomli_w", "wheel", "backports",
}


def site_roots() -> list[str]:
    roots = sorted(glob.glob("/root/.pyenv/versions/*/lib/python*/site-packages"))
    roots += sorted(glob.glob(os.path.join(REPO, ".venv/lib/python3*/site-packages")))
    roots += ["/usr/lib/python3/dist-packages"]
    return [r for r in roots if os.path.isdir(r)]


def stdlib_roots() -> list[str]:
    return sorted(glob.glob("/root/.pyenv/versions/*/lib/python[23].*[0-9]"))


def _read(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def code_families(max_keys: int, rng: random.Random) -> dict[str, list[str]]:
    """Relative module path -> every installed copy of it (vendored, original, each version)."""
    families: dict[str, list[str]] = collections.defaultdict(list)
    for root in site_roots():
        for path in glob.glob(os.path.join(root, "**", "*.py"), recursive=True):
            rel = os.path.relpath(path, root)
            key = None
            for vd in VENDOR_DIRS:
                if vd in rel:
                    key = rel.split(vd, 1)[1]
            if key is None and rel.split("/", 1)[0] in VENDORED:
                key = rel
            if key is not None:
                families["lib:" + key].append(path)
    for root in stdlib_roots():
        for path in glob.glob(os.path.join(root, "*.py")) + glob.glob(os.path.join(root, "*", "*.py")):
            rel = os.path.relpath(path, root)
            if rel.startswith(("site-packages", "test", "idlelib", "lib2to3")):
                continue
            families["std:" + rel].append(path)
    keys = sorted(k for k, v in families.items() if len(v) >= 2)
    keys = sorted(rng.sample(keys, min(max_keys, len(keys))))
    return {k: sorted(families[k]) for k in keys}


_WORD = re.compile(r"^[A-Za-z][a-z'-]*[,.;:]?$")


def _is_prose(words: list[str]) -> bool:
    """Mostly plain words: keeps sentences, drops tables, code and link lists."""
    return sum(bool(_WORD.match(w)) for w in words) >= 0.75 * len(words)


def metadata_paragraphs(limit: int, rng: random.Random) -> list[str]:
    """Distinct prose paragraphs (40-400 words) from installed packages' long descriptions."""
    seen, out = set(), []
    for root in site_roots():
        for path in sorted(glob.glob(os.path.join(root, "*.dist-info", "METADATA"))):
            text = _read(path) or ""
            body = text.split("\n\n", 1)[1] if "\n\n" in text else ""
            for para in re.split(r"\n\s*\n", body):
                para = " ".join(para.split())
                words = para.split()
                if 40 <= len(words) <= 400 and _is_prose(words) and para not in seen:
                    seen.add(para)
                    out.append(para)
    rng.shuffle(out)
    return out[:limit]


def license_files() -> list[str]:
    paths = []
    for root in site_roots():
        for pattern in ("*.dist-info/LICENSE*", "*.dist-info/COPYING*", "*.dist-info/licenses/*"):
            paths += [p for p in glob.glob(os.path.join(root, pattern)) if os.path.isfile(p)]
    return sorted(set(paths))


EDIT_FRACTIONS = (0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 0.12, 0.2, 0.3)


def edit_words(text: str, fraction: float, pool: list[str], rng: random.Random) -> str:
    """Substitutes, deletes or inserts round(fraction * words) words at random places."""
    words = text.split()
    for _ in range(round(fraction * len(words))):
        op, i = rng.random(), rng.randrange(len(words))
        if op < 0.6:
            words[i] = rng.choice(pool)
        elif op < 0.8 and len(words) > 1:
            del words[i]
        else:
            words.insert(i, rng.choice(pool))
    return " ".join(words)


def build_corpus(max_keys: int = 250, paragraphs: int = 400, seed: int = 0) -> list[Document]:
    """The real near-duplicate corpus described in the module docstring."""
    rng = random.Random(seed)
    docs = []
    for key, paths in code_families(max_keys, rng).items():
        for path in paths:
            text = _read(path)
            if text and 300 <= len(text) <= 100_000:
                docs.append(Document(id=f"code:{path}", text=text, source="code", meta={"code_lang": "python", "family": key}))
    for path in license_files():
        text = _read(path)
        if text and len(text) >= 300:
            docs.append(Document(id=f"license:{path}", text=text, source="licenses"))
    paras = metadata_paragraphs(paragraphs, rng)
    pool = [w for p in paras for w in p.split()]
    for i, para in enumerate(paras):
        docs.append(Document(id=f"para:{i:04d}", text=para, source="paragraphs"))
        if i % 4 != 3:  # three in four paragraphs get an edited copy
            f = EDIT_FRACTIONS[i % len(EDIT_FRACTIONS)]
            docs.append(Document(id=f"para:{i:04d}~{f:.2f}", text=edit_words(para, f, pool, rng), source="paragraphs", meta={"edit_fraction": f}))
    return docs


def distinct_texts(docs: list[Document]) -> list[Document]:
    """One document per exact-dedup key (the one exact dedup would keep).

    Exact copies are trivially right or wrong; keeping them in the evaluation
    multiplies every near-dedup decision by the number of copies behind it.
    """
    from pipeline.dedup import survivor_rank

    best: dict[bytes, Document] = {}
    for doc in docs:
        key = mh.exact_key(doc.text)
        if key not in best or survivor_rank(doc) < survivor_rank(best[key]):
            best[key] = doc
    keep = {d.id for d in best.values()}
    return [d for d in docs if d.id in keep]


# ---------------------------------------------------------------------------
# Ground truth
# ---------------------------------------------------------------------------


def exact_shingle_sets(docs, near_cfg) -> list[np.ndarray]:
    """Sorted 64-bit hashes of each document's reference shingle strings.

    Python's own string hash (SipHash, 64 bits, fixed within this process)
    has nothing in common with the polynomial hash the dedup uses, and at 64
    bits a collision inside one document is a 1e-10 event.
    """
    from pipeline.dedup import shingle_choice

    out = []
    for doc in docs:
        kind, n = shingle_choice(doc, near_cfg)
        shingles = mh.shingles(doc.text, kind, n)
        out.append(np.unique(np.fromiter(map(hash, shingles), dtype=np.int64, count=len(shingles))))
    return out


def true_pairs(docs, sets, near_cfg, threshold: float, floor: float = 0.5) -> dict[tuple[int, int], float]:
    """Exact Jaccard of every pair at J >= ``floor`` (candidates from a permissive 42 x 3 LSH)."""
    from pipeline.dedup import shingle_choice

    kinds = [shingle_choice(d, near_cfg) for d in docs]
    buckets = collections.defaultdict(list)
    for i, doc in enumerate(docs):
        if not len(sets[i]):
            continue
        kind, n = kinds[i]
        sig = mh.signature(doc.text, kind, n, 128, seed=987654)
        for key in mh.band_keys(sig, 42, 3, f"{kind}{n}".encode()):
            buckets[key].append(i)
    cand = set()
    for members in buckets.values():
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                cand.add((members[a], members[b]))
    out = {}
    for i, j in cand:
        si, sj = sets[i], sets[j]
        lo, hi = sorted((len(si), len(sj)))
        if lo < floor * hi:
            continue  # J <= |small| / |large|
        inter = len(np.intersect1d(si, sj, assume_unique=True))
        jac = inter / (len(si) + len(sj) - inter)
        if jac >= floor:
            out[(min(i, j), max(i, j))] = jac
    return out


def components(n: int, edges) -> list[int]:
    """Component label (smallest member index) of each of n nodes (small graph, plain union-find)."""
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in edges:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    return [find(i) for i in range(n)]


# ---------------------------------------------------------------------------
# Running the pipeline
# ---------------------------------------------------------------------------


def run_pipeline(docs, cfg) -> tuple[list[dict], float, list[dict]]:
    """Deduplicate on the in-memory DirectRunner: (duplicate records, seconds, components report)."""
    import apache_beam as beam

    from pipeline.dedup import Deduplicate

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with beam.Pipeline() as p:
            r = p | beam.Create(docs, reshuffle=False) | Deduplicate(cfg)
            r["duplicates"] | beam.Map(json.dumps) | beam.io.WriteToText(os.path.join(tmp, "dups"))
            r["components"] | "CcJson" >> beam.Map(json.dumps) | "WriteCc" >> beam.io.WriteToText(os.path.join(tmp, "cc"))
        seconds = time.perf_counter() - t0
        dups = [json.loads(line) for f in glob.glob(os.path.join(tmp, "dups*")) for line in open(f)]
        cc = [json.loads(line) for f in glob.glob(os.path.join(tmp, "cc*")) for line in open(f)]
    return dups, seconds, cc


def evaluate(docs, dups, pairs, threshold: float) -> dict:
    index = {d.id: i for i, d in enumerate(docs)}
    strong = [(i, j) for (i, j), jac in pairs.items() if jac >= threshold]
    comp = components(len(docs), strong)
    sizes = collections.Counter(comp)
    should_remove = sum(s - 1 for s in sizes.values())
    survivor = {index[d["id"]]: index[d["survivor"]] for d in dups}
    # A removed document's final survivor: follow survivor links (exact then near).
    def final(i):
        seen = 0
        while i in survivor and seen < 100:
            i, seen = survivor[i], seen + 1
        return i

    removed = list(survivor)
    same_comp = [i for i in removed if comp[i] == comp[final(i)]]
    direct = [i for i in removed if pairs.get((min(i, final(i)), max(i, final(i))), 0.0) >= threshold or docs[i].text == docs[final(i)].text]
    per_comp = collections.Counter(comp[i] for i in same_comp)
    recalled = sum(min(per_comp[c], sizes[c] - 1) for c in per_comp)
    cluster = {i: final(i) for i in range(len(docs))}
    bins = [(0.5, 0.7), (0.7, 0.75), (0.75, 0.8), (0.8, 0.85), (0.85, 0.9), (0.9, 0.95), (0.95, 1.0001)]
    by_bin = {}
    for lo, hi in bins:
        in_bin = [(i, j) for (i, j), jac in pairs.items() if lo <= jac < hi]
        together = sum(cluster[i] == cluster[j] for i, j in in_bin)
        by_bin[f"{lo:.2f}-{min(hi, 1.0):.2f}"] = (together, len(in_bin))
    return {
        "docs": len(docs),
        "true_pairs": len(strong),
        "true_components": sum(1 for s in sizes.values() if s > 1),
        "should_remove": should_remove,
        "removed": len(removed),
        "precision": len(same_comp) / len(removed) if removed else 1.0,
        "precision_direct": len(direct) / len(removed) if removed else 1.0,
        "precision_has_duplicate": sum(sizes[comp[i]] > 1 for i in removed) / len(removed) if removed else 1.0,
        "recall": recalled / should_remove if should_remove else 1.0,
        "pairs_together_by_jaccard": by_bin,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--max-keys", type=int, default=250, help="code families (module paths) to sample")
    ap.add_argument("--paragraphs", type=int, default=400)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--json", help="write the results here as JSON")
    args = ap.parse_args(argv)

    from pipeline.dedup import DedupConfig, NearDedupConfig, lsh_parameters

    all_docs = build_corpus(args.max_keys, args.paragraphs)
    distinct = distinct_texts(all_docs)
    default = DedupConfig(near=NearDedupConfig(threshold=args.threshold))
    t0 = time.perf_counter()
    sets = exact_shingle_sets(all_docs, default.near)
    pairs = true_pairs(all_docs, sets, default.near, args.threshold)
    print(f"corpus: {len(all_docs)} documents ({dict(collections.Counter(d.source for d in all_docs))}), "
          f"{len(distinct)} distinct after exact normalisation; ground truth in {time.perf_counter() - t0:.0f}s", flush=True)

    near = lambda **kw: DedupConfig(near=NearDedupConfig(threshold=args.threshold, **kw))  # noqa: E731
    runs = [
        ("distinct", "default: exact verification, FN weight 0.9", default),
        ("distinct", "estimate-only verification, FN weight 0.9", near(verify_exact=False)),
        ("distinct", "exact verification, datasketch weights 0.5/0.5", near(false_negative_weight=0.5)),
        ("distinct", "no verification, FN weight 0.9", near(verify=False)),
        ("all", "default: exact verification, FN weight 0.9", default),
    ]
    results = {}
    for corpus, name, cfg in runs:
        docs = distinct if corpus == "distinct" else all_docs
        keep = {d.id for d in docs}
        index = {d.id: i for i, d in enumerate(all_docs)}
        sub = [index[d.id] for d in docs]
        where = {old: new for new, old in enumerate(sub)}
        sub_pairs = {(where[i], where[j]): v for (i, j), v in pairs.items() if all_docs[i].id in keep and all_docs[j].id in keep}
        dups, seconds, cc = run_pipeline(docs, cfg)
        res = evaluate(docs, dups, sub_pairs, args.threshold)
        res["lsh"] = str(lsh_parameters(cfg.near))
        res["seconds"] = seconds
        res["components"] = cc
        results[f"{corpus}: {name}"] = res
        print(f"\n[{corpus} documents] {name}: {res['lsh']}  ({seconds:.0f}s; components {cc})")
        print(f"  true components {res['true_components']}, should remove {res['should_remove']}, removed {res['removed']}")
        print(f"  precision {res['precision']:.3f} (survivor directly at J >= t: {res['precision_direct']:.3f}; "
              f"removed document has some true duplicate: {res['precision_has_duplicate']:.3f})  recall {res['recall']:.3f}")
        print("  true pairs in one cluster, by exact Jaccard: " + ", ".join(
            f"{b}: {t}/{n}" for b, (t, n) in res["pairs_together_by_jaccard"].items()))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"corpus": len(docs), "results": results}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
