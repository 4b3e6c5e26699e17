"""Pure functions on text: cleaning, language ID, quality rules, code rules, toxicity.

Nothing here imports Beam, JAX or any other palmkit package. A filter is a
plain function that takes a document (or its text) and its thresholds as
arguments and returns ``None`` to keep it or a short reason string (for
example ``"gopher_quality:min_words"``) to reject it. The pipeline wraps every
filter in one generic DoFn that counts each reason; see ``pipeline.filtering``.
"""

from filters.document import Document

__all__ = ["Document"]
