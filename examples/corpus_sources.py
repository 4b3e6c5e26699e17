"""Documents from the pinned packages: translated man pages, the Debian
handbook, installation guide and reference (HTML), and fortune cookies."""
from __future__ import annotations

import concurrent.futures
import gzip
import html.parser
import os
import re
from pathlib import Path

from tqdm import tqdm

from corpus_packages import (
    FORTUNE_LANG_OVERRIDES, FORTUNE_PACKAGES, HANDBOOK, INSTALL_GUIDE, MANPAGE_PACKAGES, REFERENCE_PACKAGES,
)
from corpus_text import Doc, deb_root, norm_para, paragraphs, run, sha, strip_untranslated, tidy


def render_man(path: Path) -> str | None:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    try:
        src = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    body = [ln for ln in src.splitlines() if ln.strip() and not ln.startswith(('.\\"', "'\\\""))]
    if len(body) <= 2 and any(ln.startswith(".so ") for ln in body):
        return None  # a link to another page
    out = run(["groff", "-Kutf-8", "-t", "-Tutf8", "-mandoc", "-rLL=3000n", "-rcR=1", "-rHY=0", "-P-cbou"],
              stdin=src.encode("utf-8")).decode("utf-8", "replace")
    lines = out.split("\n")
    nonblank = [i for i, ln in enumerate(lines) if ln.strip()]
    if len(nonblank) < 3:
        return None
    lines = lines[nonblank[0] + 1: nonblank[-1]]  # drop running header and footer
    text = "\n".join(re.sub(r" {2,}", " ", ln.strip()) if i else ln.strip() for i, ln in enumerate(lines))
    return text


def manpage_files(cache: Path, pkg: str, dirs: str) -> tuple[Path, list[Path]]:
    """(unpacked root, the package's man page files in sha256 order of origin)."""
    root = deb_root(cache, pkg)
    bases = [root / "usr/share/man" / d for d in dirs.split()] if dirs else [root / "usr/share/man"]
    files = []
    for base in bases:
        for f in sorted(base.glob("man*/*")):
            if f.is_file() and not f.is_symlink():
                files.append(f)
    files.sort(key=lambda f: sha(f"{pkg}/{f.relative_to(root)}"))
    return root, files


def manpage_docs(cache: Path) -> list[Doc]:
    jobs = []
    for pkg, (_ver, dirs, lang) in MANPAGE_PACKAGES.items():
        root, files = manpage_files(cache, pkg, dirs)
        # Render a bounded, deterministic subset per language; the corpus cap
        # and the langid pool never need more than this.
        for f in files[:260]:
            jobs.append((pkg, lang, root, f))
    docs: list[Doc] = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, os.cpu_count() or 1)) as pool:
        futs = {pool.submit(render_man, f): (pkg, lang, root, f) for pkg, lang, root, f in jobs}
        for fut in tqdm(concurrent.futures.as_completed(futs), total=len(futs), desc="man pages", unit="page"):
            pkg, lang, root, f = futs[fut]
            text = fut.result()
            if text is None:
                continue
            text, dropped = strip_untranslated(tidy(text, lang), lang, None)
            if dropped > 0.5:
                continue  # mostly untranslated
            docs.append(Doc("manpages", f"{pkg}/{f.relative_to(root)}", 0, lang, text))
    return docs


BLOCK_TAGS = {
    "address", "blockquote", "br", "caption", "dd", "div", "dl", "dt", "figcaption", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "li", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "wbr"}
SKIP_TAGS = {"script", "style", "head", "title", "noscript"}
SKIP_CLASSES = {"docnav", "navheader", "navfooter", "toc", "list-of-tables", "list-of-figures",
                "list-of-examples", "indexterm", "footnotes", "legalnotice"}
SKIP_IDS = {"banner"}
SPLIT = "\x00SPLIT\x00"


class HtmlText(html.parser.HTMLParser):
    """Plain text from DocBook-generated (X)HTML: block elements become
    paragraphs, <pre> keeps its lines, navigation/TOC/index markup is dropped.
    With `split_tag`, a marker is emitted before each such heading."""

    def __init__(self, split_tag: str | None = None) -> None:
        super().__init__(convert_charrefs=True)
        self.split_tag = split_tag
        self.stack: list[tuple[str, bool]] = []
        self.skip = 0
        self.pre = 0
        self.out: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        skipping = tag in SKIP_TAGS or bool(classes & SKIP_CLASSES) or attrs.get("id") in SKIP_IDS
        if tag in ("td", "th") and not self.skip:
            self.out.append(" | ")
        elif tag in BLOCK_TAGS and not self.skip:
            if self.split_tag and tag == self.split_tag:
                self.out.append("\n\n" + SPLIT + "\n\n")
            self.out.append("\n" if tag in ("br", "tr") else "\n\n")
        if tag in VOID_TAGS:
            return
        self.stack.append((tag, skipping))
        if skipping:
            self.skip += 1
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag):
        if not any(t == tag for t, _s in self.stack):
            return
        while self.stack:
            t, skipping = self.stack.pop()
            if skipping:
                self.skip -= 1
            if t == "pre":
                self.pre -= 1
            if t == tag:
                break
        if tag in BLOCK_TAGS and tag not in ("td", "th") and not self.skip:
            self.out.append("\n" if tag == "tr" else "\n\n")

    def handle_data(self, data):
        if self.skip:
            return
        if self.pre:
            self.out.append(data)
        else:
            self.out.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        lines = (ln.strip() for ln in "".join(self.out).split("\n"))
        return "\n".join(ln[2:] if ln.startswith("| ") else ln for ln in lines)


def html_to_text(path: Path, split_tag: str | None = None) -> list[str]:
    parser = HtmlText(split_tag)
    parser.feed(path.read_text("utf-8", errors="strict"))
    parser.close()
    parts = parser.text().split(SPLIT)
    return [re.sub(r"\n{3,}", "\n\n", p).strip() for p in parts]


def english_paragraphs(texts: list[str]) -> set[str]:
    out: set[str] = set()
    for t in texts:
        out.update(norm_para(p) for p in paragraphs(t))
    return out


def html_docs(name: str, items: list[tuple[str, str, Path, str]], split_tag: str | None) -> list[Doc]:
    """items: (package, lang, file, origin).  English items first feed the set
    of English paragraphs used to remove untranslated fallbacks."""
    texts: list[tuple[str, str, str, int, str]] = []
    for pkg, lang, f, origin in tqdm(items, desc=name, unit="file"):
        for k, part in enumerate(html_to_text(f, split_tag)):
            texts.append((pkg, lang, origin, k, part))
    english = english_paragraphs([t for _p, lang, _o, _k, t in texts if lang == "en"])
    docs = []
    for _pkg, lang, origin, k, text in texts:
        text = tidy(text, lang)
        cleaned, dropped = strip_untranslated(text, lang, english)
        if dropped > 0.5:
            continue  # mostly an untranslated page
        docs.append(Doc(name, origin, k, lang, cleaned))
    return docs


def html_book_items(cache: Path, pkg: str, html_dir: str, lang_sep: str) -> list[tuple[str, str, Path, str]]:
    """The HTML pages of a book package laid out as ``<html_dir>/<lang><sep>.../*.html``
    (the language is the folder name up to ``lang_sep``), without the index pages."""
    root = deb_root(cache, pkg)
    items = []
    for langdir in sorted(p for p in (root / html_dir).iterdir() if p.is_dir()):
        lang = langdir.name.split(lang_sep)[0]
        for f in sorted(langdir.glob("*.html")):
            if f.name != "index.html":
                items.append((pkg, lang, f, f"{pkg}/{f.relative_to(root)}"))
    return items


def handbook_docs(cache: Path) -> list[Doc]:
    items = html_book_items(cache, HANDBOOK[0], "usr/share/doc/debian-handbook/html", "-")  # sv-SE
    return html_docs("debian-handbook", items, None)


def install_guide_docs(cache: Path) -> list[Doc]:
    items = html_book_items(cache, INSTALL_GUIDE[0], "usr/share/doc/installation-guide-amd64", "_")  # pt_BR
    return html_docs("installation-guide", items, None)


def reference_docs(cache: Path) -> list[Doc]:
    items = []
    for pkg, (_ver, lang) in REFERENCE_PACKAGES.items():
        root = deb_root(cache, pkg)
        for f in sorted((root / "usr/share/debian-reference").glob("*.html")):
            if f.name.startswith("index."):
                continue
            items.append((pkg, lang, f, f"{pkg}/{f.relative_to(root)}"))
    return html_docs("debian-reference", items, "h2")


def fortune_docs(cache: Path) -> list[Doc]:
    docs = []
    for pkg, (_ver, sub, lang) in FORTUNE_PACKAGES.items():
        root = deb_root(cache, pkg)
        base = root / "usr/share/games/fortunes" / sub
        files = sorted(f for f in base.rglob("*") if f.is_file() and not f.is_symlink())
        for f in files:
            rel = f.relative_to(base)
            if f.suffix in (".dat", ".u8") or "off" in rel.parts or (sub == "." and len(rel.parts) > 1):
                continue
            origin = f"{pkg}/{f.relative_to(root)}"
            flang = FORTUNE_LANG_OVERRIDES.get(origin, lang)
            raw = f.read_bytes()
            for k, entry in enumerate(re.split(rb"\r?\n%\r?\n", raw)):
                try:
                    text = entry.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                text = tidy(text, flang)
                if text.strip() in ("", "%"):
                    continue
                text, dropped = strip_untranslated(text, flang, None)
                if dropped > 0.5 or not text:
                    continue  # an English fortune in a non-English collection
                docs.append(Doc("fortunes", origin, k, flang, text))
    return docs
