#!/usr/bin/env python3
"""Build the language-ID test splits drawn from gettext catalogs: fresh-3
(the default), fresh-4 (``--split fresh4``) and fresh-2 (``--split
fresh2``, which ``build_langid_fresh2.py`` runs).

``examples/langid/fresh3.jsonl.zst`` holds translated messages (and English
msgids) from the gettext catalogs of ``debian_catalogs.FRESH3_PACKAGES``: 37
Debian 12 packages (GNOME, Xfce and KDE applications, GNU tools) drawn by
sha256 from a list fixed on 2026-11-30 before any catalog was read, whose
other two thirds (TRAIN_PACKAGES) give training records.  No other split
uses these packages.  It is drawn by exactly fresh-2's rules (see
``build_langid_fresh2.py``: no language identifier is run, labels come from
the locale directory, 300 paragraphs a language, at most 15 a catalog file,
nothing found in two languages' catalogs or in any text of the train,
held-out, fresh and fresh-2 splits), and was built before the training file
gained the TRAIN_PACKAGES records, which in turn leave out every fresh-3
text.  It is meant to be used once, for the verdict in docs/LANGID.md.

``examples/langid/fresh4.jsonl.zst`` is drawn the same way from
``debian_catalogs.FRESH4_PACKAGES`` (the second draw, whose training half,
TRAIN2_PACKAGES, is the training file's second batch: docs/LANGID.md),
leaves out every text of the other splits, fresh-3 included, and also every
message that holds a first-batch training text, so that rebuilding the
training file after it changes no record; the second batch, selected after
it, leaves out every fresh-4 text in turn.

Rebuild (offline, from the download cache):

    .venv/bin/python examples/build_langid_fresh3.py --offline
    .venv/bin/python examples/build_langid_fresh3.py --split fresh4 --offline
    .venv/bin/python examples/build_langid_fresh2.py --offline   # = --split fresh2
"""
from __future__ import annotations

import argparse
import logging
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import build_corpus as bc  # noqa: E402
import build_langid_fresh2 as fresh2  # noqa: E402
import debian_catalogs as dc  # noqa: E402
from build_langid_fresh import read_split  # noqa: E402

LOG = logging.getLogger("build_langid_fresh3")
FRESH_CAP = 300
PER_FILE_CAP = 15
# split -> (its packages, where they are unpacked under the cache, the splits it
# shares nothing with, whether a paragraph holding one of their texts is dropped
# too: fresh4 was drawn after the training file, which must then stay as it is)
SPLITS = {
    "fresh2": (fresh2.PACKAGES, fresh2.ROOT_NAME, ("train", "heldout", "fresh"), False),
    "fresh3": (dc.FRESH3_PACKAGES, dc.ROOT_NAME, ("train", "heldout", "fresh", "fresh2"), False),
    "fresh4": (dc.FRESH4_PACKAGES, dc.ROOT_NAME, ("train", "heldout", "fresh", "fresh2", "fresh3"), True),
}


def build(cache: Path, examples: Path, english_words: frozenset[str], split: str = "fresh3") -> tuple[list[dict], dict]:
    packages, root_name, others, drop_holding = SPLITS[split]
    used_recs = []
    for name in others:
        used_recs += read_split(examples / "langid" / f"{name}.jsonl.zst")
    # The training file's own catalog records come from TRAIN_PACKAGES: not a text of theirs may be here.
    return dc.catalog_split(cache, english_words, packages, root_name, used_recs, FRESH_CAP,
                            PER_FILE_CAP, f"langid-{split}", drop_holding_used=drop_holding)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Write examples/langid/<split>.jsonl.zst: translated messages from the gettext catalogs "
                    "of the split's Debian packages (fresh2: build_langid_fresh2.PACKAGES; fresh3, fresh4: "
                    "debian_catalogs.FRESH3_PACKAGES, FRESH4_PACKAGES), which no other language-ID split uses.",
        epilog="Example: .venv/bin/python examples/build_langid_fresh3.py --offline",
    )
    ap.add_argument("--cache", type=Path, default=Path("/tmp/palmkit-corpus-cache"),
                    help="download/unpack cache, shared with build_corpus (default: %(default)s)")
    ap.add_argument("--out", type=Path, default=bc.EXAMPLES, help="examples directory (default: %(default)s)")
    ap.add_argument("--offline", action="store_true", help="use only what is already in --cache")
    ap.add_argument("--split", choices=sorted(SPLITS), default="fresh3",
                    help="which split to write (default: %(default)s)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        for tool in ("groff", "dpkg-deb") + (() if args.offline else ("apt-get",)):
            if shutil.which(tool) is None:
                raise bc.BuildError(f"required tool not found: {tool}")
        bc.fetch(args.cache, args.offline)  # build_corpus's packages: the English vocabulary
        dc.fetch(args.cache, SPLITS[args.split][0], SPLITS[args.split][1], args.offline)
        english_words = dc.english_vocabulary(args.cache)
        LOG.info("English vocabulary: %d words", len(english_words))
        recs, _stats = build(args.cache, args.out, english_words, args.split)
        size = bc.write_zst_jsonl(args.out / "langid" / f"{args.split}.jsonl.zst", recs)
        LOG.info("wrote langid/%s.jsonl.zst: %d paragraphs, %d bytes", args.split, len(recs), size)
    except bc.BuildError as exc:
        print(f"build_langid_fresh3 --split {args.split}: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
