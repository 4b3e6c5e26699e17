"""Quality rules for natural-language documents: Gopher quality, Gopher
repetition (Rae et al. 2021, MassiveText) and the C4 line rules (Raffel et al.
2020), with the thresholds listed in ``/work/shared/REFERENCE.md``.

Every rule is a plain function ``rule(doc, *, <thresholds>) -> str | None``
that accepts a ``Document``, a ``str`` or a ``TextView`` and returns ``None``
to keep or ``"<family>:<rule>"`` to reject. A ``TextView`` computes the word,
line and paragraph splits of one document lazily and once, so the family
functions (``gopher_quality_filter``, ``gopher_repetition_filter``,
``c4_filter``) build one view and hand it to every rule.

Words
-----
A *word* is a whitespace-separated token with leading and trailing
punctuation stripped; tokens made only of punctuation or symbols ("-", "...",
"#") are not words. Counts, ratios and n-grams all use this one definition.

Languages
---------
Gopher's rules were tuned on English; the language (``Document.lang``, a
BCP-47-ish code; only its primary subtag matters) decides what applies:

* **Stop-word rule** (>= 2 distinct stop words present): English uses Gopher's
  eight words {the, be, to, of, and, that, have, with}. For the seven largest
  non-English PaLM languages and Portuguese (de, fr, es, pl, it, nl, pt) there
  is a comparable list of ~10-14 of that language's most frequent function
  words (articles, "and", "of", "to", the copula, "that", "with"), so the rule
  keeps its intent (is this running text?). Every other language skips the
  rule: a wrong list rejects good text, a missing one only keeps a little
  noise that the other rules still see. An empty ``lang`` means "unknown,
  assume English" (Gopher's setting, and what a bare string gets); ``und``
  means undetermined and skips the rule.
* **Scripts written without spaces between words** (zh, ja, th, lo, km, my,
  bo, and the Chinese variants yue, wuu, lzh): whitespace splitting finds
  clauses, not words. There, the unit is one letter or digit character
  (combining marks and punctuation are not counted), because a Han character
  is roughly a morpheme. The word-count bounds (50..100,000) apply to those
  units (50 Han characters is about two sentences); the mean-word-length rule
  is skipped (a unit has length 1 by construction); the hash/ellipsis ratios
  and the alphabetic fraction use units as the denominator; the stop-word
  rule is skipped; and the word n-gram repetition rules are skipped (5..10
  character n-grams repeat in ordinary Chinese prose far more than 5..10 word
  n-grams do in English, so the English thresholds would reject good text).
  Line and paragraph duplication rules apply to every language.
* **Korean** separates words (eojeol) with spaces, so it uses words, but the
  mean-word-length rule is skipped: one Hangul syllable block is a whole
  syllable, so its "length" in code points is not comparable to Latin letters.

C4
--
The C4 rules are English rules (mC4 used different ones); apply them to
``en`` only, which curate's ``c4`` step (off by default) does unless
``C4Config.languages`` says otherwise. The paper and the TFDS code that built the released C4 differ:
the paper says lines need >= 3 words and pages >= 5 sentences, TFDS uses 5 and
3. ``C4Config.numbers`` chooses ("tfds" by default, because that is what the
released corpus, and every measurement against it, used); explicit
``min_words_per_line`` / ``min_sentences`` override either. As in TFDS,
"lorem ipsum" and "{" drop the page only when they occur in a line that
survived the line rules, and sentences are counted on the kept lines. TFDS
counts sentences with NLTK's Punkt; here a sentence ends at ``.``, ``!``,
``?`` or ``…`` followed by a space or the line end (no NLTK dependency; an
abbreviation like "Mr." counts as an extra sentence).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections import Counter
from itertools import compress
from typing import Literal

from filters.document import Document

__all__ = [
    "TextView",
    "base_lang",
    "STOP_WORDS",
    "UNSEGMENTED_LANGS",
    # Gopher quality
    "GopherQualityConfig",
    "gopher_word_count",
    "gopher_mean_word_length",
    "gopher_hash_ratio",
    "gopher_ellipsis_ratio",
    "gopher_bullet_lines",
    "gopher_ellipsis_lines",
    "gopher_alpha_words",
    "gopher_stop_words",
    "gopher_quality_filter",
    # Gopher repetition
    "GopherRepetitionConfig",
    "gopher_dup_lines",
    "gopher_dup_paragraphs",
    "gopher_top_ngram",
    "gopher_dup_ngrams",
    "gopher_repetition_filter",
    # C4
    "C4Config",
    "c4_clean_lines",
    "c4_clean_document",
    "c4_filter",
]

# --------------------------------------------------------------------------- languages

UNSEGMENTED_LANGS = frozenset({"zh", "ja", "th", "lo", "km", "my", "bo", "yue", "wuu", "lzh"})
_NO_MEAN_WORD_LENGTH = UNSEGMENTED_LANGS | {"ko"}

STOP_WORDS: dict[str, frozenset[str]] = {
    # Gopher's list, exactly.
    "en": frozenset({"the", "be", "to", "of", "and", "that", "have", "with"}),
    "de": frozenset({"der", "die", "das", "und", "zu", "von", "mit", "ist", "nicht", "ein", "eine", "den", "sich"}),
    "fr": frozenset({"le", "la", "les", "de", "et", "à", "un", "une", "est", "que", "pour", "avec", "des", "du"}),
    "es": frozenset({"el", "la", "de", "que", "y", "en", "los", "las", "es", "un", "una", "con", "por", "para"}),
    "pl": frozenset({"i", "w", "na", "z", "się", "nie", "jest", "to", "że", "do", "jak", "oraz"}),
    "it": frozenset({"il", "la", "di", "che", "e", "è", "un", "una", "per", "con", "del", "non"}),
    "nl": frozenset({"de", "het", "een", "en", "van", "is", "dat", "met", "te", "op", "niet", "voor"}),
    "pt": frozenset({"o", "a", "de", "que", "e", "do", "da", "em", "um", "uma", "para", "com", "não"}),
}


def base_lang(lang: str) -> str:
    """The primary language subtag, lowercased: ``"zh-Hans"`` -> ``"zh"``, ``"pt_BR"`` -> ``"pt"``."""
    return re.split(r"[-_]", lang.strip().lower(), maxsplit=1)[0]


# --------------------------------------------------------------------------- text view

# Punctuation stripped from the ends of tokens: ASCII punctuation plus the
# common Unicode quotes, dashes, brackets and CJK punctuation.
_PUNCT = (
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
    "“”‘’«»‹›„‚–—―…•·¡¿§¶†‡°′″"
    "、。，．！？：；（）［］【】《》〈〉「」『』〔〕・～"
)
_LETTER = re.compile(r"[^\W\d_]")  # alphabetic (and non-decimal numeric letters such as 一)
_ALNUM = re.compile(r"[^\W_]")  # letters and digits, no combining marks
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")


class TextView:
    """The splits of one document, each computed on first use and then cached.

    Rules receive a view instead of a string so that, for example, the words
    are split once even though six rules look at them.
    """

    def __init__(self, text: str, lang: str = "") -> None:
        self.text = text
        self.lang = base_lang(lang) if lang else ""
        self.segmented = self.lang not in UNSEGMENTED_LANGS

    @classmethod
    def of(cls, doc: "Document | str | TextView", lang: str | None = None) -> "TextView":
        """A view of ``doc``; a view is returned as it is. ``lang`` overrides ``doc.lang``."""
        if isinstance(doc, TextView):
            return doc
        if isinstance(doc, Document):
            return cls(doc.text, doc.lang if lang is None else lang)
        return cls(doc, lang or "")

    @functools.cached_property
    def words(self) -> list[str]:
        """Words (see the module docstring); empty for unsegmented scripts."""
        if not self.segmented:
            return []
        return [w for w in (t.strip(_PUNCT) for t in self.text.split()) if w]

    @functools.cached_property
    def n_words(self) -> int:
        """Words, or letter/digit characters for unsegmented scripts."""
        if self.segmented:
            return len(self.words)
        return _ALNUM.subn("", self.text)[1]

    @functools.cached_property
    def n_alpha_words(self) -> int:
        """Words containing a letter, or letter characters for unsegmented scripts."""
        if self.segmented:
            search = _LETTER.search
            return sum(1 for w in self.words if search(w))
        return _LETTER.subn("", self.text)[1]

    @functools.cached_property
    def lines(self) -> list[str]:
        """Non-blank lines, stripped."""
        return [s for s in (line.strip() for line in self.text.split("\n")) if s]

    @functools.cached_property
    def paragraphs(self) -> list[str]:
        """Non-blank paragraphs (separated by a blank line), stripped."""
        return [s for s in (p.strip() for p in _PARAGRAPH_BREAK.split(self.text)) if s]

    @functools.cached_property
    def word_lengths(self) -> list[int]:
        return list(map(len, self.words))


# --------------------------------------------------------------------------- Gopher quality


@dataclasses.dataclass(frozen=True)
class GopherQualityConfig:
    """Gopher quality thresholds (Rae et al. 2021, App. A; as datatrove uses them)."""

    min_words: int = 50
    max_words: int = 100_000
    min_mean_word_length: float = 3.0
    max_mean_word_length: float = 10.0
    max_symbol_word_ratio: float = 0.1
    max_bullet_lines_frac: float = 0.9
    max_ellipsis_lines_frac: float = 0.3
    min_alpha_words_frac: float = 0.8
    min_stop_words: int = 2


def gopher_word_count(doc, *, min_words: int = 50, max_words: int = 100_000, lang: str | None = None) -> str | None:
    """``min_words`` / ``max_words``: too short to be a document, or too long to be one."""
    view = TextView.of(doc, lang)
    n = view.n_words
    if n < min_words:
        return "gopher_quality:min_words"
    if n > max_words:
        return "gopher_quality:max_words"
    return None


def gopher_mean_word_length(
    doc, *, min_mean_word_length: float = 3.0, max_mean_word_length: float = 10.0, lang: str | None = None
) -> str | None:
    """Mean word length outside [3, 10]: lists of codes, hashes, or concatenated junk.

    Skipped for unsegmented scripts and Korean (see the module docstring) and
    for documents without words (the word-count rule owns those).
    """
    view = TextView.of(doc, lang)
    if view.lang in _NO_MEAN_WORD_LENGTH or not view.words:
        return None
    mean = sum(view.word_lengths) / len(view.words)
    if mean < min_mean_word_length:
        return "gopher_quality:min_mean_word_length"
    if mean > max_mean_word_length:
        return "gopher_quality:max_mean_word_length"
    return None


def gopher_hash_ratio(doc, *, max_symbol_word_ratio: float = 0.1, lang: str | None = None) -> str | None:
    """``#`` per word above 0.1: hashtag spam and tag clouds."""
    view = TextView.of(doc, lang)
    if view.n_words == 0:
        return None
    if view.text.count("#") / view.n_words > max_symbol_word_ratio:
        return "gopher_quality:hash_word_ratio"
    return None


def gopher_ellipsis_ratio(doc, *, max_symbol_word_ratio: float = 0.1, lang: str | None = None) -> str | None:
    """Ellipses ("..." or "…") per word above 0.1: truncated teasers and snippet lists."""
    view = TextView.of(doc, lang)
    if view.n_words == 0:
        return None
    ellipses = view.text.count("...") + view.text.count("…")
    if ellipses / view.n_words > max_symbol_word_ratio:
        return "gopher_quality:ellipsis_word_ratio"
    return None


# En and em dashes are left out on purpose: Spanish, Russian and other
# traditions open every line of dialogue with one.
_BULLETS = ("•", "‣", "◦", "●", "○", "▪", "■", "□", "►", "➤", "-", "*")


def gopher_bullet_lines(doc, *, max_bullet_lines_frac: float = 0.9, lang: str | None = None) -> str | None:
    """More than 90% of lines start with a bullet: menus and link lists, not prose."""
    view = TextView.of(doc, lang)
    if not view.lines:
        return None
    bullets = sum(1 for line in view.lines if line.startswith(_BULLETS))
    if bullets / len(view.lines) > max_bullet_lines_frac:
        return "gopher_quality:bullet_lines"
    return None


def gopher_ellipsis_lines(doc, *, max_ellipsis_lines_frac: float = 0.3, lang: str | None = None) -> str | None:
    """More than 30% of lines end with an ellipsis: truncated previews."""
    view = TextView.of(doc, lang)
    if not view.lines:
        return None
    ellipsis = sum(1 for line in view.lines if line.endswith(("...", "…")))
    if ellipsis / len(view.lines) > max_ellipsis_lines_frac:
        return "gopher_quality:ellipsis_lines"
    return None


def gopher_alpha_words(doc, *, min_alpha_words_frac: float = 0.8, lang: str | None = None) -> str | None:
    """Fewer than 80% of words contain a letter: tables of numbers, dumps."""
    view = TextView.of(doc, lang)
    if view.n_words == 0:
        return None
    if view.n_alpha_words / view.n_words < min_alpha_words_frac:
        return "gopher_quality:alpha_words_frac"
    return None


def gopher_stop_words(doc, *, min_stop_words: int = 2, lang: str | None = None) -> str | None:
    """Fewer than two distinct stop words: not running text (keyword lists, titles).

    Uses ``STOP_WORDS[lang]``; an empty ``lang`` means English; other
    languages without a list skip the rule.
    """
    view = TextView.of(doc, lang)
    stop = STOP_WORDS.get(view.lang or "en")
    if stop is None or not view.segmented:
        return None
    found = stop.intersection(map(str.lower, view.words))
    if len(found) < min_stop_words:
        return "gopher_quality:stop_words"
    return None


def gopher_quality_filter(doc, cfg: GopherQualityConfig = GopherQualityConfig()) -> str | None:
    """All Gopher quality rules in a fixed order; the first reason wins.

    Word count comes first: it rejects huge documents before any per-word work.
    """
    view = TextView.of(doc)
    return (
        gopher_word_count(view, min_words=cfg.min_words, max_words=cfg.max_words)
        or gopher_mean_word_length(
            view, min_mean_word_length=cfg.min_mean_word_length, max_mean_word_length=cfg.max_mean_word_length
        )
        or gopher_hash_ratio(view, max_symbol_word_ratio=cfg.max_symbol_word_ratio)
        or gopher_ellipsis_ratio(view, max_symbol_word_ratio=cfg.max_symbol_word_ratio)
        or gopher_bullet_lines(view, max_bullet_lines_frac=cfg.max_bullet_lines_frac)
        or gopher_ellipsis_lines(view, max_ellipsis_lines_frac=cfg.max_ellipsis_lines_frac)
        or gopher_alpha_words(view, min_alpha_words_frac=cfg.min_alpha_words_frac)
        or gopher_stop_words(view, min_stop_words=cfg.min_stop_words)
    )


# --------------------------------------------------------------------------- Gopher repetition


@dataclasses.dataclass(frozen=True)
class GopherRepetitionConfig:
    """Gopher repetition thresholds (Rae et al. 2021, Table A1)."""

    max_dup_line_frac: float = 0.30
    max_dup_para_frac: float = 0.30
    max_dup_line_char_frac: float = 0.20
    max_dup_para_char_frac: float = 0.20
    max_top_2gram_char_frac: float = 0.20
    max_top_3gram_char_frac: float = 0.18
    max_top_4gram_char_frac: float = 0.16
    max_dup_5gram_char_frac: float = 0.15
    max_dup_6gram_char_frac: float = 0.14
    max_dup_7gram_char_frac: float = 0.13
    max_dup_8gram_char_frac: float = 0.12
    max_dup_9gram_char_frac: float = 0.11
    max_dup_10gram_char_frac: float = 0.10

    def top_ngram_limits(self) -> dict[int, float]:
        return {2: self.max_top_2gram_char_frac, 3: self.max_top_3gram_char_frac, 4: self.max_top_4gram_char_frac}

    def dup_ngram_limits(self) -> dict[int, float]:
        return {n: getattr(self, f"max_dup_{n}gram_char_frac") for n in range(5, 11)}


def _duplicates(elements: list[str]) -> tuple[int, int]:
    """(number of elements seen before, their characters); first occurrences are not duplicates."""
    seen: set[str] = set()
    dup_count = dup_chars = 0
    for element in elements:
        if element in seen:
            dup_count += 1
            dup_chars += len(element)
        else:
            seen.add(element)
    return dup_count, dup_chars


def _dup_rule(elements: list[str], max_frac: float, max_char_frac: float, kind: str) -> str | None:
    if not elements:
        return None
    dup_count, dup_chars = _duplicates(elements)
    if dup_count / len(elements) > max_frac:
        return f"gopher_repetition:dup_{kind}_frac"
    total_chars = sum(map(len, elements))
    if dup_chars / total_chars > max_char_frac:
        return f"gopher_repetition:dup_{kind}_char_frac"
    return None


def gopher_dup_lines(
    doc, *, max_dup_line_frac: float = 0.30, max_dup_line_char_frac: float = 0.20, lang: str | None = None
) -> str | None:
    """Repeated lines (over non-blank stripped lines; the first copy is not counted)."""
    view = TextView.of(doc, lang)
    return _dup_rule(view.lines, max_dup_line_frac, max_dup_line_char_frac, "line")


def gopher_dup_paragraphs(
    doc, *, max_dup_para_frac: float = 0.30, max_dup_para_char_frac: float = 0.20, lang: str | None = None
) -> str | None:
    """Repeated paragraphs (blocks separated by a blank line)."""
    view = TextView.of(doc, lang)
    return _dup_rule(view.paragraphs, max_dup_para_frac, max_dup_para_char_frac, "para")


class _NgramLevel:
    """The word n-grams of one size that can occur more than once.

    ``positions`` (ascending) and ``keys`` are parallel; ``counts`` counts the
    keys. Level n+1 only looks at positions whose n-gram occurs twice or more:
    a repeated (n+1)-gram starts with a repeated n-gram, so nothing is lost,
    and in real text the candidates shrink fast with n. Only level 2 touches
    every position, which keeps the whole ladder near-linear.
    """

    __slots__ = ("n", "positions", "keys", "counts")

    def __init__(self, n: int, positions: list[int], keys: list[tuple[str, ...]]) -> None:
        self.n = n
        self.positions = positions
        self.keys = keys
        self.counts = Counter(keys)

    @classmethod
    def bigrams(cls, words: list[str]) -> "_NgramLevel":
        keys = list(zip(words, words[1:]))
        return cls(2, list(range(len(keys))), keys)

    def next(self, words: list[str]) -> "_NgramLevel":
        n, counts, limit = self.n, self.counts, len(words) - self.n
        positions: list[int] = []
        keys: list[tuple[str, ...]] = []
        for i, key in zip(self.positions, self.keys):
            if i < limit and counts[key] > 1:
                positions.append(i)
                keys.append(key + (words[i + n],))
        return _NgramLevel(n + 1, positions, keys)


def _ngram_level(view: TextView, n: int) -> _NgramLevel:
    levels: list[_NgramLevel] = view.__dict__.setdefault("_ngram_levels", [])
    if not levels:
        levels.append(_NgramLevel.bigrams(view.words))
    while levels[-1].n < n:
        levels.append(levels[-1].next(view.words))
    return levels[n - 2]


def _covered_chars(starts: list[int], lengths: list[int], n: int) -> int:
    """Characters of the words spanned by n-grams starting at ``starts``; overlaps count once."""
    covered = bytearray(len(lengths))
    ones = b"\x01" * n
    for start in starts:
        covered[start : start + n] = ones
    return sum(compress(lengths, covered))


def gopher_top_ngram(doc, *, n: int, max_char_frac: float, lang: str | None = None) -> str | None:
    """Characters covered by the most frequent word n-gram (n = 2, 3, 4) over ``max_char_frac``.

    Only an n-gram that occurs more than once counts (ties: the first to
    occur). The fraction is of the characters of all words (whitespace and
    stripped punctuation excluded); overlapping occurrences count once.
    Skipped for unsegmented scripts.
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    view = TextView.of(doc, lang)
    if not view.segmented or len(view.words) < n:
        return None
    level = _ngram_level(view, n)
    if not level.counts:
        return None
    top, count = level.counts.most_common(1)[0]
    if count < 2:
        return None
    starts = [i for i, key in zip(level.positions, level.keys) if key == top]
    covered = _covered_chars(starts, view.word_lengths, n)
    if covered / sum(view.word_lengths) > max_char_frac:
        return f"gopher_repetition:top_{n}gram_char_frac"
    return None


def gopher_dup_ngrams(doc, *, n: int, max_char_frac: float, lang: str | None = None) -> str | None:
    """Characters covered by repeated word n-grams (n = 5..10) over ``max_char_frac``.

    Every occurrence after the first of an n-gram marks its words; a word
    covered several times counts once. Skipped for unsegmented scripts.
    """
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    view = TextView.of(doc, lang)
    if not view.segmented or len(view.words) < n:
        return None
    level = _ngram_level(view, n)
    seen: set[tuple[str, ...]] = set()
    starts: list[int] = []
    counts = level.counts
    for i, key in zip(level.positions, level.keys):
        if counts[key] < 2:
            continue
        if key in seen:
            starts.append(i)
        else:
            seen.add(key)
    if not starts:
        return None
    covered = _covered_chars(starts, view.word_lengths, n)
    if covered / sum(view.word_lengths) > max_char_frac:
        return f"gopher_repetition:dup_{n}gram_char_frac"
    return None


def gopher_repetition_filter(doc, cfg: GopherRepetitionConfig = GopherRepetitionConfig()) -> str | None:
    """All Gopher repetition rules: paragraphs, lines, top 2-4-grams, repeated 5-10-grams."""
    view = TextView.of(doc)
    reason = gopher_dup_paragraphs(
        view, max_dup_para_frac=cfg.max_dup_para_frac, max_dup_para_char_frac=cfg.max_dup_para_char_frac
    ) or gopher_dup_lines(view, max_dup_line_frac=cfg.max_dup_line_frac, max_dup_line_char_frac=cfg.max_dup_line_char_frac)
    if reason:
        return reason
    for n, limit in cfg.top_ngram_limits().items():
        reason = gopher_top_ngram(view, n=n, max_char_frac=limit)
        if reason:
            return reason
    for n, limit in cfg.dup_ngram_limits().items():
        reason = gopher_dup_ngrams(view, n=n, max_char_frac=limit)
        if reason:
            return reason
    return None


# --------------------------------------------------------------------------- C4

_C4_NUMBERS = {"paper": (3, 5), "tfds": (5, 3)}  # (min words per line, min sentences)
_END_MARKS = (".", "?", "!", '"', "”")
_ELLIPSES = ("...", "…")
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]", re.IGNORECASE)
_POLICY = re.compile("terms of use|privacy policy|cookie policy|uses cookies|use of cookies|use cookies")
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s|$)")


@dataclasses.dataclass(frozen=True)
class C4Config:
    """C4 line and page rules.

    ``numbers``: "tfds" (5 words per line, 3 sentences per page: the code that
    built the released C4) or "paper" (3 words, 5 sentences: Raffel et al.
    2020, §2.2). ``min_words_per_line`` / ``min_sentences`` override the choice
    when set. ``max_word_length``: lines with a longer "word" are dropped
    (TFDS). ``remove_citations``: delete Wikipedia-style "[1]", "[edit]",
    "[citation needed]" markers before the checks (TFDS). ``languages``: the
    ``lang`` values curate's ``c4`` step runs the rules on (English only by
    default: they are English rules); empty runs them on all prose.
    """

    numbers: Literal["tfds", "paper"] = "tfds"
    min_words_per_line: int | None = None
    min_sentences: int | None = None
    max_word_length: int = 1000
    remove_citations: bool = True
    languages: tuple[str, ...] = ("en",)

    def __post_init__(self) -> None:
        if self.numbers not in _C4_NUMBERS:
            raise ValueError(f"C4Config.numbers must be one of {sorted(_C4_NUMBERS)}, got {self.numbers!r}")

    @property
    def words_per_line(self) -> int:
        return self.min_words_per_line if self.min_words_per_line is not None else _C4_NUMBERS[self.numbers][0]

    @property
    def sentences(self) -> int:
        return self.min_sentences if self.min_sentences is not None else _C4_NUMBERS[self.numbers][1]


def _c4_pass(text: str, cfg: C4Config, *, page_rules: bool = True) -> tuple[list[str], str | None]:
    """One pass over the lines: (kept lines, page-level reason or None).

    With ``page_rules=False`` only the line rules run ("lorem ipsum" and "{"
    lines are kept like any other line that passed them).
    """
    kept: list[str] = []
    sentences = 0
    min_words = cfg.words_per_line
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if len(line) > cfg.max_word_length and max(map(len, line.split())) > cfg.max_word_length:
            continue
        if cfg.remove_citations and "[" in line:
            line = _CITATION.sub("", line).strip()
        if not line.endswith(_END_MARKS) or line.endswith(_ELLIPSES):
            continue
        if len(line.split(None, min_words - 1)) < min_words:
            continue
        lower = line.lower()
        if page_rules and "lorem ipsum" in lower:
            return kept, "c4:lorem_ipsum"
        if "javascript" in lower:
            continue
        if page_rules and "{" in line:
            return kept, "c4:curly_bracket"
        if _POLICY.search(lower):
            continue
        sentences += max(1, len(_SENTENCE_END.findall(line)))
        kept.append(line)
    if not page_rules:
        return kept, None
    if not kept:
        return kept, "c4:no_lines_left"
    if sentences < cfg.sentences:
        return kept, "c4:too_few_sentences"
    return kept, None


def c4_clean_lines(text: str | Document, cfg: C4Config = C4Config()) -> str:
    """The lines C4 keeps, joined by ``\\n`` (possibly empty).

    Line rules only: a word over ``max_word_length``, no terminal punctuation
    (or an ellipsis at the end), fewer than ``words_per_line`` words,
    "javascript", or cookie/policy boilerplate. Citation markers are removed
    from kept lines. The page-level rules are ``c4_filter``'s;
    ``c4_clean_document`` applies both.
    """
    if isinstance(text, Document):
        text = text.text
    return "\n".join(_c4_pass(text, cfg, page_rules=False)[0])


def c4_clean_document(doc: Document, cfg: C4Config = C4Config()) -> Document | str:
    """C4 applied to a document: a copy with only the kept lines, or a reason.

    Reasons: ``c4:lorem_ipsum``, ``c4:curly_bracket`` (in a kept line),
    ``c4:no_lines_left``, ``c4:too_few_sentences``.
    """
    kept, reason = _c4_pass(doc.text, cfg)
    if reason:
        return reason
    text = "\n".join(kept)
    return doc if text == doc.text else dataclasses.replace(doc, text=text)


def c4_filter(doc: Document | str, cfg: C4Config = C4Config()) -> str | None:
    """The page-level C4 verdict without changing the text (see ``c4_clean_document``)."""
    text = doc.text if isinstance(doc, Document) else doc
    return _c4_pass(text, cfg)[1]
