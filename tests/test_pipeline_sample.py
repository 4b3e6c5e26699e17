"""pipeline.sample: curated reading, deterministic copies, the tokenizer sample, token counts.

Also home of ``write_curated_tree``, the small real-text curated corpus the
mixture and tokenize tests share: Article 1 of the Universal Declaration of
Human Rights in nine languages, prose from Python's own documentation
strings, and real source code (Python from the standard library, plus Go and
a Makefile with tabs and trailing spaces).
"""

from __future__ import annotations

import inspect
import json
import os
import textwrap

import pytest
import zstandard

UDHR_ARTICLE_1 = {
    "en": "All human beings are born free and equal in dignity and rights. They are endowed with reason and conscience and should act towards one another in a spirit of brotherhood.",
    "de": "Alle Menschen sind frei und gleich an Würde und Rechten geboren. Sie sind mit Vernunft und Gewissen begabt und sollen einander im Geist der Brüderlichkeit begegnen.",
    "fr": "Tous les êtres humains naissent libres et égaux en dignité et en droits. Ils sont doués de raison et de conscience et doivent agir les uns envers les autres dans un esprit de fraternité.",
    "es": "Todos los seres humanos nacen libres e iguales en dignidad y derechos y, dotados como están de razón y conciencia, deben comportarse fraternalmente los unos con los otros.",
    "it": "Tutti gli esseri umani nascono liberi ed eguali in dignità e diritti. Essi sono dotati di ragione e di coscienza e devono agire gli uni verso gli altri in spirito di fratellanza.",
    "pl": "Wszyscy ludzie rodzą się wolni i równi pod względem swej godności i swych praw. Są oni obdarzeni rozumem i sumieniem i powinni postępować wobec innych w duchu braterstwa.",
    "nl": "Alle mensen worden vrij en gelijk in waardigheid en rechten geboren. Zij zijn begiftigd met verstand en geweten, en behoren zich jegens elkander in een geest van broederschap te gedragen.",
    "ja": "すべての人間は、生まれながらにして自由であり、かつ、尊厳と権利とについて平等である。人間は、理性と良心とを授けられており、互いに同胞の精神をもって行動しなければならない。",
    "ru": "Все люди рождаются свободными и равными в своем достоинстве и правах. Они наделены разумом и совестью и должны поступать в отношении друг друга в духе братства.",
}

GO_SOURCE = "package main\n\nimport \"fmt\"\n\n// Sum adds the numbers 1..n.\nfunc Sum(n int) int {\n\ttotal := 0\n\tfor i := 1; i <= n; i++ {\n\t\ttotal += i\n\t}\n\treturn total\n}\n\nfunc main() {\n\tfmt.Println(Sum(100), 5050)   \n}\n"
MAKEFILE = "all: build\n\nbuild:\n\tgo build -o bin/sum ./...  \n\ntest:\n\tgo test ./...\n\t@echo \"done\"\t\n"


def _stdlib_sources():
    import json.encoder
    import shlex
    import textwrap as tw

    return {m.__name__: inspect.getsource(m) for m in (tw, shlex, json.encoder)}


def _docstrings() -> list[str]:
    import collections
    import functools
    import itertools

    out = []
    for module in (collections, functools, itertools, textwrap, os.path):
        for name in sorted(dir(module)):
            doc = inspect.getdoc(getattr(module, name))
            if doc and len(doc) > 200:
                out.append(doc)
    return out


def corpus_documents() -> list[dict]:
    """The shared test corpus as curated Documents (dicts), deterministic."""
    docs = []
    for lang, text in UDHR_ARTICLE_1.items():
        for i in range(3):  # three "conversation turns" per language, each a real sentence pair
            docs.append({"id": f"udhr-{lang}-{i}", "text": text if i == 0 else f"{text}\n\n{i + 1}. {text}",
                         "source": "conversations", "lang": lang, "lang_score": 0.99, "meta": {}})
    for i, doc in enumerate(_docstrings()):
        source = "web" if i % 3 else "books"
        docs.append({"id": f"doc-{i:04d}", "text": doc, "source": source, "lang": "en", "lang_score": 0.95, "meta": {}})
    for lang in ("de", "fr"):
        docs.append({"id": f"wiki-{lang}", "text": UDHR_ARTICLE_1[lang] + "\n" + UDHR_ARTICLE_1["en"],
                     "source": "wiki", "lang": lang, "lang_score": 0.9, "meta": {}})
    docs.append({"id": "wiki-en", "text": _docstrings()[0], "source": "wiki", "lang": "en", "lang_score": 0.9, "meta": {}})
    code = dict(_stdlib_sources())
    code["main.go"] = GO_SOURCE
    code["Makefile"] = MAKEFILE
    for name, text in sorted(code.items()):
        docs.append({"id": f"code-{name}", "text": text, "source": "code", "lang": "code", "lang_score": 1.0,
                     "meta": {"code_lang": "go" if name.endswith(".go") else "make" if name == "Makefile" else "python"}})
    return docs


def write_curated_tree(root: str, docs: list[dict] | None = None, parts: int = 2) -> str:
    """Writes ``root/curated/<source>/<lang>/part-*.jsonl.zst`` like ``palmkit curate``; returns root."""
    docs = corpus_documents() if docs is None else docs
    groups: dict[tuple[str, str], list[dict]] = {}
    for d in docs:
        groups.setdefault((d["source"], d["lang"]), []).append(d)
    for (source, lang), items in groups.items():
        directory = os.path.join(root, "curated", source, lang)
        os.makedirs(directory, exist_ok=True)
        n = min(parts, len(items))
        for s in range(n):
            lines = "".join(json.dumps(d, ensure_ascii=False, sort_keys=True) + "\n" for d in items[s::n])
            with open(os.path.join(directory, f"part-{s:05d}-of-{n:05d}.jsonl.zst"), "wb") as f:
                f.write(zstandard.ZstdCompressor().compress(lines.encode("utf-8")))
    return root
