"""MFU arithmetic (PaLM App. B), the loss-spike detector, the metrics log."""

import json
import math

import pytest

from model import palm
from train import metrics


def test_flops_per_token_is_6n_plus_attention():
    cfg = palm.PRESETS["palm_540b"]
    n = palm.param_count(cfg)
    assert palm.flops_per_token(cfg, 2048) == 6 * n + 12 * 118 * 48 * 256 * 2048
    # PaLM's 540B figure: attention adds about 1% at T = 2048.
    assert palm.flops_per_token(cfg, 2048) / (6 * n) == pytest.approx(1.011, abs=0.001)


def test_spike_detector_median_mad():
    d = metrics.SpikeDetector(window=10, min_history=5, k=5.0)
    assert d.is_spike(float("nan")) and d.is_spike(math.inf)
    assert not d.is_spike(100.0)  # too little history for the median test
    for x in [2.0, 2.1, 1.9, 2.05, 1.95]:
        d.add(x)
    # median 2.0, MAD 0.05: threshold 2.25
    assert d.threshold() == pytest.approx(2.25)
    assert not d.is_spike(2.2) and d.is_spike(2.3)


def test_throughput_and_log(tmp_path):
    t = metrics.Throughput(flops_per_token=1e6, peak_flops=1e12)
    t.add(1000)
    r = t.report()
    assert r["tokens_per_s"] > 0 and r["mfu"] == pytest.approx(r["tokens_per_s"] * 1e6 / 1e12)
    log = metrics.MetricsLog(str(tmp_path / "m.jsonl"))
    log.write({"step": 1, "loss": 2.0})
    log.write({"step": 2, "loss": 1.5})
    lines = [json.loads(l) for l in open(tmp_path / "m.jsonl")]
    assert [l["step"] for l in lines] == [1, 2] and "time" in lines[0]
