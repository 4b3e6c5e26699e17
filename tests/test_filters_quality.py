"""Tests for filters.quality: every Gopher quality, Gopher repetition and C4 rule,
with a document that trips exactly that rule and one that passes."""

import time

import pytest

from filters.document import Document
from filters.quality import (
    C4Config,
    GopherQualityConfig,
    GopherRepetitionConfig,
    TextView,
    base_lang,
    c4_clean_document,
    c4_clean_lines,
    c4_filter,
    gopher_alpha_words,
    gopher_bullet_lines,
    gopher_dup_lines,
    gopher_dup_ngrams,
    gopher_dup_paragraphs,
    gopher_ellipsis_lines,
    gopher_ellipsis_ratio,
    gopher_hash_ratio,
    gopher_mean_word_length,
    gopher_quality_filter,
    gopher_repetition_filter,
    gopher_stop_words,
    gopher_top_ngram,
    gopher_word_count,
)

GOOD = """The river town woke slowly under a pale autumn sky. Fishermen carried their nets down to the harbour, while bakers opened shutters and set fresh loaves on wooden shelves.

Most visitors arrive by train from the capital, a journey of about three hours through farmland and low green hills. Those who stay longer often walk the coastal path to the lighthouse, which has guided ships since the eighteenth century.

Local historians say that the harbour was once busier than any other on this stretch of coast. Trade in salt, timber and wool brought merchants from distant ports, and their stone warehouses still line the quay today.

In winter the streets grow quiet. Storms roll in from the west, and families gather with neighbours to share soup, stories and music until the weather clears."""

QUALITY_RULES = [
    gopher_word_count,
    gopher_mean_word_length,
    gopher_hash_ratio,
    gopher_ellipsis_ratio,
    gopher_bullet_lines,
    gopher_ellipsis_lines,
    gopher_alpha_words,
    gopher_stop_words,
]


def quality_reasons(text, lang=""):
    """The reason of every quality rule that fires, in filter order."""
    view = TextView(text, lang)
    return [r for r in (rule(view) for rule in QUALITY_RULES) if r]


def pseudo_words(count, start=0):
    """Distinct lowercase words of 5+ letters (alternating consonants and vowels, a
    mixed-radix spelling of the index), none of them a stop word."""
    consonants, vowels = "bcdfghjklmnpqrstvwxz", "aeiou"
    words = []
    for i in range(start, start + count):
        letters, position = [], 0
        while i or position < 5:
            alphabet = consonants if position % 2 == 0 else vowels
            i, digit = divmod(i, len(alphabet))
            letters.append(alphabet[digit])
            position += 1
        words.append("".join(letters))
    return words


# --------------------------------------------------------------------------- Gopher quality


def test_good_document_passes_everything():
    assert quality_reasons(GOOD) == []
    assert gopher_quality_filter(GOOD) is None
    assert gopher_repetition_filter(GOOD) is None
    assert gopher_quality_filter(Document(id="g", text=GOOD, lang="en")) is None


def test_min_words():
    text = "The cat sat on the mat with the dog and that was fine."
    assert quality_reasons(text) == ["gopher_quality:min_words"]
    assert gopher_quality_filter(text) == "gopher_quality:min_words"
    assert gopher_word_count(text, min_words=13) is None
    assert gopher_word_count(text, min_words=14) == "gopher_quality:min_words"


def test_max_words():
    assert gopher_word_count(GOOD, max_words=100) == "gopher_quality:max_words"
    cfg = GopherQualityConfig(max_words=100)
    assert gopher_quality_filter(GOOD, cfg) == "gopher_quality:max_words"


def test_word_count_ignores_symbol_only_tokens():
    view = TextView("one - two ... three # four — five")
    assert view.words == ["one", "two", "three", "four", "five"]
    assert view.n_words == 5


def test_min_mean_word_length():
    text = "we go to the zoo and it is fun to be at the top of it as we do so. " * 5
    assert quality_reasons(text) == ["gopher_quality:min_mean_word_length"]
    assert gopher_quality_filter(text) == "gopher_quality:min_mean_word_length"


def test_max_mean_word_length():
    text = (
        "The internationalization of telecommunications infrastructure and the standardization with "
        "comprehensive interoperability requirements that characterize contemporary multinational organizations. "
    ) * 4
    assert quality_reasons(text) == ["gopher_quality:max_mean_word_length"]


def test_hash_word_ratio():
    text = GOOD + "\n" + " ".join(f"#tag{chr(97 + i)}" for i in range(20))
    assert quality_reasons(text) == ["gopher_quality:hash_word_ratio"]
    assert gopher_quality_filter(text) == "gopher_quality:hash_word_ratio"
    assert gopher_hash_ratio(GOOD + "\n#one #two") is None


def test_ellipsis_word_ratio():
    sentences = GOOD.split(". ")
    text = "... ".join(sentences) + "\n" + "wait... " * 12 + "and so the day ends."
    assert quality_reasons(text) == ["gopher_quality:ellipsis_word_ratio"]
    assert gopher_ellipsis_ratio(text.replace("...", "…")) == "gopher_quality:ellipsis_word_ratio"


def test_bullet_lines():
    items = [
        "The museum opens at nine and closes with the evening bell.",
        "Guided tours of the old mill leave from the main square.",
        "Tickets for the ferry to the island are sold at the pier.",
        "The market sells cheese, bread and honey from local farms.",
        "A small theatre shows films with subtitles on Fridays.",
        "The cathedral tower offers views of the whole valley.",
    ]
    text = "\n".join("- " + item for item in items) + "\n• " + items[0]
    assert quality_reasons(text) == ["gopher_quality:bullet_lines"]
    # One plain line in ten keeps the fraction at 0.9, which is allowed.
    nine = "\n".join("* " + items[i % 6] for i in range(9)) + "\n" + items[0]
    assert gopher_bullet_lines(nine) is None


def test_dialogue_dashes_are_not_bullets():
    text = "\n".join("— " + line for line in GOOD.split("\n") if line)
    assert gopher_bullet_lines(text) is None


def test_ellipsis_lines():
    lines = [p for p in GOOD.split("\n") if p]
    lines += ["Read more about the harbour and its history…", "See the full list of events that we have planned…"]
    text = "\n".join(lines[:2] + ["And then the story continues with more..."] + lines[2:])
    # 3 of 7 lines end with an ellipsis (0.43 > 0.3).
    assert quality_reasons(text) == ["gopher_quality:ellipsis_lines"]
    assert gopher_ellipsis_lines("\n".join(lines[:4] + lines[4:5])) is None


def test_alpha_words_frac():
    numbers = " ".join(str(10 + 7 * i) for i in range(60))
    text = GOOD + "\n" + numbers
    assert quality_reasons(text) == ["gopher_quality:alpha_words_frac"]
    assert gopher_alpha_words(text, min_alpha_words_frac=0.65) is None  # 133 of 193


def test_stop_words_english():
    text = (
        "Green hills rise above quiet valleys where farmers grow barley. "
        "Small boats drift across calm lakes near old villages. "
    ) * 3
    assert quality_reasons(text) == ["gopher_quality:stop_words"]
    # Exactly one distinct stop word, used many times, is still too few.
    assert gopher_stop_words(text + " the the the the") == "gopher_quality:stop_words"
    assert gopher_stop_words(text + " the with") is None
    assert gopher_stop_words("The THE tHe With", min_stop_words=2) is None  # case-insensitive


GERMAN = (
    "Der kleine Hafen liegt am Ende einer langen Bucht, und die Fischer bringen jeden Morgen ihren Fang an Land. "
    "Im Sommer kommen viele Besucher mit dem Zug aus der Hauptstadt, um die alten Gassen zu sehen. "
    "Die Bäckerei am Markt ist seit drei Generationen in Familienbesitz und verkauft noch heute Brot nach altem Rezept. "
    "Abends sitzen die Nachbarn vor ihren Häusern, erzählen Geschichten von früher und hören dem Meer zu."
)


def test_stop_words_german_uses_german_list():
    assert quality_reasons(GERMAN, "de") == []
    assert quality_reasons(GERMAN, "en") == ["gopher_quality:stop_words"]
    no_function_words = "Grüne Hügel, stille Täler, alte Mühlen, klare Bäche, hohe Berge, weite Felder. " * 6
    assert quality_reasons(no_function_words, "de") == ["gopher_quality:stop_words"]


def test_stop_words_skipped_for_languages_without_list_and_undetermined():
    swahili = (
        "Watoto walikwenda shuleni asubuhi na mapema kwa sababu mwalimu aliwaambia kwamba kutakuwa "
        "na mtihani muhimu sana. Baada ya masomo walicheza mpira uwanjani karibu na soko kubwa la mji. "
    ) * 3
    assert quality_reasons(swahili, "sw") == []
    assert gopher_stop_words(swahili, lang="und") is None
    assert gopher_stop_words(swahili, lang="") == "gopher_quality:stop_words"  # unknown means English


def test_lang_comes_from_the_document_and_region_is_ignored():
    assert gopher_quality_filter(Document(id="d", text=GERMAN, lang="de-AT")) is None
    assert gopher_quality_filter(Document(id="d", text=GERMAN, lang="en")) == "gopher_quality:stop_words"
    assert base_lang("pt_BR") == "pt" and base_lang("zh-Hans-CN") == "zh" and base_lang(" EN ") == "en"


CHINESE = (
    "这个小镇位于河流的入海口，每天清晨渔民们都会把渔网搬到港口。"
    "游客大多从首都乘火车来到这里，路上要经过农田和起伏的绿色丘陵。"
    "当地的历史学家说，这个港口曾经比海岸上任何其他港口都要繁忙。"
)


def test_chinese_counts_characters_and_skips_word_length_and_stop_words():
    assert quality_reasons(CHINESE, "zh") == []
    assert gopher_quality_filter(Document(id="z", text=CHINESE, lang="zh")) is None
    # Without the language, the whole text is three "words" of ~30 characters.
    assert "gopher_quality:min_words" in quality_reasons(CHINESE, "en")
    view = TextView(CHINESE, "zh")
    assert view.n_words == len(CHINESE) - CHINESE.count("，") - CHINESE.count("。")
    assert gopher_word_count(CHINESE[:40], lang="zh") == "gopher_quality:min_words"
    assert gopher_word_count(CHINESE, lang="zh-Hant", max_words=50) == "gopher_quality:max_words"


def test_japanese_and_thai_count_letters_not_marks():
    japanese = "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。何でも薄暗いじめじめした所でニャーニャー泣いていた事だけは記憶している。"
    assert quality_reasons(japanese, "ja") == []
    thai = "ภาษาไทยเป็นภาษาที่มีวรรณยุกต์"
    view = TextView(thai, "th")
    marks = sum(1 for c in thai if c in "\u0e31\u0e34\u0e35\u0e36\u0e37\u0e38\u0e39\u0e47\u0e48\u0e49\u0e4a\u0e4b\u0e4c")
    assert marks > 0 and view.n_words == len(thai) - marks
    assert gopher_word_count(thai, lang="th") == "gopher_quality:min_words"


def test_unsegmented_alpha_fraction_counts_digit_characters():
    digits = CHINESE + "１２３４５６７８９０" * 10 + "0123456789" * 10
    assert gopher_alpha_words(digits, lang="zh") == "gopher_quality:alpha_words_frac"
    assert gopher_alpha_words(CHINESE, lang="zh") is None


def test_stop_word_list_never_applies_to_unsegmented_scripts(monkeypatch):
    import filters.quality

    monkeypatch.setitem(filters.quality.STOP_WORDS, "zh", frozenset({"的", "是"}))
    assert gopher_stop_words(CHINESE, lang="zh") is None


def test_korean_skips_mean_word_length_only():
    korean = "나는 오늘 학교에 갔다. 친구와 밥을 먹고 책을 읽었다. 날씨가 좋아서 공원도 걸었다. " * 6
    assert quality_reasons(korean, "ko") == []
    assert quality_reasons(korean, "en") == ["gopher_quality:min_mean_word_length", "gopher_quality:stop_words"]


@pytest.mark.parametrize("text", ["", "   \n\n  ", "... --- ###"])
def test_empty_and_symbol_only_documents(text):
    assert gopher_quality_filter(text) == "gopher_quality:min_words"
    assert gopher_repetition_filter(text) is None
    for rule in QUALITY_RULES[1:]:
        if rule is not gopher_stop_words and rule is not gopher_hash_ratio:
            assert rule(text) is None, rule
    assert c4_filter(text) == "c4:no_lines_left"


def test_huge_document_quality_is_fast():
    words = pseudo_words(20000)
    page = "".join(" ".join(words[i : i + 200]) + " the of and.\n" for i in range(0, 20000, 200))
    text = page * 45
    assert len(text) > 5_000_000
    start = time.perf_counter()
    assert gopher_quality_filter(text) == "gopher_quality:max_words"
    assert gopher_quality_filter(text, GopherQualityConfig(max_words=10**7)) is None
    assert time.perf_counter() - start < 5.0


# --------------------------------------------------------------------------- Gopher repetition


def test_dup_line_frac():
    long_lines = [" ".join(pseudo_words(35, start=40 * i)) + "." for i in range(5)]
    lines = []
    for i, line in enumerate(long_lines):
        lines.append(line)
        if i < 4:
            lines.append("ok")
    text = "\n".join(lines)  # 9 lines, 3 repeats of "ok": 0.33 of lines, <1% of characters
    assert gopher_dup_lines(text) == "gopher_repetition:dup_line_frac"
    assert gopher_dup_paragraphs(text) is None
    assert gopher_repetition_filter(text) == "gopher_repetition:dup_line_frac"
    assert gopher_dup_lines("\n".join(lines[:-2] + [long_lines[-1]])) is None  # 2 of 7 = 0.29


def test_dup_line_char_frac():
    short = [" ".join(pseudo_words(8, start=10 * i)) + "." for i in range(10)]
    long = " ".join(pseudo_words(60, start=500)) + "."
    text = "\n".join(short[:5] + [long] + short[5:] + [long])
    assert gopher_dup_lines(text) == "gopher_repetition:dup_line_char_frac"
    assert gopher_repetition_filter(text) == "gopher_repetition:dup_line_char_frac"


def test_blank_lines_are_not_duplicate_lines():
    assert gopher_dup_lines("a\n\n\n\nb\n\n\n\nc") is None


def test_dup_para_frac():
    paragraphs = [" ".join(pseudo_words(30, start=40 * i)) + "." for i in range(5)]
    text = "\n\n".join([paragraphs[0], "Thanks.", paragraphs[1], "Thanks.", paragraphs[2], "Thanks.", paragraphs[3], "Thanks."])
    # 8 paragraphs, 3 repeats (0.375); the repeated lines are also lines, but paragraphs are checked first.
    assert gopher_dup_paragraphs(text) == "gopher_repetition:dup_para_frac"
    assert gopher_repetition_filter(text) == "gopher_repetition:dup_para_frac"


def test_dup_para_char_frac():
    paragraphs = [" ".join(pseudo_words(8, start=10 * i)) + "." for i in range(10)]
    long = "\n".join(" ".join(pseudo_words(20, start=300 + 20 * j)) for j in range(3))
    text = "\n\n".join(paragraphs[:5] + [long] + paragraphs[5:] + [long])
    assert gopher_dup_paragraphs(text) == "gopher_repetition:dup_para_char_frac"
    assert gopher_repetition_filter(text) == "gopher_repetition:dup_para_char_frac"


def _block_text(unique_per_block, repeated, blocks=10):
    """Blocks of distinct filler words, each followed by the same repeated phrase."""
    words = []
    filler = iter(pseudo_words(unique_per_block * blocks))
    for _ in range(blocks):
        words += [next(filler) for _ in range(unique_per_block)] + list(repeated)
    return " ".join(words)


def test_top_2gram():
    text = _block_text(1, ["yonder", "realm"], blocks=40)  # "yonder realm" covers 11/16 of characters
    assert gopher_top_ngram(text, n=2, max_char_frac=0.20) == "gopher_repetition:top_2gram_char_frac"
    assert gopher_repetition_filter(text) == "gopher_repetition:top_2gram_char_frac"


def test_top_3gram():
    text = _block_text(10, ["fable", "glade", "hovel"])  # 3/13 of characters, its bigrams 2/13
    assert gopher_top_ngram(text, n=2, max_char_frac=0.20) is None
    assert gopher_top_ngram(text, n=3, max_char_frac=0.18) == "gopher_repetition:top_3gram_char_frac"
    assert gopher_repetition_filter(text) == "gopher_repetition:top_3gram_char_frac"


def test_top_4gram():
    text = _block_text(15, ["fable", "glade", "hovel", "ingot"])  # 4/19 vs 3/19 and 2/19
    assert gopher_repetition_filter(text) == "gopher_repetition:top_4gram_char_frac"


def test_dup_5gram():
    text = _block_text(23, ["fable", "glade", "hovel", "ingot", "jewel"])  # repeats cover 45/280
    assert gopher_repetition_filter(text) == "gopher_repetition:dup_5gram_char_frac"
    assert gopher_repetition_filter(_block_text(23, ["fable", "glade", "hovel", "ingot"])) is None


@pytest.mark.parametrize("n", range(5, 11))
def test_dup_ngram_each_size(n):
    phrase = ["fable", "glade", "hovel", "ingot", "jewel", "knoll", "lemur", "manor", "nymph", "oasis"][:n]
    others = {f"max_dup_{m}gram_char_frac": 1.0 for m in range(5, 11) if m != n}
    cfg = GopherRepetitionConfig(
        max_top_2gram_char_frac=1.0, max_top_3gram_char_frac=1.0, max_top_4gram_char_frac=1.0, **others
    )
    tripping = _block_text(20, phrase)
    assert gopher_repetition_filter(tripping, cfg) == f"gopher_repetition:dup_{n}gram_char_frac"
    # A phrase one word shorter never repeats as an n-gram.
    assert gopher_dup_ngrams(_block_text(20, phrase[:-1]), n=n, max_char_frac=0.0) is None


def test_dup_ngram_exact_fraction_counts_repeats_only():
    text = "a b c d e a b c d e"  # the second copy: 5 of 10 characters
    assert gopher_dup_ngrams(text, n=5, max_char_frac=0.49) == "gopher_repetition:dup_5gram_char_frac"
    assert gopher_dup_ngrams(text, n=5, max_char_frac=0.5) is None
    assert gopher_dup_ngrams(text, n=6, max_char_frac=0.0) is None


def test_dup_ngram_overlapping_repeats_count_each_word_once():
    text = " ".join(["a"] * 10)  # every 5-gram after the first repeats: words 1..9 covered
    assert gopher_dup_ngrams(text, n=5, max_char_frac=0.89) == "gopher_repetition:dup_5gram_char_frac"
    assert gopher_dup_ngrams(text, n=5, max_char_frac=0.9) is None


def test_top_ngram_overlapping_occurrences_count_once():
    text = "a a a a xy zw"  # "a a" occurs 3 times over words 0..3: 4 of 8 characters
    assert gopher_top_ngram(text, n=2, max_char_frac=0.49) == "gopher_repetition:top_2gram_char_frac"
    assert gopher_top_ngram(text, n=2, max_char_frac=0.5) is None


def test_top_ngram_needs_a_repeat():
    assert gopher_top_ngram("alpha beta gamma delta", n=2, max_char_frac=0.0) is None
    with pytest.raises(ValueError):
        gopher_top_ngram("a b", n=1, max_char_frac=0.1)


def test_ngram_rules_skipped_for_unsegmented_scripts():
    text = "同じ文章です。" * 50
    assert gopher_top_ngram(text, n=2, max_char_frac=0.0, lang="ja") is None
    assert gopher_dup_ngrams(text, n=5, max_char_frac=0.0, lang="ja") is None
    # Line duplication still applies to every language.
    assert gopher_dup_lines("\n".join(["同じ文章です。"] * 5), lang="ja") == "gopher_repetition:dup_line_frac"


def test_huge_document_repetition_is_fast():
    words = pseudo_words(40000)
    text = "\n".join(" ".join(words[i : i + 20]) for i in range(0, 40000, 20))
    text = (text + "\n") * 21  # ~5 MB, every line repeated
    assert len(text) > 5_000_000
    start = time.perf_counter()
    assert gopher_repetition_filter(text) == "gopher_repetition:dup_line_frac"  # one paragraph
    unique = " ".join(pseudo_words(800_000))  # ~4.8 MB of distinct words, no lines to shortcut on
    assert gopher_repetition_filter(unique) is None
    assert time.perf_counter() - start < 10.0


# --------------------------------------------------------------------------- C4

C4_GOOD = """Skip to content
Home | About | Contact
The harbour was rebuilt after the great storm of 1910 by the town council.
Fishermen still land their catch there every morning before sunrise.
Visitors can walk along the old stone pier to the red lighthouse.
The museum near the quay tells the story of the town and its trade.
Please enable JavaScript in your browser to see the interactive map.
This site uses cookies to give you the best experience on our website.
Read the privacy policy and the terms of use before you continue here.
Share this page"""


def test_c4_keeps_only_good_lines():
    assert c4_clean_lines(C4_GOOD).split("\n") == [
        "The harbour was rebuilt after the great storm of 1910 by the town council.",
        "Fishermen still land their catch there every morning before sunrise.",
        "Visitors can walk along the old stone pier to the red lighthouse.",
        "The museum near the quay tells the story of the town and its trade.",
    ]
    assert c4_filter(C4_GOOD) is None
    kept = c4_clean_document(Document(id="p", text=C4_GOOD))
    assert isinstance(kept, Document) and kept.text == c4_clean_lines(C4_GOOD)


@pytest.mark.parametrize(
    "line",
    [
        "This line has enough words but no terminal punctuation",
        "This line has enough words but trails off...",
        "This line has enough words but trails off…",
        "Enable javascript to continue reading this story.",
        "We use cookies to measure how you use this site.",
        "By using this site you agree to our Cookie Policy.",
        "Contains a word " + "x" * 1001 + " that is far too long.",
    ],
)
def test_c4_line_rules_drop_line(line):
    assert c4_clean_lines(line) == ""


def test_c4_end_marks():
    for ending in (".", "?", "!", '"', "”"):
        line = "This sentence has five words" + ending
        assert c4_clean_lines(line) == line


def test_c4_citations_removed():
    line = "The tower was built in 1850[1] by local masons [citation needed] and restored[edit]."
    assert c4_clean_lines(line) == "The tower was built in 1850 by local masons  and restored."
    assert c4_clean_lines(line, C4Config(remove_citations=False)) == line


def test_c4_words_per_line_tfds_vs_paper():
    line = "Four words only here."
    assert c4_clean_lines(line) == ""  # TFDS: 5 words
    assert c4_clean_lines(line, C4Config(numbers="paper")) == line  # paper: 3 words
    three = "Three words here."
    assert c4_clean_lines(three, C4Config(numbers="paper")) == three
    assert c4_clean_lines(three, C4Config(numbers="tfds")) == ""
    assert c4_clean_lines(three, C4Config(min_words_per_line=2)) == three


def test_c4_sentences_tfds_vs_paper():
    four = "\n".join(f"Line number {w} has exactly six words." for w in ("one", "two", "three", "four"))
    assert c4_filter(four) is None  # TFDS: 3 sentences
    assert c4_filter(four, C4Config(numbers="paper")) == "c4:too_few_sentences"  # paper: 5
    assert c4_filter(four, C4Config(min_sentences=4)) is None
    assert c4_filter("One sentence here. Two sentences here now. Three is here too.") is None
    assert c4_filter("Only one line has five words.") == "c4:too_few_sentences"
    two_line = "First line with five words. Second one here.\nMr. Smith went to the market."
    assert c4_filter(two_line) is None  # 2 + 2 ("Mr." counts; documented approximation)


def test_c4_config_numbers_and_validation():
    assert (C4Config().words_per_line, C4Config().sentences) == (5, 3)
    assert (C4Config(numbers="paper").words_per_line, C4Config(numbers="paper").sentences) == (3, 5)
    with pytest.raises(ValueError):
        C4Config(numbers="mc4")


def test_c4_lorem_ipsum():
    text = C4_GOOD + "\nLorem ipsum dolor sit amet, consectetur adipiscing elit."
    assert c4_filter(text) == "c4:lorem_ipsum"
    assert c4_clean_document(Document(id="l", text=text)) == "c4:lorem_ipsum"


def test_c4_curly_bracket_only_in_kept_lines():
    kept_line = C4_GOOD + "\nThe config uses {braces} in a full sentence."
    dropped_line = C4_GOOD + "\nfunction f() { return 1 }"
    assert c4_filter(kept_line) == "c4:curly_bracket"
    assert c4_filter(dropped_line) is None


def test_c4_no_lines_left():
    assert c4_filter("Home\nAbout\nContact") == "c4:no_lines_left"
    assert c4_clean_document(Document(id="e", text="")) == "c4:no_lines_left"
    assert c4_clean_lines("") == ""


def test_c4_clean_document_unchanged_is_same_object():
    text = "\n".join(f"Line number {w} has exactly six words." for w in ("one", "two", "three"))
    doc = Document(id="s", text=text)
    assert c4_clean_document(doc) is doc


def test_c4_huge_document_is_fast():
    text = C4_GOOD.replace("Share this page", "") * 40000
    assert len(text) > 5_000_000
    start = time.perf_counter()
    assert c4_filter(text) is None
    assert len(c4_clean_lines(text).split("\n")) == 160000
    assert time.perf_counter() - start < 5.0
