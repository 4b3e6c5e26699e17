"""train.exposure on synthetic log-perplexities: the two exposure estimators, membership scores."""

import math

import numpy as np
import pytest
from scipy import stats

from train import exposure as ex


def test_estimators_agree_on_synthetic_perplexities():
    # References drawn from a skewed distribution; canaries placed at known quantiles 2^-k,
    # so the true exposure (log2 |R| - log2 rank, rank/|R| = 2^-k) is k bits.
    a, loc, scale = 4.0, 60.0, 8.0
    rng = np.random.default_rng(0)
    refs = stats.skewnorm.rvs(a, loc, scale, size=20_000, random_state=rng)
    ks = np.arange(1, 11)
    px = stats.skewnorm.ppf(2.0 ** -ks, a, loc, scale)
    interp = ex.exposure_interpolation(px, refs)
    extrap = ex.exposure_extrapolation(px, refs)
    np.testing.assert_allclose(extrap, ks, atol=0.3)
    # Interpolation is a count of references below: with n = 20,000 it is tight while
    # ~80 or more lie below (k <= 8) and noisy beyond (k = 10: ~20 below, ±0.3 bits).
    np.testing.assert_allclose(interp[:8], ks[:8], atol=0.3)
    np.testing.assert_allclose(interp[:8], extrap[:8], atol=0.3)
    # Past the last reference, interpolation stops at log2 n; extrapolation keeps going.
    far = stats.skewnorm.ppf(2.0 ** -25, a, loc, scale)
    assert ex.exposure_interpolation(far, refs) == pytest.approx(math.log2(20_000))
    assert ex.exposure_extrapolation(far, refs) > 20
    assert ex.exposure_extrapolation(far, refs, space_bits=18.0) == 18.0


def test_interpolation_counts_references_below_and_ties_half():
    refs = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    assert ex.exposure_interpolation(0.5, refs) == pytest.approx(3.0)  # best of 8: log2 8 - log2 1
    assert ex.exposure_interpolation(8.5, refs) == pytest.approx(3.0 - math.log2(9))
    assert ex.exposure_interpolation(2.0, refs) == pytest.approx(3.0 - math.log2(2.5))
    assert ex.space_bits("123456789") == pytest.approx(9 * math.log2(10))


def test_never_inserted_exposure_is_near_zero_on_average():
    rng = np.random.default_rng(1)
    refs = rng.normal(100, 5, size=2000)
    controls = rng.normal(100, 5, size=500)  # same distribution: nothing memorised
    assert np.mean(ex.exposure_interpolation(controls, refs)) == pytest.approx(1 / math.log(2), abs=0.2)
    assert np.mean(ex.exposure_extrapolation(controls, refs)) == pytest.approx(1 / math.log(2), abs=0.2)


def test_log_perplexity_in_bits_with_lengths():
    lp = np.log(np.array([[0.5, 0.25, 0.1], [0.5, 0.5, 0.5]]))
    np.testing.assert_allclose(ex.log_perplexity(lp, np.array([2, 3])), [3.0, 3.0])
    np.testing.assert_allclose(ex.log_perplexity_list([lp[0, :2], lp[1]]), [3.0, 3.0])


def test_membership_scores():
    lp = np.log(np.array([0.9, 0.8, 0.01, 0.5, 0.9, 0.9, 0.9, 0.9, 0.9, 0.02]))
    s = ex.membership_scores(lp, b"hello hello hello", min_k=(0.2,))
    assert s["loss"] == pytest.approx(-lp.mean())
    assert s["min_k_20"] == pytest.approx(np.mean(np.log([0.01, 0.02])))
    assert s["zlib_ratio"] == pytest.approx(-lp.sum() / math.log(2) / ex.zlib_bits(b"hello hello hello"))
    assert ex.auc([3, 4, 5], [1, 2]) == 1.0 and ex.auc([1], [1]) == 0.5 and ex.auc([], [1]) is None
    assert ex.member_sign("loss") == -1.0 and ex.member_sign("min_k_20") == 1.0
    assert ex.mean_spread([1.0, None, 3.0, float("nan")]) == {"n": 2, "mean": 2.0, "std": 1.0, "min": 1.0, "max": 3.0}
