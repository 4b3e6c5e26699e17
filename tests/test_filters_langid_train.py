"""Tests for filters.langid_train: training and quantizing a tiny fastText model (no downloads).

Training runs in a fresh child interpreter, so a seeded run gives byte-identical
model files whatever this process's heap holds; the tiny training set and the
``trained`` fixture are shared with tests/test_filters_langid.py.
"""

import hashlib
import os

import pytest

fasttext = pytest.importorskip("fasttext")

from filters.langid import LanguageIdentifier, prepare_text  # noqa: E402
from filters.langid_train import quantize_model, train_model  # noqa: E402
from tests.test_filters_langid import HELD_OUT, RECORDS, TRAIN_ARGS, trained  # noqa: E402, F401


def test_training_writes_a_model_and_reloading_predicts_the_same(trained):
    identifier, path = trained
    assert os.path.getsize(path) > 0
    reloaded = LanguageIdentifier(path)
    texts = [r["text"] for r in RECORDS + HELD_OUT]
    assert reloaded.predict(texts) == identifier.predict(texts)
    assert reloaded.languages == ["de", "en", "es", "fr"]


def test_prepare_text_is_what_training_and_prediction_see():
    from types import SimpleNamespace

    from filters import langid_train

    text = "-x --discard-all\nUsuwa symbole\r\nnieglobalne."
    assert prepare_text(text) == "Usuwa symbole nieglobalne."
    lines = langid_train._training_lines([{"text": text, "lang": "pl"}], seed=0)
    assert lines == ["__label__pl Usuwa symbole nieglobalne.\n"]
    seen = []

    def predict(line, k, threshold, on_error):
        seen.append(line)
        return [(0.9, "__label__pl")]

    identifier = LanguageIdentifier(model=SimpleNamespace(f=SimpleNamespace(predict=predict)))
    assert identifier.predict([text]) == [("pl", 0.9)]
    assert seen == [b"Usuwa symbole nieglobalne.\n"]


def _sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def test_training_is_deterministic_with_a_seed(tmp_path, trained):
    identifier, path = trained
    again = train_model(RECORDS, tmp_path / "again.bin", **TRAIN_ARGS)
    assert _sha256(tmp_path / "again.bin") == _sha256(path)
    texts = [r["text"] for r in RECORDS + HELD_OUT]
    assert again.predict(texts) == identifier.predict(texts)


def test_training_does_not_depend_on_this_process_heap(tmp_path, trained):
    """fastText leaves most of its input matrix uninitialised; recycled heap memory
    used to change (or NaN) the model. Training in a fresh process must not care."""
    _, path = trained
    junk = [("x%d" % i) * 50 for i in range(1_000_000)]
    del junk
    train_model(RECORDS, tmp_path / "after_junk.bin", **TRAIN_ARGS)
    assert _sha256(tmp_path / "after_junk.bin") == _sha256(path)


def test_training_failure_is_reported(tmp_path):
    with pytest.raises(RuntimeError, match="fastText training failed"):
        train_model(RECORDS, tmp_path / "bad.bin", bucket=20_000, loss="no-such-loss")


def test_training_input_errors(tmp_path):
    with pytest.raises(ValueError, match="no training records"):
        train_model([], tmp_path / "m.bin")
    with pytest.raises(ValueError, match="lang"):
        train_model([{"text": "hello there", "lang": "en us"}], tmp_path / "m.bin")
    with pytest.raises(ValueError, match="no text"):
        train_model([{"text": " \n ", "lang": "en"}], tmp_path / "m.bin")


def test_quantize_with_cutoff_and_retraining_is_small_deterministic_and_accurate(tmp_path, trained):
    identifier, path = trained
    rows = identifier.model.get_input_matrix().shape[0]
    cutoff = 2_000
    assert cutoff < rows  # the cutoff really prunes
    first = quantize_model(path, RECORDS, tmp_path / "q1.ftz", cutoff=cutoff, seed=7)
    second = quantize_model(path, RECORDS, tmp_path / "q2.ftz", cutoff=cutoff, seed=7)
    assert _sha256(tmp_path / "q1.ftz") == _sha256(tmp_path / "q2.ftz")
    assert os.path.getsize(tmp_path / "q1.ftz") < os.path.getsize(path) / 4
    assert first.model.is_quantized()
    assert first.languages == identifier.languages
    texts = [r["text"] for r in HELD_OUT]
    assert [lang for lang, _ in first.predict(texts)] == [r["lang"] for r in HELD_OUT]
    assert second.predict(texts) == first.predict(texts)


def test_quantize_without_cutoff_needs_no_records(tmp_path, trained):
    identifier, path = trained
    quantized = quantize_model(path, None, tmp_path / "q.ftz")
    assert quantized.model.is_quantized()
    texts = [r["text"] for r in HELD_OUT]
    assert [lang for lang, _ in quantized.predict(texts)] == [r["lang"] for r in HELD_OUT]


def test_quantize_rejects_bad_arguments(tmp_path, trained):
    _, path = trained
    with pytest.raises(ValueError, match="cutoff"):
        quantize_model(path, RECORDS, tmp_path / "q.ftz", cutoff=-1)
    with pytest.raises(ValueError, match="training records"):
        quantize_model(path, None, tmp_path / "q.ftz", cutoff=100)
    with pytest.raises(RuntimeError, match="quantization failed"):
        quantize_model(tmp_path / "missing.bin", None, tmp_path / "q.ftz")
