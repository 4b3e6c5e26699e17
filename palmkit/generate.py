"""Text generation from a trained run: tokenizer, checkpoint and decoder put together.

Lives in ``palmkit`` because it needs the run's config (``palmkit.config``)
and the decoder (``train.decode``). ``palmkit generate`` and the demo call
``generate_text``.
"""

from __future__ import annotations

import os


def run_dirs(path: str) -> tuple[str, str]:
    """(config.yaml path, checkpoints dir) for a run dir or its checkpoints dir."""
    from palmkit.errors import UsageError

    path = os.path.abspath(path)
    for run_dir, ckpt_dir in ((path, os.path.join(path, "checkpoints")), (os.path.dirname(path), path)):
        config = os.path.join(run_dir, "config.yaml")
        if os.path.exists(config) and os.path.isdir(ckpt_dir):
            return config, ckpt_dir
    raise UsageError(f"--checkpoint {path}: expected a run directory with config.yaml and checkpoints/")


def generate_text(checkpoint: str, prompt: str, *, max_tokens: int = 64, temperature: float = 0.0, seed: int = 0,
                  control: str | None = None, step: int | None = None, tokenizer: str | None = None) -> str:
    """``prompt`` followed by the model's continuation (stopping at end-of-document).

    Bad arguments, a missing tokenizer or checkpoint, and a control token the
    vocabulary lacks raise ``UsageError`` (one line).
    """
    from palmkit.config import load_config
    from palmkit.errors import UsageError

    if max_tokens <= 0:
        raise UsageError("--max-tokens must be positive")
    if temperature < 0:
        raise UsageError("--temperature must be >= 0")
    config_path, ckpt_dir = run_dirs(checkpoint)
    from train.config import TrainConfig

    cfg = load_config(TrainConfig, config_path)
    spm_path = tokenizer or cfg.data.tokenizer
    if not spm_path:
        raise UsageError("no SentencePiece model in the run config (data.tokenizer); pass --tokenizer")
    if not os.path.exists(spm_path):
        raise UsageError(f"SentencePiece model not found: {spm_path}")

    import numpy as np
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=spm_path)
    ids = list(sp.encode(prompt))
    if control:
        from filters.toxicity import control_token

        piece = control_token(control)
        pid = sp.piece_to_id(piece)
        if sp.id_to_piece(pid) != piece:
            raise UsageError(f"control token {piece!r} is not in the vocabulary of {spm_path}")
        ids = [pid] + ids
    model_cfg = cfg.model.build()
    if sp.get_piece_size() > model_cfg.vocab_size:
        raise UsageError(f"{spm_path} has {sp.get_piece_size()} pieces but the model only {model_cfg.vocab_size}")

    from train.decode import Decoder

    try:
        dec = Decoder.from_checkpoint(model_cfg, ckpt_dir, step)
    except FileNotFoundError as exc:
        raise UsageError(str(exc)) from None
    eos = sp.eos_id() if sp.eos_id() >= 0 else None
    out = dec.generate(
        np.array([ids], np.int32), max_tokens, temperature, seed, eos_id=eos, vocab_limit=sp.get_piece_size()
    )[0]
    new = [int(t) for t in out]
    if eos is not None and eos in new:
        new = new[: new.index(eos)]
    return prompt + sp.decode(new)
