"""Throughput and model FLOPs utilisation (PaLM §4.1, App. B), a spike detector, a JSONL log."""

from __future__ import annotations

import collections
import json
import math
import os
import time
from typing import Any

import numpy as np


def measure_matmul_peak(n: int = 2048, dtype: str = "float32", repeats: int = 5) -> float:
    """FLOP/s of the best of ``repeats`` square (n x n) matmuls on the default device."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.key(0), (n, n), jnp.dtype(dtype))
    b = jax.random.normal(jax.random.key(1), (n, n), jnp.dtype(dtype))
    f = jax.jit(lambda x, y: x @ y)
    f(a, b).block_until_ready()
    best = math.inf
    for _ in range(repeats):
        t = time.perf_counter()
        f(a, b).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 / best


class SpikeDetector:
    """A loss is a spike if non-finite, or above median + k·MAD of the recent window."""

    def __init__(self, window: int, min_history: int, k: float):
        self.losses: collections.deque[float] = collections.deque(maxlen=window)
        self.min_history, self.k = min_history, k

    def threshold(self) -> float:
        if len(self.losses) < self.min_history:
            return math.inf
        x = np.asarray(self.losses)
        med = float(np.median(x))
        mad = float(np.median(np.abs(x - med)))
        return med + self.k * max(mad, 1e-3 * abs(med), 1e-8)

    def is_spike(self, loss: float) -> bool:
        return not math.isfinite(loss) or loss > self.threshold()

    def add(self, loss: float) -> None:
        self.losses.append(loss)


class MetricsLog:
    """Appends one JSON object per line; only process 0 writes."""

    def __init__(self, path: str, enabled: bool = True):
        self.path, self.enabled = path, enabled
        if enabled:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        record = {"time": round(time.time(), 3), **record}
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record, sort_keys=True) + "\n")


class Throughput:
    """Tokens/s and MFU over the interval since the last ``report``."""

    def __init__(self, flops_per_token: float, peak_flops: float | None):
        self.flops_per_token, self.peak_flops = flops_per_token, peak_flops
        self.reset()

    def reset(self) -> None:
        self.t0, self.tokens = time.perf_counter(), 0

    def add(self, tokens: int) -> None:
        self.tokens += tokens

    def report(self) -> dict[str, float]:
        dt = max(time.perf_counter() - self.t0, 1e-9)
        tps = self.tokens / dt
        out = {"tokens_per_s": tps}
        if self.peak_flops:
            out["mfu"] = tps * self.flops_per_token / self.peak_flops
        self.reset()
        return out
