"""``palmkit generate --checkpoint DIR --prompt TEXT``: decode from a trained PaLM checkpoint."""

from __future__ import annotations

import argparse

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


def run(args: argparse.Namespace) -> int:
    from palmkit.generate import generate_text

    print(generate_text(args.checkpoint, args.prompt, max_tokens=args.max_tokens, temperature=args.temperature,
                        seed=args.seed, control=args.control, step=args.step, tokenizer=args.tokenizer))
    return 0
