"""CPU smoke test of `palmkit train` and `palmkit generate` on a tiny real tokenizer and shards."""

import json
import os

import numpy as np
import pytest

from mixtures.shards import ShardWriter
from palmkit import cli

import jax

jax.config.update("jax_compilation_cache_dir", os.path.join(os.environ.get("TMPDIR", "/tmp"), "palmkit-test-jax-cache"))
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

TEXT = [
    "the cat sat on the mat and the dog sat on the log.",
    "a quick brown fox jumps over the lazy dog.",
    "she sells sea shells by the sea shore.",
    "peter piper picked a peck of pickled peppers.",
] * 25


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    import sentencepiece as spm

    root = tmp_path_factory.mktemp("data")
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(TEXT) + "\n")
    prefix = str(root / "spm")
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=prefix, vocab_size=48, model_type="unigram", hard_vocab_limit=False,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, user_defined_symbols=["<tox:low>", "<tox:high>"],
        minloglevel=2,
    )
    sp = spm.SentencePieceProcessor(model_file=prefix + ".model")
    stream = []
    for line in TEXT:
        stream += sp.encode(line) + [1]
    seq = 32
    n = len(stream) // seq
    rows = np.array(stream[: n * seq]).reshape(n, seq)
    with ShardWriter(str(root / "shards"), seq_len=seq, num_shards=2, vocab={"path": prefix + ".model", "size": sp.get_piece_size()}) as w:
        w.add(rows)
    return root


def test_train_then_generate(data, tmp_path, capsys):
    run_dir = tmp_path / "run"
    args = [
        "train", "configs/train/tiny_cpu.yaml", f"data.shards={data / 'shards'}", f"output_dir={run_dir}",
        "steps=30", "checkpoint.every_steps=15", "log.every_steps=10", "log.progress=false", "log.peak_tflops=0.1",
        "model.vocab_size=128",
    ]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "trained to step 30" in out and "MFU" in out
    records = [json.loads(l) for l in open(run_dir / "metrics.jsonl")]
    assert records[-1]["step"] == 30 and records[-1]["loss"] < records[0]["loss"]

    assert cli.main(["generate", "--checkpoint", str(run_dir), "--prompt", "the cat", "--max-tokens", "8"]) == 0
    greedy = capsys.readouterr().out
    assert greedy.startswith("the cat")
    assert cli.main(["generate", "--checkpoint", str(run_dir / "checkpoints"), "--prompt", "the cat", "--max-tokens", "8"]) == 0
    assert capsys.readouterr().out == greedy  # greedy is deterministic
    assert cli.main(["generate", "--checkpoint", str(run_dir), "--prompt", "a", "--temperature", "1.0", "--seed", "1", "--control", "low"]) == 0
    assert capsys.readouterr().out.startswith("a")

    assert cli.main(["generate", "--checkpoint", str(run_dir), "--prompt", "a", "--control", "medium"]) == 2
    assert "<tox:medium>" in capsys.readouterr().err


def test_user_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["train", "configs/train/tiny_cpu.yaml"]) == 2
    assert "data.shards" in capsys.readouterr().err
    assert cli.main(["train", "configs/train/tiny_cpu.yaml", f"data.shards={tmp_path}"]) == 2
    assert "manifest.json" in capsys.readouterr().err
    assert cli.main(["train", "configs/train/tiny_cpu.yaml", "optimizer.lr=1"]) == 2
    assert "optimizer.lr" in capsys.readouterr().err
    assert cli.main(["generate", "--checkpoint", str(tmp_path), "--prompt", "x"]) == 2
    assert "config.yaml" in capsys.readouterr().err


def test_shipped_configs_load(repo_root):
    from palmkit.config import load_config
    from train.config import TrainConfig

    for name in sorted(os.listdir(repo_root / "configs" / "train")):
        path = repo_root / "configs" / "train" / name
        assert path.read_text().startswith("#"), name  # opens with how to run it
        load_config(TrainConfig, path).model.build()
