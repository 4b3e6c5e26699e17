"""Language identification with fastText, safe under numpy 2.

Any supervised fastText model whose labels are ``__label__<code>`` works:
Facebook's ``lid.176.bin`` (``__label__en``, ``__label__zh``), a model with
regional labels (``__label__pt-br``, ``__label__zh_cn``) or one trained here
with ``filters.langid_train.train_model``.

Why not ``model.predict``: fastText 0.9.3's Python wrapper ends its
single-text ``predict`` with ``np.array(probs, copy=False)``, which numpy 2
turns into ``ValueError: Unable to avoid copy``. ``LanguageIdentifier`` never
goes through that wrapper; it calls the C++ binding ``model.f.predict(line, k,
threshold, on_unicode_error)``, which returns plain ``(probability, label)``
pairs, and builds the result itself. The binding predicts one line, so
newlines (and the other line separators) are replaced by spaces first, and
the text is handed over as UTF-8 bytes with invalid code points (lone
surrogates) replaced, because a Python ``str`` that cannot be encoded would
make the binding raise. What fastText is shown comes from
``filters.langid_text.prepare_text``: one line, without command-line options,
runs of single-dash settings and code identifiers, which carry no language
and in translated man pages outweighed short descriptions. Training uses the
same ``prepare_text``, so the model sees the same kind of text it is asked
about; a model trained without it (``lid.176.bin``) works unchanged. After the
model, the script rule (``filters.langid_text.script_allows``): a language
that is not written in the script holding most of the text's letters, or
Japanese for text without kana, is replaced by the best language the scripts
allow (on by default, ``script_rule=False`` turns it off).

Training and quantization live in ``filters.langid_train`` (``train_model``,
``quantize_model``): they run fastText in a fresh child interpreter, because
fastText 0.9.3 leaves most of a new model's input matrix uninitialised, so
training inside a long-running process is neither reproducible nor safe from
NaN (details in ``filters.langid_train.train_model``).

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
import os
from collections import Counter, defaultdict
from typing import Any, Iterable, Mapping

from filters.document import Document
from filters.langid_text import majority_of, one_line, prepare_text, script_allows, script_letter_bytes, strip_options, written_in

__all__ = [
    "UNDETERMINED",
    "DEFAULT_THRESHOLD",
    "normalize_label",
    "one_line",
    "strip_options",
    "prepare_text",
    "LanguageIdentifier",
    "evaluate",
    "langid_decision",
    "label_document",
]

UNDETERMINED = "und"  # BCP-47 "undetermined"
_LABEL_PREFIX = "__label__"


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


class LanguageIdentifier:
    """A loaded fastText language-ID model; load once per worker, predict many times."""

    def __init__(
        self,
        model_path: str | os.PathLike | None = None,
        *,
        model: Any = None,
        keep_region: bool = False,
        label_map: Mapping[str, str] | None = None,
        script_rule: bool = True,
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
        self.script_rule = script_rule
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

    def _raw(self, line: str, k: int) -> list[tuple[float, str]]:
        # The C++ binding, not FastText.predict (see the module docstring).
        return self.model.f.predict(line.encode("utf-8", "replace") + b"\n", k, 0.0, "replace")

    def _ranked(self, text: str, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (language, probability) pairs for ``text``, best first, after the script rule."""
        line = prepare_text(text)
        if not line:
            return []
        ranked = self._merge(self._raw(line, k))
        if self.script_rule and ranked and not (line.isascii() and written_in(ranked[0][0], "Latin")):
            counts = script_letter_bytes(line)
            majority = majority_of(counts)
            if script_allows(ranked[0][0], counts, majority) is False:
                # The top language is not written in the script most of the
                # text is in (Vietnamese for text that is mostly Hangul), or
                # its text would contain a script this one lacks (Japanese
                # without kana): rank the languages the scripts allow, by
                # their probability given that the language is one of them.
                everything = self._merge(self._raw(line, -1))
                allowed = [(lang, p) for lang, p in everything if script_allows(lang, counts, majority)]
                total = sum(p for _, p in allowed)
                if total > 0:
                    ranked = [(lang, p / total) for lang, p in allowed]
        return ranked

    def _merge(self, raw: list[tuple[float, str]]) -> list[tuple[str, float]]:
        # Labels that map to one language (zh-cn, zh-tw) add up.
        merged: dict[str, float] = {}
        for prob, label in raw:
            lang = self.lang_of(label)
            merged[lang] = merged.get(lang, 0.0) + float(prob)
        return sorted(((lang, min(1.0, p)) for lang, p in merged.items()), key=lambda item: (-item[1], item[0]))

    def predict(self, texts: Iterable[str] | str) -> list[tuple[str, float]]:
        """The top language and its probability for each text, in order.

        A text with nothing but whitespace gives ``("und", 0.0)``. A single
        string is treated as a batch of one. With ``script_rule`` (the
        default), a language that is not written in the script holding most
        of the text's letters (or Japanese for text without kana) is never
        the answer: the best language the scripts allow wins, with its
        probability among those languages.
        """
        if isinstance(texts, str):
            texts = [texts]
        results: list[tuple[str, float]] = []
        for text in texts:
            ranked = self._ranked(text, 1)
            results.append(ranked[0] if ranked else (UNDETERMINED, 0.0))
        return results

    def predict_k(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` best languages for one text as (language, probability), best first.

        Labels that map to the same language (``zh-cn`` and ``zh-tw``) have
        their probabilities added. The script rule applies as in ``predict``.
        """
        return self._ranked(text, k)[:k]


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
