"""``palmkit generate --checkpoint DIR --prompt TEXT``: decode from a trained PaLM checkpoint."""

from __future__ import annotations

import argparse
import os

HELP = "generate text from a trained checkpoint (greedy or sampled)"

DESCRIPTION = """\
Continues a prompt with a model trained by 'palmkit train'. DIR is the run's
output_dir (holding config.yaml and checkpoints/) or its checkpoints/ folder.
The SentencePiece model comes from the run's config (data.tokenizer, else the
shard manifest's vocab path) unless --tokenizer is given.

--temperature 0 (the default) decodes greedily; above 0 samples. --control
prepends a toxicity control token (the piece '<tox:LEVEL>') to the prompt; it
must be in the vocabulary.

examples:
  palmkit generate --checkpoint runs/tiny --prompt "The quick brown"
  palmkit generate --checkpoint runs/tiny --prompt "Once" --max-tokens 100 --temperature 0.8 --seed 3
  palmkit generate --checkpoint runs/tiny --prompt "Hello" --control low
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoint", required=True, metavar="DIR", help="run directory (or its checkpoints/ folder)")
    parser.add_argument("--prompt", required=True, help="text to continue")
    parser.add_argument("--max-tokens", type=int, default=64, metavar="N", help="tokens to generate (default 64)")
    parser.add_argument("--temperature", type=float, default=0.0, metavar="T", help="0 = greedy (default); > 0 samples")
    parser.add_argument("--control", choices=["low", "medium", "high"], help="prepend the <tox:LEVEL> control token")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed")
    parser.add_argument("--step", type=int, help="checkpoint step (default: the latest)")
    parser.add_argument("--tokenizer", metavar="SPM_MODEL", help="SentencePiece model (default: from the run config)")


def _run_dirs(path: str) -> tuple[str, str]:
    """(config.yaml path, checkpoints dir) for a run dir or its checkpoints dir."""
    from palmkit.errors import UsageError

    path = os.path.abspath(path)
    for run_dir, ckpt_dir in ((path, os.path.join(path, "checkpoints")), (os.path.dirname(path), path)):
        config = os.path.join(run_dir, "config.yaml")
        if os.path.exists(config) and os.path.isdir(ckpt_dir):
            return config, ckpt_dir
    raise UsageError(f"--checkpoint {path}: expected a run directory with config.yaml and checkpoints/")


def control_piece(level: str) -> str:
    return f"<tox:{level}>"


def run(args: argparse.Namespace) -> int:
    from palmkit.config import load_config
    from palmkit.errors import UsageError

    if args.max_tokens <= 0:
        raise UsageError("--max-tokens must be positive")
    if args.temperature < 0:
        raise UsageError("--temperature must be >= 0")
    config_path, ckpt_dir = _run_dirs(args.checkpoint)
    from train.config import TrainConfig

    cfg = load_config(TrainConfig, config_path)
    spm_path = args.tokenizer or cfg.data.tokenizer
    if not spm_path:
        raise UsageError("no SentencePiece model in the run config (data.tokenizer); pass --tokenizer")
    if not os.path.exists(spm_path):
        raise UsageError(f"SentencePiece model not found: {spm_path}")

    import numpy as np
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=spm_path)
    ids = list(sp.encode(args.prompt))
    if args.control:
        piece = control_piece(args.control)
        pid = sp.piece_to_id(piece)
        if sp.id_to_piece(pid) != piece:
            raise UsageError(f"control token {piece!r} is not in the vocabulary of {spm_path}")
        ids = [pid] + ids
    model_cfg = cfg.model.build()
    if sp.get_piece_size() > model_cfg.vocab_size:
        raise UsageError(f"{spm_path} has {sp.get_piece_size()} pieces but the model only {model_cfg.vocab_size}")

    from train.decode import Decoder

    try:
        dec = Decoder.from_checkpoint(model_cfg, ckpt_dir, args.step)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    eos = sp.eos_id() if sp.eos_id() >= 0 else None
    out = dec.generate(
        np.array([ids], np.int32), args.max_tokens, args.temperature, args.seed, eos_id=eos, vocab_limit=sp.get_piece_size()
    )[0]
    new = [int(t) for t in out]
    if eos is not None and eos in new:
        new = new[: new.index(eos)]
    print(args.prompt + sp.decode(new))
    return 0
