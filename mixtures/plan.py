"""The plan of a recipe: how many tokens each source and language gives, and how often it repeats.

``make_plan(recipe, available)`` is pure arithmetic on token counts, so it is
tested without Beam or SentencePiece. ``available`` maps each curated folder
to its languages and their token counts (end-of-document ids included, since
every document costs one in the packed shards):

    {"web": {"en": 1_200_000, "de": 80_000}, "code": {"code": 300_000}}

For each source the plan wants ``share × total_tokens`` tokens. A source's
languages split that in proportion to n^α (``LanguageSampling.temperature``),
with languages over their repeat cap fixed at the cap and the rest spread over
the others (water-filling). Each language's *epochs* (wanted / available) is
the sampling rate the tokenize job applies per document: below 1 a document is
kept with that probability, above 1 it is repeated. The plan warns wherever a
source or language would be seen more than ``max_epochs`` times, or where a
source has no data or a capped source cannot supply its share.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping

from mixtures.recipe import Recipe


@dataclasses.dataclass(frozen=True)
class LanguagePlan:
    lang: str
    available: int
    wanted: float

    @property
    def epochs(self) -> float:
        return self.wanted / self.available if self.available else 0.0


@dataclasses.dataclass(frozen=True)
class SourcePlan:
    name: str
    share: float
    wanted: int  # share × total_tokens
    max_epochs: float
    paths: tuple[str, ...]
    languages: tuple[LanguagePlan, ...]

    @property
    def available(self) -> int:
        return sum(lp.available for lp in self.languages)

    @property
    def planned(self) -> float:
        """Tokens the languages will actually supply (less than ``wanted`` only when capped or empty)."""
        return sum(lp.wanted for lp in self.languages)

    @property
    def epochs(self) -> float:
        return self.planned / self.available if self.available else 0.0


@dataclasses.dataclass(frozen=True)
class Plan:
    recipe: Recipe
    sources: tuple[SourcePlan, ...]
    warnings: tuple[str, ...]
    # Documents per curated folder and language, when known: the tokenize job
    # uses them to bound how many partial-copy candidates it ships.
    documents: Mapping[str, Mapping[str, int]] = dataclasses.field(default_factory=dict)

    def rates(self) -> dict[tuple[str, str], float]:
        """``(curated folder, lang) → (source name, epochs)`` as the tokenize job samples them."""
        out = {}
        for sp in self.sources:
            for lp in sp.languages:
                for path in sp.paths:
                    out[(path, lp.lang)] = (sp.name, lp.epochs)
        return out

    @property
    def planned_tokens(self) -> float:
        return sum(sp.planned for sp in self.sources)

    def to_dict(self) -> dict:
        return {
            "recipe": self.recipe.name,
            "total_tokens": self.recipe.total_tokens,
            "planned_tokens": round(self.planned_tokens),
            "seq_len": self.recipe.seq_len,
            "sources": [
                {
                    "name": sp.name,
                    "share": sp.share,
                    "wanted": sp.wanted,
                    "planned": round(sp.planned),
                    "available": sp.available,
                    "epochs": sp.epochs,
                    "max_epochs": sp.max_epochs,
                    "paths": list(sp.paths),
                    "languages": [
                        {"lang": lp.lang, "available": lp.available, "wanted": round(lp.wanted), "epochs": lp.epochs}
                        for lp in sp.languages
                    ],
                }
                for sp in self.sources
            ],
            "warnings": list(self.warnings),
        }


def allocate(wanted: float, available: Mapping[str, int], temperature: float = 1.0,
             max_epochs: float | None = None) -> dict[str, float]:
    """Splits ``wanted`` tokens over keys in proportion to available^temperature, capped at max_epochs × available.

    Keys at the cap keep exactly the cap and their excess goes to the others in
    the same proportions; when every key is capped the total falls short of
    ``wanted`` (the caller warns). Keys with nothing available get nothing.
    """
    alloc = {k: 0.0 for k in available}
    # A sorted list, not a set: float sums depend on order, and a set of
    # strings iterates in a per-process hash order, so the rates (and the
    # shards they sample) would differ between runs in the last digit.
    active = sorted(k for k, n in available.items() if n > 0)
    remaining = float(wanted)
    while active and remaining > 0:
        weights = {k: float(available[k]) ** temperature for k in active}
        total = sum(weights.values())
        share = {k: remaining * w / total for k, w in weights.items()}
        over = [k for k in active if max_epochs is not None and share[k] > max_epochs * available[k]]
        if not over:
            alloc.update(share)
            break
        for k in over:
            alloc[k] = max_epochs * available[k]
            remaining -= alloc[k]
        active = [k for k in active if k not in over]
    return alloc


def make_plan(recipe: Recipe, available: Mapping[str, Mapping[str, int]],
              documents: Mapping[str, Mapping[str, int]] | None = None) -> Plan:
    """The plan for ``recipe`` given tokens (and optionally documents) per curated folder and language."""
    sources, warnings = [], []
    for name, spec in recipe.sources.items():
        paths = recipe.source_paths(name)
        per_lang: dict[str, int] = {}
        for path in paths:
            for lang, n in sorted((available.get(path) or {}).items()):
                if spec.include_languages and lang not in spec.include_languages:
                    continue
                per_lang[lang] = per_lang.get(lang, 0) + int(n)
        wanted = recipe.tokens_wanted(name)
        sampling = spec.languages
        alloc = allocate(
            wanted,
            per_lang,
            temperature=sampling.temperature if sampling else 1.0,
            max_epochs=sampling.max_epochs if sampling else None,
        )
        langs = tuple(LanguagePlan(lang, per_lang[lang], alloc[lang]) for lang in sorted(per_lang))
        sp = SourcePlan(name, spec.share, wanted, spec.max_epochs, paths, langs)
        sources.append(sp)
        if wanted > 0 and sp.available == 0:
            warnings.append(f"{name}: no curated data under {', '.join(paths)} (wants {human(wanted)} tokens)")
            continue
        if sp.planned < wanted * (1 - 1e-9):
            warnings.append(
                f"{name}: every language is at its repeat cap ({sampling.max_epochs:g}); "
                f"supplies {human(sp.planned)} of {human(wanted)} tokens"
            )
        if sp.epochs > spec.max_epochs * (1 + 1e-9):
            warnings.append(f"{name}: would repeat {sp.epochs:.2f} times (max_epochs {spec.max_epochs:g})")
            continue  # its languages share the source's warning
        cap = sampling.max_epochs if sampling and sampling.max_epochs is not None else spec.max_epochs
        for lp in langs:
            # A source within its limit can still repeat a small language past it (temperature < 1).
            if lp.epochs > cap * (1 + 1e-9):
                warnings.append(f"{name}/{lp.lang}: would repeat {lp.epochs:.2f} times (max_epochs {cap:g})")
    return Plan(recipe, tuple(sources), tuple(warnings), dict(documents or {}))


def human(n: float) -> str:
    """1234567 → '1.23M': token counts a reader takes in at a glance."""
    n = float(n)
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.3g}{unit}"
    return f"{n:.0f}"


def format_plan(plan: Plan, languages: bool = True) -> str:
    """The plan as a fixed-width table, warnings marked with '!' and listed below it."""
    r = plan.recipe
    lines = [f"recipe {r.name}: {human(r.total_tokens)} tokens ({r.total_tokens:,}), seq_len {r.seq_len}, seed {r.seed}"]
    header = f"{'source':<22}{'share':>8}{'wanted':>11}{'available':>11}{'epochs':>9}{'max':>6}"
    lines += [header, "-" * len(header)]
    for sp in plan.sources:
        flag = " !" if sp.available == 0 or sp.epochs > sp.max_epochs * (1 + 1e-9) else ""
        lines.append(
            f"{sp.name:<22}{sp.share:>8.1%}{human(sp.wanted):>11}{human(sp.available):>11}{sp.epochs:>9.3f}{sp.max_epochs:>6g}{flag}"
        )
        if languages and len(sp.languages) > 1:
            for lp in sp.languages:
                lines.append(f"  {lp.lang:<20}{'':>8}{human(lp.wanted):>11}{human(lp.available):>11}{lp.epochs:>9.3f}")
    lines.append("-" * len(header))
    lines.append(f"{'total':<22}{1:>8.1%}{human(r.total_tokens):>11}{human(sum(s.available for s in plan.sources)):>11}")
    if plan.warnings:
        lines.append("")
        lines.append("warnings:")
        lines += [f"  ! {w}" for w in plan.warnings]
    return "\n".join(lines)
