"""benchmarks/langid_compare.py's paired figures: exact one-sided McNemar on one
language's discordant paragraphs, and the paired bootstrap of "at least level
on every language"."""
from __future__ import annotations

import pytest

from benchmarks.langid_compare import chance_at_least_everywhere, paired_test


def test_paired_test_counts_discordant_pairs_and_gives_the_exact_tail():
    truth = ["fa"] * 6 + ["ar"]
    ours = ["fa", "fa", "ar", "ar", "ar", "ar", "fa"]
    theirs = ["fa", "ar", "fa", "fa", "fa", "ar", "fa"]
    # fa: palmkit alone right once, langid.py alone right 3 times, both right once, both wrong once;
    # the ar paragraph is not counted.  P(X >= 3), X ~ Binomial(4, 1/2) = 5/16.
    assert paired_test(truth, ours, theirs, "fa") == (1, 3, pytest.approx(5 / 16))


def test_paired_test_without_discordant_pairs_is_no_evidence():
    assert paired_test(["sv", "sv"], ["sv", "en"], ["sv", "en"], "sv") == (0, 0, 1.0)


def test_chance_at_least_everywhere_is_certain_without_discordant_paragraphs():
    truth = ["de"] * 5 + ["fr"] * 5
    same = ["de"] * 4 + ["en"] + ["fr"] * 5
    chance, below = chance_at_least_everywhere(truth, same, same, resamples=200)
    assert chance == 1.0 and below == {"de": 0.0, "fr": 0.0}


def test_chance_at_least_everywhere_follows_the_discordant_paragraphs():
    # sv: palmkit alone right on 0, langid.py alone right on 1 of 150: a draw leaves palmkit
    # behind whenever it holds that paragraph, 1 - (149/150)**150 = 63% of draws.
    truth = ["sv"] * 150 + ["de"] * 10
    ours = ["sv"] * 149 + ["da"] + ["de"] * 10
    theirs = ["sv"] * 150 + ["de"] * 9 + ["nl"]
    chance, below = chance_at_least_everywhere(truth, ours, theirs, resamples=20_000)
    assert below["sv"] == pytest.approx(1 - (149 / 150) ** 150, abs=0.02)
    assert below["de"] == 0.0  # palmkit alone right there: never behind
    assert chance == pytest.approx(1 - below["sv"], abs=1e-9)
    # Reproducible: the same seed gives the same draws.
    assert chance_at_least_everywhere(truth, ours, theirs, resamples=500) == chance_at_least_everywhere(
        truth, ours, theirs, resamples=500)
