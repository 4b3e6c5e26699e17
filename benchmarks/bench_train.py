"""Training throughput and MFU of palmkit's PaLM on this machine, next to palm-jax.

    .venv/bin/python benchmarks/bench_train.py [--steps 10] [--palm-jax-path /tmp/palmjax-target]

Prints, for the small presets palm_cpu_s and palm_cpu_m:

* the measured peak matmul throughput of this machine (a 2048² float32 matmul,
  probed between timed steps so that it sees the same load on a shared
  machine; the reference for MFU here, since a CPU has no datasheet peak),
* palmkit's train-step tokens/s (median over timed steps) and MFU with PaLM's
  formula, 6N + 12·L·H·Q·T FLOPs per token,
* the same for lucidrains' ``palm-jax`` (Equinox) model with the same
  dimensions, loss (cross-entropy + z-loss) and optimizer chain, its steps
  alternating with ours in one subprocess that has ``--palm-jax-path`` on its
  path (palmkit itself uses neither einops nor equinox). palm-jax must be installed
  outside palmkit's venv, e.g.
  ``pip install --no-deps --target /tmp/palmjax-target palm-jax equinox einops==0.4 jaxtyping wadler-lindig``.

Not a test: figures go to docs/BENCHMARKS.md by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

# (preset, batch, seq_len)
CASES = [("palm_cpu_s", 8, 256), ("palm_cpu_m", 8, 512)]


def _palmkit_step(preset: str, batch: int, seq: int):
    import numpy as np

    from model import palm
    from train import sharding
    from train.config import DEFAULT_RULES, MeshConfig, OptimizerConfig
    from train.steps import Steps

    cfg = palm.preset(preset)
    s = Steps(cfg, OptimizerConfig(), sharding.make_mesh(MeshConfig()), DEFAULT_RULES, donate=True)
    tokens = np.random.default_rng(0).integers(0, cfg.vocab_size, (batch, seq + 1)).astype(np.int32)
    data = (s.put_batch(tokens[:, :-1], batch), s.put_batch(tokens[:, 1:], batch))
    return s.step, s.init(), data


def _palm_jax_step(preset: str, batch: int, seq: int):
    """lucidrains' palm-jax model, same dimensions, loss and optimizer chain as ours."""
    import equinox as eqx
    import jax
    import jax.numpy as jnp
    import numpy as np
    import optax
    from palm_jax import PaLM

    from model import palm
    from train.config import OptimizerConfig
    from train.optimizer import build
    from train.steps import loss_terms

    cfg = palm.preset(preset)
    model = PaLM(num_tokens=cfg.vocab_size, dim=cfg.d_model, dim_head=cfg.head_dim, depth=cfg.num_layers,
                 heads=cfg.num_heads, key=jax.random.PRNGKey(0))
    params, static = eqx.partition(model, eqx.is_inexact_array)
    tx = build(OptimizerConfig())

    def loss_fn(p, x, y):
        ce, z = loss_terms(eqx.combine(p, static)(x), y, 1e-4)
        return ce + z

    @jax.jit
    def step(state, x, y):
        p, o = state
        loss, g = jax.value_and_grad(loss_fn)(p, x, y)
        u, o = tx.update(g, o, p)
        return (optax.apply_updates(p, u), o), loss

    tokens = np.random.default_rng(0).integers(0, cfg.vocab_size, (batch, seq + 1)).astype(np.int32)
    return step, (params, tx.init(params)), (jnp.asarray(tokens[:, :-1]), jnp.asarray(tokens[:, 1:]))


def worker(preset: str, batch: int, seq: int, steps: int, with_palm_jax: bool) -> dict:
    """Alternates a matmul-peak probe, a palmkit step and a palm-jax step, ``steps`` times.

    On a shared machine the load changes from second to second; alternating
    puts all three under the same load, so the medians compare fairly.
    """
    import jax

    from model import palm
    from train.metrics import measure_matmul_peak

    sides = {"palmkit": list(_palmkit_step(preset, batch, seq))}
    if with_palm_jax:
        sides["palm-jax"] = list(_palm_jax_step(preset, batch, seq))
    for side in sides.values():
        for _ in range(2):  # compile, warm up
            side[1], m = side[0](side[1], *side[2])
            jax.block_until_ready((side[1], m))
    times: dict[str, list[float]] = {k: [] for k in sides}
    peaks = []
    for _ in range(steps):
        peaks.append(measure_matmul_peak(2048, repeats=2))
        for name, side in sides.items():
            t = time.perf_counter()
            side[1], m = side[0](side[1], *side[2])
            jax.block_until_ready((side[1], m))
            times[name].append(time.perf_counter() - t)
    fpt = palm.flops_per_token(palm.preset(preset), seq)
    peak = statistics.median(peaks)
    out = {"peak_flops": peak}
    for name, ts in times.items():
        tps = batch * seq / statistics.median(ts)
        out[name] = {"tokens_per_s": tps, "mfu": tps * fpt / peak}
    return out


def _run_worker(preset: str, batch: int, seq: int, steps: int, palm_jax_path: str | None) -> dict | None:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([p for p in (palm_jax_path, ROOT) if p]))
    cmd = [sys.executable, "-W", "ignore", os.path.abspath(__file__), "--worker", preset, str(batch), str(seq), str(steps),
           "1" if palm_jax_path else "0"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"worker failed: {proc.stderr.strip().splitlines()[-3:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        preset, (batch, seq, steps, with_palm_jax) = sys.argv[2], map(int, sys.argv[3:7])
        print(json.dumps(worker(preset, batch, seq, steps, bool(with_palm_jax))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=7, help="timed steps per case (medians reported)")
    parser.add_argument("--palm-jax-path", default="/tmp/palmjax-target", help="directory with palm_jax, equinox, einops 0.4")
    args = parser.parse_args()

    import jax

    from model import palm

    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; jax {jax.__version__} on {jax.default_backend()}")
    have_palm_jax = os.path.isdir(os.path.join(args.palm_jax_path, "palm_jax"))
    print(f"{'preset':<11} {'params':>7} {'B x T':>8} {'peak GF/s':>9} {'palmkit tok/s':>14} {'MFU':>6} "
          f"{'palm-jax tok/s':>15} {'MFU':>6} {'speedup':>8}")
    for preset, batch, seq in CASES:
        cfg = palm.preset(preset)
        r = _run_worker(preset, batch, seq, args.steps, args.palm_jax_path if have_palm_jax else None)
        if r is None:
            continue
        ours, theirs = r["palmkit"], r.get("palm-jax")
        row = (f"{preset:<11} {palm.param_count(cfg) / 1e6:>6.1f}M {batch:>3}x{seq:<4} {r['peak_flops'] / 1e9:>9.1f} "
               f"{ours['tokens_per_s']:>14.0f} {ours['mfu']:>6.1%}")
        if theirs:
            row += f" {theirs['tokens_per_s']:>15.0f} {theirs['mfu']:>6.1%} {ours['tokens_per_s'] / theirs['tokens_per_s']:>7.2f}x"
        else:
            row += f" {'n/a':>15}"
        print(row, flush=True)


if __name__ == "__main__":
    main()
