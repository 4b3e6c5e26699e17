"""The one record type that flows through every curate stage.

A ``Document`` is what a reader makes from one input record and what the
curated shards hold, one JSON object per line:

    {"id": "...", "text": "...", "source": "web", "lang": "de",
     "lang_score": 0.97, "meta": {"path": "...", "license": "MIT", ...}}

Stages never mutate a Document; they make a new one with
``dataclasses.replace`` so a value seen in one step cannot change under another.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Mapping


@dataclasses.dataclass(slots=True, frozen=True)
class Document:
    id: str
    text: str
    source: str = ""
    lang: str = ""
    lang_score: float = 0.0
    meta: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "source": self.source,
            "lang": self.lang,
            "lang_score": self.lang_score,
            "meta": dict(self.meta),
        }

    def to_json(self) -> str:
        # sort_keys inside meta and fixed field order keep shards byte-identical across runs.
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Document":
        return cls(
            id=str(data["id"]),
            text=data["text"],
            source=data.get("source", ""),
            lang=data.get("lang", ""),
            lang_score=float(data.get("lang_score", 0.0)),
            meta=dict(data.get("meta") or {}),
        )

    @classmethod
    def from_json(cls, line: str) -> "Document":
        return cls.from_dict(json.loads(line))

    def with_meta(self, **updates: Any) -> "Document":
        """A copy with ``meta`` extended by ``updates``."""
        meta = dict(self.meta)
        meta.update(updates)
        return dataclasses.replace(self, meta=meta)
