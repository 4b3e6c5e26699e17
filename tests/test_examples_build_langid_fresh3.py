"""Checks on the committed third fresh language-ID split
(examples/langid/fresh3.jsonl.zst, built by examples/build_langid_fresh3.py
from the catalogs of debian_catalogs.FRESH3_PACKAGES): fresh-2's checks
(well-formed, capped, no package, origin or paragraph shared with any other
split, the training file included), and that its packages are
FRESH3_PACKAGES' and no training batch's.  tests/test_examples_build_langid_fresh4.py
runs the same on fresh4.  Reads the committed files only."""
from __future__ import annotations

import pytest

from tests.test_examples_build_langid_fresh2 import (  # noqa: F401  (collected here with this module's fixtures)
    splits,
    test_fresh2_caps,
    test_fresh2_paragraphs_are_not_inside_other_texts,
    test_fresh2_records_are_well_formed,
    test_fresh2_shares_no_origin_or_package_with_other_splits,
    test_fresh2_shares_no_paragraph_with_other_splits,
)
from tests.test_examples_debian_catalogs import dc


@pytest.fixture(scope="module")
def split_name() -> str:
    return "fresh3"


@pytest.fixture(scope="module")
def others() -> tuple[str, ...]:
    return ("train", "heldout", "fresh", "fresh2")


@pytest.fixture(scope="module")
def split_packages() -> dict[str, str]:
    return dc.FRESH3_PACKAGES


def test_fresh3_comes_from_its_packages_only(splits, split_name, split_packages):
    packages = {r["origin"].split("/", 1)[0] for r in splits[split_name]}
    assert packages <= set(split_packages)
    assert not packages & set().union(*dc.TRAIN_BATCHES)
    assert len(packages) >= 20  # spread over many projects, not a few
