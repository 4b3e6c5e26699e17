"""The curate job's steps: filters/ functions wrapped as ``Document -> Document | reason``.

Each wrapper decides what it applies to (prose or code) and holds its
thresholds; ``StepFactory`` builds the list on a worker, in ``STEP_ORDER``,
from the job's config. The wrappers hold no Beam code; ``ApplySteps`` runs them.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Mapping

from filters import clean as clean_rules
from filters import code as code_rules
from filters import langid as langid_rules
from filters import quality as quality_rules
from filters import toxicity as toxicity_rules
from filters.document import Document

# The order steps always run in. Language ID comes before the quality rules
# because some of them depend on the language (stop words, CJK word counts).
STEP_ORDER = ("clean", "langid", "gopher_quality", "gopher_repetition", "c4", "code", "toxicity")

CODE_LANG = "code"  # the ``lang`` of every code document; its language is meta["code_lang"]


def is_code(doc: Document) -> bool:
    return bool(doc.meta.get("code_lang"))


def stage_of_reason(reason: str) -> tuple[int, str]:
    """``gopher_quality:min_words`` → ``(2, "gopher_quality")``, for the report's funnel."""
    family = reason.split(":", 1)[0]
    if family in STEP_ORDER:
        return STEP_ORDER.index(family), family
    return len(STEP_ORDER), family


def default_langid_model() -> str:
    """The fastText model shipped with palmkit (see filters/data/README.md)."""
    return os.path.join(os.path.dirname(langid_rules.__file__), "data", "lid.palmkit.ftz")


class CleanStep:
    name = "clean"

    def __init__(self, cfg: clean_rules.CleanConfig):
        self.cfg = cfg

    def __call__(self, doc: Document):
        doc = clean_rules.clean_document(doc, is_code=is_code(doc), cfg=self.cfg)
        return clean_rules.clean_filter(doc, self.cfg) or doc


class LangIdStep:
    """Tags prose with ``lang``/``lang_score``; code gets ``lang="code"`` without a model call."""

    name = "langid"

    def __init__(self, model_path: str, threshold: float | Mapping[str, float], below_threshold: str):
        self.model_path = model_path
        self.threshold = threshold
        self.below_threshold = below_threshold
        self.identifier = None

    def setup(self):
        # Once per worker: fastText models cannot be pickled, and loading is slow.
        self.identifier = langid_rules.LanguageIdentifier(self.model_path)

    def __call__(self, doc: Document):
        if is_code(doc):
            return dataclasses.replace(doc, lang=CODE_LANG, lang_score=1.0)
        if self.identifier is None:
            self.setup()
        [(lang, score)] = self.identifier.predict([doc.text])
        lang, reason = langid_rules.langid_decision(lang, score, self.threshold)
        if reason and self.below_threshold == "reject":
            return reason
        return dataclasses.replace(doc, lang=lang if not reason else "und", lang_score=round(float(score), 4))


class ProseFilterStep:
    """A filters/quality family applied to prose only."""

    def __init__(self, name: str, fn, cfg):
        self.name = name
        self.fn = fn
        self.cfg = cfg

    def __call__(self, doc: Document):
        if is_code(doc):
            return doc
        return self.fn(doc, self.cfg) or doc


class C4Step:
    """C4's line filter (changes the text) and its page rules, in one pass."""

    name = "c4"

    def __init__(self, cfg: quality_rules.C4Config):
        self.cfg = cfg

    def __call__(self, doc: Document):
        # English rules: other languages pass untouched unless c4.languages names them.
        if is_code(doc) or (self.cfg.languages and doc.lang not in self.cfg.languages):
            return doc
        return quality_rules.c4_clean_document(doc, self.cfg)


class CodeStep:
    name = "code"

    def __init__(self, cfg: code_rules.CodeConfig):
        self.cfg = cfg

    def __call__(self, doc: Document):
        if not is_code(doc):
            return doc
        return code_rules.code_filter(doc, self.cfg) or doc


class ToxicityStep:
    """Scores prose for toxicity and tags a seeded fraction with a level (PaLM 2's control tokens).

    Never rejects. Runs last, so no time goes into scoring documents that
    are dropped anyway. Documents in languages the scorer does not cover (the
    offline model is English-only) and code get ``meta["toxicity"] = None``
    rather than a number that would look meaningful and is not.
    """

    name = "toxicity"

    def __init__(self, cfg: toxicity_rules.ToxicityTagConfig):
        self.cfg = cfg
        self.scorer = None

    def setup(self):
        self.scorer = toxicity_rules.prepare(toxicity_rules.scorer_from_config(self.cfg.scorer, self.cfg))

    def _scorable(self, doc: Document) -> bool:
        languages = getattr(self.scorer, "languages", None)
        return not is_code(doc) and (not languages or doc.lang in languages)

    def apply_batch(self, docs: list[Document]) -> list[Document]:
        if self.scorer is None:
            self.setup()
        todo = [d for d in docs if self._scorable(d)]
        scores = toxicity_rules.score_documents(
            self.scorer, [d.text for d in todo], chunk_chars=self.cfg.chunk_chars, max_chunks=self.cfg.max_chunks
        )
        by_id = {id(d): score for d, score in zip(todo, scores)}
        out = []
        for doc in docs:
            if id(doc) in by_id:
                out.append(toxicity_rules.tag_document(doc, by_id[id(doc)], self.cfg))
            else:
                out.append(doc.with_meta(toxicity=None))
        return out

    def __call__(self, doc: Document):
        return self.apply_batch([doc])[0]


class StepFactory:
    """Picklable recipe for the step list; called on each worker in ``DoFn.setup``."""

    def __init__(self, cfg):
        self.cfg = cfg

    def __call__(self) -> list:
        cfg = self.cfg
        built = {
            "clean": lambda: CleanStep(cfg.clean),
            "langid": lambda: LangIdStep(cfg.langid.model or default_langid_model(), cfg.langid.decision_threshold(),
                                      cfg.langid.below_threshold),
            "gopher_quality": lambda: ProseFilterStep("gopher_quality", quality_rules.gopher_quality_filter, cfg.gopher_quality),
            "gopher_repetition": lambda: ProseFilterStep("gopher_repetition", quality_rules.gopher_repetition_filter, cfg.gopher_repetition),
            "c4": lambda: C4Step(cfg.c4),
            "code": lambda: CodeStep(cfg.code),
            "toxicity": lambda: ToxicityStep(cfg.toxicity),
        }
        return [built[name]() for name in STEP_ORDER if name in cfg.steps]
