"""Exact and near-duplicate removal as Beam transforms.

    result = docs | Deduplicate(DedupConfig())
    result["kept"]           PCollection[Document]  one survivor per duplicate cluster, plus all singletons
    result["duplicates"]     PCollection[dict]      {"id", "survivor", "kind": "exact"|"near", "source"}
    result["cluster_sizes"]  PCollection[dict]      {"kind", "size", "clusters"}: the size histogram
    result["components"]     PCollection[dict]      one {"rounds", "max_rounds", "converged"} (near dedup only)

Every input document ends in exactly one of ``kept`` and ``duplicates``.
A near duplicate's ``survivor`` is kept (when components converged); an
exact duplicate's ``survivor`` is the exact stage's survivor, which near dedup
may remove in turn, so follow ``survivor`` links to reach the kept document.
Counters (namespace ``dedup``): ``duplicates:exact``, ``duplicates:near``,
``near:bucket_pairs_compared`` / ``near:bucket_pairs_passing`` (MinHash
estimates inside buckets), ``near:candidate_pairs`` / ``near:verified_pairs``
(exact Jaccard checks), ``near:large_buckets``, ``cc:converged`` /
``cc:not_converged``.

How it works (all arithmetic lives in ``filters.minhash``):

1. **Exact** (``ExactDedup``): key each document by a digest of its
   normalised text, group, keep the first document of each group in the
   survivor order below.
2. **Near** (``NearDedup``): MinHash signatures per batch of documents; each
   signature is cut into ``b`` bands of ``r`` rows (chosen from the threshold,
   as datasketch does); documents sharing a band key meet in a bucket.
   Buckets are first formed from ranks alone (``GroupBuckets``); only the
   members of buckets with two or more members then get their signature
   (``JoinSignatures``, a CoGroupByKey on the rank, then ``GroupCandidates``),
   so a signature crosses a shuffle once, plus once per bucket it shares,
   instead of once per band: the band shuffle is the largest of the job, and
   most buckets are singletons. Within
   a bucket, members are compared by estimated Jaccard: clearly similar pairs
   become edges (a spanning forest of them, so k near-copies give k - 1
   edges, not k^2), pairs too close to the threshold to call are checked by
   the exact Jaccard of their shingle sets (``ExactVerify``, two
   CoGroupByKeys) and become edges if they reach it.
3. **Clusters** (``ConnectedComponents``): connected components of the edge
   graph by alternating large-star and small-star rounds (Kiveris et al.,
   "Connected Components in MapReduce and Beyond", 2014), each round two
   GroupByKeys. Beam has no loops, so ``max_rounds`` rounds are unrolled; a
   round on an already converged graph changes nothing, and each round's
   large-star step counts the edges it moved, so the first round that moves
   none proves convergence. That count is reported (``components`` output and
   ``cc:converged`` / ``cc:not_converged`` counters). No step holds more than
   one node's neighbourhood or one bucket in memory: no corpus-wide
   union-find, no in-memory index of signatures, no side input or ``ToList``
   of anything corpus-sized (the one ``ToList`` collects the per-round
   moved-edge counts, at most ``max_rounds`` numbers).
4. A final CoGroupByKey joins each document with its component's root.

**Survivor order.** Every cluster keeps its first document by
``(-len(text), id)``: the longest text, ties broken by the smallest id. This
is a total order on documents with distinct ids, and connected components
converge to each component's minimum under it, so results are identical on
any runner and any number of workers. Document ids must be unique.

**Shingles.** Prose uses word n-grams (``ngram``, default 5); Chinese and
Japanese characters count as one word each (see ``filters.minhash``), which
gives CJK text enough shingles without a segmenter. Code documents (those
with ``meta["code_lang"]`` set, as the code reader marks them) use character
n-grams (``char_ngram``) when ``code_char_shingles`` is on, because their
punctuation and operators carry meaning a word tokeniser throws away. Band
keys carry the shingle kind, so a code file and a paragraph never become
candidates.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Iterable, NamedTuple, Tuple

import apache_beam as beam
import numpy as np

from filters import minhash
from filters.document import Document

__all__ = [
    "METRICS_NAMESPACE",
    "ConnectedComponents",
    "DedupConfig",
    "Deduplicate",
    "ExactDedup",
    "ExactDedupConfig",
    "ExactVerify",
    "LshParameters",
    "NearDedup",
    "NearDedupConfig",
    "bucket_edges",
    "exact_jaccard",
    "lsh_parameters",
    "shingle_choice",
    "survivor_rank",
]

log = logging.getLogger(__name__)

METRICS_NAMESPACE = "dedup"


# ---------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ExactDedupConfig:
    """Which differences exact dedup ignores."""

    enabled: bool = True
    lowercase: bool = True
    collapse_whitespace: bool = True
    strip_punctuation: bool = False

    def normalisation(self) -> dict[str, bool]:
        return {
            "lowercase": self.lowercase,
            "collapse_whitespace": self.collapse_whitespace,
            "strip_punctuation": self.strip_punctuation,
        }


@dataclasses.dataclass(frozen=True)
class NearDedupConfig:
    """MinHash LSH settings.

    ``shingle`` picks word or character n-grams for prose; code documents
    (``meta[code_meta_key]`` set) use character n-grams when
    ``code_char_shingles`` is on.

    ``verify`` checks bucket pairs before they become edges. With
    ``verify_exact`` (the default) the MinHash estimate (sd ~0.035 at 128
    permutations) settles clear cases: at or above ``threshold +
    estimate_margin`` a pair is an edge, below ``threshold - estimate_margin``
    it is dropped; a pair in between, unless the bucket's edges already
    connect it, is checked by the exact Jaccard of the two shingle sets
    (``ExactVerify``). So noise near the threshold cannot chain two unrelated
    clusters together, and near-identical copies (most of them) cost no exact
    check. Without ``verify_exact`` the estimate alone must reach
    ``threshold``. ``verify=False`` links every bucket (classic LSH clustering).

    ``false_negative_weight`` weights missed pairs against false candidates
    when choosing bands x rows; verification removes false candidates, so the
    default leans towards recall (0.9 -> 14 x 9 at 0.8 rather than
    datasketch's 9 x 13 at 0.5; on real near-duplicates recall 0.990 rather
    than 0.914 at the same precision, see docs/BENCHMARKS.md).

    ``max_rounds`` large-star/small-star rounds are unrolled for the
    clusters; 12 settle a chain of thousands of documents each similar only
    to the next (a random-order path of 1,000 nodes takes 9 including the
    quiet round that proves it, of 5,000 takes 11), while real duplicate
    clusters, near-cliques, settle in 2-3. Each round is two
    shuffles of the edge set, so the bound is also a latency budget on
    Dataflow. The ``components`` output says whether it was enough.

    ``bucket_all_pairs`` bounds the all-pairs check inside one bucket; a
    larger bucket (boilerplate shared by thousands of documents) compares
    each member with its first ``bucket_all_pairs`` members only.
    """

    enabled: bool = True
    shingle: str = "word"
    ngram: int = 5
    char_ngram: int = 24
    code_char_shingles: bool = True
    code_meta_key: str = "code_lang"
    num_perm: int = 128
    threshold: float = 0.8
    false_negative_weight: float = 0.9
    seed: int = 1
    verify: bool = True
    verify_exact: bool = True
    estimate_margin: float = 0.1
    max_rounds: int = 12
    bucket_all_pairs: int = 256
    batch_size: int = 256

    def __post_init__(self) -> None:
        if self.shingle not in minhash.SHINGLE_KINDS:
            raise ValueError(f"shingle must be one of {', '.join(minhash.SHINGLE_KINDS)}, got {self.shingle!r}")
        if self.ngram < 1 or self.char_ngram < 1:
            raise ValueError("ngram and char_ngram must be >= 1")
        if self.num_perm < 2:
            raise ValueError(f"num_perm must be >= 2, got {self.num_perm}")
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"threshold must be in (0, 1), got {self.threshold}")
        if not 0.0 < self.false_negative_weight < 1.0:
            raise ValueError(f"false_negative_weight must be in (0, 1), got {self.false_negative_weight}")
        if not 0.0 <= self.estimate_margin < self.threshold:
            raise ValueError(f"estimate_margin must be in [0, threshold), got {self.estimate_margin}")
        if self.max_rounds < 1 or self.bucket_all_pairs < 2 or self.batch_size < 1:
            raise ValueError("max_rounds and batch_size must be >= 1, bucket_all_pairs >= 2")


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    """Both dedup stages; exact runs first, near dedup sees only exact survivors."""

    exact: ExactDedupConfig = dataclasses.field(default_factory=ExactDedupConfig)
    near: NearDedupConfig = dataclasses.field(default_factory=NearDedupConfig)


class LshParameters(NamedTuple):
    bands: int
    rows: int
    num_perm: int
    threshold: float

    def __str__(self) -> str:
        p = minhash.collision_probability(self.threshold, self.bands, self.rows)
        return (
            f"MinHash LSH: {self.num_perm} permutations, threshold {self.threshold:g} -> "
            f"{self.bands} bands x {self.rows} rows (P[candidate] at threshold = {p:.2f})"
        )


def lsh_parameters(cfg: NearDedupConfig) -> LshParameters:
    """The b x r split for ``cfg`` (``str()`` of it is the line to print or log)."""
    w = cfg.false_negative_weight
    bands, rows = minhash.optimal_bands_rows(cfg.threshold, cfg.num_perm, 1.0 - w, w)
    return LshParameters(bands, rows, cfg.num_perm, cfg.threshold)


def shingle_choice(doc: Document, cfg: NearDedupConfig) -> tuple[str, int]:
    """(kind, n) of the shingles for ``doc``: the automatic code rule, else ``cfg.shingle``."""
    if cfg.code_char_shingles and doc.meta.get(cfg.code_meta_key):
        return minhash.CHAR, cfg.char_ngram
    if cfg.shingle == minhash.CHAR:
        return minhash.CHAR, cfg.char_ngram
    return minhash.WORD, cfg.ngram


def survivor_rank(doc: Document) -> tuple[int, str]:
    """The survivor order: smaller ranks first (longest text, then smallest id)."""
    return (-len(doc.text), doc.id)


def _duplicate(doc: Document, survivor_id: str, kind: str) -> dict[str, Any]:
    # bytes: the report's funnel counts what each dedup stage removed in bytes too.
    return {"id": doc.id, "survivor": survivor_id, "kind": kind, "source": doc.source, "bytes": len(doc.text.encode("utf-8"))}


def _counter(name: str):
    return beam.metrics.Metrics.counter(METRICS_NAMESPACE, name)


# ---------------------------------------------------------------------------
# Cluster-size histogram (shared by both stages)
# ---------------------------------------------------------------------------


class _SizeHistogram(beam.PTransform):
    """Cluster sizes (one int per cluster) -> ``{"kind", "size", "clusters"}`` rows."""

    def __init__(self, kind: str):
        super().__init__()
        self.kind = kind

    def expand(self, sizes):
        kind = self.kind
        return (
            sizes
            | "One" >> beam.Map(lambda size: (size, 1))
            | "Count" >> beam.CombinePerKey(sum)
            | "Row" >> beam.MapTuple(lambda size, n: {"kind": kind, "size": size, "clusters": n})
        )


# ---------------------------------------------------------------------------
# Exact dedup
# ---------------------------------------------------------------------------


class _PickExactSurvivor(beam.DoFn):
    """One group of equal normalised texts -> its survivor, the rest as duplicates.

    Two passes over the group (Beam's grouped values are re-iterable) so a
    group of a million identical boilerplate pages never sits in memory.
    """

    def __init__(self):
        self.dups = _counter("duplicates:exact")

    def process(self, element):
        _, docs = element
        best = None
        size = 0
        for doc in docs:
            size += 1
            if best is None or survivor_rank(doc) < survivor_rank(best):
                best = doc
        yield best
        if size > 1:
            yield beam.pvalue.TaggedOutput("sizes", size)
            best_rank, skipped = survivor_rank(best), False
            for doc in docs:
                # Skip the survivor once (by rank: the second pass may yield new objects).
                if not skipped and survivor_rank(doc) == best_rank:
                    skipped = True
                    continue
                self.dups.inc()
                yield beam.pvalue.TaggedOutput("duplicates", _duplicate(doc, best.id, "exact"))


def _exact_key(doc: Document, normalisation: dict[str, bool]) -> tuple[bytes, Document]:
    return minhash.exact_key(doc.text, **normalisation), doc


class ExactDedup(beam.PTransform):
    """PCollection[Document] -> {"kept", "duplicates", "cluster_sizes"} by normalised-text digest."""

    def __init__(self, config: ExactDedupConfig = ExactDedupConfig()):
        super().__init__()
        self.config = config

    def expand(self, docs):
        out = (
            docs
            | "KeyByText" >> beam.Map(_exact_key, self.config.normalisation())
            | "GroupEqual" >> beam.GroupByKey()
            | "PickSurvivor" >> beam.ParDo(_PickExactSurvivor()).with_outputs("duplicates", "sizes", main="kept")
        )
        return {
            "kept": out.kept,
            "duplicates": out.duplicates,
            "cluster_sizes": out.sizes | "Histogram" >> _SizeHistogram("exact"),
        }


# ---------------------------------------------------------------------------
# Near dedup: signatures and buckets
# ---------------------------------------------------------------------------


class _SignatureFn(beam.DoFn):
    """A batch of documents -> (rank, doc) on the main output, (band key, rank) on "bands".

    Signatures of the whole batch are one ``minhash.signatures`` call. Bands
    carry only the rank; the signature goes once per document to
    "signatures" as ``(rank, bytes)``, and only when buckets verify pairs.
    The sorted shingle hashes go to "shingles" as ``(rank, bytes)`` only for
    exact verification. Documents with no shingles (empty after tokenising)
    join no bucket.
    """

    def __init__(self, cfg: NearDedupConfig, params: LshParameters):
        self.cfg = cfg
        self.params = params
        self.exact = cfg.verify and cfg.verify_exact

    def process(self, batch: list[Document]):
        cfg, params = self.cfg, self.params
        choices = [shingle_choice(doc, cfg) for doc in batch]
        hashes = [minhash.shingle_hashes(doc.text, kind, n) for doc, (kind, n) in zip(batch, choices)]
        sigs = minhash.signatures(hashes, cfg.num_perm, cfg.seed)
        for doc, (kind, n), hs, sig in zip(batch, choices, hashes, sigs):
            rank = survivor_rank(doc)
            yield rank, doc
            if not len(hs):
                continue
            if self.exact:
                yield beam.pvalue.TaggedOutput("shingles", (rank, hs.tobytes()))
            if cfg.verify:
                yield beam.pvalue.TaggedOutput("signatures", (rank, sig.tobytes()))
            namespace = f"{kind}{n}".encode()
            for key in minhash.band_keys(sig, params.bands, params.rows, namespace):
                yield beam.pvalue.TaggedOutput("bands", (key, rank))


def _bucket_requests(element):
    """(band key, ranks) -> (rank, band key) for each member of a bucket with two or more members.

    Two passes over the grouped ranks (re-iterable), none materialised: most
    buckets are singletons and ask for nothing, so only documents that share
    a bucket have their signatures sent to it.
    """
    key, ranks = element
    seen = 0
    for _ in ranks:
        seen += 1
        if seen > 1:
            break
    if seen < 2:
        return
    for rank in ranks:
        yield rank, key


def _send_signature_to_buckets(element):
    """(rank, {"signature": [sig], "bucket": [band keys]}) -> (band key, (rank, sig)) for each distinct bucket."""
    rank, grouped = element
    buckets = set(grouped["bucket"])
    if not buckets:
        return
    for sig in grouped["signature"]:
        for key in buckets:
            yield key, (rank, sig)


def _star_edges(element):
    """Without verification: a bucket is a star on its smallest member (no signatures needed)."""
    _, ranks = element
    first = None
    for rank in ranks:
        if first is None or rank < first:
            first = rank
    for rank in ranks:
        if rank != first:
            yield first, rank


def bucket_edges(
    members: Iterable[tuple[Any, bytes]],
    num_perm: int,
    threshold: float,
    verify: bool,
    all_pairs: int,
    certain: float | None = None,
) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]], int, int]:
    """One LSH bucket -> (edges, pairs to check exactly, pairs compared, pairs passing ``threshold``).

    Members are ``(rank, signature bytes)``; pairs are ``(smaller rank,
    larger rank)``. Without ``verify`` the bucket is a star on its first
    member. With it, pairs are compared by estimated Jaccard:

    - ``certain`` None: pairs at or above ``threshold`` are edges;
    - ``certain`` given: pairs at or above ``certain`` are edges, pairs in
      ``[threshold, certain)`` need an exact check, and are returned for it
      only when the edges of this bucket do not already connect them.

    Edges are reduced to a spanning forest (a union-find over this bucket
    only), which keeps the bucket's connectivity with at most k - 1 edges.
    All pairs are compared when the bucket has at most ``all_pairs`` members;
    beyond that each member is compared with the first ``all_pairs`` members.
    """
    members = sorted(members, key=lambda m: m[0])
    k = len(members)
    if k < 2:
        return [], [], 0, 0
    nodes = [m[0] for m in members]
    if not verify:
        return [(nodes[0], v) for v in nodes[1:]], [], 0, 0
    sigs = np.frombuffer(b"".join(m[1] for m in members), dtype=np.uint32).reshape(k, num_perm)
    anchors = sigs[: min(k, all_pairs)]
    need = int(np.ceil(threshold * num_perm - 1e-9))
    sure = int(np.ceil(certain * num_perm - 1e-9)) if certain is not None else need
    parent = list(range(k))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    edges, unsure, compared, passing = [], [], 0, 0
    chunk = max(1, 2**22 // (len(anchors) * num_perm))  # bounds the boolean block to ~4M entries
    for start in range(0, k, chunk):
        block = sigs[start : start + chunk]
        equal = (block[:, None, :] == anchors[None, :, :]).sum(axis=2)
        for bi in range(len(block)):
            i = start + bi
            # Compare i with anchors j < i only: each unordered pair once.
            row = equal[bi, : min(i, len(anchors))]
            compared += len(row)
            for j in np.flatnonzero(row >= need):
                j = int(j)
                passing += 1
                if nodes[j] == nodes[i]:
                    continue  # the same document twice (duplicate ids): no self-loops
                if row[j] < sure:
                    unsure.append((j, i))
                    continue
                ri, rj = find(i), find(j)
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
                    edges.append((nodes[j], nodes[i]))
    checks = [(nodes[j], nodes[i]) for j, i in unsure if find(j) != find(i)]
    return edges, checks, compared, passing


class _BucketEdgesFn(beam.DoFn):
    """One bucket -> its edges, and on "check" the pairs whose estimate is too close to call."""

    def __init__(self, cfg: NearDedupConfig):
        self.cfg = cfg
        self.compared = _counter("near:bucket_pairs_compared")
        self.passing = _counter("near:bucket_pairs_passing")
        self.large = _counter("near:large_buckets")

    def process(self, element):
        _, members = element
        members = list(members)
        if len(members) < 2:
            return
        if len(members) > self.cfg.bucket_all_pairs:
            self.large.inc()
        cfg = self.cfg
        exact = cfg.verify and cfg.verify_exact
        edges, checks, compared, passing = bucket_edges(
            members,
            cfg.num_perm,
            cfg.threshold - cfg.estimate_margin if exact else cfg.threshold,
            cfg.verify,
            cfg.bucket_all_pairs,
            certain=cfg.threshold + cfg.estimate_margin if exact else None,
        )
        self.compared.inc(compared)
        self.passing.inc(passing)
        yield from edges
        for pair in checks:
            yield beam.pvalue.TaggedOutput("check", pair)


def exact_jaccard(a: bytes, b: bytes) -> float:
    """Jaccard of two sorted, distinct uint32 shingle-hash arrays given as bytes."""
    x, y = np.frombuffer(a, dtype=np.uint32), np.frombuffer(b, dtype=np.uint32)
    inter = len(np.intersect1d(x, y, assume_unique=True))
    union = len(x) + len(y) - inter
    return inter / union if union else 1.0


def _pair_to_ends(pair):
    u, v = pair
    yield u, pair
    yield v, pair


def _send_set_to_pairs(element):
    """(x, {"pair": pairs touching x, "set": [shingles of x]}) -> (pair, shingles of x) per distinct pair."""
    _, grouped = element
    sets = list(grouped["set"])
    if not sets:
        return
    for pair in set(grouped["pair"]):
        yield pair, sets[0]


class _CheckPairFn(beam.DoFn):
    """(pair, [set_u, set_v]) -> the pair, if its exact Jaccard reaches the threshold."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.checked = _counter("near:candidate_pairs")
        self.verified = _counter("near:verified_pairs")

    def process(self, element):
        pair, sets = element
        sets = list(sets)
        if len(sets) != 2:
            return  # an endpoint without shingles cannot be a near-duplicate
        self.checked.inc()
        if exact_jaccard(sets[0], sets[1]) >= self.threshold:
            self.verified.inc()
            yield pair


class ExactVerify(beam.PTransform):
    """Candidate pairs (u, v) + shingle sets (rank, bytes) -> the pairs at exact Jaccard >= threshold.

    Each pair goes to both of its ends; one CoGroupByKey with the sets sends
    each end's set to each distinct pair it is in (a pair found in several
    buckets is checked once), and a GroupByKey on the pair brings the two
    sets together. Every document's shingle hashes (4 bytes per shingle) are
    shuffled once; a node holds only its own pairs and set, a pair its two
    sets.
    """

    def __init__(self, threshold: float):
        super().__init__()
        self.threshold = threshold

    def expand(self, pairs_and_sets):
        pairs, sets = pairs_and_sets
        return (
            {"pair": pairs | "ToEnds" >> beam.FlatMap(_pair_to_ends), "set": sets}
            | "JoinSets" >> beam.CoGroupByKey()
            | "SetsToPairs" >> beam.FlatMap(_send_set_to_pairs)
            | "GroupPairs" >> beam.GroupByKey()
            | "Check" >> beam.ParDo(_CheckPairFn(self.threshold))
        )


# ---------------------------------------------------------------------------
# Connected components: alternating large-star / small-star rounds
# ---------------------------------------------------------------------------


def _both_directions(edge):
    u, v = edge
    yield u, v
    yield v, u


class _LargeStar(beam.DoFn):
    """Node u with all its neighbours N(u): attach every larger neighbour to m = min(N(u) + u).

    Emits ``(v, m)`` for each neighbour v > u, keyed by the larger end for the
    small-star grouping that follows. An edge "moves" when m != u; the round's
    count of moved edges goes to the "moved" output as ``(round, n)``. A round
    that moves nothing proves the graph is a forest of stars centred on each
    component's minimum: no node has both a smaller and a larger neighbour.
    """

    def __init__(self, round_index: int):
        self.round_index = round_index

    def process(self, element):
        u, nbrs = element
        nbrs = set(nbrs)
        m = min(nbrs)
        m = u if u < m else m
        moved = 0
        for v in nbrs:
            if v > u:
                yield (v, m)
                if m != u:
                    moved += 1
        if moved:
            yield beam.pvalue.TaggedOutput("moved", (self.round_index, moved))


def _small_star(element):
    """Node v with its smaller neighbours N: attach v and all of N to min(N), both directions."""
    v, smaller = element
    smaller = set(smaller)
    m = min(smaller)
    yield (m, v)
    yield (v, m)
    for w in smaller:
        if w != m:
            yield (m, w)
            yield (w, m)


def _towards_smaller(edge):
    u, v = edge
    if v < u:
        yield u, v


def _convergence_report(moved_per_round, max_rounds: int) -> dict:
    """Per-round moved-edge totals -> {"rounds", "max_rounds", "converged"}, and a counter."""
    moved = dict(moved_per_round)
    quiet = [i for i in range(max_rounds) if moved.get(i, 0) == 0]
    converged = bool(quiet)
    _counter("cc:converged" if converged else "cc:not_converged").inc()
    if not converged:
        log.warning("connected components did not converge in %d rounds; raise near.max_rounds", max_rounds)
    return {"rounds": quiet[0] if converged else max_rounds, "max_rounds": max_rounds, "converged": converged}


class ConnectedComponents(beam.PTransform):
    """PCollection[(u, v)] edges -> {"labels": (node, component minimum) for each non-minimum node, "report"}.

    ``max_rounds`` rounds of large-star then small-star are unrolled (two
    GroupByKeys a round); a converged graph passes through later rounds
    unchanged. ``report`` holds one record: ``rounds`` (rounds that changed
    something), ``max_rounds`` and ``converged`` (some round moved no edge).
    If it did not converge, each node still has at most one label, always
    smaller than itself, and unlabelled nodes act as roots: the accounting
    stays exact, but a component may keep more than one survivor and a
    removed document's survivor may itself be removed. The
    ``cc:not_converged`` counter and a warning say so. Node values need only
    a total order and a deterministic coder (ints, strings, tuples of them).
    """

    def __init__(self, max_rounds: int = 12):
        super().__init__()
        self.max_rounds = max_rounds

    def expand(self, edges):
        adjacency = edges | "BothDirections" >> beam.FlatMap(_both_directions)
        moved = []
        for i in range(self.max_rounds):
            large = (
                adjacency
                | f"Round{i}/GroupNeighbours" >> beam.GroupByKey()
                | f"Round{i}/LargeStar"
                >> beam.ParDo(_LargeStar(i)).with_output_types(Tuple[Any, Any]).with_outputs("moved", main="edges")
            )
            moved.append(large.moved)
            adjacency = (
                large.edges
                | f"Round{i}/GroupSmaller" >> beam.GroupByKey()
                | f"Round{i}/SmallStar" >> beam.FlatMap(_small_star)
            )
        labels = (
            adjacency
            | "TowardsSmaller" >> beam.FlatMap(_towards_smaller)
            | "SmallestNeighbour" >> beam.CombinePerKey(min)
        )
        max_rounds = self.max_rounds
        report = (
            moved
            | "AllRounds" >> beam.Flatten()
            | "MovedPerRound" >> beam.CombinePerKey(sum)
            | "Collect" >> beam.combiners.ToList()
            | "Report" >> beam.Map(_convergence_report, max_rounds)
        )
        return {"labels": labels, "report": report}


# ---------------------------------------------------------------------------
# Near dedup transform
# ---------------------------------------------------------------------------


class _SplitByRoot(beam.DoFn):
    """(rank, {"doc": [...], "root": [...]}) -> kept doc, or a near duplicate of its root."""

    def __init__(self):
        self.dups = _counter("duplicates:near")

    def process(self, element):
        rank, grouped = element
        roots = list(grouped["root"])
        root = min(roots) if roots else None
        for doc in grouped["doc"]:
            if root is not None and root != rank:
                self.dups.inc()
                yield beam.pvalue.TaggedOutput("duplicates", _duplicate(doc, root[1], "near"))
            else:
                yield doc


class NearDedup(beam.PTransform):
    """PCollection[Document] -> {"kept", "duplicates", "cluster_sizes", "components"} by MinHash LSH."""

    def __init__(self, config: NearDedupConfig = NearDedupConfig()):
        super().__init__()
        self.config = config

    def expand(self, docs):
        cfg = self.config
        params = lsh_parameters(cfg)
        log.info("%s", params)
        signed = (
            docs
            | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=cfg.batch_size)
            | "Signatures"
            >> beam.ParDo(_SignatureFn(cfg, params)).with_outputs("bands", "signatures", "shingles", main="docs")
        )
        # Buckets are found on ranks alone; signatures then go, once per
        # bucket, only to the buckets that have two or more members.
        buckets = signed.bands | "GroupBuckets" >> beam.GroupByKey()
        if cfg.verify:
            requests = buckets | "SharedBuckets" >> beam.FlatMap(_bucket_requests)
            bucketed = (
                {"signature": signed.signatures, "bucket": requests}
                | "JoinSignatures" >> beam.CoGroupByKey()
                | "SignaturesToBuckets" >> beam.FlatMap(_send_signature_to_buckets)
                | "GroupCandidates" >> beam.GroupByKey()
                | "BucketEdges" >> beam.ParDo(_BucketEdgesFn(cfg)).with_outputs("check", main="edges")
            )
            edges = bucketed.edges
        else:
            edges = buckets | "StarEdges" >> beam.FlatMap(_star_edges)
        if cfg.verify and cfg.verify_exact:
            checked = (bucketed.check, signed.shingles) | "ExactJaccard" >> ExactVerify(cfg.threshold)
            edges = (edges, checked) | "AllEdges" >> beam.Flatten()
        components = edges | "Components" >> ConnectedComponents(cfg.max_rounds)
        labels = components["labels"]
        split = (
            {"doc": signed.docs, "root": labels}
            | "JoinRoots" >> beam.CoGroupByKey()
            | "Split" >> beam.ParDo(_SplitByRoot()).with_outputs("duplicates", main="kept")
        )
        sizes = (
            labels
            | "ByRoot" >> beam.Map(lambda kv: (kv[1], 1))
            | "Members" >> beam.CombinePerKey(sum)
            | "Size" >> beam.Map(lambda kv: kv[1] + 1)
        )
        return {
            "kept": split.kept,
            "duplicates": split.duplicates,
            "cluster_sizes": sizes | "Histogram" >> _SizeHistogram("near"),
            "components": components["report"],
        }


# ---------------------------------------------------------------------------
# Both
# ---------------------------------------------------------------------------


class Deduplicate(beam.PTransform):
    """Exact then near dedup: PCollection[Document] -> {"kept", "duplicates", "cluster_sizes", "components"}.

    A disabled stage passes documents through; the outputs always have the
    same four keys (empty where a stage did not run).
    """

    def __init__(self, config: DedupConfig = DedupConfig()):
        super().__init__()
        self.config = config

    def expand(self, docs):
        kept = docs
        duplicates, sizes, components = [], [], []
        if self.config.exact.enabled:
            exact = kept | "Exact" >> ExactDedup(self.config.exact)
            kept = exact["kept"]
            duplicates.append(exact["duplicates"])
            sizes.append(exact["cluster_sizes"])
        if self.config.near.enabled:
            near = kept | "Near" >> NearDedup(self.config.near)
            kept = near["kept"]
            duplicates.append(near["duplicates"])
            sizes.append(near["cluster_sizes"])
            components.append(near["components"])

        def merged(name: str, parts: list):
            if parts:
                return parts | f"All{name}" >> beam.Flatten()
            return docs.pipeline | f"No{name}" >> beam.Create([])

        return {
            "kept": kept,
            "duplicates": merged("Duplicates", duplicates),
            "cluster_sizes": merged("ClusterSizes", sizes),
            "components": merged("Components", components),
        }
