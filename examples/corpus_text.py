"""Shared by the example-data builders: the ``Doc`` record, hashing, running a
tool, paragraph and text normalisation, the English and script heuristics,
and reading and writing zstd JSONL."""
from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import zstandard

LOG = logging.getLogger("build_corpus")
ZSTD_LEVEL = 19

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



def deb_root(cache: Path, name: str) -> Path:
    return cache / "root" / name



def write_zst_jsonl(path: Path, records: list[dict]) -> int:
    data = "".join(json.dumps(r, ensure_ascii=False, sort_keys=False) + "\n" for r in records).encode("utf-8")
    comp = zstandard.ZstdCompressor(level=ZSTD_LEVEL, write_checksum=True, write_content_size=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = comp.compress(data)
    path.write_bytes(blob)
    return len(blob)



def read_langid_split(path: Path) -> list[dict]:
    data = zstandard.ZstdDecompressor().decompress(path.read_bytes(), max_output_size=1 << 31)
    return [json.loads(ln) for ln in data.decode("utf-8").splitlines()]
