"""The one generic DoFn that applies filters/ functions to Documents and counts every reason.

A *step* is a callable ``Document -> Document | str``: it returns the document
(possibly changed: cleaned text, a language tag) to go on, or a reason string
to reject it. Steps are plain Python built from filters/ functions; this module
is the only place they meet Beam. Steps that need a model (fastText) expose
``setup()``, which ``ApplySteps`` calls once per worker in ``DoFn.setup``.

Steps are built by a factory on the worker, never pickled, because fastText
models cannot be pickled and loading one per element would be far too slow.

``ApplySteps`` takes *batches* of documents (``beam.BatchElements`` upstream):
a step with ``apply_batch(docs)`` gets all surviving documents of a batch in
one call, which matters for models whose cost is per call rather than per
text (the offline toxicity classifier takes ~20 ms a call for 1 or 1,000
texts). Other steps run document by document. Outputs are still one element
per document, so batching changes no result.
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


def run_steps_batch(steps: Iterable[Step], docs: list[Document]) -> list[tuple[Document, str | None]]:
    """``run_steps`` over a batch, calling ``apply_batch`` where a step has it."""
    results: list[tuple[Document, str | None]] = [(doc, None) for doc in docs]
    for step in steps:
        live = [i for i, (_, reason) in enumerate(results) if reason is None]
        if not live:
            break
        batch_fn = getattr(step, "apply_batch", None)
        outs = batch_fn([results[i][0] for i in live]) if batch_fn else [step(results[i][0]) for i in live]
        for i, out in zip(live, outs):
            results[i] = (results[i][0], out) if isinstance(out, str) else (out, None)
    return results


class ApplySteps(beam.DoFn):
    """Batches of documents in; kept documents on the main output, ``(reason, document)`` on ``rejected``.

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

    def process(self, batch: list[Document]):
        for doc, reason in run_steps_batch(self.steps, batch):
            if reason is None:
                self._count("passed")
                yield doc
            else:
                self._count(f"filtered:{reason}")
                yield beam.pvalue.TaggedOutput(REJECTED, (reason, doc))
