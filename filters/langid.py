"""Language identification with fastText, safe under numpy 2.

Any supervised fastText model whose labels are ``__label__<code>`` works:
Facebook's ``lid.176.bin`` (``__label__en``, ``__label__zh``), a model with
regional labels (``__label__pt-br``, ``__label__zh_cn``) or one trained here
with ``train_model``.

Why not ``model.predict``: fastText 0.9.3's Python wrapper ends its
single-text ``predict`` with ``np.array(probs, copy=False)``, which numpy 2
turns into ``ValueError: Unable to avoid copy``. ``LanguageIdentifier`` never
goes through that wrapper; it calls the C++ binding ``model.f.predict(line, k,
threshold, on_unicode_error)``, which returns plain ``(probability, label)``
pairs, and builds the result itself. The binding predicts one line, so
newlines (and the other line separators) are replaced by spaces first, and
the text is handed over as UTF-8 bytes with invalid code points (lone
surrogates) replaced, because a Python ``str`` that cannot be encoded would
make the binding raise. Command-line option tokens (``-x``, ``--long-opt``,
``--opt=VALUE``, also glued to Chinese or Japanese text) are removed too
(``strip_options``): they carry no language, and in translated man pages they
outweighed short descriptions. Training uses the same ``prepare_text``, so the
model sees the same kind of text it is asked about; a model trained without
it (``lid.176.bin``) works unchanged.

Training (``train_model``) runs fastText in a fresh child interpreter:
fastText 0.9.3 leaves most of a new model's input matrix uninitialised, so
training inside a long-running process is neither reproducible nor safe from
NaN (details in ``train_model``).

Labels become language codes by ``normalize_label``: the ``__label__`` prefix
is dropped, the code is lowercased, ``_`` becomes ``-``, and only the primary
subtag is kept (``zh-cn`` -> ``zh``, ``pt-br`` -> ``pt``, ``zh_Hans`` ->
``zh``), because the curated shards are laid out by language, not by region
or script. ``keep_region=True`` keeps the whole tag (``pt-br``), and
``label_map`` overrides single labels (for example ``{"eng_Latn": "en"}`` for
a model with ISO 639-3 labels).
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from typing import Any, Iterable, Mapping

from filters.document import Document

__all__ = [
    "UNDETERMINED",
    "DEFAULT_THRESHOLD",
    "normalize_label",
    "one_line",
    "strip_options",
    "prepare_text",
    "LanguageIdentifier",
    "train_model",
    "quantize_model",
    "evaluate",
    "langid_decision",
    "label_document",
]

UNDETERMINED = "und"  # BCP-47 "undetermined"
_LABEL_PREFIX = "__label__"
_LINE_BREAKS = re.compile("[\r\n\x0b\x0c\x85\u2028\u2029]+")


# A document whose top language scores below this is undetermined and rejected
# ("langid:low_confidence"). PaLM published no threshold; datatrove and FineWeb
# use 0.65. 0.5 is what docs/LANGID.md recommends for the shipped model, from
# its held-out split. pipeline.curate.LangIdConfig takes its default from here.
DEFAULT_THRESHOLD = 0.5


def normalize_label(label: str, *, keep_region: bool = False) -> str:
    """``"__label__pt-BR"`` -> ``"pt"`` (or ``"pt-br"`` with ``keep_region``)."""
    if label.startswith(_LABEL_PREFIX):
        label = label[len(_LABEL_PREFIX) :]
    code = label.strip().lower().replace("_", "-")
    if keep_region:
        return code
    return code.split("-", 1)[0]


def one_line(text: str) -> str:
    """``text`` with every line break replaced by a space: fastText predicts one line."""
    return _LINE_BREAKS.sub(" ", text).strip()


# Han, kana, CJK punctuation, Hangul and full-width forms: text in these
# scripts is written without spaces, so a translation's option list often
# runs straight into it ("-b, --binary以二進位制模式讀入").
_GLUED = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
# A command-line option token: "--long-name", "-x" (one ASCII letter or digit
# after a single dash; longer single-dash words such as "-Pakete", "-ve" or
# "-udviklere" are too often pieces of real words), each optionally with
# "[=VALUE]" / "[ARG]" or "=VALUE" (ASCII) and a trailing comma. It must start
# the text or follow a space or an opening bracket/quote, and end at a space,
# punctuation, a closing bracket/quote, the end, or text in one of the _GLUED
# scripts (so "--binary以二進位制" loses "--binary" and keeps the Chinese).
_OPTION = re.compile(
    r"(?:(?<=[\s(\[{\"'“„«])|^)"
    r"(?:--[A-Za-z0-9][A-Za-z0-9_-]*|-[A-Za-z0-9])"
    r"(?:\[[^\]\s]*\]|=[\x21-\x7e]*)?"
    rf"(?:,|(?=[\s.;:!?)\]}}\"'”»]|$|[{_GLUED}]))"
)
# Options are only removed when at least this many letters are left; text
# that is (nearly) all options keeps them, as they are all there is to go on.
MIN_LETTERS_LEFT = 5


def strip_options(line: str) -> str:
    """``line`` without command-line option tokens, which carry no language.

    ``"-x --discard-all Usuwa symbole nieglobalne."`` ->
    ``"Usuwa symbole nieglobalne."``; ``"-b, --binary以二進位制模式讀入"`` ->
    ``"以二進位制模式讀入"``; ``"--suffix=后缀移除后缀"`` -> ``"后缀移除后缀"``.
    Hyphenated words ("e-mail"), dashes ("a - b", "-- Author") and
    single-dash words ("-Pakete") stay. When fewer than ``MIN_LETTERS_LEFT``
    letters would remain, ``line`` is returned unchanged. Spaces are
    collapsed only where something was removed.
    """
    if "-" not in line:
        return line
    stripped = _OPTION.sub(" ", line)
    if stripped == line:
        return line
    stripped = " ".join(stripped.split())
    if sum(ch.isalpha() for ch in stripped) < MIN_LETTERS_LEFT:
        return line
    return stripped


def prepare_text(text: str) -> str:
    """The text fastText sees, in training and prediction alike: one line, options removed."""
    return strip_options(one_line(text))


class LanguageIdentifier:
    """A loaded fastText language-ID model; load once per worker, predict many times."""

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        *,
        model: Any = None,
        keep_region: bool = False,
        label_map: Mapping[str, str] | None = None,
    ) -> None:
        if (model_path is None) == (model is None):
            raise ValueError("give exactly one of model_path or model")
        if model is None:
            import fasttext  # imported here so importing filters stays cheap

            if not os.path.exists(model_path):
                raise FileNotFoundError(f"fastText model not found: {model_path}")
            model = fasttext.load_model(str(model_path))
        self.model = model
        self.model_path = None if model_path is None else str(model_path)
        self.keep_region = keep_region
        self.label_map = {k.removeprefix(_LABEL_PREFIX): v for k, v in (label_map or {}).items()}
        self._codes: dict[str, str] = {}

    def lang_of(self, label: str) -> str:
        """The language code for one raw model label (cached)."""
        code = self._codes.get(label)
        if code is None:
            bare = label.removeprefix(_LABEL_PREFIX)
            code = self.label_map.get(bare) or normalize_label(bare, keep_region=self.keep_region)
            self._codes[label] = code
        return code

    @property
    def languages(self) -> list[str]:
        """The distinct language codes the model can predict, sorted."""
        return sorted({self.lang_of(label) for label in self.model.get_labels()})

    def _raw(self, text: str, k: int) -> list[tuple[float, str]]:
        line = prepare_text(text)
        if not line:
            return []
        # The C++ binding, not FastText.predict (see the module docstring).
        return self.model.f.predict(line.encode("utf-8", "replace") + b"\n", k, 0.0, "replace")

    def predict(self, texts: Iterable[str] | str) -> list[tuple[str, float]]:
        """The top language and its probability for each text, in order.

        A text with nothing but whitespace gives ``("und", 0.0)``. A single
        string is treated as a batch of one.
        """
        if isinstance(texts, str):
            texts = [texts]
        results: list[tuple[str, float]] = []
        for text in texts:
            raw = self._raw(text, 1)
            if not raw:
                results.append((UNDETERMINED, 0.0))
                continue
            prob, label = raw[0]
            results.append((self.lang_of(label), min(1.0, float(prob))))
        return results

    def predict_k(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` best labels for one text as (language, probability), best first.

        Labels that map to the same language (``zh-cn`` and ``zh-tw``) have
        their probabilities added.
        """
        merged: dict[str, float] = {}
        for prob, label in self._raw(text, k):
            lang = self.lang_of(label)
            merged[lang] = merged.get(lang, 0.0) + float(prob)
        return sorted(((lang, min(1.0, p)) for lang, p in merged.items()), key=lambda item: (-item[1], item[0]))


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
_TRAIN_CHILD = r"""
import ctypes, json, sys
try:
    ctypes.CDLL("libc.so.6").mallopt(-3, 65536)  # M_MMAP_THRESHOLD
except (OSError, AttributeError):
    pass
import fasttext
args = json.loads(sys.argv[1])
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
        result = subprocess.run(
            [sys.executable, "-c", _TRAIN_CHILD, json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if result.returncode != 0:
        message = (result.stderr.strip().splitlines() or ["no output"])[-1]
        hint = "; lower lr or enable character n-grams (minn/maxn > 0)" if "NaN" in message else ""
        raise RuntimeError(f"fastText training failed: {message}{hint}")
    return LanguageIdentifier(output_path)


_QUANTIZE_CHILD = r"""
import ctypes, json, sys
try:
    ctypes.CDLL("libc.so.6").mallopt(-3, 65536)  # M_MMAP_THRESHOLD
except (OSError, AttributeError):
    pass
import fasttext
args = json.loads(sys.argv[1])
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
        result = subprocess.run(
            [sys.executable, "-c", _QUANTIZE_CHILD, json.dumps(args)],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    if result.returncode != 0:
        message = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"fastText quantization failed: {message}")
    return LanguageIdentifier(output_path)


def evaluate(identifier: LanguageIdentifier, records: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """Accuracy of ``identifier`` on ``{"text", "lang"}`` records.

    Returns ``{"n", "accuracy", "per_language": {lang: {"n", "correct",
    "accuracy"}}, "confusion": {true_lang: {predicted_lang: count}}}``. True
    labels go through the identifier's own label normalisation, so ``pt-br``
    records count as ``pt`` for a model that predicts ``pt``. ``accuracy`` is
    None when there are no records.
    """
    records = list(records)
    truth = [identifier.lang_of(str(r["lang"])) for r in records]
    predicted = [lang for lang, _ in identifier.predict([str(r["text"]) for r in records])]
    confusion: dict[str, Counter] = defaultdict(Counter)
    for true, pred in zip(truth, predicted):
        confusion[true][pred] += 1
    per_language = {}
    for lang in sorted(confusion):
        n = sum(confusion[lang].values())
        correct = confusion[lang][lang]
        per_language[lang] = {"n": n, "correct": correct, "accuracy": correct / n}
    correct = sum(stats["correct"] for stats in per_language.values())
    return {
        "n": len(records),
        "accuracy": correct / len(records) if records else None,
        "per_language": per_language,
        "confusion": {true: dict(sorted(preds.items())) for true, preds in sorted(confusion.items())},
    }


def langid_decision(
    lang: str, score: float, threshold: float | Mapping[str, float] = DEFAULT_THRESHOLD
) -> tuple[str, str | None]:
    """Keep ``(lang, None)`` when ``score >= threshold``, else ``("und", "langid:low_confidence")``.

    ``threshold`` may be a mapping from language to threshold, with ``"*"``
    as the default for languages not listed (0.0 when there is no ``"*"``):
    closely related languages (bs/hr/sr, id/ms) never score as high as
    English, so one number for all is either too strict or too lax.
    A low-confidence document is not labelled with its guess, so it can
    never land in the wrong language's shard.
    """
    if isinstance(threshold, Mapping):
        limit = threshold.get(lang, threshold.get("*", 0.0))
    else:
        limit = threshold
    if lang == UNDETERMINED or score < limit:
        return UNDETERMINED, "langid:low_confidence"
    return lang, None


def label_document(
    identifier: LanguageIdentifier, doc: Document, threshold: float = DEFAULT_THRESHOLD
) -> tuple[Document, str | None]:
    """``doc`` with ``lang`` and ``lang_score`` set, and the threshold decision's reason."""
    lang, score = identifier.predict([doc.text])[0]
    lang, reason = langid_decision(lang, score, threshold)
    return dataclasses.replace(doc, lang=lang, lang_score=score), reason
