"""Memorization against repetitions: plant canaries 1, 10 and 100 times, train a small PaLM, audit it.

    .venv/bin/python benchmarks/memorization_experiment.py [--output /tmp/palmkit-memorization] [--seed 0]
    .venv/bin/python benchmarks/memorization_experiment.py --d-model 128 --head-dim 32   # 0.74M parameters

A few CPU minutes (about 5 on a loaded 2-core machine). Steps, all seeded:

1. **Text.** English (language bin "large") and Finnish ("small") documents
   from the bundled sample corpus (examples/corpus, real text; see
   examples/SOURCES.md). A SentencePiece vocabulary of 2,048 pieces with
   palmkit's options (``mixtures.vocab``) is trained on them.
2. **Canaries** (PaLM 2 §4.7 constructions, scaled to 256-token rows), for
   each repetition count in {1, 10, 100} and each language bin: one
   *interleave* (two held-out documents, alternating 50-token blocks, 200
   tokens), one *shuffle* (200 tokens of a held-out document in random order),
   two *secret* canaries (a sentence with a 9-digit number, |R| = 10⁹, 2,000
   sampled references each). Held-out documents are never in the filler.
3. **Shards** (``mixtures.shards``): every canary copy starts a row (its
   context in training is the row's BOS, as in the audit's prompts), followed
   by EOS and filler; the rest of the filler (documents joined by EOS) fills
   whole rows. Some English filler documents are repeated 2, 5 or 20 times
   so that training-data extraction has populated repetition buckets. Rows
   are shuffled; ``canaries.json`` is written beside the shards.
4. **Training** (``train.loop.train``): a palm_tiny-shaped model (2 layers,
   d_model 64, 4 heads of 16, vocabulary 2,048; 0.25M parameters) for exactly
   one epoch, so a canary's repetition count is the number of times the model
   saw it. Learning rate 1e-2 throughout.
5. **Audit** (``palmkit.audit.run_audit``): exposure, canary
   extraction, training-data extraction (up to 200 windows per bucket),
   membership scores. Writes audit.json, audit.html and plots under
   OUTPUT/audit, and prints the table that docs/BENCHMARKS.md carries.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REPETITIONS = (1, 10, 100)
LANGS = {"en": "large", "fi": "small"}
SEQ_LEN, BLOCK, CANARY_LEN, DIGITS, N_REFS = 256, 50, 200, 9, 2000
SPLIT = 20  # prefix_ids = token_ids[20:80], suffix_ids = token_ids[80:110], as pipeline.canaries splits
FILLER_REPEATS = {20: 3, 5: 8, 2: 20}  # copies: how many English filler documents get that many copies
NAMES = ["Alice", "Bruno", "Chen", "Dana", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jana", "Kai", "Lea"]
TEMPLATES = {"en": "The access code of {name} is {secret}.", "fi": "Käyttäjän {name} tunnusluku on {secret}."}


def read_docs(corpus: str) -> dict[str, list[dict]]:
    import zstandard

    out: dict[str, list[dict]] = {lang: [] for lang in LANGS}
    for path in sorted(glob.glob(os.path.join(corpus, "*", "*.jsonl.zst"))):
        with open(path, "rb") as f:
            text = zstandard.ZstdDecompressor().stream_reader(f).read().decode("utf-8")
        for line in text.splitlines():
            d = json.loads(line)
            if d.get("lang") in out and d["text"].strip():
                out[d["lang"]].append(d)
    for docs in out.values():
        docs.sort(key=lambda d: d["id"])
    return out


def train_tokenizer(docs: dict[str, list[dict]], directory: str, seed: int) -> str:
    from mixtures.vocab import VocabConfig, train_vocab

    sample = os.path.join(directory, "vocab-sample.txt")
    with open(sample, "w", encoding="utf-8") as f:
        for lang_docs in docs.values():
            for d in lang_docs:
                for line in d["text"].splitlines():
                    if line.strip():
                        f.write(line + "\n")
    path = os.path.join(directory, "spm.model")
    train_vocab([sample], path, VocabConfig(vocab_size=2048, character_coverage=0.9995, seed=seed, num_threads=2))
    return path


def make_canaries(tok, held_out: dict[str, list[list[int]]], rng) -> list[dict]:
    canaries = []
    names = iter(NAMES)
    for reps in REPETITIONS:
        for lang, lang_bin in LANGS.items():
            a, b, c = held_out[lang].pop(), held_out[lang].pop(), held_out[lang].pop()
            inter = []
            for k in range(0, CANARY_LEN // 2, BLOCK):
                inter += a[k : k + BLOCK] + b[k : k + BLOCK]
            shuf = [c[i] for i in rng.permutation(CANARY_LEN)]
            for kind, ids in (("interleave", inter), ("shuffle", shuf)):
                canaries.append({"id": f"{kind}-{lang}-r{reps}", "kind": kind, "lang": lang, "lang_bin": lang_bin, "repetitions": reps,
                                 "source_ids": [], "text": tok.decode(ids), "token_ids": ids,
                                 "prefix_ids": ids[SPLIT : SPLIT + 60], "suffix_ids": ids[SPLIT + 60 : SPLIT + 90]})
            for _ in range(2):
                name = next(names, None) or f"user{rng.integers(1000)}"
                template = TEMPLATES[lang].replace("{name}", name)
                secret = "".join(str(x) for x in rng.integers(0, 10, DIGITS))
                refs: set[str] = set()
                while len(refs) < N_REFS:
                    r = "".join(str(x) for x in rng.integers(0, 10, DIGITS))
                    if r != secret:
                        refs.add(r)
                before, after = template.split("{secret}")  # encoded in parts, as pipeline.canaries does
                prefix, secret_ids = tok.encode(before), tok.encode(secret)
                ids, text = prefix + secret_ids + tok.encode(after), before + secret + after
                canaries.append({"id": f"secret-{lang}-r{reps}-{name}", "kind": "secret", "lang": lang, "lang_bin": lang_bin,
                                 "repetitions": reps, "source_ids": [], "text": text, "token_ids": ids, "template": template,
                                 "secret": secret, "references": sorted(refs), "prefix_ids": prefix,
                                 "secret_ids": secret_ids})
    return canaries


def build_data(out: str, seed: int, corpus: str) -> tuple[str, str, dict]:
    from mixtures.shards import ShardWriter
    from mixtures.vocab import EOS_ID, file_sha256
    from train.audit import Tokenizer

    rng = np.random.default_rng(seed)
    docs = read_docs(corpus)
    spm_path = train_tokenizer(docs, out, seed)
    tok = Tokenizer(spm_path)
    encoded = {lang: [tok.encode(d["text"]) for d in lang_docs] for lang, lang_docs in docs.items()}
    held_out, filler = {}, []
    for lang, seqs in encoded.items():
        order = rng.permutation(len(seqs))
        long_enough = [i for i in order if len(seqs[i]) >= CANARY_LEN]
        held = set(long_enough[: 3 * len(REPETITIONS)])
        held_out[lang] = [seqs[i][:CANARY_LEN] for i in long_enough[: 3 * len(REPETITIONS)]]
        filler += [(lang, seqs[i]) for i in order if i not in held]
    # Repeat some English filler documents (whole documents, so they land at arbitrary offsets).
    english = [k for k, (lang, s) in enumerate(filler) if lang == "en" and 300 <= len(s) <= 2000]
    planned, pos = {}, 0
    for copies, n_docs in FILLER_REPEATS.items():
        for k in english[pos : pos + n_docs]:
            planned[k] = copies
        pos += n_docs
    stream_docs = [s for k, (_, s) in enumerate(filler) for _ in range(planned.get(k, 1))]
    stream_docs = [stream_docs[i] for i in rng.permutation(len(stream_docs))]
    stream = np.fromiter((t for s in stream_docs for t in list(s) + [EOS_ID]), np.int64)

    canaries = make_canaries(tok, held_out, rng)
    rows, cursor = [], 0
    for c in canaries:
        head = list(c["token_ids"]) + [EOS_ID]
        for _ in range(c["repetitions"]):
            tail = stream[cursor : cursor + SEQ_LEN - len(head)]
            cursor += len(tail)
            rows.append(np.concatenate([head, tail]))
    n_canary_rows = len(rows)
    rest = stream[cursor:]
    rest = rest[: len(rest) // SEQ_LEN * SEQ_LEN].reshape(-1, SEQ_LEN)
    rows = np.stack(rows + list(rest))[rng.permutation(n_canary_rows + len(rest))]

    shards = os.path.join(out, "shards")
    vocab = {"path": spm_path, "sha256": file_sha256(spm_path), "size": tok.size}
    with ShardWriter(shards, seq_len=SEQ_LEN, num_shards=4, vocab=vocab, experiment="benchmarks/memorization_experiment.py") as w:
        w.add(rows)
    info = {"rows": int(len(rows)), "canary_rows": n_canary_rows, "tokens": int(rows.size),
            "filler_docs": len(filler), "repeated_filler_docs": {str(k): v for k, v in FILLER_REPEATS.items()}}
    canaries_path = os.path.join(out, "canaries.json")
    with open(canaries_path, "w", encoding="utf-8") as f:
        json.dump({"format": "palmkit-canaries-v1", "seed": seed, "vocab": {"path": spm_path, "sha256": vocab["sha256"]},
                   "schedule": {"repetitions": list(REPETITIONS), "per_bin": {"interleave": 1, "shuffle": 1, "secret": 2}},
                   "total_canary_tokens": int(sum(len(c["token_ids"]) * c["repetitions"] for c in canaries)),
                   "training_tokens": int(rows.size), "canaries": canaries}, f)
    return shards, canaries_path, info


def train_model(out: str, shards: str, rows: int, seed: int, batch: int, model: dict) -> dict:
    from palmkit.config import load_config
    from train import loop
    from train.config import TrainConfig

    steps = math.ceil(rows / batch)  # one epoch: repetitions are exact
    base = {
        "output_dir": os.path.join(out, "run"), "steps": steps, "seed": seed,
        "model": {"preset": "palm_tiny", "vocab_size": 2048, **model},
        "optimizer": {"peak_lr": 1e-2, "constant_steps": steps},
        "data": {"shards": shards, "batch_size": batch, "seed": seed},
        "checkpoint": {"every_steps": steps, "keep": 1, "async_save": False},
        "spike": {"enabled": False},
        "log": {"every_steps": 50, "progress": True, "peak_tflops": 1.0},
    }
    t = time.time()
    result = loop.train(load_config(TrainConfig, base=base))
    from model import palm

    n_params = palm.param_count(load_config(TrainConfig, base=base).model.build())
    return {"model": {"preset": "palm_tiny", **model, "parameters": n_params}, "steps": steps, "batch_size": batch, "final_loss": result.last_metrics.get("loss"), "seconds": round(time.time() - t, 1)}


def table(result: dict) -> str:
    exp = {r["repetitions"]: r for r in result["exposure"]["summary"] if r["lang_bin"] == "all"}
    ext = {(r["kind"], r["repetitions"]): r for r in result["canary_extraction"]["summary"] if r["lang_bin"] == "all"}
    mem = {(r["kind"], r["repetitions"]): r for r in result["membership"]["summary"]}
    ceiling = max(r["max_interpolation"] for r in result["exposure"]["records"])
    lines = [
        f"| repetitions | exposure, interpolation (bits, max {ceiling:.1f}) | exposure, extrapolation (bits, max {DIGITS * math.log2(10):.1f}) "
        "| interleave exact / tokens | shuffle exact / tokens | loss AUC interleave / shuffle / secret |",
        "|---|---|---|---|---|---|",
    ]
    for reps in (0,) + REPETITIONS:
        e = exp.get(reps)
        cells = [("never (controls)" if reps == 0 else str(reps))]
        for est in ("interpolation", "extrapolation"):
            cells.append("–" if not e else f"{e[est]['mean']:.1f} ± {e[est]['std']:.1f} (n={e[est]['n']})")
        for kind in ("interleave", "shuffle"):
            x = ext.get((kind, reps))
            cells.append("–" if not x else f"{x['exact_rate']:.2f} / {x['token_fraction']['mean']:.2f} (n={x['n']})")
        aucs = [mem.get((k, reps), {}).get("auc_loss") for k in ("interleave", "shuffle", "secret")]
        cells.append("–" if reps == 0 else " / ".join("–" if a is None else f"{a:.2f}" for a in aucs))
        lines.append("| " + " | ".join(cells) + " |")
    te = result.get("training_extraction", {}).get("summary", [])
    hist = result.get("training_extraction", {}).get("repeats", {}).get("histogram", {})
    lines += ["", "| 100-token sequence repeats | distinct sequences | sampled | exact match (50 of 50) | matched-token fraction |", "|---|---|---|---|---|"]
    for r in te:
        lines.append(f"| {r['bucket']} | {hist.get(r['bucket'], '–')} | {r['n']} | {r['exact_rate']:.2f} | {r['token_fraction']['mean']:.2f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="/tmp/palmkit-memorization")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-per-bucket", type=int, default=200)
    parser.add_argument("--d-model", type=int, default=None, help="override palm_tiny's d_model (64)")
    parser.add_argument("--layers", type=int, default=None, help="override palm_tiny's num_layers (2)")
    parser.add_argument("--head-dim", type=int, default=None, help="override palm_tiny's head_dim (16)")
    parser.add_argument("--corpus", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "examples", "corpus"))
    args = parser.parse_args(argv)
    import shutil

    import jax

    from palmkit.audit import run_audit

    if os.path.exists(args.output):
        shutil.rmtree(args.output)
    os.makedirs(args.output)
    t0 = time.time()
    shards, canaries_path, data = build_data(args.output, args.seed, args.corpus)
    t1 = time.time()
    sizes = {"d_model": args.d_model, "num_layers": args.layers, "head_dim": args.head_dim}
    trained = train_model(args.output, shards, data["rows"], args.seed, args.batch_size, {k: v for k, v in sizes.items() if v})
    t2 = time.time()
    result = run_audit(os.path.join(args.output, "run"), canaries_path, shards, os.path.join(args.output, "audit"),
                       max_sequences_per_bucket=args.max_per_bucket, batch_size=64)
    t3 = time.time()
    summary = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "machine": f"{platform.machine()}, {os.cpu_count()} cores, jax {jax.__version__} {jax.default_backend()}",
               "data": data, "training": trained, "seconds": {"data": round(t1 - t0, 1), "train": round(t2 - t1, 1), "audit": round(t3 - t2, 1)},
               "seed": args.seed}
    md = table(result)
    with open(os.path.join(args.output, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    with open(os.path.join(args.output, "table.md"), "w") as f:
        f.write(md + "\n")
    print(json.dumps(summary, indent=2))
    print(md)
    print(f"audit: {os.path.join(args.output, 'audit', 'audit.html')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
