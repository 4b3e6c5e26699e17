"""Curate's step wrappers and the batch runner, without Beam."""

import dataclasses

import pytest

from filters import toxicity
from filters.document import Document
from pipeline.filtering import run_steps, run_steps_batch
from pipeline.steps import STEP_ORDER, CleanStep, CodeStep, ProseFilterStep, StepFactory, ToxicityStep, stage_of_reason
from filters import clean, code, quality


ENGLISH = ("The installer asks a few questions about the keyboard layout and the network, then copies the base system "
           "to the disk. It takes a while, and you can read the release notes in the meantime. ") * 3


def doc(i, text, **meta):
    return Document(id=f"d{i}", text=text, source="web", lang=meta.pop("lang", "en"), meta=meta)


def test_batch_runner_matches_one_by_one():
    steps = [CleanStep(clean.CleanConfig()), ProseFilterStep("gopher_quality", quality.gopher_quality_filter, quality.GopherQualityConfig()),
             CodeStep(code.CodeConfig())]
    docs = [doc(0, ENGLISH + "  \n\n\n\n"), doc(1, "too short"), doc(2, "x = 1\n" * 20, code_lang="python", license="GPL-3.0"),
            doc(3, "def f():\n    return 1\n", code_lang="python", license="MIT")]
    assert run_steps_batch(steps, docs) == [run_steps(steps, d) for d in docs]
    reasons = [r for _, r in run_steps_batch(steps, docs)]
    assert reasons == [None, "gopher_quality:min_words", "code:copyleft_license", None]


def test_toxicity_step_scores_english_prose_only():
    step = ToxicityStep(toxicity.ToxicityTagConfig(fraction=1.0))
    docs = [doc(0, ENGLISH), doc(1, "You are a worthless idiot and everybody here hates you, so shut up."),
            doc(2, "Das ist ein ganz normaler deutscher Satz über das Wetter.", lang="de"),
            doc(3, "int main(void) { return 0; }", code_lang="c")]
    out = step.apply_batch(docs)
    assert out[0].meta["toxicity"] < 0.2 and out[0].meta["toxicity_level"] == "low"
    assert out[1].meta["toxicity"] > 0.5 and out[1].meta["toxicity_level"] == "high"
    assert out[2].meta["toxicity"] is None and "toxicity_level" not in out[2].meta
    assert out[3].meta["toxicity"] is None
    assert [d.text for d in out] == [d.text for d in docs]


def test_factory_builds_steps_in_fixed_order():
    @dataclasses.dataclass
    class Cfg:
        steps: tuple = ("code", "clean")
        clean: object = clean.CleanConfig()
        code: object = code.CodeConfig()

    assert [s.name for s in StepFactory(Cfg())()] == ["clean", "code"]


@pytest.mark.parametrize("reason, stage", [("clean:replacement_chars", (0, "clean")), ("code:minified", (5, "code")),
                                           ("gopher_repetition:dup_line_frac", (3, "gopher_repetition"))])
def test_stage_of_reason(reason, stage):
    assert stage_of_reason(reason) == stage
    assert STEP_ORDER[stage[0]] == stage[1]


def test_langid_step_uses_per_language_thresholds():
    # langid.thresholds replaces langid.threshold for the languages it names
    # (docs/LANGID.md, "Threshold"): a Danish UI line the shipped model is unsure
    # about is rejected by a global threshold just above its score, and kept when
    # Danish alone gets a threshold just below it; other languages keep the global one.
    from pipeline.curate import CurateConfig, LangIdConfig

    danish = doc(0, "Vis alle filer i mappen", lang="")
    step = StepFactory(CurateConfig(steps=("langid",)))()[0]
    score = step(danish).lang_score
    assert step(danish).lang == "da" and score < 0.99
    strict = LangIdConfig(threshold=min(1.0, score + 0.01))
    per_language = LangIdConfig(threshold=min(1.0, score + 0.01), thresholds={"da": score - 0.01})
    assert per_language.decision_threshold() == {"*": strict.threshold, "da": score - 0.01}
    for cfg, expected in ((strict, "langid:low_confidence"), (per_language, "da")):
        [langid_step] = StepFactory(CurateConfig(steps=("langid",), langid=cfg))()
        out = langid_step(danish)
        assert (out if isinstance(out, str) else out.lang) == expected
        assert langid_step(doc(1, ENGLISH)).lang == "en"


@pytest.mark.parametrize("thresholds, message", [({"da": 1.5}, "thresholds.da must be in [0, 1]"),
                                                 ({"*": 0.3}, "is not a language code")])
def test_langid_thresholds_are_checked(thresholds, message):
    from pipeline.curate import LangIdConfig

    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        LangIdConfig(thresholds=thresholds)


def test_c4_step_runs_on_the_configured_languages_only():
    from pipeline.steps import C4Step

    # One sentence, no terminal punctuation: C4's page rules reject it.
    german = doc(0, "Das ist ein kurzer Satz ohne Punkt am Ende", lang="de")
    english = doc(1, "This is a short line without a full stop at the end", lang="en")
    step = C4Step(quality.C4Config())
    assert step(german) == german  # English rules leave German alone by default
    assert isinstance(step(english), str) and step(english).startswith("c4:")
    everything = C4Step(quality.C4Config(languages=()))
    assert isinstance(everything(german), str) and everything(german).startswith("c4:")
