#!/usr/bin/env python3
"""Build a second fresh language-ID test split from gettext catalogs.

``examples/langid/fresh2.jsonl.zst`` holds translated messages from the
gettext message catalogs (``.mo``) of pinned Debian 12 packages that none of
``examples/langid/{train,heldout,fresh}.jsonl.zst`` used.  It is meant to be
used once, to confirm a language-ID comparison on text nobody has looked at.

How it is drawn (deterministic; no language identifier is run; labels come
from the catalog's locale directory, never from a classifier):

* Catalogs: every regular ``*.mo`` file under
  ``usr/share/locale/<code>/LC_MESSAGES/`` of the packages in PACKAGES.
  ``<code>`` is mapped to one of the model's 31 languages by its base code
  (``zh_CN``/``zh_TW``/``zh_HK`` -> zh, ``pt_BR`` -> pt, ``no`` -> nb,
  ``sr@latin``/``sr@ije`` -> sr, ``ca@valencia`` -> ca, ``ru_UA`` -> ru);
  English locales (``en@quot``, ``en_GB``, ...) and languages outside the 31
  are skipped.
* Messages are read with build_corpus's ``mo_messages`` (first plural form
  only, header skipped).  A message whose msgstr equals its msgid is skipped.
  The msgstr is tidied (``tidy``) and cut into paragraphs (``paragraphs``:
  blank lines, so a multi-paragraph ``--help`` text gives several);
  a paragraph equal to a paragraph of the msgid is skipped; each paragraph
  is cleaned by ``clean_message`` (markup, accelerators and placeholders
  removed, untranslated English caught, lines joined), tidied again and kept
  if it passes the held-out split's checks: ``langid_ok`` (40-600
  characters, 15+ for ja/zh/ko, letter, word and script shares, no URL or
  table row, not English prose) and not ``english_left_in`` (with the same
  English vocabulary build_corpus computes).
* English: the msgids of the same catalogs, cut and checked the same way
  (``clean_message`` is given a non-Latin code for them so that only its
  markup/placeholder removal applies, not its checks for English left in a
  translation).  An English record's origin is the first catalog (sorted by
  path) of its package and domain that contains the msgid; its per-file cap
  applies per (package, domain).
* A paragraph (normalised with ``norm_para``) that occurs in the catalogs of
  more than one language (English msgids count as one) is dropped
  everywhere.  So is one that equals, or occurs inside, any text of
  train/heldout/fresh, and one already in this split.
* Per language, catalog files in sha256 order of origin, each giving at most
  PER_FILE_CAP paragraphs (its first in sha256 order of origin and text),
  until the language has FRESH_CAP.

Rebuild (offline, from the download cache):

    .venv/bin/python examples/build_langid_fresh2.py --offline
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_corpus as bc  # noqa: E402
import build_langid_fresh as blf  # noqa: E402
from build_langid_fresh import MODEL_LANGS, read_split  # noqa: E402

LOG = logging.getLogger("build_langid_fresh2")
FRESH_CAP = 300
PER_FILE_CAP = 15
POOL_MAX_CHARS = 200_000  # as build_corpus.main's language-ID pool
MAN_RENDERED = 260  # English man pages per package that build_corpus renders

# Debian 12 packages whose gettext catalogs are read (none of them is used by
# build_corpus.py or build_langid_fresh.py).  Licenses: examples/SOURCES.md.
PACKAGES = {
    "apt": "2.6.2",
    "aptitude-common": "0.8.13-5",
    "bash": "5.2.15-2+b13",
    "coreutils": "9.1-1",
    "cpio": "2.13+dfsg-7.1",
    "diffutils": "1:3.8-4",
    "dpkg": "1.21.23",
    "dselect": "1.21.23",
    "e2fsprogs-l10n": "1.47.0-2",
    "evince-common": "43.1-2+deb12u1",
    "findutils": "4.9.0-4",
    "gedit-common": "44.2-1",
    "gettext-base": "0.21-12",
    "gnome-control-center-data": "1:43.6-2~deb12u1",
    "gnome-desktop3-data": "43.2-2",
    "gnupg-l10n": "2.2.40-1.1+deb12u2",
    "grep": "3.8-5",
    "kbd": "2.5.1-1+b1",
    "libc-l10n": "2.36-9+deb12u14",
    "libglib2.0-data": "2.74.6-2+deb12u9",
    "libgtk-3-common": "3.24.38-2~deb12u3",
    "libgtk2.0-common": "2.24.33-2+deb12u1",
    "login": "1:4.13+dfsg1-1+deb12u2",
    "man-db": "2.11.2-2",
    "nano": "7.2-1+deb12u1",
    "nautilus-data": "43.2-1",
    "network-manager": "1.42.4-1+deb12u1",
    "procps": "2:4.0.2-3",
    "psmisc": "23.6-1",
    "sed": "4.9-1+deb12u1",
    "sudo": "1.9.13p3-1+deb12u4",
    "tar": "1.34+dfsg-1.2+deb12u1",
    "util-linux-locales": "2.38.1-5+deb12u3",
    "wget": "1.21.3-1+deb12u1",
    "xz-utils": "5.4.1-1+deb12u2",
}
LANG_ALIASES = {"no": "nb"}


def root_of(cache: Path, name: str) -> Path:
    return cache / "root-fresh2" / name


def deb_version(f: Path) -> str:
    return bc.run(["dpkg-deb", "-f", str(f), "Version"]).decode().strip()


def fetch(cache: Path, offline: bool) -> None:
    """apt-get download NAME=VERSION into <cache>/debs, dpkg-deb -x into
    <cache>/root-fresh2/NAME (nothing is installed)."""
    debs_dir = cache / "debs"
    debs_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(debs_dir, 0o777)  # apt's _apt user may write here
    for name, ver in sorted(PACKAGES.items()):
        root = root_of(cache, name)
        stamp = root / ".version"
        if stamp.exists() and stamp.read_text() == ver:
            continue
        found = [f for f in sorted(debs_dir.glob(f"{name}_*.deb")) if deb_version(f) == ver]
        if not found:
            if offline:
                raise bc.BuildError(f"{name}={ver} is not in {debs_dir} and --offline was given")
            LOG.info("apt-get download %s=%s", name, ver)
            bc.run(["apt-get", "download", f"{name}={ver}"], cwd=debs_dir)
            found = [f for f in sorted(debs_dir.glob(f"{name}_*.deb")) if deb_version(f) == ver]
            if not found:
                raise bc.BuildError(f"apt-get download {name}={ver} produced no .deb")
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        bc.run(["dpkg-deb", "-x", str(found[0]), str(root)])
        stamp.write_text(ver)


def catalog_lang(code: str) -> str | None:
    """The model language of a locale directory name, or None to skip it."""
    base = re.split(r"[_@.]", code, maxsplit=1)[0]
    base = LANG_ALIASES.get(base, base)
    if base == "en" or base not in MODEL_LANGS:
        return None
    return base


def catalogs(cache: Path) -> list[tuple[str, str, str, Path]]:
    """(package, origin, lang code of the directory, file) of every catalog."""
    out = []
    for pkg in sorted(PACKAGES):
        root = root_of(cache, pkg)
        for f in sorted((root / "usr/share/locale").glob("*/LC_MESSAGES/*.mo")):
            if f.is_file() and not f.is_symlink():
                out.append((pkg, f"{pkg}/{f.relative_to(root)}", f.parts[-3], f))
    return out


def message_paragraphs(msgid: str, text: str, lang: str, english_words: frozenset[str]) -> list[str]:
    """Paragraphs of one message text that the held-out split's rules keep."""
    out = []
    id_paras = {bc.norm_para(p) for p in bc.paragraphs(bc.tidy(msgid, "en"))} if msgid else set()
    for p in bc.paragraphs(bc.tidy(text, lang)):
        if bc.norm_para(p) in id_paras:
            continue
        if lang == "en":
            # Only the markup/placeholder removal: a non-Latin code skips the
            # checks for English left in a translation.
            c = bc.clean_message("", p, "zh")
        else:
            c = bc.clean_message(msgid, p, lang, english_words)
        if not c:
            continue
        c = bc.tidy(c, lang)
        if bc.langid_ok(c, lang) and not bc.english_left_in(c, lang, english_words):
            out.append(c)
    return out


def cleaned_keys(text: str, lang: str) -> set[str]:
    """Normalised paragraphs of a message after markup/placeholder removal
    only (no quality checks): what the cross-language check compares."""
    out = set()
    for p in bc.paragraphs(bc.tidy(text, lang)):
        c = bc.clean_message("", p, "zh")
        if c:
            out.add(bc.norm_para(bc.tidy(c, lang)))
    return out


def english_vocabulary(cache: Path) -> frozenset[str]:
    """build_corpus's English vocabulary (the same documents: its rendered
    English man pages and the English handbook, installation guide,
    reference and fortunes), computed the way build_langid_fresh does."""
    other: list[bc.Doc] = []
    for fn in (bc.handbook_docs, bc.install_guide_docs, bc.reference_docs, bc.fortune_docs):
        other.extend(d for d in fn(cache) if d.lang == "en" and len(d.text) <= POOL_MAX_CHARS)
    jobs = [(o, lang, f) for o, lang, f, rank in blf.man_files(cache) if lang == "en" and rank < MAN_RENDERED]
    en_man = blf.render_many(jobs)
    en_docs = [bc.Doc("manpages", o, 0, "en", t) for o, t in sorted(en_man.items())
               if t is not None and len(t) <= POOL_MAX_CHARS]
    return bc.english_vocabulary(en_docs + other)


def build(cache: Path, examples: Path, english_words: frozenset[str]) -> tuple[list[dict], dict]:
    used_recs = []
    for name in ("train", "heldout", "fresh"):
        used_recs += read_split(examples / "langid" / f"{name}.jsonl.zst")
    used_origins = {r["origin"] for r in used_recs}
    used_keys = {bc.norm_para(r["text"]) for r in used_recs}
    used_blob = "\n".join(sorted(used_keys))
    used_pkgs = {o.split("/", 1)[0] for o in used_origins}
    if used_pkgs & set(PACKAGES):
        raise bc.BuildError(f"packages already used by another split: {sorted(used_pkgs & set(PACKAGES))}")

    # Candidates: lang -> unit -> {norm key: text}; a unit is a catalog file
    # (its origin), for English a (package, domain).
    cand: dict[str, dict[str, dict[str, str]]] = {}
    en_origin: dict[tuple[str, str], str] = {}  # (unit, key) -> origin of an English paragraph
    # Every cleaned paragraph of every catalog (all locales, the 31 or not;
    # English msgids and en_* / en@* catalogs count as "en") -> its languages.
    langs_of_key: dict[str, set[str]] = {}
    en_first: dict[tuple[str, str, str], str] = {}  # (pkg, domain, msgid) -> first catalog with it
    n_files = 0
    for pkg, origin, code, f in catalogs(cache):
        lang = catalog_lang(code)
        base = LANG_ALIASES.get(re.split(r"[_@.]", code, maxsplit=1)[0], re.split(r"[_@.]", code, maxsplit=1)[0])
        pairs = bc.mo_messages(f.read_bytes())
        for msgid, _msgstr in pairs:
            en_first.setdefault((pkg, f.name, msgid), origin)
        n_files += lang is not None
        for msgid, msgstr in pairs:
            if not msgstr.strip() or msgstr.strip() == msgid.strip():
                continue
            for k in cleaned_keys(msgstr, base):
                langs_of_key.setdefault(k, set()).add(base)
            if lang is None:
                continue
            for p in message_paragraphs(msgid, msgstr, lang, english_words):
                cand.setdefault(lang, {}).setdefault(origin, {}).setdefault(bc.norm_para(p), p)
    for (pkg, domain, msgid), origin in sorted(en_first.items()):
        for k in cleaned_keys(msgid, "en"):
            langs_of_key.setdefault(k, set()).add("en")
        unit = f"{pkg}/{domain}"
        for p in message_paragraphs("", msgid, "en", english_words):
            k = bc.norm_para(p)
            if k not in cand.setdefault("en", {}).setdefault(unit, {}):
                cand["en"][unit][k] = p
                en_origin[(unit, k)] = origin
    multi = {k for k, ls in langs_of_key.items() if len(ls) > 1}
    LOG.info("%d catalogs in the 31 languages; %d paragraph texts occur in more than one language",
             n_files, len(multi))

    fresh: list[dict] = []
    taken: set[str] = set()
    stats: dict[str, dict] = {}
    drops = {"multi_lang": 0, "in_other_splits": 0}
    for lang in MODEL_LANGS:
        left = FRESH_CAP
        st = {"files": 0, "paragraphs": 0, "by_package": {}}
        units = cand.get(lang, {})
        for unit in sorted(units, key=bc.sha):
            if left <= 0:
                break
            items = sorted(units[unit].items(), key=lambda kv: bc.sha(unit + "\n" + kv[1]))
            take = []
            for k, p in items:
                if len(take) >= min(PER_FILE_CAP, left):
                    break
                if k in multi:
                    drops["multi_lang"] += 1
                    continue
                if k in taken:
                    continue
                if k in used_keys or k in used_blob:
                    drops["in_other_splits"] += 1
                    continue
                taken.add(k)
                origin = en_origin[(unit, k)] if lang == "en" else unit
                take.append({"text": p, "lang": lang, "origin": origin})
            if not take:
                continue
            left -= len(take)
            pkg = unit.split("/", 1)[0]
            st["files"] += 1
            st["paragraphs"] += len(take)
            st["by_package"][pkg] = st["by_package"].get(pkg, 0) + len(take)
            fresh.extend(take)
        stats[lang] = st
        LOG.info("%s: %d paragraphs from %d files %s", lang, st["paragraphs"], st["files"],
                 dict(sorted(st["by_package"].items())))
    LOG.info("skipped while selecting: %s", drops)
    fresh.sort(key=lambda r: (r["lang"], r["origin"], bc.sha(r["text"])))
    seen_ids: dict[str, int] = {}
    out = []
    for r in fresh:
        base = f"langid-fresh2:{r['origin']}"
        n = seen_ids.get(base + "\x00" + r["lang"], 0)
        seen_ids[base + "\x00" + r["lang"]] = n + 1
        rid = f"{base}#{n}" if r["lang"] != "en" else f"{base}#en{n}"
        out.append({"id": rid, "text": r["text"], "lang": r["lang"], "origin": r["origin"]})
    if len({r["id"] for r in out}) != len(out):
        raise bc.BuildError("duplicate ids")
    if any(r["origin"] in used_origins for r in out):
        raise bc.BuildError("an origin of another split came through")
    return out, stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Write examples/langid/fresh2.jsonl.zst: translated messages from gettext catalogs "
                    "of Debian packages no other language-ID split used.",
        epilog="Example: .venv/bin/python examples/build_langid_fresh2.py --offline",
    )
    ap.add_argument("--cache", type=Path, default=Path("/tmp/palmkit-corpus-cache"),
                    help="download/unpack cache, shared with build_corpus (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=bc.EXAMPLES, help="examples directory (default: %(default)s)")
    ap.add_argument("--offline", action="store_true", help="use only what is already in --cache")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        for tool in ("groff", "dpkg-deb") + (() if args.offline else ("apt-get",)):
            if shutil.which(tool) is None:
                raise bc.BuildError(f"required tool not found: {tool}")
        bc.fetch(args.cache, args.offline)  # build_corpus's packages: the English vocabulary
        fetch(args.cache, args.offline)
        english_words = english_vocabulary(args.cache)
        LOG.info("English vocabulary: %d words", len(english_words))
        recs, _stats = build(args.cache, args.out, english_words)
        size = bc.write_zst_jsonl(args.out / "langid" / "fresh2.jsonl.zst", recs)
        LOG.info("wrote langid/fresh2.jsonl.zst: %d paragraphs, %d bytes", len(recs), size)
    except bc.BuildError as exc:
        print(f"build_langid_fresh2: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
