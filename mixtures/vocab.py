"""SentencePiece vocabularies with PaLM's properties: training options, loading, checks.

PaLM's vocabulary (§2 of the paper) is lossless and reversible: whitespace,
newlines and code indentation all come back from ``decode(encode(x))``; numbers
are split into one token per digit; characters outside the vocabulary fall
back to UTF-8 bytes instead of ``<unk>``. In SentencePiece 0.2.1 terms
(``sentencepiece_model.proto``, ``TrainerSpec`` and ``NormalizerSpec``):

- ``normalization_rule_name=identity``: no NFKC, so text comes back as written
  (curate already put it in NFC).
- ``remove_extra_whitespaces=False``: runs of spaces, leading and trailing
  spaces survive.
- ``add_dummy_prefix=False``: no invented space at the start of a document,
  which ``decode`` could not tell from a real one.
- ``allow_whitespace_only_pieces=True`` with ``split_by_whitespace=True``:
  pieces never straddle a word boundary, but runs of spaces (indentation)
  become pieces of their own (``▁▁▁▁``, ``▁▁▁▁▁▁▁▁``) instead of one token per space.
- ``user_defined_symbols=["\\n"]``: the trainer reads one sentence per line, so a
  newline never occurs in training text; as a user-defined symbol it is still
  one token at encoding time (it would otherwise be the byte ``<0x0A>``).
- ``split_digits=True``, ``byte_fallback=True``.
- ``pad_id=0, eos_id=1, unk_id=2, bos_id=-1``: the ids ``seqio.SentencePieceVocabulary``
  assumes; eos doubles as the end-of-document separator in packed shards.
- ``control_symbols``: the PaLM 2 toxicity tokens (``<tox:low>`` …). They have
  fixed single ids but, being *control* symbols, are never produced from text:
  a web page that contains the string ``<tox:low>`` cannot forge the tag.

One character is not reversible: SentencePiece writes spaces as U+2581 (▁),
so a literal ▁ in the input decodes as a space. ``lossless`` reports it.

This module imports nothing of palmkit's; the Beam step that draws the
training sample is ``pipeline.sample``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from typing import Iterable, Sequence

PAD_ID, EOS_ID, UNK_ID = 0, 1, 2
NEWLINE = "\n"
SPACE_MARK = "\u2581"
DEFAULT_CONTROL_SYMBOLS = ("<tox:low>", "<tox:medium>", "<tox:high>")


@dataclasses.dataclass(frozen=True)
class VocabConfig:
    """``palmkit tokenizer train`` settings: the keys of --config YAML and key=value overrides."""

    vocab_size: int = 256_000
    model_type: str = "unigram"
    # Share of characters the vocabulary covers as characters; the rest are bytes.
    character_coverage: float = 0.99995
    control_symbols: tuple[str, ...] = DEFAULT_CONTROL_SYMBOLS
    # Extra symbols that are always one token when they occur in text ("\n" is always one).
    user_defined_symbols: tuple[str, ...] = ()
    split_by_whitespace: bool = True
    # Longest piece, in characters (SentencePiece's default is 16).
    max_sentencepiece_length: int = 16
    # Characters of curated text the Beam step samples (weighted by the recipe's shares).
    sample_chars: int = 2_000_000_000
    # A source or language smaller than its share of the sample repeats at most this often.
    max_sample_epochs: float = 4.0
    # Lines SentencePiece loads from the sample (reservoir-sampled, so the sample may be larger).
    input_sentence_size: int = 20_000_000
    # Longer lines (in bytes) are skipped by the trainer.
    max_sentence_length: int = 16_384
    # False lets a tiny corpus yield a smaller vocabulary instead of an error.
    hard_vocab_limit: bool = True
    train_extremely_large_corpus: bool = False
    num_threads: int = 0  # 0: all cores
    seed: int = 0

    def __post_init__(self):
        if self.model_type not in ("unigram", "bpe"):
            raise ValueError(f"model_type must be 'unigram' or 'bpe', got {self.model_type!r}")
        reserved = 3 + len(self.control_symbols) + len(self.user_defined_symbols) + 1 + 256
        if self.vocab_size <= reserved:
            raise ValueError(f"vocab_size must exceed the {reserved} reserved pieces (specials, newline, 256 bytes)")
        if not 0.9 <= self.character_coverage <= 1.0:
            raise ValueError(f"character_coverage must be in [0.9, 1], got {self.character_coverage}")
        symbols = list(self.control_symbols) + list(self.user_defined_symbols)
        if len(set(symbols)) != len(symbols) or NEWLINE in symbols or any(not s for s in symbols):
            raise ValueError("control and user-defined symbols must be distinct, non-empty and not the newline")
        if self.sample_chars < 1 or self.input_sentence_size < 1:
            raise ValueError("sample_chars and input_sentence_size must be positive")
        if self.max_sample_epochs < 1:
            raise ValueError(f"max_sample_epochs must be at least 1, got {self.max_sample_epochs}")


def trainer_options(cfg: VocabConfig) -> dict:
    """The exact ``SentencePieceTrainer.train`` keyword arguments for ``cfg`` (no input or prefix)."""
    return {
        "vocab_size": cfg.vocab_size,
        "model_type": cfg.model_type,
        "character_coverage": cfg.character_coverage,
        "normalization_rule_name": "identity",
        "remove_extra_whitespaces": False,
        "add_dummy_prefix": False,
        "split_by_whitespace": cfg.split_by_whitespace,
        "allow_whitespace_only_pieces": True,
        "split_digits": True,
        "byte_fallback": True,
        "max_sentencepiece_length": cfg.max_sentencepiece_length,
        "pad_id": PAD_ID,
        "eos_id": EOS_ID,
        "unk_id": UNK_ID,
        "bos_id": -1,
        "pad_piece": "<pad>",
        "eos_piece": "</s>",
        "unk_piece": "<unk>",
        "control_symbols": list(cfg.control_symbols),
        "user_defined_symbols": [NEWLINE, *cfg.user_defined_symbols],
        "input_sentence_size": cfg.input_sentence_size,
        "shuffle_input_sentence": True,
        "max_sentence_length": cfg.max_sentence_length,
        "hard_vocab_limit": cfg.hard_vocab_limit,
        "train_extremely_large_corpus": cfg.train_extremely_large_corpus,
        "num_threads": cfg.num_threads or os.cpu_count() or 1,
        "minloglevel": 2,
    }


def train_vocab(inputs: Sequence[str], model_path: str, cfg: VocabConfig) -> dict:
    """Trains on the text files ``inputs`` (one sentence per line) and writes ``model_path``.

    SentencePiece streams the files and keeps ``input_sentence_size`` lines
    (reservoir sampling, seeded by ``cfg.seed``), so the corpus never has to fit
    in memory. The model and its ``.vocab`` are written under temporary names
    and renamed; a ``.json`` beside them records the options and inputs.
    Returns that record.
    """
    import sentencepiece as spm

    if not model_path.endswith(".model"):
        raise ValueError(f"model path must end in .model, got {model_path}")
    inputs = [os.fspath(p) for p in inputs]
    if not inputs:
        raise ValueError("no training text: the sample is empty")
    directory = os.path.dirname(os.path.abspath(model_path))
    os.makedirs(directory, exist_ok=True)
    options = trainer_options(cfg)
    spm.set_random_generator_seed(cfg.seed)
    with tempfile.TemporaryDirectory(dir=directory, prefix=".spm-") as tmp:
        prefix = os.path.join(tmp, "spm")
        try:
            spm.SentencePieceTrainer.train(input=inputs, model_prefix=prefix, **options)
        except RuntimeError as exc:
            if "required_chars" in str(exc):
                # A multilingual sample can hold more distinct characters than a small vocabulary has room for.
                raise ValueError(
                    f"vocab_size {cfg.vocab_size} is too small for the sample's characters at character_coverage "
                    f"{cfg.character_coverage}: raise vocab_size or lower character_coverage (bytes cover the rest)"
                ) from None
            raise
        os.replace(prefix + ".vocab", model_path[: -len(".model")] + ".vocab")
        os.replace(prefix + ".model", model_path)
    sp = load(model_path)
    check_vocab(sp, cfg.control_symbols)
    record = {
        "model": os.path.basename(model_path),
        "sha256": file_sha256(model_path),
        "pieces": sp.get_piece_size(),
        "config": dataclasses.asdict(cfg),
        "trainer_options": options,
        "inputs": [{"file": p, "sha256": file_sha256(p), "bytes": os.path.getsize(p)} for p in inputs],
    }
    info = model_path[: -len(".model")] + ".json"
    with open(info + ".tmp", "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
    os.replace(info + ".tmp", info)
    return record


def load(model_path: str):
    """A ``SentencePieceProcessor`` for ``model_path``."""
    import sentencepiece as spm

    if not os.path.exists(model_path):
        raise FileNotFoundError(f"vocabulary not found: {model_path}")
    return spm.SentencePieceProcessor(model_file=os.fspath(model_path))


def check_vocab(sp, control_symbols: Iterable[str] = ()) -> None:
    """Raises ValueError unless ``sp`` has the ids seqio and the packer rely on."""
    expected = {PAD_ID: "<pad>", EOS_ID: "</s>", UNK_ID: "<unk>"}
    for i, piece in expected.items():
        if sp.id_to_piece(i) != piece:
            raise ValueError(f"id {i} is {sp.id_to_piece(i)!r}, expected {piece!r}")
    if sp.bos_id() != -1:
        raise ValueError("the vocabulary must not define a bos id")
    if sp.piece_to_id("<0x0A>") == UNK_ID:
        raise ValueError("the vocabulary has no byte fallback pieces")
    if sp.piece_to_id(NEWLINE) == UNK_ID:
        raise ValueError("the vocabulary has no newline symbol")
    for symbol in control_symbols:
        i = sp.piece_to_id(symbol)
        if i == UNK_ID or not sp.is_control(i):
            raise ValueError(f"control symbol {symbol!r} is missing")


def special_ids(sp) -> dict[str, int]:
    """Every control symbol of ``sp`` and the newline, by piece: their fixed single ids."""
    out = {"<pad>": PAD_ID, "</s>": EOS_ID, "<unk>": UNK_ID, NEWLINE: sp.piece_to_id(NEWLINE)}
    for i in range(sp.get_piece_size()):
        if sp.is_control(i):
            out[sp.id_to_piece(i)] = i
    return out


def lossless(sp, text: str) -> bool:
    """Whether ``decode(encode(text)) == text`` for ``sp``: false only for text with a literal ▁."""
    return sp.decode(sp.encode(text)) == text


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
