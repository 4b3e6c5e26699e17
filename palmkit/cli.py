"""The ``palmkit`` command line: parsing, and one call per subcommand.

No logic lives here. Each subcommand is a module in ``palmkit.commands``; this
file only wires them into argparse and turns user errors (bad config, bad
argument) into one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from palmkit import __version__
from palmkit.errors import USER_ERRORS

# Subcommands in the order of the data flow. Each name is a module in palmkit.commands.
COMMANDS = ["curate", "dedup", "langid", "tokenizer", "mix", "tokenize", "train", "generate", "audit", "demo"]


def _available_commands() -> list[str]:
    found = []
    for name in COMMANDS:
        try:
            importlib.import_module(f"palmkit.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"palmkit.commands.{name}":
                continue  # not built yet
            raise
        found.append(name)
    return found


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="palmkit",
        description=(
            "PaLM-style data curation (Apache Beam), mixtures and tokenized shards, "
            "a compact JAX/Flax PaLM trainer, and memorization audits.\n\n"
            "Typical flow: curate -> tokenizer train -> mix plan -> tokenize -> train -> audit.\n"
            "Run 'palmkit SUBCOMMAND --help' for each step, or 'make demo' for all of them "
            "on the bundled sample corpus."
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"palmkit {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="SUBCOMMAND")
    for name in _available_commands():
        module = importlib.import_module(f"palmkit.commands.{name}")
        sub = subparsers.add_parser(
            name,
            help=module.HELP,
            description=module.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sub.add_argument("-v", "--verbose", action="count", default=argparse.SUPPRESS, help="more logging (-vv for debug)")
        module.add_arguments(sub)
        sub.set_defaults(_module=module)
    return parser


def setup_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity <= 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    # palmkit's own progress is INFO and should show by default; third parties stay quiet.
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    if verbosity <= 0:
        # Beam's local job service relays every worker warning (unparseable args, ...).
        logging.getLogger("apache_beam").setLevel(logging.ERROR)
    for ours in ("palmkit", "pipeline", "filters", "mixtures", "model", "train"):
        logging.getLogger(ours).setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after a bare "--" goes to Apache Beam unchanged (runner options).
    beam_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, beam_args = argv[:cut], argv[cut + 1 :]
    parser = build_parser()
    args = parser.parse_args(argv)
    args.beam_args = beam_args
    if args.command is None:
        parser.print_help()
        return 2
    setup_logging(args.verbose)
    try:
        return int(args._module.run(args) or 0)
    except USER_ERRORS as exc:
        print(f"palmkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"palmkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
