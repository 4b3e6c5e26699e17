"""Scores from token log-probabilities: exposure (Carlini et al. 2019) and membership inference.

Pure numpy/scipy on numbers the model already produced; no JAX, no files.

**Log-perplexity** of a sequence is ``Px = -Σ log₂ p(token | prefix)`` over its
tokens (``log_perplexity``).

**Exposure** of a secret canary s[r] with randomness space R (|R| = 10^digits
for a digit secret) is ``log₂|R| − log₂ rank(s[r])``, the rank counted among all
s[r'] ordered by Px, smallest first. Scoring all of R is out of reach, so the
rank is estimated from ``n`` references r' sampled uniformly from R:

* ``exposure_interpolation``: rank ≈ (1 + #refs with Px below) · |R| / n, so
  exposure = log₂ n − log₂(1 + #below). It tops out at log₂ n (the canary beats
  every reference) however strongly the model has memorised it.
* ``exposure_extrapolation``: fit a skew-normal to the references' Px and read
  exposure = −log₂ CDF(Px(s[r])): the fitted fraction of R that would score
  better. It can reach past log₂ n (up to log₂|R|, where it is clipped).

TF Privacy's ``secret_sharer/exposures.py`` computes the same two numbers (ties
there follow a stable sort; here a reference tied with the canary counts as half
below). Both estimate a rank whose expectation for a never-inserted secret is
the middle of R, i.e. exposure ≈ 1 bit (E[−log₂ U] = 1/ln 2 ≈ 1.44 for the
interpolation of a uniform rank).

**Membership-inference scores** (REFERENCE.md, "Membership-inference scores"):
loss (mean negative log-likelihood in nats per token), the zlib ratio (Carlini
et al. 2021: log-perplexity in bits over the zlib-compressed size in bits;
lower means the model finds the text easier than a generic compressor does),
and Min-K% probability (Shi et al. 2023: the mean of the lowest k% token
log-probs; higher means more likely a member).
"""

from __future__ import annotations

import math
import zlib
from typing import Iterable, Sequence

import numpy as np
from scipy import stats

LN2 = math.log(2.0)


def log_perplexity(log_probs: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
    """Px in bits: −Σ log₂ p over each row's first ``lengths[i]`` tokens. (B, T) natural-log probs -> (B,)."""
    lp = np.asarray(log_probs, np.float64)
    if lp.ndim == 1:
        lp = lp[None]
    mask = _mask(lp.shape, lengths)
    return -(np.where(mask, lp, 0.0).sum(axis=1)) / LN2


def log_perplexity_list(log_probs: Sequence[np.ndarray]) -> np.ndarray:
    """Px in bits of each of a list of ragged per-token log-prob arrays."""
    return np.array([-float(np.sum(np.asarray(lp, np.float64))) / LN2 for lp in log_probs])


def _mask(shape: tuple[int, int], lengths: np.ndarray | None) -> np.ndarray:
    if lengths is None:
        return np.ones(shape, bool)
    return np.arange(shape[1])[None, :] < np.asarray(lengths)[:, None]


# ---------------------------------------------------------------------------
# Exposure
# ---------------------------------------------------------------------------


def exposure_interpolation(px_canary: float | np.ndarray, px_references: np.ndarray) -> np.ndarray:
    """log₂ n − log₂(1 + #references with lower Px); ties count half. Works on one or many canaries."""
    refs = np.sort(np.asarray(px_references, np.float64))
    if refs.size == 0:
        raise ValueError("exposure needs at least one reference")
    px = np.atleast_1d(np.asarray(px_canary, np.float64))
    below = np.searchsorted(refs, px, side="left")
    ties = np.searchsorted(refs, px, side="right") - below
    out = math.log2(refs.size) - np.log2(1.0 + below + 0.5 * ties)
    return out if np.ndim(px_canary) else out[0]


def fit_skewnorm(px_references: np.ndarray) -> tuple[float, float, float]:
    """(shape a, loc, scale) of a skew-normal fitted to the references' Px by maximum likelihood."""
    refs = np.asarray(px_references, np.float64)
    if refs.size < 3 or float(np.std(refs)) == 0.0:
        raise ValueError("the skew-normal fit needs at least 3 references with distinct Px")
    a, loc, scale = stats.skewnorm.fit(refs)
    return float(a), float(loc), float(scale)


def exposure_extrapolation(
    px_canary: float | np.ndarray, px_references: np.ndarray, space_bits: float | None = None, params=None
) -> np.ndarray:
    """−log₂ CDF_skewnorm(Px), the skew-normal fitted to the references; clipped to [0, ``space_bits``]."""
    a, loc, scale = fit_skewnorm(px_references) if params is None else params
    px = np.asarray(px_canary, np.float64)
    out = -stats.skewnorm.logcdf(px, a, loc, scale) / LN2
    out = np.maximum(out, 0.0)
    if space_bits is not None:
        out = np.minimum(out, space_bits)
    return out


def space_bits(secret: str, alphabet_size: int = 10) -> float:
    """log₂|R| for a secret drawn uniformly from ``alphabet_size`` symbols per position (10 for digits)."""
    return len(secret) * math.log2(alphabet_size)


# ---------------------------------------------------------------------------
# Membership-inference scores
# ---------------------------------------------------------------------------


def loss(log_probs: np.ndarray) -> float:
    """Mean negative log-likelihood per token, nats."""
    return float(-np.mean(np.asarray(log_probs, np.float64)))


def min_k_prob(log_probs: np.ndarray, k: float = 0.2) -> float:
    """Min-K% probability: mean of the lowest ⌈k·T⌉ token log-probs (natural log)."""
    lp = np.sort(np.asarray(log_probs, np.float64))
    n = max(1, int(math.ceil(k * lp.size)))
    return float(lp[:n].mean())


def zlib_bits(data: bytes) -> int:
    """Size of zlib-compressed ``data`` (level 9), in bits."""
    return 8 * len(zlib.compress(data, 9))


def zlib_ratio(log_probs: np.ndarray, data: bytes) -> float:
    """Log-perplexity (bits) over zlib-compressed size (bits): model surprise relative to a generic compressor."""
    return float(-np.sum(np.asarray(log_probs, np.float64)) / LN2 / max(1, zlib_bits(data)))


def token_bytes(token_ids: Sequence[int]) -> bytes:
    """Bytes standing for a token sequence when its text is unknown (little-endian uint32 ids)."""
    return np.asarray(token_ids, "<u4").tobytes()


def membership_scores(log_probs: np.ndarray, data: bytes, min_k: Iterable[float] = (0.1, 0.2)) -> dict:
    """loss, zlib_ratio and min_k_<pct> for one sequence's token log-probs."""
    out = {"loss": loss(log_probs), "zlib_ratio": zlib_ratio(log_probs, data)}
    for k in min_k:
        out[f"min_k_{int(round(k * 100))}"] = min_k_prob(log_probs, k)
    return out


def auc(members: Sequence[float], non_members: Sequence[float]) -> float | None:
    """Area under the ROC curve for "member has the larger score" (Mann-Whitney U / (m·n)); ties count half."""
    m, n = np.asarray(members, np.float64), np.asarray(non_members, np.float64)
    if m.size == 0 or n.size == 0:
        return None
    greater = (m[:, None] > n[None, :]).sum()
    ties = (m[:, None] == n[None, :]).sum()
    return float((greater + 0.5 * ties) / (m.size * n.size))


# Which direction of each score points to "member": higher is member for these keys after this sign.
MEMBER_SIGN = {"loss": -1.0, "zlib_ratio": -1.0}  # min_k_*: +1


def member_sign(score: str) -> float:
    return MEMBER_SIGN.get(score, 1.0)


# ---------------------------------------------------------------------------
# Summaries
# ---------------------------------------------------------------------------


def mean_spread(values: Sequence[float]) -> dict:
    """{"n", "mean", "std", "min", "max"} of finite values (None entries and NaNs skipped)."""
    v = np.asarray([x for x in values if x is not None], np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"n": 0, "mean": None, "std": None, "min": None, "max": None}
    return {"n": int(v.size), "mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()), "max": float(v.max())}
