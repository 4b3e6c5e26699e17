#!/usr/bin/env python3
"""Build a fresh language-ID test split from source files no split has used.

``examples/langid/fresh.jsonl.zst`` holds paragraphs from source files
(origins) that are in neither ``examples/langid/train.jsonl.zst`` nor
``examples/langid/heldout.jsonl.zst``, taken from the packages that
``examples/build_corpus.py`` already downloaded.  It is meant to be used once,
to confirm a comparison that was tuned on the held-out split.

How it is drawn (deterministic; no language identifier is run, labels come
from the package or directory as in build_corpus):

* Candidate origins: every source file of the language-ID pool of
  build_corpus (man pages, handbook, installation guide, Debian Reference,
  fortunes, and for hr/mk the translation catalogs) whose origin is in
  neither split, plus the man pages that build_corpus never renders (it
  renders the first 260 per package in sha256 order).
* Paragraphs are cut, joined and checked exactly as for the held-out split,
  with build_corpus's own functions (``paragraphs``, ``langid_ok``,
  ``english_left_in`` with the same English vocabulary), and a paragraph
  whose normalised text (``norm_para``) is, or is part of, a train or
  held-out text, or is already in this split, is skipped.
* Per language, candidate origins are taken in sha256 order of the origin
  (documents first, then catalogs, as for the held-out split); each gives at
  most PER_FILE_CAP paragraphs (its first in sha256 order of origin and
  text), until the language has FRESH_CAP paragraphs.

Rebuild (offline, from the download cache of build_corpus):

    .venv/bin/python examples/build_langid_fresh.py --offline
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import logging
import os
import shutil
import sys
from pathlib import Path

import zstandard

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_corpus as bc  # noqa: E402

LOG = logging.getLogger("build_langid_fresh")
MODEL_LANGS = ("ar bg ca cs da de el en es fa fi fr hr hu id it ja ko mk nb nl pl pt ro ru sr sv tr uk vi zh").split()
FRESH_CAP = 300
PER_FILE_CAP = 10
POOL_MAX_CHARS = 200_000  # build_corpus.main leaves longer documents out of the language-ID pool
MAN_RENDERED = 260  # pages per package that build_corpus.manpage_docs renders
RENDER_BATCH = 16


def read_split(path: Path) -> list[dict]:
    data = zstandard.ZstdDecompressor().decompress(path.read_bytes(), max_output_size=1 << 30)
    return [json.loads(line) for line in data.decode("utf-8").splitlines()]


def join_lines(p: str, lang: str) -> str:
    """A paragraph on one line, as build_corpus.build_langid joins it."""
    return " ".join(ln.strip() for ln in p.split("\n")) if lang not in ("ja", "zh") else "".join(
        ln.strip() for ln in p.split("\n"))


def qualifying(texts: list[str], lang: str, english_words: frozenset[str]) -> list[str]:
    """Paragraphs of a document's parts (in order) that the held-out split
    would keep: ``langid_ok`` and not ``english_left_in``."""
    out = []
    for text in texts:
        for p in bc.paragraphs(text):
            p = join_lines(p, lang)
            if bc.langid_ok(p, lang) and not bc.english_left_in(p, lang, english_words):
                out.append(p)
    return out


def man_files(cache: Path) -> list[tuple[str, str, Path, int]]:
    """(origin, lang, file, rank in sha256 order) of every man page file, as
    build_corpus.manpage_docs lists them before keeping the first 260."""
    out = []
    for pkg, (_ver, dirs, lang) in bc.MANPAGE_PACKAGES.items():
        root, files = bc.manpage_files(cache, pkg, dirs)
        out.extend((f"{pkg}/{f.relative_to(root)}", lang, f, rank) for rank, f in enumerate(files))
    return out


def man_text(f: Path, lang: str) -> str | None:
    """One man page as build_corpus.manpage_docs turns it into a document
    (None where it skips the page)."""
    text = bc.render_man(f)
    if text is None:
        return None
    text, dropped = bc.strip_untranslated(bc.tidy(text, lang), lang, None)
    if dropped > 0.5:
        return None
    return text


def render_many(jobs: list[tuple[str, str, Path]]) -> dict[str, str | None]:
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        futs = {o: pool.submit(man_text, f, lang) for o, lang, f in jobs}
        return {o: fut.result() for o, fut in futs.items()}


def build(cache: Path, examples: Path) -> tuple[list[dict], dict]:
    used_recs = read_split(examples / "langid" / "train.jsonl.zst") + read_split(
        examples / "langid" / "heldout.jsonl.zst")
    used_origins = {r["origin"] for r in used_recs}
    used_keys = {bc.norm_para(r["text"]) for r in used_recs}
    # Every train/held-out text, normalised, one per line: a fresh paragraph
    # must not occur in it, neither as a whole paragraph nor inside one.
    used_blob = "\n".join(sorted(used_keys))

    # The documents of build_corpus's language-ID pool, except the man pages.
    other: list[bc.Doc] = []
    for fn in (bc.handbook_docs, bc.install_guide_docs, bc.reference_docs, bc.fortune_docs):
        other.extend(d for d in fn(cache) if len(d.text) <= POOL_MAX_CHARS)
    men = man_files(cache)
    # English vocabulary exactly as build_corpus.main computes it: from the
    # English documents of the pool, man pages included (all rendered ones).
    en_jobs = [(o, lang, f) for o, lang, f, rank in men if lang == "en" and rank < MAN_RENDERED]
    en_man = render_many(en_jobs)
    en_docs = [bc.Doc("manpages", o, 0, "en", t) for o, t in sorted(en_man.items())
               if t is not None and len(t) <= POOL_MAX_CHARS]
    english_words = bc.english_vocabulary(en_docs + other)
    catalogs = [d for d in bc.catalog_docs(cache, english_words) if len(d.text) <= POOL_MAX_CHARS]

    # Guard: the pipeline reproduces build_corpus's paragraphs; every held-out
    # paragraph of a file read above (all but the non-English man pages, which
    # are rendered only when needed) must come out of it again.
    held = read_split(examples / "langid" / "heldout.jsonl.zst")
    texts_by_origin: dict[str, list[str]] = {}
    for d in sorted(other + catalogs + en_docs, key=lambda d: (d.origin, d.part)):
        texts_by_origin.setdefault(d.origin, []).append(d.text)
    held_by_origin: dict[str, tuple[str, set[str]]] = {}
    for r in held:
        held_by_origin.setdefault(r["origin"], (r["lang"], set()))[1].add(r["text"])
    for o in sorted(set(held_by_origin) & set(texts_by_origin)):
        lang, want = held_by_origin[o]
        got = set(qualifying(texts_by_origin[o], lang, english_words))
        if not want <= got:
            raise bc.BuildError(f"paragraphs of {o} differ from build_corpus's held-out split; "
                                "is the cache the one build_corpus used?")
    checked = set(held_by_origin) & set(texts_by_origin)
    LOG.info("pipeline check: all held-out paragraphs of %d of %d held-out files reproduced",
             len(checked), len(held_by_origin))

    # Candidates per language and group, as (origin, kind).
    cands: dict[str, dict[str, dict[str, str]]] = {}
    for d in other + catalogs:
        if d.lang in MODEL_LANGS and d.origin not in used_origins:
            group = "catalogs" if d.name == "catalogs" else "documents"
            cands.setdefault(d.lang, {}).setdefault(group, {})[d.origin] = "doc"
    man_path = {}
    for o, lang, f, _rank in men:
        if lang in MODEL_LANGS and o not in used_origins:
            cands.setdefault(lang, {}).setdefault("documents", {})[o] = "man"
            man_path[o] = (lang, f)
    rendered: dict[str, str | None] = dict(en_man)

    fresh: list[dict] = []
    fresh_keys: set[str] = set()
    stats: dict[str, dict] = {}
    for lang in MODEL_LANGS:
        left = FRESH_CAP
        st = {"origins": 0, "paragraphs": 0, "by_source": {}}
        for group in ("documents", "catalogs"):
            origins = sorted(cands.get(lang, {}).get(group, {}), key=bc.sha)
            for i, o in enumerate(origins):
                if left <= 0:
                    break
                if cands[lang][group][o] == "man":
                    if o not in rendered:  # render this page and the next few candidates together
                        batch = [x for x in origins[i:] if cands[lang][group][x] == "man" and x not in rendered]
                        rendered.update(render_many([(x, *man_path[x]) for x in batch[:RENDER_BATCH]]))
                    texts = [rendered[o]] if rendered[o] is not None and len(rendered[o]) <= POOL_MAX_CHARS else []
                else:
                    texts = texts_by_origin[o]
                paras, keys = [], set()
                for p in qualifying(texts, lang, english_words):
                    k = bc.norm_para(p)
                    if k in used_keys or k in fresh_keys or k in keys or k in used_blob:
                        continue
                    keys.add(k)
                    paras.append(p)
                paras.sort(key=lambda p: bc.sha(o + "\n" + p))
                take = paras[:min(PER_FILE_CAP, left)]
                if not take:
                    continue
                for n, p in enumerate(take):
                    fresh.append({"id": f"langid-fresh:{o}#{n}", "text": p, "lang": lang, "origin": o})
                    fresh_keys.add(bc.norm_para(p))
                left -= len(take)
                src = o.split("/", 1)[0]
                st["origins"] += 1
                st["paragraphs"] += len(take)
                st["by_source"][src] = st["by_source"].get(src, 0) + len(take)
        stats[lang] = st
        LOG.info("%s: %d paragraphs from %d files %s", lang, st["paragraphs"], st["origins"],
                 dict(sorted(st["by_source"].items())))
    fresh.sort(key=lambda r: (r["lang"], r["origin"], bc.sha(r["text"])))
    return fresh, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Write examples/langid/fresh.jsonl.zst: paragraphs from source files in neither "
                    "language-ID split, from build_corpus's download cache.",
        epilog="Example: .venv/bin/python examples/build_langid_fresh.py --offline",
    )
    ap.add_argument("--cache", type=Path, default=Path("/tmp/palmkit-corpus-cache"),
                    help="build_corpus's download/unpack cache (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=bc.EXAMPLES, help="examples directory (default: %(default)s)")
    ap.add_argument("--offline", action="store_true", help="use only what is already in --cache")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        if shutil.which("groff") is None:
            raise bc.BuildError("required tool not found: groff")
        bc.fetch(args.cache, args.offline)
        fresh, _stats = build(args.cache, args.out)
        size = bc.write_zst_jsonl(args.out / "langid" / "fresh.jsonl.zst", fresh)
        LOG.info("wrote langid/fresh.jsonl.zst: %d paragraphs, %d bytes", len(fresh), size)
    except bc.BuildError as exc:
        print(f"build_langid_fresh: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
