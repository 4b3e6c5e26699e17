"""benchmarks/langid_compare.py's paired test: exact one-sided McNemar on one
language's discordant paragraphs."""
from __future__ import annotations

import pytest

from benchmarks.langid_compare import paired_test


def test_paired_test_counts_discordant_pairs_and_gives_the_exact_tail():
    truth = ["fa"] * 6 + ["ar"]
    ours = ["fa", "fa", "ar", "ar", "ar", "ar", "fa"]
    theirs = ["fa", "ar", "fa", "fa", "fa", "ar", "fa"]
    # fa: palmkit alone right once, langid.py alone right 3 times, both right once, both wrong once;
    # the ar paragraph is not counted.  P(X >= 3), X ~ Binomial(4, 1/2) = 5/16.
    assert paired_test(truth, ours, theirs, "fa") == (1, 3, pytest.approx(5 / 16))


def test_paired_test_without_discordant_pairs_is_no_evidence():
    assert paired_test(["sv", "sv"], ["sv", "en"], ["sv", "en"], "sv") == (0, 0, 1.0)
