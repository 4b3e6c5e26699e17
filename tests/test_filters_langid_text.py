"""Tests for filters.langid_text: the text fastText sees, and the script rule's helpers."""

from collections import Counter

import pytest

from filters.langid_text import (
    MARKER_SCRIPTS,
    SCRIPTS,
    majority_of,
    majority_script,
    one_line,
    prepare_text,
    script_allows,
    script_letter_bytes,
    strip_options,
    written_in,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        # Held-out man-page lines whose options outweighed the text (docs/LANGID.md).
        ("-x --discard-all Usuwa symbole nieglobalne.", "Usuwa symbole nieglobalne."),
        ("-a ignoruje; pro kompatibilitu s jinými verzemi", "ignoruje; pro kompatibilitu s jinými verzemi"),
        # Options glued to text written without spaces lose the option only.
        ("-b, --binary以二進位制模式讀入", "以二進位制模式讀入"),
        ("-s, --suffix=后缀移除后缀；同时隐含 -a", "后缀移除后缀；同时隐含"),
        ("--all모든 파일을 표시합니다", "모든 파일을 표시합니다"),
        # =VALUE and [=VALUE] / [ARG] go with the option; a trailing comma too.
        ("--color=auto, --format=long; Farben verwenden", "Farben verwenden"),
        ("-i[replace-str], --replace[=replace-str] Synonym für -I", "Synonym für"),
        ("Utilisez (-q) ou « --quiet » pour rien afficher", "Utilisez ( ) ou « » pour rien afficher"),
        ("OPCIONES -h -H --help Muestra la ayuda", "OPCIONES Muestra la ayuda"),
    ],
)
def test_strip_options_removes_option_tokens(text, expected):
    assert strip_options(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Schreiben Sie eine E-Mail an die Root-Benutzer.",  # hyphenated words
        "Fehler - bitte erneut versuchen -- Autor",  # dashes with spaces
        "Debian -udviklere og -Pakete",  # a lone single-dash word stays (too often a real word's piece)
        "-xử lý dữ liệu",  # a dash before a non-ASCII word is not an option
        "Turkish suffixes such as -ve and the word -den",  # not next to each other: no run
        "snake_case_", "_private and __dunder__ names",  # no letters or digits on both sides
        "3-5 Minuten, x-y-Achse",
        "",
        "no dash at all",
    ],
)
def test_strip_options_leaves_words_and_dashes(text):
    assert strip_options(text) == text


@pytest.mark.parametrize("text", ["-a, --all", "--version.", "-n NUM", "-x --discard-all abc"])
def test_strip_options_keeps_text_that_is_nearly_all_options(text):
    # Fewer than MIN_LETTERS_LEFT letters would remain: the options are all there is.
    assert strip_options(text) == text


@pytest.mark.parametrize(
    "text, expected",
    [
        # stty(1) settings: runs of two or more single-dash words go.
        ("raw giống như -ignbrk -brkint -ignpar -parmrk min 1 time 0", "raw giống như min 1 time 0"),
        ("sane samme som cread -ignbrk brkint -inlcr -igncr icrnl", "sane samme som cread -ignbrk brkint icrnl"),
        ("utiliser find -o -name, -a -print pour chercher", "utiliser find pour chercher"),
        # Code identifiers with underscores go; other words stay.
        ("NTF_PROXY una entrada proxy arp NTF_ROUTER un enrutador IPv6", "una entrada proxy arp un enrutador IPv6"),
        ("Die Post landet in /var/mail/account_name und wartet dort.", "Die Post landet in /var/mail/ und wartet dort."),
        ("Wert von O_RDONLY oder O_WRONLY angeben", "Wert von oder angeben"),
    ],
)
def test_strip_options_removes_setting_runs_and_identifiers(text, expected):
    assert strip_options(text) == expected


def test_one_line_and_prepare_text():
    assert one_line(" a\nb\r\nc\u2028d ") == "a b c d"
    assert prepare_text("-x --discard-all\nUsuwa symbole\r\nnieglobalne.") == "Usuwa symbole nieglobalne."


def test_script_letter_bytes_counts_utf8_bytes_of_letters():
    assert script_letter_bytes("Hello, world 42!") == {"Latin": 10}
    assert script_letter_bytes("desktop (그래픽 데스크톱)") == {"Latin": 7, "Hangul": 21}
    assert script_letter_bytes("Привет, мир: ok") == {"Cyrillic": 18, "Latin": 2}
    assert script_letter_bytes("ひらがなと漢字") == {"Kana": 15, "Han": 6}
    assert script_letter_bytes("giống như") == {"Latin": 11}  # 6 ASCII letters, ố 3 bytes, ư 2
    assert script_letter_bytes("") == {} and script_letter_bytes("123 — !") == {}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("desktop (그래픽 데스크톱)", "Hangul"),
        ("desktop environment (그래픽)", "Latin"),
        ("Ελληνικά και English", "Greek"),
        ("ab αβ", "Greek"),  # 2 Latin bytes, 4 Greek bytes: Greek holds 2/3
        ("abcd αβ", None),  # 4 and 4: no majority
        ("", None),
        ("1234", None),
    ],
)
def test_majority_script(text, expected):
    assert majority_script(text) == expected


def test_written_in():
    assert written_in("ko", "Hangul") is True
    assert written_in("vi", "Hangul") is False
    assert written_in("sr", "Latin") and written_in("sr", "Cyrillic")
    assert written_in("ja", "Han") and written_in("ja", "Kana") and not written_in("zh", "Kana")
    assert written_in("xx", "Latin") is None
    # Every language of the shipped model is in the table.
    shipped = "ar bg ca cs da de el en es fa fi fr hr hu id it ja ko mk nb nl pl pt ro ru sr sv tr uk vi zh".split()
    assert all(lang in SCRIPTS for lang in shipped)


def test_script_allows():
    hangul_mostly = script_letter_bytes("desktop (그래픽 데스크톱)")
    assert majority_of(hangul_mostly) == "Hangul"
    assert script_allows("ko", hangul_mostly, "Hangul") is True
    assert script_allows("vi", hangul_mostly, "Hangul") is False
    han_only = script_letter_bytes("把整数转换成字符串")
    assert script_allows("zh", han_only, "Han") is True
    assert MARKER_SCRIPTS["ja"] == "Kana"
    assert script_allows("ja", han_only, "Han") is False  # no kana
    assert script_allows("ja", script_letter_bytes("文字列に変換する"), "Han") is True
    assert script_allows("xx", han_only, "Han") is None
    assert script_allows("en", Counter(), None) is True  # no letters: nothing to rule out
