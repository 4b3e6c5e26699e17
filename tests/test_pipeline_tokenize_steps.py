"""pipeline.tokenize_steps: the partial-copy threshold and candidate bound, the token dtype, row pieces."""

from __future__ import annotations

import numpy as np


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


def test_row_pieces_cut_the_joined_copies_into_rows():
    """Pack lays rows out from lengths alone; gathering its pieces gives the rows of the joined copies."""
    from pipeline.tokenize_steps import _row_pieces

    rng = np.random.default_rng(7)
    for seq_len in (1, 5, 64):
        lengths = rng.integers(1, 150, 40)
        tokens = [rng.integers(0, 9000, n).astype("<u2") for n in lengths]
        # Each copy in one of two "files", at a byte offset there.
        files = [np.concatenate(tokens[0::2]).tobytes(), np.concatenate(tokens[1::2]).tobytes()]
        where = np.arange(40) % 2
        offsets = np.zeros(40, np.int64)
        for f in (0, 1):
            mine = np.flatnonzero(where == f)
            offsets[mine] = 2 * (np.cumsum(lengths[mine]) - lengths[mine])
        (row, pf, at, n), rows = _row_pieces(lengths, offsets, where, seq_len, 2)
        stream = np.concatenate(tokens)
        assert rows == len(stream) // seq_len
        gathered = np.concatenate([np.frombuffer(files[f], "<u2", count=k, offset=a) for f, a, k in zip(pf, at, n)])
        assert np.array_equal(gathered, stream[: rows * seq_len])
        assert (np.bincount(row, weights=n, minlength=rows) == seq_len).all()
