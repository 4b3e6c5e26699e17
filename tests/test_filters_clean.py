"""Tests for filters.clean: each cleaning step, its idempotence, and the encoding filter."""

import random
import time
import unicodedata

import pytest

from filters.clean import CleanConfig, clean_document, clean_filter, clean_text, replacement_chars
from filters.document import Document


@pytest.mark.parametrize("is_code", [False, True])
def test_empty_and_blank_documents_become_empty(is_code):
    assert clean_text("", is_code=is_code) == ""
    assert clean_text(" \n\t\n \r\n", is_code=is_code) == ""


@pytest.mark.parametrize("is_code", [False, True])
@pytest.mark.parametrize(
    "raw",
    ["a\r\nb", "a\rb", "a\x0bb", "a\x0cb", "a\x85b", "a\u2028b", "a\u2029b"],
)
def test_every_line_break_becomes_newline(raw, is_code):
    assert clean_text(raw, is_code=is_code) == "a\nb"


@pytest.mark.parametrize("is_code", [False, True])
def test_control_characters_removed_but_newline_and_tab_kept(is_code):
    raw = "a\x00b\x07c\x1bd\x7fe\x9bf\tg\nh"
    expected = "abcdef\tg\nh" if is_code else "abcdef g\nh"
    assert clean_text(raw, is_code=is_code) == expected


def test_lone_surrogates_noncharacters_and_bom_removed():
    raw = "\ufeffa\ud800b\udfffc\ufdd0d\ufffee\U0001fffff\U0010fffeg"
    cleaned = clean_text(raw, is_code=False)
    assert cleaned == "abcdefg"
    cleaned.encode("utf-8")  # would raise on a surviving surrogate


def test_astral_characters_that_are_not_noncharacters_survive():
    raw = "emoji \U0001F600 and han \U00020000 and private \U000F0000"
    assert clean_text(raw, is_code=False) == raw


def test_replacement_character_is_kept():
    assert clean_text("caf\ufffd au lait", is_code=False) == "caf\ufffd au lait"


def test_joiners_and_bidi_marks_are_kept():
    raw = "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u200f\U0001F469\u200d\U0001F4BB"
    assert clean_text(raw, is_code=False) == raw


def test_nfc_composes_decomposed_text():
    decomposed = "cafe\u0301 \u1100\u1161"  # e + combining acute; Hangul jamo
    cleaned = clean_text(decomposed, is_code=False)
    assert cleaned == "caf\u00e9 \uac00"
    assert unicodedata.is_normalized("NFC", cleaned)


def test_nfc_after_deleting_a_control_character_between_base_and_mark():
    assert clean_text("e\x00\u0301", is_code=False) == "\u00e9"


def test_prose_collapses_interior_whitespace_but_keeps_indentation():
    raw = "    indented  text\twith\u00a0\u00a0nbsp\u2009thin   \nnext"
    assert clean_text(raw, is_code=False) == "    indented text with nbsp thin\nnext"


def test_prose_keeps_ideographic_space():
    raw = "\u3000\u3000吾輩は猫である。\u3000名前はまだ無い。"
    assert clean_text(raw, is_code=False) == raw


def test_code_keeps_indentation_tabs_and_alignment():
    raw = "def f():\n\tx  =  1    # aligned\n\t\ty = {'a':   1}\n"
    assert clean_text(raw, is_code=True) == "def f():\n\tx  =  1    # aligned\n\t\ty = {'a':   1}"


@pytest.mark.parametrize("is_code", [False, True])
def test_trailing_whitespace_stripped(is_code):
    assert clean_text("a  \t\nb\u00a0\n  c \u3000", is_code=is_code) == "a\nb\n  c"


@pytest.mark.parametrize("is_code", [False, True])
def test_blank_line_runs_collapse_to_two(is_code):
    raw = "a\n\n\n\n\n\nb\n\nc\n \n\t\n  \nd"
    assert clean_text(raw, is_code=is_code) == "a\n\n\nb\n\nc\n\n\nd"


def test_max_blank_lines_setting():
    assert clean_text("a\n\n\n\nb", is_code=False, max_blank_lines=0) == "a\nb"
    assert clean_text("a\n\n\n\nb", is_code=False, max_blank_lines=1) == "a\n\nb"
    with pytest.raises(ValueError):
        clean_text("a", is_code=False, max_blank_lines=-1)


@pytest.mark.parametrize("is_code", [False, True])
def test_leading_and_trailing_blank_lines_removed_first_indent_kept(is_code):
    assert clean_text("\n\n  \n    first\nlast\n\n\n", is_code=is_code) == "    first\nlast"


_ALPHABET = (
    list("ab \t\n\r")
    + ["\x00", "\x0b", "\x0c", "\x85", "\u2028", "\u00a0", "\u3000", "\u2009", "\ufeff", "\ufffd"]
    + ["\u0301", "\u0308", "e", "\u1100", "\u1161", "\u11a8", "\ud800", "\ufdd0", "\U0001fffe", "\U0001F600"]
)


@pytest.mark.parametrize("is_code", [False, True])
def test_idempotent_on_random_strings(is_code):
    rng = random.Random(1234)
    for _ in range(3000):
        raw = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(0, 40)))
        once = clean_text(raw, is_code=is_code)
        assert clean_text(once, is_code=is_code) == once, repr(raw)
        assert unicodedata.is_normalized("NFC", once)
        assert "\r" not in once and "\x00" not in once
        once.encode("utf-8")


@pytest.mark.parametrize("is_code", [False, True])
def test_huge_document_is_fast(is_code):
    line = "Some  words\twith   spacing, caf\u00e9 \U0001F600 and\u00a0more text here.   \n"
    raw = line * (5_000_000 // len(line))
    start = time.perf_counter()
    cleaned = clean_text(raw, is_code=is_code)
    assert time.perf_counter() - start < 5.0
    assert clean_text(cleaned, is_code=is_code) == cleaned
    assert not cleaned.endswith(" ")


def test_clean_document_uses_code_lang_to_choose_mode():
    prose = Document(id="1", text="a   b  \n")
    code = Document(id="2", text="a   b  \n", meta={"code_lang": "python"})
    assert clean_document(prose).text == "a b"
    assert clean_document(code).text == "a   b"
    assert clean_document(prose, is_code=True).text == "a   b"
    unchanged = Document(id="3", text="already clean")
    assert clean_document(unchanged) is unchanged


def test_replacement_chars_filter():
    clean_page = "x" * 2000 + "\ufffd"  # 1 in 2001: under 0.1%
    broken_page = "Fran\ufffdais et caf\ufffd " * 20  # mojibake everywhere
    assert replacement_chars(clean_page) is None
    assert replacement_chars(broken_page) == "clean:replacement_chars"
    assert replacement_chars("") is None
    assert clean_filter(Document(id="d", text=broken_page)) == "clean:replacement_chars"
    assert clean_filter(broken_page, CleanConfig(max_replacement_frac=0.5)) is None
    assert replacement_chars("\ufffd" * 3, max_replacement_frac=1.0) is None
