"""Training and quantizing fastText language-ID models for ``filters.langid``.

``train_model`` trains a supervised fastText model on ``{"text", "lang"}``
records and ``quantize_model`` product-quantizes one (``.ftz``). Both hand
fastText the same text prediction sees (``filters.langid_text.prepare_text``)
and return a ``filters.langid.LanguageIdentifier`` for the written model.

Both run fastText in a fresh child interpreter: fastText 0.9.3 leaves most of
a new model's input matrix uninitialised, so training inside a long-running
process is neither reproducible nor safe from NaN (details in
``train_model``). ``palmkit langid train`` is the command-line front end; the
shipped model is rebuilt with it (``filters/data/README.md``).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
from typing import Any, Iterable, Mapping

from filters.langid import _LABEL_PREFIX, LanguageIdentifier
from filters.langid_text import prepare_text

__all__ = [
    "train_model",
    "quantize_model",
]


def _check_lang(lang: Any) -> str:
    if not isinstance(lang, str) or not lang or any(c.isspace() for c in lang):
        raise ValueError(f"a training record's lang must be a non-empty code without spaces, got {lang!r}")
    return lang


def _training_lines(records: Iterable[Mapping[str, str]], seed: int | None) -> list[str]:
    """fastText training lines for ``records``, shuffled with ``seed`` (0 when None)."""
    lines = []
    for record in records:
        text = prepare_text(str(record.get("text") or ""))
        if not text:
            raise ValueError(f"a training record has no text: {record!r}")
        lines.append(f"{_LABEL_PREFIX}{_check_lang(record.get('lang'))} {text}\n")
    if not lines:
        raise ValueError("no training records")
    random.Random(0 if seed is None else seed).shuffle(lines)
    return lines


# Runs in a fresh interpreter (see train_model). It imports nothing of ours, so
# it works wherever fasttext is importable. Before anything is allocated it
# pins glibc's mmap threshold at 64 KiB: every large buffer then comes from
# fresh, zero-filled pages instead of recycled heap memory.
_CHILD_PREAMBLE = r"""
import ctypes, json, sys
try:
    ctypes.CDLL("libc.so.6").mallopt(-3, 65536)  # M_MMAP_THRESHOLD
except (OSError, AttributeError):
    pass
import fasttext
args = json.loads(sys.argv[1])
"""
def _run_child(script: str, args: dict, timeout: float | None) -> str | None:
    """Run one of the child scripts with ``args``; None when it succeeded,
    else the last line it wrote to stderr."""
    result = subprocess.run([sys.executable, "-c", script, json.dumps(args)],
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode == 0:
        return None
    return (result.stderr.strip().splitlines() or ["no output"])[-1]


_TRAIN_CHILD = _CHILD_PREAMBLE + r"""
output = args.pop("output")
try:
    model = fasttext.train_supervised(**args)
except RuntimeError as err:
    sys.stderr.write(str(err))
    sys.exit(3)
model.save_model(output)
"""


def train_model(
    records: Iterable[Mapping[str, str]],
    output_path: str | os.PathLike,
    *,
    epoch: int = 25,
    lr: float = 0.5,
    dim: int = 16,
    minn: int = 2,
    maxn: int = 4,
    wordNgrams: int = 1,
    bucket: int = 2_000_000,
    loss: str = "softmax",
    seed: int | None = 0,
    thread: int | None = None,
    timeout: float | None = None,
) -> LanguageIdentifier:
    """Train a fastText language-ID model on ``{"text", "lang"}`` records and save it.

    Defaults follow the shape of ``lid.176.bin``: 16 dimensions, character
    2..4-grams (what makes short texts and unseen words identifiable) and 2M
    hash buckets (about 128 MB; pass a smaller ``bucket`` for small models).

    Threads: with ``seed`` set and ``thread`` left as None, training uses one
    thread, because fastText's threads update shared weights without locks
    (Hogwild) and more than one makes the result depend on scheduling.
    ``seed=None`` uses every core but one. Records are shuffled with ``seed``
    (0 when None) before the training file is written, because SGD over a
    file sorted by language learns the last language best.

    Why a child process: fastText 0.9.3 allocates the input matrix without
    clearing it and ``DenseMatrix::uniform`` fills only ``thread`` tenths of
    it (one thread: the first 10% of the rows). The other rows start as
    whatever the allocator hands back: zeros in a fresh process, but leftovers
    (we measured values up to 1e24) in one that has freed large buffers, which
    makes a seeded run non-reproducible and can end in "Encountered NaN".
    Training in a fresh interpreter with glibc's mmap threshold pinned (so the
    matrix comes from zero-filled pages) makes every run start from the same
    state; two runs with the same seed write byte-identical model files. The
    price is an interpreter start (well under a second) per training.

    Raises ``ValueError`` for a record without text or with a bad ``lang``,
    ``RuntimeError`` when fastText fails (for example diverging to NaN).
    """
    lines = _training_lines(records, seed)
    if thread is None:
        thread = 1 if seed is not None else max(1, (os.cpu_count() or 2) - 1)
    output_path = os.path.abspath(os.fspath(output_path))
    os.makedirs(os.path.dirname(output_path), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="palmkit-langid-") as tmp:
        train_file = os.path.join(tmp, "train.txt")
        with open(train_file, "w", encoding="utf-8", errors="replace") as handle:
            handle.writelines(lines)
        args = {
            "input": train_file,
            "output": output_path,
            "epoch": epoch,
            "lr": lr,
            "dim": dim,
            "minn": minn,
            "maxn": maxn,
            "wordNgrams": wordNgrams,
            "bucket": bucket,
            "loss": loss,
            "seed": 0 if seed is None else seed,
            "thread": thread,
            "minCount": 1,
            "verbose": 0,
        }
        message = _run_child(_TRAIN_CHILD, args, timeout)
    if message is not None:
        hint = "; lower lr or enable character n-grams (minn/maxn > 0)" if "NaN" in message else ""
        raise RuntimeError(f"fastText training failed: {message}{hint}")
    return LanguageIdentifier(output_path)


_QUANTIZE_CHILD = _CHILD_PREAMBLE + r"""
model = fasttext.load_model(args.pop("model"))
output = args.pop("output")
try:
    model.quantize(**args)
except RuntimeError as err:
    sys.stderr.write(str(err))
    sys.exit(3)
model.save_model(output)
"""


def quantize_model(
    model_path: str | os.PathLike,
    records: Iterable[Mapping[str, str]] | None,
    output_path: str | os.PathLike,
    *,
    cutoff: int = 0,
    retrain: bool = True,
    qnorm: bool = True,
    dsub: int = 2,
    seed: int | None = 0,
    timeout: float | None = None,
) -> LanguageIdentifier:
    """Product-quantize the model at ``model_path`` and save it to ``output_path`` (``.ftz``).

    With ``cutoff`` > 0, fastText keeps only the ``cutoff`` most important
    rows of the input matrix (words and hashed character n-grams, ranked by
    the norm of their vectors) and, with ``retrain``, trains again on
    ``records`` after pruning so the rest make up for what was dropped. The
    records are written to a training file exactly as ``train_model`` writes
    them (shuffled with ``seed``); pass the records the model was trained on.
    ``records`` may be None when there is nothing to retrain (``cutoff`` 0 or
    ``retrain`` False). Like ``train_model``, fastText runs single-threaded in
    a fresh child interpreter, so the same inputs give the same file.

    Raises ``ValueError`` for bad records or ``cutoff`` < 0, ``RuntimeError``
    when fastText fails.
    """
    if cutoff < 0:
        raise ValueError(f"cutoff must be >= 0, got {cutoff}")
    model_path = os.path.abspath(os.fspath(model_path))
    output_path = os.path.abspath(os.fspath(output_path))
    os.makedirs(os.path.dirname(output_path), exist_ok=True)
    needs_input = cutoff > 0 and retrain
    if needs_input and records is None:
        raise ValueError("retraining after a cutoff needs the training records")
    args: dict[str, Any] = {
        "model": model_path,
        "output": output_path,
        "qnorm": qnorm,
        "dsub": dsub,
        "cutoff": cutoff,
        "retrain": needs_input,
        "thread": 1,
        "verbose": 0,
    }
    with tempfile.TemporaryDirectory(prefix="palmkit-langid-") as tmp:
        if needs_input:
            train_file = os.path.join(tmp, "train.txt")
            with open(train_file, "w", encoding="utf-8", errors="replace") as handle:
                handle.writelines(_training_lines(records, seed))
            args["input"] = train_file
        message = _run_child(_QUANTIZE_CHILD, args, timeout)
    if message is not None:
        raise RuntimeError(f"fastText quantization failed: {message}")
    return LanguageIdentifier(output_path)
