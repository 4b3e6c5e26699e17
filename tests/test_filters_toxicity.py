"""filters.toxicity: tag selection, levels, chunked scoring, and the offline scorer on real sentences."""

import pickle
import re
import time

import pytest

from filters import toxicity as tox
from filters.document import Document
from mixtures.vocab import DEFAULT_CONTROL_SYMBOLS
from palmkit.config import ConfigError, load_config

# Plain English from the Debian manuals in examples/corpus (installation guide, handbook), and a thank-you.
BENIGN = [
    "For multi-user systems or systems with lots of disk space, it's best to put /var, /tmp, "
    "and /home each on their own partitions separate from the / partition.",
    "If you use an empty preseed file, the installer will behave just the same way as in a normal manual installation.",
    "This chapter describes the structure and contents of binary and source packages.",
    "In the context of this book, you are the system administrator of a growing small business.",
    "Thank you so much for your help yesterday, the garden looks wonderful.",
]
# The kind of comment a forum moderator removes: insults, slurs and a threat.
TOXIC = [
    "You are a worthless idiot and everybody here hates you, so shut up.",
    "Shut the fuck up, you stupid bitch, nobody asked for your opinion.",
    "Go kill yourself, you pathetic loser.",
    "What a moronic piece of shit article, the author is a complete dumbass.",
]


@pytest.fixture(scope="module")
def offline():
    return tox.prepare(tox.ProfanityCheckScorer())


# --- which documents get a control token ------------------------------------------------


def test_selection_is_a_pure_function_of_id_fraction_and_seed():
    ids = [f"doc-{i}" for i in range(60)]
    chosen = [i for i, d in enumerate(ids) if tox.select_for_tagging(d, 0.1, 0)]
    # Pinned: a change to the hash would silently retag every corpus.
    assert chosen == [11, 14, 17, 22, 35, 45]
    assert chosen == [i for i, d in enumerate(reversed(ids[::-1])) if tox.select_for_tagging(d, 0.1, 0)]
    assert [i for i, d in enumerate(ids) if tox.select_for_tagging(d, 0.1, 1)] == [2, 5, 7, 15, 19, 26, 52, 57]


def test_selection_rate_matches_fraction_and_grows_monotonically():
    ids = [f"web/{i:06d}" for i in range(20_000)]
    small = {d for d in ids if tox.select_for_tagging(d, 0.05, 7)}
    large = {d for d in ids if tox.select_for_tagging(d, 0.1, 7)}
    assert small <= large  # raising the fraction only adds documents
    assert abs(len(large) / len(ids) - 0.1) < 0.0065  # 3 sigma at n=20,000
    assert abs(len(small) / len(ids) - 0.05) < 0.005
    assert not any(tox.select_for_tagging(d, 0.0, 7) for d in ids[:500])
    assert all(tox.select_for_tagging(d, 1.0, 7) for d in ids[:500])


# --- levels and tokens --------------------------------------------------------------------


@pytest.mark.parametrize(
    "score, level",
    [(0.0, "low"), (0.1999, "low"), (0.2, "medium"), (0.4999, "medium"), (0.5, "high"), (1.0, "high")],
)
def test_default_level_thresholds(score, level):
    assert tox.toxicity_level(score) == level


def test_custom_thresholds_in_any_order():
    thresholds = {"high": 0.9, "low": 0.0}
    assert tox.toxicity_level(0.89, thresholds) == "low"
    assert tox.toxicity_level(0.9, thresholds) == "high"
    assert tox.level_tokens(thresholds) == ["<tox:low>", "<tox:high>"]


@pytest.mark.parametrize(
    "thresholds, message",
    [
        ({}, "at least one level"),
        ({"low": 0.1, "high": 0.5}, "start at 0.0"),
        ({"low": 0.0, "mid": 0.5, "high": 0.5}, "same threshold"),
        ({"low": 0.0, "high": 1.5}, "in [0, 1]"),
        ({"low": 0.0, "very high": 0.9}, "letters, digits"),
        ({"low": 0.0, "x>": 0.9}, "letters, digits"),
    ],
)
def test_bad_thresholds_are_refused(thresholds, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        tox.check_thresholds(thresholds)


@pytest.mark.parametrize("score", [float("nan"), float("inf"), -0.1, "0.5", None])
def test_level_of_a_non_score_is_refused(score):
    with pytest.raises(ValueError):
        tox.toxicity_level(score)


def test_default_tokens_are_the_vocabulary_reserved_symbols():
    assert tox.control_token("medium") == "<tox:medium>"
    assert tuple(tox.level_tokens(tox.ToxicityTagConfig().thresholds)) == DEFAULT_CONTROL_SYMBOLS
    with pytest.raises(ValueError):
        tox.control_token("a b")


# --- tagging documents ------------------------------------------------------------------


def test_tag_document_scores_every_document_and_levels_only_the_chosen():
    cfg = tox.ToxicityTagConfig(fraction=0.1, seed=0)
    docs = [Document(id=f"doc-{i}", text="x", meta={"path": f"p{i}"}) for i in range(60)]
    tagged = [tox.tag_document(d, 0.55, cfg) for d in docs]
    assert all(t.meta["toxicity"] == 0.55 and t.meta["path"] == d.meta["path"] for t, d in zip(tagged, docs))
    assert [i for i, t in enumerate(tagged) if "toxicity_level" in t.meta] == [11, 14, 17, 22, 35, 45]
    assert {t.meta["toxicity_level"] for t in tagged if "toxicity_level" in t.meta} == {"high"}
    assert all("toxicity" not in d.meta for d in docs)  # the originals are unchanged


def test_tag_document_rounds_before_choosing_the_level():
    cfg = tox.ToxicityTagConfig(fraction=1.0)
    doc = tox.tag_document(Document(id="a", text="t"), 0.199996, cfg)
    assert doc.meta == {"toxicity": 0.2, "toxicity_level": "medium"}
    assert tox.toxicity_level(doc.meta["toxicity"], cfg.thresholds) == doc.meta["toxicity_level"]


def test_tag_document_disabled_or_unchosen_drops_a_stale_level():
    stale = Document(id="doc-0", text="t", meta={"toxicity": 0.9, "toxicity_level": "high"})
    assert tox.tag_document(stale, 0.1, tox.ToxicityTagConfig(enabled=False, fraction=1.0)).meta == {"toxicity": 0.1}
    assert tox.tag_document(stale, 0.1, tox.ToxicityTagConfig(fraction=0.0)).meta == {"toxicity": 0.1}
    with pytest.raises(ValueError, match="doc-0"):
        tox.tag_document(stale, 1.2)


def test_tagged_documents_serialise_stably():
    cfg = tox.ToxicityTagConfig(fraction=1.0)
    doc = tox.tag_document(Document(id="a", text="t", source="web"), 0.73456789, cfg)
    assert Document.from_json(doc.to_json()) == doc
    assert '"meta":{"toxicity":0.7346,"toxicity_level":"high"}' in doc.to_json()


# --- config -----------------------------------------------------------------------------


def test_config_defaults_and_overrides_load_through_palmkit_config():
    cfg = load_config(tox.ToxicityTagConfig)
    assert (cfg.fraction, cfg.thresholds, cfg.scorer) == (0.1, {"low": 0.0, "medium": 0.2, "high": 0.5}, "offline")
    cfg = load_config(tox.ToxicityTagConfig, overrides=["fraction=0.25", "seed=4", "perspective_languages=[en, de]"])
    assert (cfg.fraction, cfg.seed, cfg.perspective_languages) == (0.25, 4, ("en", "de"))


@pytest.mark.parametrize(
    "override, message",
    [("fraction=1.5", "fraction must be in [0, 1]"), ("max_chunks=0", "max_chunks"), ("scorer=bert", "scorer must be")],
)
def test_bad_config_values_fail_with_one_line(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tox.ToxicityTagConfig, overrides=[override])


def test_thresholds_in_a_config_file_are_checked(tmp_path):
    path = tmp_path / "tox.yaml"
    path.write_text("thresholds: {low: 0.0, high: 0.8}\n")
    assert load_config(tox.ToxicityTagConfig, path).thresholds == {"low": 0.0, "high": 0.8}
    path.write_text("thresholds: {medium: 0.3, high: 0.8}\n")
    with pytest.raises(ConfigError, match="start at 0.0"):
        load_config(tox.ToxicityTagConfig, path)


# --- chunking ---------------------------------------------------------------------------


def test_chunks_pack_paragraphs_and_cut_long_ones_at_spaces():
    assert tox.chunks("") == [] and tox.chunks(" \n\n \t") == []
    assert tox.chunks("para one\n\npara two\n\n\n  para three is longer", 20, 10) == [
        "para one\n\npara two",
        "para three is longer",
    ]
    assert tox.chunks("a b c d e f g h i j k l m n o p", 5, 10) == ["a b c", "d e f", "g h i", "j k l", "m n o", "p"]
    assert tox.chunks("x" * 25, 10, 10) == ["x" * 10, "x" * 10, "x" * 5]  # no space: hard cut


def test_chunks_bound_the_work_on_huge_documents():
    text = "\n\n".join(f"Paragraph {i} " + "word " * 300 for i in range(5000))  # about 7.5 MB
    start = time.perf_counter()
    windows = tox.chunks(text)
    assert time.perf_counter() - start < 2.0
    assert len(windows) == 20 and all(len(w) <= 400 for w in windows)
    assert windows[0].startswith("Paragraph 0 ")


class CountingScorer:
    """Wraps a real scorer and counts its ``score`` calls."""

    def __init__(self, inner):
        self.inner, self.calls, self.texts = inner, 0, 0
        self.name, self.version = inner.name, inner.version

    def score(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return self.inner.score(texts)


def test_max_over_chunks_finds_one_toxic_paragraph_in_a_long_page(offline):
    page = "\n\n".join(BENIGN * 8)
    mixed = page + "\n\n" + TOXIC[0] + "\n\n" + page
    whole = offline.score([mixed])[0]
    counting = CountingScorer(offline)
    scores = tox.score_documents(counting, [page, mixed, "", "   "], chunk_chars=400, max_chunks=40)
    assert whole < 0.2  # one sentence in a bag of words is diluted away...
    assert scores[1] > 0.9  # ...but not in a window of a few sentences
    assert scores[0] < 0.2 and scores[2:] == [0.0, 0.0]
    assert counting.calls == 1  # all windows of all documents in one batch


def test_score_document_uses_the_configs_chunking(offline):
    text = "\n\n".join(BENIGN * 30) + "\n\n" + TOXIC[1]
    assert len(text) > 12_000
    assert tox.score_document(offline, text, tox.ToxicityTagConfig()) < 0.2  # beyond the first 8,000 characters
    assert tox.score_document(offline, text, tox.ToxicityTagConfig(max_chunks=100)) > 0.9


class BrokenScorer:
    """A third-party scorer that breaks the protocol, as a plug-in might."""

    name, version = "broken", "0"

    def __init__(self, reply):
        self.reply = reply

    def score(self, texts):
        return self.reply(texts)


@pytest.mark.parametrize(
    "reply, message",
    [
        (lambda texts: [0.5] * (len(texts) + 1), "returned 2 scores for 1 texts"),
        (lambda texts: [1.5] * len(texts), "outside [0, 1]"),
        (lambda texts: [float("nan")] * len(texts), "outside [0, 1]"),
        (lambda texts: ["high"] * len(texts), "non-number"),
    ],
)
def test_a_scorer_breaking_the_protocol_is_a_clear_error(reply, message):
    with pytest.raises(tox.ToxicityScorerError, match=re.escape(message)):
        tox.score_documents(BrokenScorer(reply), ["some text"])


# --- the offline scorer -----------------------------------------------------------------


def test_offline_scorer_ranks_toxic_above_benign(offline):
    benign = offline.score(BENIGN)
    toxic = offline.score(TOXIC)
    assert all(0.0 <= s <= 1.0 for s in benign + toxic)
    assert max(benign) < 0.2 <= 0.5 < min(toxic)
    assert [tox.toxicity_level(s) for s in benign] == ["low"] * len(BENIGN)
    assert [tox.toxicity_level(s) for s in toxic] == ["high"] * len(TOXIC)
    # Batched and one-by-one scoring agree, in order.
    assert offline.score(TOXIC[:1] + BENIGN[:1]) == pytest.approx([toxic[0], benign[0]])
    assert offline.score([]) == []


def test_offline_scorer_identity_is_package_version_and_model_hash(offline):
    info = tox.scorer_info(offline)
    assert info["name"] == "alt-profanity-check"
    assert re.fullmatch(r"\d+\.\d+\.\d+\+sha256\.[0-9a-f]{16}", info["version"])
    assert tox.scorer_info(tox.ProfanityCheckScorer()) == info  # known before the model is loaded
    assert isinstance(offline, tox.ToxicityScorer)
    assert offline.languages == ("en",)


def test_offline_scorer_pickles_without_its_model(offline):
    data = pickle.dumps(offline)
    assert len(data) < 1000  # the model is not shipped with the pipeline
    clone = pickle.loads(data)
    assert clone.version == offline.version
    assert clone.score(TOXIC[:1]) == pytest.approx(offline.score(TOXIC[:1]))


def test_scorer_from_config(monkeypatch):
    assert isinstance(tox.scorer_from_config("offline"), tox.ProfanityCheckScorer)
    monkeypatch.delenv("PALMKIT_TEST_NO_KEY", raising=False)
    cfg = tox.ToxicityTagConfig(scorer="perspective", perspective_api_key_env="PALMKIT_TEST_NO_KEY")
    with pytest.raises(tox.ToxicityScorerError, match=r"\$PALMKIT_TEST_NO_KEY"):
        tox.scorer_from_config("perspective", cfg)
    with pytest.raises(tox.ToxicityScorerError, match="unknown toxicity scorer 'bert'"):
        tox.scorer_from_config("bert")


def test_chunks_of_one_enormous_paragraph_read_only_its_start():
    text = "word " * 2_000_000  # 10 MB without a blank line
    start = time.perf_counter()
    windows = tox.chunks(text, 400, 20)
    assert time.perf_counter() - start < 0.5  # cutting the whole 10 MB into windows would take minutes
    assert len(windows) == 20 and all(0 < len(w) <= 400 for w in windows)
    assert " ".join(windows) == " ".join(["word"] * (len(" ".join(windows)) // 5 + 1))
