"""``palmkit langid train|eval``: fastText language-ID models from labelled text."""

from __future__ import annotations

HELP = "train or evaluate a fastText language-ID model from {text, lang} records"
DESCRIPTION = """\
  palmkit langid train --input labeled.jsonl[.zst] --output model.ftz [--quantize [--cutoff N]]
  palmkit langid eval  --model model.ftz --input heldout.jsonl[.zst]

Records are JSON lines with "text" and "lang" (an ISO 639-1 code). Training is
single-threaded with a fixed seed, so the same records give the same model.
Training, eval and curate hand fastText the same text
(filters.langid_text.prepare_text: one line; command-line options such as -x,
--long-opt and --opt=VALUE, runs of single-dash settings and identifiers
with underscores removed when enough other letters remain). eval and curate
then apply the script rule: a language not written in the script most of
the text's letters are in gives way to the best one that is.
eval prints accuracy overall and per language as JSON. Any fastText model with
__label__xx labels works with eval and with curate (lid.176.bin unchanged).

The model palmkit ships (filters/data/lid.palmkit.ftz) is rebuilt with the
defaults (epoch 50, dim 16, character 1..4-grams, 400000 buckets, and with
--quantize a cutoff of 220000 rows, retrained):
  palmkit langid train --input examples/langid/train.jsonl.zst \\
      --output filters/data/lid.palmkit.ftz --quantize
"""


# The defaults reproduce the shipped model (filters/data/lid.palmkit.ftz) from
# examples/langid/train.jsonl.zst with --quantize.
EPOCH = 50
MINN = 1
BUCKET = 400_000
CUTOFF = 220_000


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    train = sub.add_parser("train", help="train a model", description="Train a fastText supervised model on {text, lang} records.")
    train.add_argument("--input", required=True, action="append", help="labelled JSONL (.jsonl, .jsonl.gz, .jsonl.zst); repeatable")
    train.add_argument("--output", required=True, help="where to write the model (.bin, or .ftz with --quantize)")
    train.add_argument("--epoch", type=int, default=EPOCH, help=f"passes over the data (default {EPOCH})")
    train.add_argument("--dim", type=int, default=16, help="vector size (default 16, like lid.176)")
    train.add_argument("--minn", type=int, default=MINN, help=f"shortest character n-gram (default {MINN}: single characters too)")
    train.add_argument("--maxn", type=int, default=4, help="longest character n-gram (default 4)")
    train.add_argument("--bucket", type=int, default=BUCKET, help=f"hash buckets for n-grams (default {BUCKET}; without --cutoff, model size grows with it)")
    train.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    train.add_argument("--quantize", action="store_true", help="product-quantize the model (a few MB instead of tens)")
    train.add_argument(
        "--cutoff",
        type=int,
        default=CUTOFF,
        help=f"with --quantize: keep only the N most important words and n-grams, then retrain on the same records "
        f"(default {CUTOFF}; 0 quantizes everything without retraining)",
    )
    ev = sub.add_parser("eval", help="evaluate a model", description="Accuracy overall and per language, as JSON.")
    ev.add_argument("--model", required=True, help="fastText model (.bin or .ftz)")
    ev.add_argument("--input", required=True, action="append", help="labelled JSONL; repeatable")
    ev.add_argument("--confusion", action="store_true", help="include the confusion matrix")


def read_labelled(paths: list[str]) -> list[dict]:
    """Reads {text, lang} records; a bad line is a one-line error naming file and line."""
    import json
    import os

    from palmkit.errors import UsageError
    from pipeline.records import DamagedStream, compression_of, iter_lines

    out = []
    for path in paths:
        if not os.path.exists(path):
            raise UsageError(f"input not found: {path}")
        with open(path, "rb") as fh:
            try:
                for line_no, _, line, _ in iter_lines(fh, compression_of(path), 50_000_000):
                    try:
                        record = json.loads(line)
                    except (TypeError, ValueError):
                        raise UsageError(f"{path}:{line_no}: not a JSON object") from None
                    if not isinstance(record, dict) or not isinstance(record.get("text"), str) or not isinstance(record.get("lang"), str):
                        raise UsageError(f"{path}:{line_no}: a record needs string fields 'text' and 'lang'")
                    out.append(record)
            except DamagedStream as exc:
                raise UsageError(f"{path}: {exc.reason}") from None
    return out


def run(args) -> int:
    import json
    import os

    from filters import langid, langid_train
    from palmkit.errors import UsageError

    records = read_labelled(args.input)
    if args.action == "train":
        final = args.output
        tmp_bin = final + ".tmp.bin"
        try:
            identifier = langid_train.train_model(
                records, tmp_bin, epoch=args.epoch, dim=args.dim, minn=args.minn, maxn=args.maxn, bucket=args.bucket, seed=args.seed
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        if args.cutoff < 0:
            raise UsageError(f"--cutoff must be >= 0, got {args.cutoff}")
        if args.quantize:
            tmp_ftz = final + ".tmp.ftz"
            try:
                identifier = langid_train.quantize_model(tmp_bin, records, tmp_ftz, cutoff=args.cutoff, seed=args.seed)
            finally:
                os.remove(tmp_bin)
            os.replace(tmp_ftz, final)
        else:
            os.replace(tmp_bin, final)
        print(json.dumps({"model": final, "languages": identifier.languages, "records": len(records), "bytes": os.path.getsize(final)}))
        return 0
    if not os.path.exists(args.model):
        raise UsageError(f"model not found: {args.model}")
    result = langid.evaluate(langid.LanguageIdentifier(args.model), records)
    if not args.confusion:
        result.pop("confusion", None)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0
