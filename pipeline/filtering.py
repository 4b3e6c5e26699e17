"""The one generic DoFn that applies filters/ functions to Documents and counts every reason.

A *step* is a callable ``Document -> Document | str``: it returns the document
(possibly changed: cleaned text, a language tag) to go on, or a reason string
to reject it. Steps are plain Python built from filters/ functions; this module
is the only place they meet Beam. Steps that need a model (fastText) expose
``setup()``, which ``ApplySteps`` calls once per worker in ``DoFn.setup``.

Steps are built by a factory on the worker, never pickled, because fastText
models cannot be pickled and loading one per element would be far too slow.
"""

from __future__ import annotations

from typing import Callable, Iterable, Protocol, Union

import apache_beam as beam

from filters.document import Document

StepResult = Union[Document, str]

REJECTED = "rejected"


class Step(Protocol):
    name: str

    def __call__(self, doc: Document) -> StepResult: ...


def run_steps(steps: Iterable[Step], doc: Document) -> tuple[Document, str | None]:
    """Applies ``steps`` in order; returns the last document and the reject reason, if any.

    Usable without Beam (tests, the benchmark's reference implementation).
    """
    for step in steps:
        result = step(doc)
        if isinstance(result, str):
            return doc, result
        doc = result
    return doc, None


class ApplySteps(beam.DoFn):
    """Kept documents on the main output; ``(reason, document)`` on ``rejected``.

    Counters: ``<namespace>:passed`` and ``<namespace>:filtered:<reason>``.
    """

    def __init__(self, make_steps: Callable[[], list[Step]], namespace: str = "curate"):
        self.make_steps = make_steps
        self.namespace = namespace
        self.steps: list[Step] = []
        self._counters: dict[str, beam.metrics.metricbase.Counter] = {}

    def setup(self):
        self.steps = self.make_steps()
        for step in self.steps:
            if hasattr(step, "setup"):
                step.setup()

    def _count(self, name: str) -> None:
        counter = self._counters.get(name)
        if counter is None:
            counter = self._counters[name] = beam.metrics.Metrics.counter(self.namespace, name)
        counter.inc()

    def process(self, doc: Document):
        doc, reason = run_steps(self.steps, doc)
        if reason is None:
            self._count("passed")
            yield doc
        else:
            self._count(f"filtered:{reason}")
            yield beam.pvalue.TaggedOutput(REJECTED, (reason, doc))
