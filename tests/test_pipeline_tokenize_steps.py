"""pipeline.tokenize_steps: the partial-copy threshold and candidate bound, the token dtype."""

from __future__ import annotations


def test_token_dtype_is_the_narrowest_that_holds_the_vocabulary():
    from pipeline.tokenize_steps import token_dtype

    assert token_dtype(8000) == token_dtype(65536) == "<u2"
    assert token_dtype(65537) == token_dtype(256_000) == "<i4"


def test_partial_copy_threshold_takes_the_closest_prefix_in_coin_order():
    from pipeline.tokenize_steps import candidate_bound, partial_copy_threshold

    coins = [(0.9, 100), (0.1, 30), (0.5, 50), (0.3, 20)]  # 200 tokens
    # In coin order the running totals are 30, 50, 100, 200.
    assert partial_copy_threshold(coins, 0.4) == 0.5  # 80 wanted: 100 is closest
    assert partial_copy_threshold(coins, 0.2) == 0.1  # 40 wanted: 30 and 50 tie, the smaller prefix wins
    assert partial_copy_threshold(coins, 1.5) == 0.5  # copy 1 supplies 100: 30 + 20 + 50
    assert partial_copy_threshold(coins, 2.0) == -1.0  # whole copies only
    assert partial_copy_threshold(coins, 0.01) == -1.0  # 2 tokens: keeping nothing is closest
    assert candidate_bound(2.0, 100) == -1.0
    assert candidate_bound(0.3, None) == 1.0 and candidate_bound(0.3, 20) == 1.0
    assert 0.3 < candidate_bound(0.3, 10_000_000) < 0.31  # a large group ships few extra candidates

