"""Translation catalogs as documents (language-ID data only): gettext .mo/.po,
Fluent .ftl and Java .properties messages, cleaned, from Debian packages and
Django's sdist."""
from __future__ import annotations

import html.parser
import re
import tarfile
from pathlib import Path

from corpus_packages import CATALOG_DEBS, CATALOG_LANGS, CATALOG_SDIST, PYPI_SDISTS
from corpus_text import BuildError, Doc, EN_MARKERS, NON_LATIN, deb_root, tidy


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
