"""Checks on the committed fourth fresh language-ID split
(examples/langid/fresh4.jsonl.zst, ``build_langid_fresh3.py --split fresh4``
from debian_catalogs.FRESH4_PACKAGES): the fresh-3 checks, against every
other split, fresh-3 included, and that no message of it holds a training
text.  Reads the committed files only."""
from __future__ import annotations

import pytest

# Every fresh-3 test (and its `splits` fixture), collected again here with this module's fixtures.
from tests.test_examples_build_langid_fresh3 import *  # noqa: F401,F403
from tests.test_examples_debian_catalogs import dc


@pytest.fixture(scope="module")
def split_name() -> str:
    return "fresh4"


@pytest.fixture(scope="module")
def others() -> tuple[str, ...]:
    return ("train", "heldout", "fresh", "fresh2", "fresh3")


@pytest.fixture(scope="module")
def split_packages() -> dict[str, str]:
    return dc.FRESH4_PACKAGES


def test_fresh4_messages_hold_no_training_text(splits):
    # Per language to stay fast; the builder checks across all languages.
    from tests.test_examples_build_langid_fresh import norm

    by_lang: dict[str, set[str]] = {}
    for r in splits["train"]:
        by_lang.setdefault(r["lang"], set()).add(norm(r["text"]))
    checks = {lang: dc.bc.holding_check(keys) for lang, keys in by_lang.items()}
    holding = [r["id"] for r in splits["fresh4"] if checks[r["lang"]](norm(r["text"]))]
    assert not holding, holding[:5]
