"""train.audit_canaries: canaries.json checks, filled-in references, matched never-inserted controls."""

import json

import pytest

from train.audit_canaries import control_tokens, deinterleave, digit_map, interleave, load_canaries, secret_variants, split_offset


def test_interleave_round_trip_and_control():
    a, b = list(range(100, 200)), list(range(300, 400))
    canary = interleave(a, b, 50)
    assert canary[:50] == a[:50] and canary[50:100] == b[:50] and canary[100:150] == a[50:100]
    assert deinterleave(canary, 50) == (a, b)
    ctrl = control_tokens({"kind": "interleave", "id": "i", "token_ids": canary}, block=50)
    assert ctrl[:50] == a[25:75] and ctrl[50:100] == b[25:75] and len(ctrl) == 150
    # Never inserted: no 60-token stretch of the control occurs in the canary.
    assert not any(ctrl[i : i + 60] == canary[j : j + 60] for i in range(len(ctrl) - 59) for j in range(len(canary) - 59))
    assert len(control_tokens({"kind": "interleave", "id": "i", "token_ids": canary[:100]})) == 50  # too short for 60 + 30: the audit skips it


def test_shuffle_control_is_a_seeded_other_order():
    c = {"kind": "shuffle", "id": "s", "token_ids": list(range(200))}
    ctrl = control_tokens(c, seed=0)
    assert sorted(ctrl) == c["token_ids"] and ctrl[:60] != c["token_ids"][:60]
    assert ctrl == control_tokens(c, seed=0) != control_tokens(c, seed=1)
    assert control_tokens({"kind": "secret", "id": "x", "token_ids": [1]}) is None


def test_secret_variants_by_digit_substitution():
    def canary(secret):
        ids = [10 + int(ch) for ch in secret]
        return {"kind": "secret", "secret": secret, "prefix_ids": [5, 6], "secret_ids": ids, "token_ids": [5, 6] + ids + [7]}

    secrets = [canary("0123"), canary("4567"), canary("8899")]
    digits = digit_map(secrets)
    assert digits == {str(d): 10 + d for d in range(10)}
    assert secret_variants(secrets[0], ["9876", "0000"], None, digits) == [[5, 6, 19, 18, 17, 16, 7], [5, 6, 10, 10, 10, 10, 7]]
    assert secret_variants(secrets[0], ["12345"], None, digits) is None  # another length: not substitutable
    merged = dict(secrets[0], secret_ids=[10, 11], token_ids=[5, 6, 10, 11, 7])  # "0123" as two tokens
    assert secret_variants(merged, ["9876"], None, digits) is None


def test_load_canaries_names_what_is_wrong(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"format": "palmkit-canaries-v1", "canaries": [{"id": "a", "kind": "secret", "repetitions": 1, "token_ids": []}]}))
    with pytest.raises(ValueError, match=r"canaries\[0\] \(secret\) lacks template"):
        load_canaries(str(path))
    path.write_text(json.dumps({"format": "v0"}))
    with pytest.raises(ValueError, match="format"):
        load_canaries(str(path))


def test_secret_variants_with_a_tokenizer_keep_the_planted_context():
    class Digits:  # encode(v): one id per character, as split_digits gives
        def encode(self, text):
            return [100 + ord(ch) - ord("0") for ch in text]

    c = {"kind": "secret", "secret": "42", "prefix_ids": [5, 6], "secret_ids": [104, 102], "token_ids": [5, 6, 104, 102, 7, 8]}
    assert secret_variants(c, ["42", "913"], Digits(), {}) == [[5, 6, 104, 102, 7, 8], [5, 6, 109, 101, 103, 7, 8]]
    assert secret_variants(dict(c, prefix_ids=[9]), ["1"], Digits(), {}) is None  # prefix not where it should be


def test_split_offset():
    c = {"token_ids": list(range(200)), "prefix_ids": list(range(20, 80))}
    assert split_offset(c) == 20
    assert split_offset({"token_ids": [1, 2, 3], "prefix_ids": [4]}) is None
