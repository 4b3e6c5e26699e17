"""Language-ID settings judged on a validation split of the training file, never on the test splits.

    .venv/bin/python benchmarks/langid_validation.py [--train examples/langid/train.jsonl.zst]
        [--share 0.1] [--workdir /tmp/palmkit-langid-val] [--langid-python /tmp/langidvenv/bin/python]
        [--leave-out PACKAGE/ ...]
        [-- palmkit langid train options, e.g. --bucket 1000000 --epoch 25]

The test splits (examples/langid/heldout, fresh, fresh2) stop being fair tests
once a choice is made because of them (docs/LANGID.md tells how each one was
used). This script is where choices should be made instead:

1. It carves a validation split out of the training file by source file: per
   language, origins in sha256("val:" + origin) order until they hold
   ``--share`` of that language's records. Every record of a chosen origin
   is held back; the evaluated ones are those of 40 characters or more (15
   for ja, ko and zh, whose characters carry more). Since the training file
   holds documentation, fortunes and user-interface messages, so does the
   split.
2. It trains a model on the remaining records (less those whose origin
   starts with a ``--leave-out`` prefix: the same validation paragraphs
   with and without a source's training records) exactly as
   ``palmkit langid train --quantize`` does (its defaults are the shipped
   model's settings; options after ``--`` go to it).
3. It scores that model per language with ``palmkit langid eval``, and,
   with ``--langid-python``, side by side with langid.py on the same
   paragraphs (``benchmarks/langid_compare.py``).

The split and the model are written under ``--workdir`` and are the same
bytes on every run with the same inputs. Training takes about 5 minutes on
one core.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from collections import defaultdict

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from palmkit.commands.langid import read_labelled  # noqa: E402

SALT = "val:"
MIN_CHARS = 40
MIN_CHARS_CJK = 15  # ja, ko, zh: a character carries about a syllable or a word
CJK = ("ja", "ko", "zh")


def carve(records: list[dict], share: float) -> tuple[list[dict], list[dict]]:
    """(validation records to score, training records left), by source file (``origin``).

    Per language, whole origins go to validation in sha256(SALT + origin)
    order until they hold at least ``share`` of the language's records.
    Records without an origin count as one origin each (their text).
    """
    by_lang: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for i, record in enumerate(records):
        by_lang[record["lang"]][record.get("origin") or record["text"]].append(i)
    held = set()
    for origins in by_lang.values():
        total = sum(len(ix) for ix in origins.values())
        taken = 0
        for origin in sorted(origins, key=lambda o: hashlib.sha256((SALT + o).encode("utf-8")).hexdigest()):
            if taken >= share * total:
                break
            held.update(origins[origin])
            taken += len(origins[origin])
    validation = [
        records[i]
        for i in sorted(held)
        if len(records[i]["text"]) >= (MIN_CHARS_CJK if records[i]["lang"] in CJK else MIN_CHARS)
    ]
    rest = [r for i, r in enumerate(records) if i not in held]
    return validation, rest


def write_jsonl(path: str, records: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n")


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    train_options: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, train_options = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--train", default=os.path.join(REPO, "examples", "langid", "train.jsonl.zst"))
    parser.add_argument("--share", type=float, default=0.1, help="share of each language's records held back (default 0.1)")
    parser.add_argument("--workdir", default="/tmp/palmkit-langid-val")
    parser.add_argument("--langid-python", help="a Python that can import langid: also score langid.py on the same paragraphs")
    parser.add_argument("--leave-out", action="append", default=[], metavar="PREFIX",
                        help="also drop training records whose origin starts with PREFIX (repeatable); "
                        "the validation split stays the same")
    args = parser.parse_args(argv)
    if not 0 < args.share < 1:
        parser.error(f"--share must be between 0 and 1, got {args.share}")

    os.makedirs(args.workdir, exist_ok=True)
    validation, rest = carve(read_labelled([args.train]), args.share)
    if args.leave_out:
        prefixes = tuple(args.leave_out)
        kept = [r for r in rest if not (r.get("origin") or "").startswith(prefixes)]
        print(f"# --leave-out: {len(rest) - len(kept):,} training records dropped", flush=True)
        rest = kept
    val_path = os.path.join(args.workdir, "validation.jsonl")
    rest_path = os.path.join(args.workdir, "train_rest.jsonl")
    write_jsonl(val_path, validation)
    write_jsonl(rest_path, rest)
    print(f"# {len(validation):,} validation paragraphs, {len(rest):,} training records ({args.workdir})", flush=True)

    model = os.path.join(args.workdir, "model.ftz")
    palmkit = [sys.executable, "-c", "import sys; from palmkit.cli import main; sys.exit(main())"]
    start = time.perf_counter()
    subprocess.run([*palmkit, "langid", "train", "--input", rest_path, "--output", model, "--quantize", *train_options],
                   check=True, cwd=REPO)
    print(f"# trained in {time.perf_counter() - start:.0f} s with {' '.join(train_options) or 'the default settings'}", flush=True)

    if args.langid_python:
        from benchmarks.langid_compare import main as compare

        return compare(["--model", model, "--heldout", val_path, "--langid-python", args.langid_python, "--markdown"])
    subprocess.run([*palmkit, "langid", "eval", "--model", model, "--input", val_path], check=True, cwd=REPO)
    return 0


if __name__ == "__main__":
    sys.exit(main())
