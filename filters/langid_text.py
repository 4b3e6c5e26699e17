"""What a language-ID model is shown, and which script a text is written in.

Two things that sit around the fastText model in ``filters.langid``:

- ``prepare_text``: the one line fastText reads, in training and prediction
  alike. Line breaks become spaces (fastText predicts one line), and tokens
  that carry no language are removed: command-line options (``-x``,
  ``--long-opt=VALUE``), runs of single-dash settings (``-ignbrk -brkint``)
  and code identifiers with underscores (``NTF_PROXY``, ``account_name``).
  In translated man pages a handful of such tokens outweighed a short
  description in another language.
- ``script_allows`` (with ``majority_script`` and ``written_in``): the
  script rule. A language is ruled out when it is not written in the script
  that most of the text's letters are in (Vietnamese for text that is mostly
  Hangul), or when the text lacks a script the language's text always has
  (Japanese without kana, ``MARKER_SCRIPTS``); the best language the rule
  allows wins instead (``filters.langid.LanguageIdentifier.predict``). Language-ID systems such as
  CLD2 and CLD3 look at the script before anything else for the same reason:
  for most scripts it narrows the choice to a few languages, or to one.

Pure functions, no fastText import.
"""

from __future__ import annotations

import re
from collections import Counter

__all__ = [
    "MIN_LETTERS_LEFT",
    "one_line",
    "strip_options",
    "prepare_text",
    "SCRIPTS",
    "script_letter_bytes",
    "MARKER_SCRIPTS",
    "majority_script",
    "majority_of",
    "written_in",
    "script_allows",
]

_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]+")


def one_line(text: str) -> str:
    """``text`` with every line break replaced by a space: fastText predicts one line."""
    return _LINE_BREAKS.sub(" ", text).strip()


# Han, kana, CJK punctuation, Hangul and full-width forms: text in these
# scripts is written without spaces, so a translation's option list often
# runs straight into it ("-b, --binary以二進位制模式讀入").
_GLUED = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
# Where a removable token may end: a space, punctuation, a closing
# bracket/quote, the end, or text in one of the _GLUED scripts.
_TOKEN_END = rf"(?:,|(?=[\s.;:!?)\]}}\"'”»]|$|[{_GLUED}]))"
# A command-line option token: "--long-name", "-x" (one ASCII letter or digit
# after a single dash; a longer single-dash word on its own such as "-Pakete",
# "-ve" or "-udviklere" is too often a piece of a real word), each optionally
# with "[=VALUE]" / "[ARG]" or "=VALUE" (ASCII) and a trailing comma. It must
# start the text or follow a space or an opening bracket/quote.
_OPTION = re.compile(
    r"(?:(?<=[\s(\[{\"'“„«])|^)"
    r"(?:--[A-Za-z0-9][A-Za-z0-9_-]*|-[A-Za-z0-9])"
    r"(?:\[[^\]\s]*\]|=[\x21-\x7e]*)?" + _TOKEN_END
)
# Two or more single-dash ASCII words in a row ("-ignbrk -brkint -ignpar",
# "-o -name"): a list of settings or flags. Prose does not put word pieces
# like "-Pakete" next to each other.
_OPTION_RUN = re.compile(
    r"(?:(?<=[\s(\[{\"'“„«])|^)"
    r"-[A-Za-z][A-Za-z0-9_]*(?:,?\s+-[A-Za-z][A-Za-z0-9_]*)+" + _TOKEN_END
)
# An ASCII identifier with an underscore between letters or digits
# ("NTF_PROXY", "account_name", "x86_64"): names from code, in any language's text.
_IDENTIFIER = re.compile(r"(?<![\w-])[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+(?![\w-])")
# Tokens are only removed when at least this many letters are left; text that
# is (nearly) all options or identifiers keeps them, as they are all there is.
MIN_LETTERS_LEFT = 5


def strip_options(line: str) -> str:
    """``line`` without command-line options and code identifiers, which carry no language.

    ``"-x --discard-all Usuwa symbole nieglobalne."`` ->
    ``"Usuwa symbole nieglobalne."``; ``"-b, --binary以二進位制模式讀入"`` ->
    ``"以二進位制模式讀入"``; ``"raw giống như -ignbrk -brkint min 1"`` ->
    ``"raw giống như min 1"``; ``"NTF_PROXY una entrada proxy"`` ->
    ``"una entrada proxy"``. Hyphenated words ("e-mail"), dashes ("a - b",
    "-- Author") and a lone single-dash word ("-Pakete") stay. When fewer
    than ``MIN_LETTERS_LEFT`` letters would remain, ``line`` is returned
    unchanged. Spaces are collapsed only where something was removed.
    """
    stripped = line
    if "-" in stripped:
        stripped = _OPTION_RUN.sub(" ", stripped)
        stripped = _OPTION.sub(" ", stripped)
    if "_" in stripped:
        stripped = _IDENTIFIER.sub(" ", stripped)
    if stripped == line:
        return line
    stripped = " ".join(stripped.split())
    if sum(ch.isalpha() for ch in stripped) < MIN_LETTERS_LEFT:
        return line
    return stripped


def prepare_text(text: str) -> str:
    """The text fastText sees, in training and prediction alike: one line, options removed."""
    return strip_options(one_line(text))


# Letters of each script, as character classes. Latin includes the Latin-1,
# Extended-A/B, Latin Extended Additional (Vietnamese) and full-width
# Latin; Han includes the compatibility ideographs.
_SCRIPT_CHARS = {
    "Latin": "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff\uff21-\uff3a\uff41-\uff5a",
    "Cyrillic": "\u0400-\u052f",
    "Greek": "\u0370-\u03ff\u1f00-\u1fff",
    "Arabic": "\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff",
    "Hebrew": "\u0590-\u05ff",
    "Han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff",
    "Kana": "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "Hangul": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",
    "Thai": "\u0e00-\u0e7f",
    "Devanagari": "\u0900-\u097f",
    "Armenian": "\u0530-\u058f",
    "Georgian": "\u10a0-\u10ff",
}
_SCRIPT_RES = {name: re.compile(f"[{chars}]") for name, chars in _SCRIPT_CHARS.items()}
_NON_ASCII = re.compile("[^\x00-\x7f]+")
_ASCII_LETTER_BYTES = bytes(range(ord("A"), ord("Z") + 1)) + bytes(range(ord("a"), ord("z") + 1))

# The scripts each language is normally written in. Languages not listed are
# never constrained (and never chosen by the script rule). Japanese mixes Han
# and kana; Serbian is written in Cyrillic and Latin.
_LATIN = (
    "af an ast az bs ca cs cy da de en eo es et eu fi fil fo fr fy ga gd gl hr ht hu id is it jv la lb lt lv mg ms mt "
    "nb nds nl nn no oc pl pt ro rm sk sl sq sv sw tl tr uz vi wa"
)
SCRIPTS: dict[str, frozenset[str]] = {
    **{lang: frozenset({"Latin"}) for lang in _LATIN.split()},
    **{lang: frozenset({"Cyrillic"}) for lang in "ba be bg ce cv kk ky mk mn os ru sah tg tt uk".split()},
    "sr": frozenset({"Cyrillic", "Latin"}),
    **{lang: frozenset({"Arabic"}) for lang in "ar arz azb ckb fa ps sd ug ur".split()},
    **{lang: frozenset({"Hebrew"}) for lang in "he yi".split()},
    **{lang: frozenset({"Devanagari"}) for lang in "hi mr ne sa".split()},
    "el": frozenset({"Greek"}),
    "hy": frozenset({"Armenian"}),
    "ka": frozenset({"Georgian"}),
    "th": frozenset({"Thai"}),
    "ko": frozenset({"Hangul"}),
    "ja": frozenset({"Han", "Kana"}),
    "zh": frozenset({"Han"}),
}
# A script a language's text always contains: Japanese running text has kana
# (hiragana for grammar, katakana for loanwords); text in Han characters
# alone is Chinese, or a Japanese heading too short to tell.
MARKER_SCRIPTS: dict[str, str] = {"ja": "Kana"}


def script_letter_bytes(text: str) -> Counter:
    """UTF-8 bytes of ``text``'s letters per script (the scripts of ``_SCRIPT_CHARS``).

    Bytes, not characters, because one Han or Hangul character carries
    about as much as a two- or three-letter Latin syllable, and UTF-8 gives
    it three bytes (Cyrillic, Greek, Arabic: two; ASCII: one).
    """
    counts: Counter = Counter()
    encoded = text.encode("utf-8", "replace")
    ascii_letters = len(encoded) - len(encoded.translate(None, _ASCII_LETTER_BYTES))
    if ascii_letters:
        counts["Latin"] = ascii_letters
    if text.isascii():
        return counts
    # Every other letter is outside ASCII: count scripts over those characters only.
    rest = "".join(_NON_ASCII.findall(text))
    present = "".join(set(rest))
    for name, pattern in _SCRIPT_RES.items():
        if not pattern.search(present):
            continue
        letters = "".join(pattern.findall(rest))
        counts[name] += len(letters.encode("utf-8"))
    return counts


def majority_script(text: str) -> str | None:
    """The script holding more than half of ``text``'s letter bytes, or None when none does."""
    return majority_of(script_letter_bytes(text))


def majority_of(counts: Counter) -> str | None:
    """The script holding more than half of the letter bytes in ``counts``, or None."""
    total = sum(counts.values())
    if not total:
        return None
    script, count = counts.most_common(1)[0]
    return script if 2 * count > total else None


def written_in(lang: str, script: str) -> bool | None:
    """Whether ``lang`` is written in ``script``; None for a language the table does not know."""
    scripts = SCRIPTS.get(lang)
    return None if scripts is None else script in scripts


def script_allows(lang: str, counts: Counter, majority: str | None) -> bool | None:
    """Whether the script rule lets ``lang`` label a text with these letter ``counts``.

    False when ``lang`` is not written in the ``majority`` script, or when
    the text lacks the language's marker script (``MARKER_SCRIPTS``); None
    for a language the table does not know (the rule leaves it alone).
    """
    scripts = SCRIPTS.get(lang)
    if scripts is None:
        return None
    if majority is not None and majority not in scripts:
        return False
    marker = MARKER_SCRIPTS.get(lang)
    return marker is None or bool(counts.get(marker))
