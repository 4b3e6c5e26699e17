"""The pinned inputs of the example data: Debian and PyPI packages with their
versions, the code projects, and the per-source and language-ID caps.

Data only; ``build_corpus.py`` fetches and reads them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

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
