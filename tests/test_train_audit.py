"""The audit on a tiny PaLM trained (train.loop) on planted canaries; extraction by hand; the command.

Vocabulary (64 ids): 0 BOS, 1 EOS, digits '0'-'9' are ids 10-19, the rest are
"words". Shards of 24-token rows: a quarter hold the planted secret canary
(template T1 + a 6-digit secret) and a shuffle-style canary X; the others hold
template T2 filled with random digits, or random tokens. T2's secret canary
is never inserted.
"""

import json
import math
import os

import jax
import numpy as np
import pytest
from flax import nnx

from mixtures.shards import ShardSet, ShardWriter
from model import palm
from palmkit.config import load_config
from train import audit as audit_mod
from train import loop
from train.config import TrainConfig
from train.decode import Decoder
from train.extraction import AuditModel, longest_matched_prefix, match_stats

SEQ, VOCAB, PLANTED_ROWS, ROWS = 24, 64, 64, 256
T1, T2, END = [20, 21, 22, 23], [30, 31, 32, 33], [24]
SECRET, NEVER = "503721", "918264"
X = [41, 57, 44, 60, 49, 52, 63, 45, 58, 47, 61, 50]  # planted; prefix 8, suffix 4

jax.config.update("jax_compilation_cache_dir", os.path.join(os.environ.get("TMPDIR", "/tmp"), "palmkit-test-jax-cache"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


def digits(s):
    return [10 + int(ch) for ch in s]


def secret_canary(cid, template, secret, reps, rng, n_refs=300):
    refs = sorted({"".join(rng.choice(list("0123456789"), 6)) for _ in range(n_refs + 20)} - {secret})[:n_refs]
    rng.shuffle(refs)
    return {"id": cid, "kind": "secret", "lang": "xx", "lang_bin": "small", "repetitions": reps, "source_ids": [],
            "text": f"T {secret}", "template": "T {secret}", "secret": secret, "references": refs,
            "token_ids": template + digits(secret) + END, "prefix_ids": template, "secret_ids": digits(secret), "suffix_ids": []}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("audit")
    rng = np.random.default_rng(0)
    rows = []
    canary = T1 + digits(SECRET) + END + [1]  # 12 tokens
    for r in range(ROWS):
        if r < PLANTED_ROWS:
            rows.append(canary + X)
        elif r % 2:
            filled = T2 + list(10 + rng.integers(0, 10, 6)) + END + [1]
            rows.append(filled + list(rng.integers(10, VOCAB, SEQ - len(filled))))
        else:
            rows.append(list(rng.integers(10, VOCAB, SEQ)))
    rows = np.array(rows)[rng.permutation(ROWS)]
    shards = str(tmp / "shards")
    with ShardWriter(shards, seq_len=SEQ, num_shards=2, vocab={"size": VOCAB}) as w:
        w.add(rows)
    canaries = {
        "format": "palmkit-canaries-v1", "seed": 0, "vocab": {"path": "", "sha256": ""}, "schedule": {},
        "total_canary_tokens": 0, "training_tokens": int(rows.size),
        "canaries": [
            secret_canary("s-planted", T1, SECRET, PLANTED_ROWS, rng),
            secret_canary("s-never", T2, NEVER, 0, rng),
            {"id": "x", "kind": "shuffle", "lang": "xx", "lang_bin": "small", "repetitions": PLANTED_ROWS, "source_ids": [],
             "text": "", "token_ids": X, "prefix_ids": X[:8], "suffix_ids": X[8:]},
        ],
    }
    with open(tmp / "canaries.json", "w") as f:
        json.dump(canaries, f)
    base = {
        "output_dir": str(tmp / "run"), "steps": 150, "model": {"preset": "palm_tiny", "vocab_size": VOCAB},
        "optimizer": {"peak_lr": 1e-2, "constant_steps": 1000},
        "data": {"shards": shards, "batch_size": 16},
        "checkpoint": {"every_steps": 150, "keep": 1, "async_save": False},
        "spike": {"enabled": False},
        "log": {"every_steps": 50, "progress": False, "peak_tflops": 1.0},
    }
    cfg = load_config(TrainConfig, base=base)
    loop.train(cfg)
    return {"dir": tmp, "cfg": cfg, "shards": shards, "canaries": str(tmp / "canaries.json"), "data": canaries}


@pytest.fixture(scope="module")
def model(planted):
    cfg = planted["cfg"]
    return AuditModel.from_checkpoint(cfg.model.build(), cfg.checkpoint_dir, cfg.mesh, batch_size=16, progress=False)


def test_match_stats_hand_checked():
    exact, frac = match_stats(np.array([[1, 2, 3, 4], [5, 6, 7, 8]]), np.array([[1, 2, 9, 4], [5, 6, 7, 8]]))
    assert exact.tolist() == [False, True] and frac.tolist() == [0.75, 1.0]
    assert longest_matched_prefix(np.array([[1, 2, 3, 4], [5, 6, 7, 8], [0, 6, 7, 8]]), np.array([[1, 2, 9, 4], [5, 6, 7, 8], [5, 6, 7, 8]])).tolist() == [2, 4, 0]


def test_batched_inference_equals_the_decoder():
    cfg = palm.preset("palm_tiny", vocab_size=VOCAB)
    params = nnx.state(palm.create(cfg, seed=1), nnx.Param)
    am, dec = AuditModel(cfg, params, batch_size=4, length_quantum=8, progress=False), Decoder(cfg, params)
    prompts = np.random.default_rng(0).integers(2, VOCAB, size=(6, 7))  # 6 rows: one full batch, one padded
    np.testing.assert_array_equal(am.greedy(prompts, 5), dec.generate(prompts, 5))
    seqs = [prompts[0, :3], prompts[1], np.concatenate([prompts[2], prompts[3], prompts[4]])]
    for s, lp in zip(seqs, am.log_probs(seqs)):
        np.testing.assert_allclose(lp, dec.log_probs(np.array([s]))[0], atol=1e-5)


def test_greedy_extracts_the_planted_suffix(model):
    out = model.greedy(np.array([X[:8], T1 + digits(SECRET)[:4]]), 4)
    assert out[0].tolist() == X[8:]  # hand-checked: the planted canary's suffix
    assert out[1].tolist() == digits(SECRET)[4:] + END + [1]


def test_exposure_planted_high_never_inserted_near_zero(model, planted):
    result = audit_mod.exposure_audit(model, planted["data"]["canaries"], None, audit_mod.AuditConfig())
    by_id = {r["id"]: r for r in result["records"]}
    top = math.log2(300)
    assert by_id["s-planted"]["rank_among_references"] == 1
    assert by_id["s-planted"]["exposure_interpolation"] == pytest.approx(top)
    assert by_id["s-planted"]["exposure_extrapolation"] > top
    # Never inserted: the T2 secret, and 5 references per canary ranked among the others.
    # Their ranks are uniform, so exposure averages 1/ln 2 = 1.44 bits (P(> k bits) = 2^-k each).
    assert by_id["s-never"]["exposure_interpolation"] < 5.0 and by_id["s-never"]["exposure_extrapolation"] < 5.0
    controls = [r for r in result["records"] if not r["inserted"]]
    assert len(controls) == 10
    for est in ("exposure_interpolation", "exposure_extrapolation"):
        assert np.mean([r[est] for r in controls]) < 3.0
        assert max(r[est] for r in controls) < 7.0
    assert result["references_from"] == "digit substitution" and not result["skipped"]


def test_run_audit_end_to_end(planted, tmp_path):
    from palmkit.audit import run_audit

    out = tmp_path / "audit"
    result = run_audit(str(planted["dir"] / "run"), planted["canaries"], planted["shards"], str(out),
                       max_sequences_per_bucket=20, batch_size=16, prompt_tokens=8, continuation_tokens=8,
                       bucket_edges=(1, 2, 10), progress=False)
    saved = json.load(open(out / "audit.json"))
    assert saved["checkpoint"]["step"] == 150
    ce = {(r["id"]): r for r in saved["canary_extraction"]["records"]}
    assert ce["x"]["exact"] and ce["x"]["token_fraction"] == 1.0
    assert not ce["x/control"]["inserted"]
    te = {r["bucket"]: r for r in saved["training_extraction"]["summary"]}
    # The planted rows' first window occurs 64 times; random windows once.
    assert te["10+"]["n"] == 1 and te["10+"]["exact_rate"] == 1.0
    assert te["1"]["n"] == 20 and te["1"]["exact_rate"] < 0.5
    assert saved["training_extraction"]["repeats"]["histogram"]["10+"] == 1
    mem = {(r["kind"], r["repetitions"]): r for r in saved["membership"]["summary"]}
    assert mem[("shuffle", PLANTED_ROWS)]["loss"] < mem[("shuffle", 0)]["loss"]
    for name in ("audit.html", "exposure_vs_repetitions.png", "canary_extraction_vs_repetitions.png", "training_extraction_vs_repeats.png"):
        assert (out / name).exists(), name
    page = (out / "audit.html").read_text()
    assert "data:image/png;base64," in page and "Exposure" in page
    assert len((out / "training_extraction.jsonl").read_text().splitlines()) == sum(r["n"] for r in te.values())
    assert result["exposure"]["summary"]


def test_command_errors_are_one_line(planted, tmp_path, capsys):
    from palmkit.cli import main

    assert main(["audit", "--checkpoint", str(tmp_path), "--canaries", planted["canaries"], "--shards", planted["shards"], "--output", str(tmp_path / "o")]) == 2
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something-else"}))
    assert main(["audit", "--checkpoint", str(planted["dir"] / "run"), "--canaries", str(bad), "--shards", planted["shards"], "--output", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(line.startswith("palmkit audit: error:") for line in err)


def test_command_runs_and_prints_a_summary(planted, tmp_path, capsys):
    from palmkit.cli import main

    out = tmp_path / "cli"
    rc = main(["audit", "--checkpoint", str(planted["dir"] / "run" / "checkpoints"), "--canaries", planted["canaries"],
               "--shards", planted["shards"], "--output", str(out), "--max-per-bucket", "5", "--batch-size", "8",
               "--max-references", "100", "--workers", "1"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "exposure  reps    64" in printed and "audit.html" in printed
    saved = json.load(open(out / "audit.json"))
    assert "training_extraction_skipped" in saved  # 24-token rows are shorter than a 100-token window
    assert all(r["references"] <= 100 for r in saved["exposure"]["records"])
    assert saved["headline"].startswith("exposure controls")
