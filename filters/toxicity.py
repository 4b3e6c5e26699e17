"""Toxicity scores and PaLM 2's toxicity control tokens.

What PaLM 2 did (Anil et al. 2023, §3 and §5.1): a small fraction of the
pre-training data was marked with control tokens giving its toxicity, as
scored by a *fixed version* of the Perspective API. At inference a prompt can
be prefixed with one of those tokens to steer how toxic the continuation is.
The paper publishes neither the token strings, nor the number of levels, nor
the thresholds, nor the tagged fraction. Pinning the scorer matters because a
level only means something relative to the model that scored it: rescoring
with a newer classifier moves documents across thresholds.

What palmkit does, and what it assumes:

* Every curated document gets ``meta["toxicity"]``: a score (rounded to
  four places, so shards stay byte-identical across runs) for prose in a
  language the scorer covers, ``None`` for code and other languages.
* A deterministic fraction of documents, chosen by a hash of (seed, id) and
  *independently of the score*, also gets ``meta["toxicity_level"]``; the
  tokenizer prepends ``<tox:LEVEL>`` to those. Choosing independently of the
  score keeps the level mix among tagged documents the same as in the whole
  corpus, so the model learns what each token predicts, not that tagged
  documents are unusual. ``fraction = 0.1`` is an assumption: "a small
  fraction" in the paper; Korbak et al. 2023 tag everything but 1%.
* Three levels, ``low``/``medium``/``high``, the common reading of the paper.
  ``thresholds`` maps each level to the lowest score it covers:
  ``{"low": 0.0, "medium": 0.2, "high": 0.5}``. 0.5 is where
  RealToxicityPrompts (Gehman et al. 2020), and PaLM 2's own evaluations that
  use it, call text toxic, so ``<tox:high>`` means "toxic by the metric the
  model is judged on". 0.2 keeps ``<tox:low>``, the token users will prompt
  with, to text the scorer finds plainly benign. Measured with the offline
  scorer and the default chunking on ``examples/corpus``: 95% of the English
  Debian manual pages score below 0.2 and 0.5% reach 0.5 (false alarms on
  words such as "shut down" and "hard disk"), while 12% of the English
  fortune cookies (jokes, insults, rude proverbs) reach 0.2 and 3.5% reach
  0.5. Thresholds belong to a scorer; change them when you change the scorer.
* The scorer's identity (``scorer_info``) goes into the curate stats, as PaLM
  2 froze its Perspective version.

Scorers. Anything with ``name``, ``version`` and a batched ``score(texts) ->
list[float]`` in [0, 1] is a ``ToxicityScorer``; an optional ``setup()`` loads
models once per worker. Two ship:

* ``"offline"`` (default): ``ProfanityCheckScorer``, the linear SVM with
  calibrated probabilities shipped in the PyPI package ``alt-profanity-check``
  (TF-IDF over English words; its README says it was trained on 200k
  human-labelled samples of clean and profane text). It runs anywhere
  without a network. It is English-only (``languages == ("en",)``): other
  languages score near its base rate whatever they say. It detects offensive
  and profane wording more than toxicity in Perspective's wider sense: "To
  generalize is to be an idiot." scores 1.0, "I know where you live, and I
  will make sure you regret this." 0.197.
* ``"perspective"``: ``filters.perspective.PerspectiveScorer``, Google's
  Perspective API, for users with a key; what PaLM 2 used.

Long documents. Classifiers like these were trained on comment-sized texts,
and a bag-of-words score over a whole page dilutes one abusive sentence to
nothing: the offline model gives 0.9999 to "You are a worthless idiot and
everybody here hates you, so shut up." alone, 0.94 to the 400-character
window holding it among benign sentences, 0.04 to a
1,000-character window, and 0.004 to the 8,400-character page. So a
document is cut into at most ``max_chunks`` windows of at most
``chunk_chars`` characters (400 and 20 by default: a few sentences, about
the length of the comments the model learnt from; 8,000 characters a page),
taken from the start on paragraph boundaries, and its score is the
**maximum** over the windows. The maximum, because a page is as toxic as
its worst part to a reader (and to a model trained on it); a mean would make
long pages look clean just for being long. Its weakness, a false alarm in
any one window lifting the whole page, stays bounded because the number of
windows is; a high quantile of at most 20 numbers would differ from the
maximum only by ignoring the worst window or two, which is exactly the
signal wanted here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.metadata
import importlib.resources
import math
import os
import re
from typing import Any, Literal, Mapping, Protocol, Sequence, runtime_checkable

from filters.document import Document

__all__ = [
    "ToxicityScorerError",
    "ToxicityScorer",
    "prepare",
    "ProfanityCheckScorer",
    "ToxicityTagConfig",
    "DEFAULT_THRESHOLDS",
    "check_thresholds",
    "select_for_tagging",
    "toxicity_level",
    "control_token",
    "level_tokens",
    "chunks",
    "score_documents",
    "score_document",
    "tag_document",
    "scorer_info",
    "scorer_from_config",
]

DEFAULT_THRESHOLDS: Mapping[str, float] = {"low": 0.0, "medium": 0.2, "high": 0.5}
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")
_TOKEN_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


class ToxicityScorerError(RuntimeError):
    """A scorer could not produce scores: bad key, unreachable service, malformed reply.

    The message is one line that says what went wrong and what to check.
    """


@runtime_checkable
class ToxicityScorer(Protocol):
    """What curate needs from a toxicity model.

    ``name`` and ``version`` identify it in the stats (a score means nothing
    without knowing which model made it). ``score`` takes a batch, because
    per-call overhead dominates for small models (the offline model takes
    10-30 ms a call whether it holds one short text or a thousand), and
    returns one probability-like number in [0, 1] per text, in order. An
    optional ``setup()`` loads the model; ``prepare`` calls it. An optional
    ``languages`` lists the language codes a scorer's numbers mean anything
    for (``("en",)`` for the offline model), None or absent for any: a
    caller may skip scoring, or ignore the score of, other languages.
    """

    name: str
    version: str

    def score(self, texts: list[str]) -> list[float]: ...


def prepare(scorer: ToxicityScorer) -> ToxicityScorer:
    """Calls ``scorer.setup()`` when it has one; returns the scorer.

    Beam steps call this in ``DoFn.setup`` so a model is loaded once per
    worker, not pickled with the pipeline.
    """
    setup = getattr(scorer, "setup", None)
    if callable(setup):
        setup()
    return scorer


# ---------------------------------------------------------------------------
# The offline scorer
# ---------------------------------------------------------------------------


class ProfanityCheckScorer:
    """The classifier in ``alt-profanity-check``, loaded once, scored in batches.

    ``version`` is the package version plus a sha256 of its two model files
    (vectoriser and classifier), so a rebuilt wheel with the same version
    number but a different model does not pass as the same scorer. It is
    computed from the files alone; ``setup()`` (scikit-learn and about 3 s of
    loading) is only needed for ``score``. The loaded model is dropped when
    the scorer is pickled and loaded again on first use.
    """

    name = "alt-profanity-check"
    package = "profanity_check"
    languages = ("en",)

    def __init__(self) -> None:
        self._version: str | None = None
        self._predict_prob = None

    @property
    def version(self) -> str:
        if self._version is None:
            try:
                package_version = importlib.metadata.version(self.name)
            except importlib.metadata.PackageNotFoundError:
                raise ToxicityScorerError(
                    "the offline toxicity scorer needs the package alt-profanity-check "
                    "(pip install -c requirements/constraints.txt alt-profanity-check)"
                ) from None
            self._version = f"{package_version}+sha256.{self._model_digest()[:16]}"
        return self._version

    def _model_digest(self) -> str:
        data = importlib.resources.files(self.package) / "data"
        files = sorted((f for f in data.iterdir() if f.name.endswith(".joblib")), key=lambda f: f.name)
        if not files:
            raise ToxicityScorerError(f"no model files (*.joblib) in {data}; is alt-profanity-check installed whole?")
        digest = hashlib.sha256()
        for f in files:
            digest.update(f.name.encode("utf-8") + b"\x00")
            digest.update(hashlib.sha256(f.read_bytes()).digest())
        return digest.hexdigest()

    def setup(self) -> None:
        if self._predict_prob is not None:
            return
        _ = self.version  # raises the install hint before scikit-learn is imported
        # The package loads its vectoriser and model when imported.
        from profanity_check import predict_prob

        self._predict_prob = predict_prob

    def score(self, texts: list[str]) -> list[float]:
        if not texts:
            return []
        if self._predict_prob is None:
            self.setup()
        probs = self._predict_prob([str(t) for t in texts])
        return [min(1.0, max(0.0, float(p))) for p in probs]

    def __getstate__(self) -> dict[str, Any]:
        return {"_version": self._version, "_predict_prob": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._version = state["_version"]
        self._predict_prob = None


# ---------------------------------------------------------------------------
# Tagging config and decisions
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ToxicityTagConfig:
    """Toxicity scoring and control-token tagging in curate.

    ``enabled``: tag a fraction of documents with a level (every document is
    scored either way when the step runs). ``fraction``: the share of
    documents tagged, chosen by ``select_for_tagging`` (0.1 is an assumption;
    see the module docstring). ``thresholds``: the lowest score of each level;
    one level must start at 0.0. ``seed``: changes which documents are
    tagged. ``chunk_chars`` / ``max_chunks``: how much of a document is scored
    (see ``chunks``). ``scorer``: ``"offline"`` or ``"perspective"``; the
    ``perspective_*`` fields configure the latter. The API key is read from
    the environment variable named by ``perspective_api_key_env``, never from
    a config file that might be committed. Perspective's default quota is 1
    request a second per project, so with it use ``max_chunks=1`` and a
    ``chunk_chars`` up to 20000 (the API's limit is 20 KB a request), and set
    ``perspective_qps`` to the quota divided by the number of workers.
    """

    enabled: bool = True
    fraction: float = 0.1
    thresholds: dict[str, float] = dataclasses.field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    seed: int = 0
    chunk_chars: int = 400
    max_chunks: int = 20
    scorer: Literal["offline", "perspective"] = "offline"
    perspective_api_key_env: str = "PERSPECTIVE_API_KEY"
    perspective_endpoint: str = "https://commentanalyzer.googleapis.com/v1alpha1/comments:analyze"
    perspective_attribute: str = "TOXICITY"
    perspective_languages: tuple[str, ...] = ()
    perspective_qps: float = 1.0
    perspective_max_retries: int = 5
    perspective_timeout: float = 30.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be in [0, 1], got {self.fraction}")
        check_thresholds(self.thresholds)
        if self.chunk_chars < 1 or self.max_chunks < 1:
            raise ValueError(f"chunk_chars and max_chunks must be >= 1, got {self.chunk_chars}, {self.max_chunks}")
        if self.scorer not in ("offline", "perspective"):
            raise ValueError(f"scorer must be 'offline' or 'perspective', got {self.scorer!r}")


def check_thresholds(thresholds: Mapping[str, float]) -> list[tuple[float, str]]:
    """Validates level thresholds; returns ``(threshold, level)`` pairs, lowest first.

    Every level name must be usable inside ``<tox:NAME>`` (letters, digits,
    ``_ . -``), every threshold in [0, 1] and distinct, and one must be 0.0 so
    every score has a level. Raises ``ValueError`` naming the problem.
    """
    if not thresholds:
        raise ValueError("thresholds must name at least one level")
    pairs = []
    for level, value in thresholds.items():
        if not isinstance(level, str) or not _TOKEN_NAME.match(level):
            raise ValueError(f"toxicity level {level!r} must be letters, digits, '_', '.' or '-'")
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"threshold of level {level!r} must be in [0, 1], got {value}")
        pairs.append((value, level))
    pairs.sort()
    if pairs[0][0] != 0.0:
        raise ValueError(f"one level must start at 0.0 so every score has a level, lowest is {pairs[0][1]!r} at {pairs[0][0]}")
    for (a, la), (b, lb) in zip(pairs, pairs[1:]):
        if a == b:
            raise ValueError(f"levels {la!r} and {lb!r} have the same threshold {a}")
    return pairs


def select_for_tagging(doc_id: str, fraction: float, seed: int = 0) -> bool:
    """Whether document ``doc_id`` gets a control token: a coin fixed by (seed, id).

    blake2b of ``"toxicity-tag", seed, id`` read as a number in [0, 1),
    compared with ``fraction``. The same document is chosen on every run, on
    any worker, in any order, and the label keeps this coin independent of
    the other seeded coins palmkit flips on document ids (sampling, dedup).
    Raising ``fraction`` only adds documents to those already chosen.
    """
    if fraction <= 0.0:
        return False
    if fraction >= 1.0:
        return True
    digest = hashlib.blake2b(f"toxicity-tag\x00{seed}\x00{doc_id}".encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction


def toxicity_level(score: float, thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS) -> str:
    """The level whose range holds ``score``: the highest threshold ``<= score``.

    With the defaults: [0, 0.2) low, [0.2, 0.5) medium, [0.5, 1] high. A
    score exactly on a threshold belongs to the level that starts there.
    """
    if not (isinstance(score, (int, float)) and math.isfinite(score)):
        raise ValueError(f"toxicity score must be a finite number, got {score!r}")
    level = None
    for threshold, name in check_thresholds(thresholds):
        if score >= threshold:
            level = name
    if level is None:  # only a negative score gets here
        raise ValueError(f"toxicity score must be in [0, 1], got {score}")
    return level


def control_token(level: str) -> str:
    """``"high"`` -> ``"<tox:high>"``: the reserved vocabulary symbol for a level."""
    if not _TOKEN_NAME.match(level or ""):
        raise ValueError(f"toxicity level {level!r} must be letters, digits, '_', '.' or '-'")
    return f"<tox:{level}>"


def level_tokens(thresholds: Mapping[str, float] = DEFAULT_THRESHOLDS) -> list[str]:
    """The control tokens for every level, lowest first: what the vocabulary must reserve."""
    return [control_token(level) for _, level in check_thresholds(thresholds)]


# ---------------------------------------------------------------------------
# Scoring documents
# ---------------------------------------------------------------------------


def _paragraphs(text: str):
    """The paragraphs of ``text`` (split at blank lines), found lazily so a huge text is not scanned whole."""
    start = 0
    for match in _PARAGRAPH_BREAK.finditer(text):
        yield text[start : match.start()]
        start = match.end()
    yield text[start:]


def _windows(paragraph: str, size: int, limit: int) -> list[str]:
    """The first ``limit`` pieces of ``paragraph``, each at most ``size`` characters, cut at whitespace when there is some."""
    out: list[str] = []
    while len(paragraph) > size and len(out) < limit:
        cut = max(paragraph.rfind(space, size // 2, size + 1) for space in " \n\t")
        cut = cut if cut > 0 else size
        piece = paragraph[:cut].strip()
        if piece:
            out.append(piece)
        paragraph = paragraph[cut:].lstrip()
    if paragraph and len(out) < limit:
        out.append(paragraph)
    return out


def chunks(text: str, chunk_chars: int = 400, max_chunks: int = 20) -> list[str]:
    """The first ``max_chunks`` windows of ``text`` that get scored, each at most ``chunk_chars`` long.

    Paragraphs (split at blank lines) are packed whole into a window while
    they fit, so a window rarely cuts a sentence; a paragraph longer than a
    window is cut at whitespace. Whitespace-only text has no windows. The
    work is bounded by ``max_chunks * chunk_chars`` characters however long
    the text: paragraphs are found lazily and a long one is only read as far
    as the windows still needed (plus one window of look-ahead).
    """
    if chunk_chars < 1 or max_chunks < 1:
        raise ValueError("chunk_chars and max_chunks must be >= 1")
    out: list[str] = []
    current = ""
    for paragraph in _paragraphs(text):
        needed = max_chunks - len(out)
        paragraph = paragraph[: (needed + 1) * chunk_chars + 1].strip()
        if not paragraph:
            continue
        if current and len(current) + 2 + len(paragraph) <= chunk_chars:
            current = f"{current}\n\n{paragraph}"
            continue
        if current:
            out.append(current)
            current = ""
            if len(out) == max_chunks:
                return out
        pieces = _windows(paragraph, chunk_chars, max_chunks - len(out))
        out.extend(pieces[:-1])
        current = pieces[-1]
        if len(out) == max_chunks:
            return out
    if current:
        out.append(current)
    return out[:max_chunks]


def _checked(scores: Sequence[Any], expected: int, scorer: ToxicityScorer) -> list[float]:
    scores = list(scores)
    if len(scores) != expected:
        raise ToxicityScorerError(
            f"scorer {getattr(scorer, 'name', scorer)!r} returned {len(scores)} scores for {expected} texts"
        )
    out = []
    for value in scores:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise ToxicityScorerError(f"scorer {getattr(scorer, 'name', scorer)!r} returned a non-number: {value!r}") from None
        if not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ToxicityScorerError(f"scorer {getattr(scorer, 'name', scorer)!r} returned {value}, outside [0, 1]")
        out.append(value)
    return out


def score_documents(
    scorer: ToxicityScorer, texts: Sequence[str], *, chunk_chars: int = 400, max_chunks: int = 20
) -> list[float]:
    """One score per text: the maximum over its ``chunks`` (see the module docstring).

    All windows of all texts go to the scorer in a single ``score`` call, so
    a caller that batches documents pays the per-call overhead once. A text
    with no windows (empty or whitespace) scores 0.0 without a call. Scores
    that are not numbers in [0, 1], or a wrong count of them, raise
    ``ToxicityScorerError``.
    """
    flat: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        for window in chunks(text, chunk_chars, max_chunks):
            flat.append(window)
            owner.append(i)
    result = [0.0] * len(texts)
    if not flat:
        return result
    for i, value in zip(owner, _checked(scorer.score(flat), len(flat), scorer)):
        result[i] = max(result[i], value)
    return result


def score_document(scorer: ToxicityScorer, text: str, cfg: ToxicityTagConfig = ToxicityTagConfig()) -> float:
    """``score_documents`` for one text with the chunking of ``cfg``."""
    return score_documents(scorer, [text], chunk_chars=cfg.chunk_chars, max_chunks=cfg.max_chunks)[0]


def tag_document(doc: Document, score: float, cfg: ToxicityTagConfig = ToxicityTagConfig()) -> Document:
    """``doc`` with ``meta["toxicity"]`` set and, when chosen, ``meta["toxicity_level"]``.

    The score is rounded to 4 places (byte-stable shards) and the level is
    computed from the rounded value, so anyone re-deriving a level from the
    stored score gets the same answer. A document is chosen when
    ``cfg.enabled`` and ``select_for_tagging(doc.id, cfg.fraction,
    cfg.seed)``; a level left over from an earlier run is removed from one
    that is not chosen, so the stored tags always match ``cfg``.
    """
    if not (isinstance(score, (int, float)) and math.isfinite(score) and 0.0 <= score <= 1.0):
        raise ValueError(f"toxicity score of {doc.id!r} must be in [0, 1], got {score!r}")
    rounded = round(float(score), 4)
    meta = dict(doc.meta)
    meta["toxicity"] = rounded
    meta.pop("toxicity_level", None)
    if cfg.enabled and select_for_tagging(doc.id, cfg.fraction, cfg.seed):
        meta["toxicity_level"] = toxicity_level(rounded, cfg.thresholds)
    return dataclasses.replace(doc, meta=meta)


# ---------------------------------------------------------------------------
# Identity and construction
# ---------------------------------------------------------------------------


def scorer_info(scorer: ToxicityScorer) -> dict[str, str]:
    """``{"name", "version"}`` of a scorer, for stats.json."""
    return {"name": str(scorer.name), "version": str(scorer.version)}


def scorer_from_config(
    name: str = "offline", cfg: ToxicityTagConfig | None = None, *, api_key: str | None = None
) -> ToxicityScorer:
    """The scorer called ``name`` ("offline" or "perspective"), set up from ``cfg``.

    For Perspective, ``api_key`` wins over the environment variable named by
    ``cfg.perspective_api_key_env``; without either, ``ToxicityScorerError``
    names the variable to set. The scorer is not ``setup()`` yet: call
    ``prepare`` on the worker.
    """
    cfg = cfg or ToxicityTagConfig()
    if name == "offline":
        return ProfanityCheckScorer()
    if name == "perspective":
        from filters.perspective import PerspectiveScorer

        key = api_key or os.environ.get(cfg.perspective_api_key_env, "")
        if not key:
            raise ToxicityScorerError(
                f"the Perspective scorer needs an API key: set ${cfg.perspective_api_key_env}"
            )
        return PerspectiveScorer(
            key,
            endpoint=cfg.perspective_endpoint,
            attribute=cfg.perspective_attribute,
            languages=list(cfg.perspective_languages) or None,
            qps=cfg.perspective_qps,
            max_retries=cfg.perspective_max_retries,
            timeout=cfg.perspective_timeout,
        )
    raise ToxicityScorerError(f"unknown toxicity scorer {name!r} (known: offline, perspective)")
