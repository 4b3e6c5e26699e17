"""One module per ``palmkit`` subcommand.

Each module defines ``HELP`` (one line), ``DESCRIPTION`` (the ``--help`` text),
``add_arguments(parser)`` and ``run(args) -> int``. Modules import their heavy
dependencies (Beam, JAX, TensorFlow) inside ``run`` so ``palmkit --help`` stays fast.
"""
