"""The Apache Beam jobs of palmkit.

Readers with dead letters, the generic filter DoFn, the curate transform,
deduplication, tokenize and canaries, stats and the HTML report, and runner
options (DirectRunner locally, Dataflow by standard Beam options). Each stage is
a composite ``PTransform`` with labelled steps; models load once per worker in
``DoFn.setup``. Imports ``filters`` and ``mixtures`` only.
"""
