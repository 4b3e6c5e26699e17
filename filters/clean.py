"""Text cleaning for the curate job: one canonical form for every document.

``clean_text`` is a transform, not a filter: it returns new text and never a
reason. The one filter here, ``clean_filter``, rejects text whose decoding was
damaged. The cleaning steps, in order:

1. **Line endings.** ``\\r\\n``, lone ``\\r``, vertical tab, form feed, NEL
   (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029) all
   become ``\\n``, so every later stage (and Python's ``str.splitlines`` vs
   ``str.split("\\n")``) agrees on what a line is. Form feeds in old C sources
   (page breaks) become an empty line, which changes no program.
2. **Invalid and control characters are deleted:**
   - C0/C1 control characters (category Cc) except ``\\n`` and ``\\t``;
   - lone surrogates U+D800..U+DFFF (JSON readers let ``"\\ud800"`` through, and
     such a string cannot even be encoded as UTF-8 when the shard is written);
   - the 66 Unicode noncharacters (U+FDD0..U+FDEF and U+xFFFE/U+xFFFF in
     every plane), which are reserved for process-internal use;
   - U+FEFF (byte order mark / deprecated zero-width no-break space), which
     is only ever an encoding artefact inside a document.
   Other format characters stay: ZWJ/ZWNJ (U+200D/U+200C) carry meaning in
   Persian, Indic scripts and emoji sequences, and bidi marks in RTL text.
3. **U+FFFD (REPLACEMENT CHARACTER) is kept.** It is a valid character that
   records where an upstream decoder met bad bytes. Deleting it would glue
   word fragments together and hide the damage; ``clean_filter`` instead
   rejects a document when replacement characters are more than
   ``max_replacement_frac`` of it (``"clean:replacement_chars"``): one stray
   U+FFFD in a long page is harmless, a page decoded with the wrong codec
   (every accented letter replaced) is not.
4. **Unicode NFC**, after the deletions so that a removed control character
   cannot leave a non-composed pair behind. NFC is applied to code too: it only
   changes canonically equivalent spellings, never what a reader sees.
5. **Whitespace**, per line, with ``is_code`` deciding how much:
   - both: trailing whitespace is stripped (what every formatter and editor
     hook does; it also makes near-duplicate files identical). The cost, for
     code, is a trailing space inside a multi-line string literal; accepted.
   - both: leading indentation is never touched, so tabs, Python blocks,
     Makefiles, YAML and indented Markdown code blocks survive.
   - prose only: inside a line (after the first non-space character), runs of
     spaces, tabs and Unicode space separators (NBSP, thin space, ...) become
     one ASCII space. HTML extraction leaves such runs everywhere. The
     ideographic space U+3000 is kept: it is a full-width character in CJK
     typesetting, not padding. Code keeps its interior spacing (alignment).
   - both: runs of more than ``max_blank_lines`` (default 2) blank lines
     collapse to that many; blank lines at the start and end of the document
     are removed, and the text ends without a newline.

``clean_text`` is idempotent: ``clean_text(clean_text(x)) == clean_text(x)``
for every string (the tests check it on random strings). Every step either
maps characters into a set the earlier steps leave alone or is itself
idempotent, and the whitespace steps cannot create a new NFC composition
(no space, tab or newline composes with a following combining mark).
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from filters.document import Document

__all__ = [
    "CleanConfig",
    "clean_text",
    "clean_document",
    "replacement_chars",
    "clean_filter",
    "REPLACEMENT_CHAR",
]

REPLACEMENT_CHAR = "\ufffd"

_LINE_BREAKS = re.compile("\r\n|[\r\x0b\x0c\x85\u2028\u2029]")


# BMP part of the deletion set. A character class of only BMP ranges compiles
# to a bitmap, which is about 20x faster on big documents than one that also
# lists the 32 astral noncharacters; those are handled by _ASTRAL below.
_INVALID = re.compile(
    "["
    "\x00-\x08"  # C0 controls before \t
    "\x0e-\x1f"  # C0 controls after \r (\x0b, \x0c, \r are line breaks above)
    "\x7f-\x84"  # DEL and C1 controls before NEL
    "\x86-\x9f"  # C1 controls after NEL
    "\ud800-\udfff"  # lone surrogates
    "\ufdd0-\ufdef"  # noncharacters
    "\ufeff"  # byte order mark
    "\ufffe\uffff"  # noncharacters of plane 0
    "]"
)
# Astral characters; the noncharacters among them are U+xFFFE and U+xFFFF.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _drop_astral_nonchar(match: re.Match) -> str:
    char = match.group()
    return "" if ord(char) & 0xFFFE == 0xFFFE else char


# Horizontal whitespace: tab and every space separator (category Zs).
_HSPACE = "\t \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
# The same without U+3000, which prose keeps as a full-width character.
_PROSE_SPACE = "\t \u00a0\u1680\u2000-\u200a\u202f\u205f"
_TRAILING = re.compile(f"[{_HSPACE}]+$", re.MULTILINE)
# An interior run: preceded by a non-whitespace character on the same line.
# A single ASCII space is already canonical, so only runs of two or more, or a
# single exotic space or tab, are matched (keeps the substitution cheap).
_INTERIOR = re.compile(f"(?<=\\S)(?:[{_PROSE_SPACE}]{{2,}}|[\t\u00a0\u1680\u2000-\u200a\u202f\u205f])")


@dataclasses.dataclass(frozen=True)
class CleanConfig:
    """Settings for cleaning and for the damaged-encoding filter.

    ``max_replacement_frac``: reject when U+FFFD is more than this fraction of
    the characters (0.001 = one per thousand; a page decoded with the wrong
    codec loses every accented letter, which is 1-5% of characters in
    European languages and far more in others).
    ``max_blank_lines``: longest run of blank lines kept.
    """

    max_replacement_frac: float = 0.001
    max_blank_lines: int = 2


def clean_text(text: str, *, is_code: bool, max_blank_lines: int = 2) -> str:
    """The canonical form of ``text``; see the module docstring for each step.

    ``is_code`` keeps interior spacing (alignment) intact; prose collapses it.
    Both keep leading indentation and tabs. Idempotent.
    """
    if max_blank_lines < 0:
        raise ValueError(f"max_blank_lines must be >= 0, got {max_blank_lines}")
    if not text:
        return ""
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVALID.sub("", text)
    if not text.isascii():
        text = _ASTRAL.sub(_drop_astral_nonchar, text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _TRAILING.sub("", text)
    if not is_code:
        text = _INTERIOR.sub(" ", text)
    longest = "\n" * (max_blank_lines + 1)
    text = re.sub("\n{%d,}" % (max_blank_lines + 2), longest, text)
    return text.strip("\n")


def clean_document(doc: Document, *, is_code: bool | None = None, cfg: CleanConfig = CleanConfig()) -> Document:
    """A copy of ``doc`` with cleaned text.

    ``is_code`` defaults to whether the document carries ``meta["code_lang"]``
    (set by the code reader), so one call handles both kinds of source.
    """
    if is_code is None:
        is_code = bool(doc.meta.get("code_lang"))
    cleaned = clean_text(doc.text, is_code=is_code, max_blank_lines=cfg.max_blank_lines)
    if cleaned == doc.text:
        return doc
    return dataclasses.replace(doc, text=cleaned)


def replacement_chars(text: str | Document, *, max_replacement_frac: float = 0.001) -> str | None:
    """``"clean:replacement_chars"`` when U+FFFD is over ``max_replacement_frac`` of the text."""
    if isinstance(text, Document):
        text = text.text
    if not text:
        return None
    count = text.count(REPLACEMENT_CHAR)
    if count and count / len(text) > max_replacement_frac:
        return "clean:replacement_chars"
    return None


def clean_filter(doc: Document | str, cfg: CleanConfig = CleanConfig()) -> str | None:
    """The ``clean`` family's filters in order (today one: damaged encoding)."""
    return replacement_chars(doc, max_replacement_frac=cfg.max_replacement_frac)
