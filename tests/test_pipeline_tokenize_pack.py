"""pipeline.tokenize_pack: row pieces."""

from __future__ import annotations

import numpy as np


def test_row_pieces_cut_the_joined_copies_into_rows():
    """Pack lays rows out from lengths alone; gathering its pieces gives the rows of the joined copies."""
    from pipeline.tokenize_pack import _row_pieces

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
