#!/usr/bin/env python3
"""Build a second fresh language-ID test split from gettext catalogs.

``examples/langid/fresh2.jsonl.zst`` holds translated messages from the
gettext message catalogs (``.mo``) of pinned Debian 12 packages that none of
``examples/langid/{train,heldout,fresh}.jsonl.zst`` used.  It is meant to be
used once, to confirm a language-ID comparison on text nobody has looked at.

How it is drawn (deterministic; no language identifier is run; labels come
from the catalog's locale directory, never from a classifier):

* Catalogs: every regular ``*.mo`` file under
  ``usr/share/locale/<code>/LC_MESSAGES/`` of the packages in PACKAGES.
  ``<code>`` is mapped to one of the model's 31 languages by its base code
  (``zh_CN``/``zh_TW``/``zh_HK`` -> zh, ``pt_BR`` -> pt, ``no`` -> nb,
  ``sr@latin``/``sr@ije`` -> sr, ``ca@valencia`` -> ca, ``ru_UA`` -> ru);
  English locales (``en@quot``, ``en_GB``, ...) and languages outside the 31
  are skipped.
* Messages are read with build_corpus's ``mo_messages`` (first plural form
  only, header skipped).  A message whose msgstr equals its msgid is skipped.
  The msgstr is tidied (``tidy``) and cut into paragraphs (``paragraphs``:
  blank lines, so a multi-paragraph ``--help`` text gives several);
  a paragraph equal to a paragraph of the msgid is skipped; each paragraph
  is cleaned by ``clean_message`` (markup, accelerators and placeholders
  removed, untranslated English caught, lines joined), tidied again and kept
  if it passes the held-out split's checks: ``langid_ok`` (40-600
  characters, 15+ for ja/zh/ko, letter, word and script shares, no URL or
  table row, not English prose) and not ``english_left_in`` (with the same
  English vocabulary build_corpus computes).
* English: the msgids of the same catalogs, cut and checked the same way
  (``clean_message`` is given a non-Latin code for them so that only its
  markup/placeholder removal applies, not its checks for English left in a
  translation).  An English record's origin is the first catalog (sorted by
  path) of its package and domain that contains the msgid; its per-file cap
  applies per (package, domain).
* A paragraph (normalised with ``norm_para``) that occurs in the catalogs of
  more than one language (English msgids count as one) is dropped
  everywhere.  So is one that equals, or occurs inside, any text of
  train/heldout/fresh, and one already in this split.
* Per language, catalog files in sha256 order of origin, each giving at most
  ``build_langid_fresh3.PER_FILE_CAP`` (15) paragraphs (its first in sha256
  order of origin and text), until the language has ``FRESH_CAP`` (300).

The code is ``debian_catalogs.catalog_split``, run by
``build_langid_fresh3.py --split fresh2``, which this script calls.
Rebuild (offline, from the download cache):

    .venv/bin/python examples/build_langid_fresh2.py --offline
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

ROOT_NAME = "root-fresh2"  # <cache>/root-fresh2/<package>: the unpacked packages

# Debian 12 packages whose gettext catalogs are read (none of them is used by
# build_corpus.py or build_langid_fresh.py).  Licenses: examples/SOURCES.md.
PACKAGES = {
    "apt": "2.6.2",
    "aptitude-common": "0.8.13-5",
    "bash": "5.2.15-2+b13",
    "coreutils": "9.1-1",
    "cpio": "2.13+dfsg-7.1",
    "diffutils": "1:3.8-4",
    "dpkg": "1.21.23",
    "dselect": "1.21.23",
    "e2fsprogs-l10n": "1.47.0-2",
    "evince-common": "43.1-2+deb12u1",
    "findutils": "4.9.0-4",
    "gedit-common": "44.2-1",
    "gettext-base": "0.21-12",
    "gnome-control-center-data": "1:43.6-2~deb12u1",
    "gnome-desktop3-data": "43.2-2",
    "gnupg-l10n": "2.2.40-1.1+deb12u2",
    "grep": "3.8-5",
    "kbd": "2.5.1-1+b1",
    "libc-l10n": "2.36-9+deb12u14",
    "libglib2.0-data": "2.74.6-2+deb12u9",
    "libgtk-3-common": "3.24.38-2~deb12u3",
    "libgtk2.0-common": "2.24.33-2+deb12u1",
    "login": "1:4.13+dfsg1-1+deb12u2",
    "man-db": "2.11.2-2",
    "nano": "7.2-1+deb12u1",
    "nautilus-data": "43.2-1",
    "network-manager": "1.42.4-1+deb12u1",
    "procps": "2:4.0.2-3",
    "psmisc": "23.6-1",
    "sed": "4.9-1+deb12u1",
    "sudo": "1.9.13p3-1+deb12u4",
    "tar": "1.34+dfsg-1.2+deb12u1",
    "util-linux-locales": "2.38.1-5+deb12u3",
    "wget": "1.21.3-1+deb12u1",
    "xz-utils": "5.4.1-1+deb12u2",
}


def main(argv: list[str] | None = None) -> int:
    """``build_langid_fresh3.py --split fresh2``: one builder writes every catalog split."""
    import build_langid_fresh3  # it imports this module

    return build_langid_fresh3.main(["--split", "fresh2", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
