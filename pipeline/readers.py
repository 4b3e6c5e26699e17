"""Beam readers: match input files on any Beam filesystem, parse them, route dead letters.

``ReadInputs`` turns a list of ``InputSpec`` (a source name and a path or glob)
into two PCollections: ``docs`` (Documents) and ``errors`` (ErrorRecords for
malformed records). Matching goes through ``apache_beam.io.fileio`` so local
paths, ``gs://`` and every other Beam filesystem work unchanged.

The parsing itself is in ``pipeline.records`` and is tested without Beam.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import posixpath
import re

import apache_beam as beam
from apache_beam.io import fileio
from apache_beam.io.filesystem import CompressionTypes
from apache_beam.io.filesystems import FileSystems

from filters import code as code_rules
from pipeline import records
from pipeline.records import ReaderConfig

log = logging.getLogger(__name__)

_GLOB_CHARS = re.compile(r"[*?\[]")
_LICENSE_NAME = re.compile(r"^(LICEN[CS]E|COPYING|COPYRIGHT)([._-].*)?$", re.IGNORECASE)


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """One ``--input``: which source its documents belong to and where they are."""

    source: str
    pattern: str  # what the user wrote
    glob: str  # what is matched (a directory becomes DIR/**)
    root: str  # ids and ``meta.file`` are paths relative to this

    @property
    def label(self) -> str:
        return f"{self.source}:{self.pattern}"


def parse_input(text: str, default_source: str) -> InputSpec:
    """``NAME=PATH_OR_GLOB`` or ``PATH_OR_GLOB`` (source from ``default_source``)."""
    source, pattern = default_source, text
    head, sep, tail = text.partition("=")
    if sep and re.fullmatch(r"[A-Za-z0-9_.-]+", head) and "://" not in head:
        source, pattern = head, tail
    if not pattern:
        raise ValueError(f"input '{text}' has no path")
    is_glob = bool(_GLOB_CHARS.search(pattern))
    if is_glob:
        root = pattern[: _GLOB_CHARS.search(pattern).start()]
        root = root if root.endswith("/") else posixpath.dirname(root)
        return InputSpec(source, pattern, pattern, root.rstrip("/") or ".")
    if "://" not in pattern:
        if not os.path.exists(pattern):
            raise ValueError(f"input not found: {pattern}")
        if os.path.isdir(pattern):
            return InputSpec(source, pattern, pattern.rstrip("/") + "/**", pattern.rstrip("/"))
        return InputSpec(source, pattern, pattern, os.path.dirname(pattern) or ".")
    if pattern.endswith("/"):
        return InputSpec(source, pattern, pattern + "**", pattern.rstrip("/"))
    return InputSpec(source, pattern, pattern, posixpath.dirname(pattern))


def relative(path: str, root: str) -> str:
    if root in ("", ".") and "://" not in path:
        return os.path.relpath(path)
    prefix = root.rstrip("/") + "/"
    return path[len(prefix):] if path.startswith(prefix) else posixpath.basename(path)


def is_license_file(path: str) -> bool:
    """LICENSE, COPYING.LESSER, LICENSE-MIT, license.txt, ... but not license_check.py."""
    return bool(_LICENSE_NAME.match(posixpath.basename(path))) and code_rules.code_language(path) is None


def nearest_license(relpath: str, licenses: dict[str, str]) -> str:
    """The license of the closest LICENSE/COPYING file at or above the file's folder."""
    folder = posixpath.dirname(relpath)
    while True:
        if folder in licenses:
            return licenses[folder]
        if not folder:
            return "unknown"
        folder = posixpath.dirname(folder)


class _ReadFileFn(beam.DoFn):
    """Parses one matched file into Documents, with ErrorRecords on the ``errors`` output."""

    def __init__(self, spec: InputSpec, cfg: ReaderConfig, documents: bool = False):
        self.spec = spec
        self.cfg = cfg
        self.documents = documents
        self.is_code = spec.source in cfg.code_sources

    def process(self, metadata, licenses=None):
        yield from self._read(metadata, licenses)

    def _read(self, metadata, licenses):
        path = metadata.path
        relpath = relative(path, self.spec.root)
        kind = records.file_kind(path, self.is_code)
        meta = None
        if kind == "code":
            if is_license_file(path):
                return  # read by the license side input, not a document
            lang = code_rules.code_language(path)
            if lang is None:
                beam.metrics.Metrics.counter("read", "skipped_not_source").inc()
                return
            meta = {"path": relpath, "code_lang": lang, "license": nearest_license(relpath, licenses or {})}
        try:
            fh = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
        except Exception as exc:  # any filesystem's open error
            yield beam.pvalue.TaggedOutput("errors", records.ErrorRecord(path, f"unreadable_file: {exc}", "", self.spec.source))
            return
        with fh:
            if kind == "jsonl":
                items = records.read_jsonl(
                    fh, path=path, relpath=relpath, source=self.spec.source, cfg=self.cfg, documents=self.documents
                )
            elif kind == "parquet":
                items = records.read_parquet(fh, path=path, relpath=relpath, source=self.spec.source, cfg=self.cfg)
            else:
                items = records.read_whole_file(fh, path=path, relpath=relpath, source=self.spec.source, cfg=self.cfg, meta=meta)
            for item in items:
                if isinstance(item, records.ErrorRecord):
                    yield beam.pvalue.TaggedOutput("errors", item)
                else:
                    yield item


def _read_license(metadata, root: str):
    with FileSystems.open(metadata.path, compression_type=CompressionTypes.UNCOMPRESSED) as fh:
        text = fh.read(200_000).decode("utf-8", errors="replace")
    folder = posixpath.dirname(relative(metadata.path, root))
    yield folder, code_rules.detect_license(text)


class ReadInputs(beam.PTransform):
    """All inputs → ``{"docs": PCollection[Document], "errors": PCollection[ErrorRecord]}``.

    ``documents``: JSONL records are palmkit Documents (see ``records.read_jsonl``).
    """

    def __init__(self, inputs: list[InputSpec], cfg: ReaderConfig, documents: bool = False):
        super().__init__()
        self.inputs = inputs
        self.cfg = cfg
        self.documents = documents

    def expand(self, pbegin):
        docs, errors = [], []
        for i, spec in enumerate(self.inputs):
            name = f"Input{i}[{spec.source}]"
            files = (
                pbegin
                | f"{name}/Match" >> fileio.MatchFiles(spec.glob, empty_match_treatment=fileio.EmptyMatchTreatment.ALLOW)
                | f"{name}/SkipDirectories" >> beam.Filter(lambda m: not m.path.endswith("/"))
                # Spread files over workers: one file's records stay on one worker.
                | f"{name}/Spread" >> beam.Reshuffle()
            )
            side = []
            if spec.source in self.cfg.code_sources:
                licenses = (
                    files
                    | f"{name}/LicenseFiles" >> beam.Filter(lambda m: is_license_file(m.path))
                    | f"{name}/DetectLicense" >> beam.FlatMap(_read_license, spec.root)
                )
                side = [beam.pvalue.AsDict(licenses)]
            parsed = files | f"{name}/Parse" >> beam.ParDo(_ReadFileFn(spec, self.cfg, self.documents), *side).with_outputs(
                "errors", main="docs"
            )
            docs.append(parsed.docs)
            errors.append(parsed.errors)
        return {
            "docs": docs | "AllDocs" >> beam.Flatten(),
            "errors": errors | "AllErrors" >> beam.Flatten(),
        }
