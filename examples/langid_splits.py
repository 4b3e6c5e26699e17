"""The language-ID training and held-out splits: paragraphs chosen per
language and split by source file, short lines, and the UI and Debian
catalog records, none overlapping a test split."""
from __future__ import annotations

import re
from pathlib import Path

from corpus_packages import (
    DEBIAN_CATALOG_CAP, LANGID_HELDOUT_CAP, LANGID_MAX_CHARS, LANGID_MIN_CHARS, LANGID_MIN_CHARS_CJK,
    LANGID_SHORT_CAP, LANGID_SHORT_MIN_CHARS, LANGID_TRAIN_CAP, LANGID_TRAIN_CAP_EN, UI_CATALOG_CAP,
)
from corpus_text import (
    Doc, LOG, NON_LATIN, looks_english, norm_para, paragraphs, script_share, sha, write_zst_jsonl,
)


def langid_ok(p: str, lang: str, min_chars: int | None = None, min_words: int = 3) -> bool:
    n = len(p)
    if min_chars is None:
        min_chars = LANGID_MIN_CHARS_CJK if lang in ("ja", "zh", "ko") else LANGID_MIN_CHARS
    if n > LANGID_MAX_CHARS or n < min_chars:
        return False
    nonspace = [ch for ch in p if not ch.isspace()]
    letters = sum(1 for ch in nonspace if ch.isalpha())
    if letters / max(1, len(nonspace)) < 0.7:
        return False
    if " | " in p or "://" in p:
        return False  # table rows and URLs say little about the language
    if lang not in ("ja", "zh"):
        tokens = p.split()
        wordlike = sum(1 for t in tokens if t.strip(".,;:!?\"'()«»“”„‘’—–-").isalpha())
        if wordlike < min_words or wordlike < 0.6 * len(tokens):
            return False
    if lang != "en" and looks_english(p):
        return False
    return script_share(p, lang) >= (0.5 if lang in ("ja", "zh", "ko", "ar", "fa") else 0.8)


def short_segments(text: str, lang: str) -> list[str]:
    """Short lines of a document (headings, option descriptions, one-line
    fortunes) that pass the same checks as paragraphs, with a lower length
    floor and at least two words.  Used only for the training split."""
    out = []
    for ln in text.split("\n"):
        ln = " ".join(ln.split())
        if not ln or len(ln) >= LANGID_MIN_CHARS or len(ln) < LANGID_SHORT_MIN_CHARS:
            continue
        if lang not in ("ja", "zh", "ko") and len(ln.split()) < 2:
            continue
        if langid_ok(ln, lang, min_chars=LANGID_SHORT_MIN_CHARS, min_words=2):
            out.append(ln)
    return out


def english_left_in(p: str, lang: str, english_words: frozenset[str]) -> bool:
    """True for text in a Latin-script language other than English that is
    mostly English: at least 3 words (of three letters or more) from
    ``english_words`` making up 60% or more of its words of two letters or
    more ("Reading package lists... Done", "-W --no-weak Do not display weak
    symbols.")."""
    if lang == "en" or lang in NON_LATIN or not english_words:
        return False
    words = [w.lower() for w in re.findall(r"[A-Za-z']{2,}", p)]
    hits = sum(1 for w in words if len(w) >= 3 and w in english_words)
    return hits >= 3 and hits >= 0.6 * len(words)

def holding_check(keys: set[str]):
    """A function telling whether a text holds one of ``keys`` (all
    normalised), found through each key's first m characters, m the shortest
    key's length."""
    m = min((len(k) for k in keys if k), default=1)
    by_head: dict[str, list[str]] = {}
    for k in sorted(keys):
        if k:
            by_head.setdefault(k[:m], []).append(k)

    def holds(text: str) -> bool:
        return any(k in text for i in range(len(text) - m + 1) for k in by_head.get(text[i:i + m], ()))
    return holds


def select_ui_catalogs(ui_docs: list[Doc], other_catalogs: list[Doc], taken_keys: set[str],
                       test_texts: list[str], english_words: frozenset[str], cap: int = UI_CATALOG_CAP,
                       sources: tuple[str, ...] = ("libreoffice", "firefox", "django")) -> tuple[list[dict], dict]:
    """Training records from the UI catalogs (``UI_CATALOG_DEBS`` and Django;
    also debian_catalogs.training_records'):
    one paragraph per message, the same ``langid_ok`` and ``english_left_in``
    rules as mk/hr's catalog records, then up to ``cap`` a language,
    spread across files: files in sha256 order of their origin, each file's
    messages in sha256 order, one message a file per round.  Dropped: a text
    already taken (``taken_keys``), a message found in more than one
    language's catalogs (an untranslated copy; ``other_catalogs`` are mk/hr's),
    and one equal to or inside a text of ``test_texts`` (held-out, fresh,
    fresh2) or holding one of them, all after ``norm_para``."""
    def joined(p: str, lang: str) -> str:
        return " ".join(ln.strip() for ln in p.split("\n")) if lang not in ("ja", "zh") else "".join(
            ln.strip() for ln in p.split("\n"))

    langs_of: dict[str, set[str]] = {}
    for d in list(ui_docs) + list(other_catalogs):
        for p in paragraphs(d.text):
            langs_of.setdefault(norm_para(joined(p, d.lang)), set()).add(d.lang)
    test_keys = {norm_para(t) for t in test_texts}
    test_blob = "\x00".join(sorted(test_keys))
    holds_test_text = holding_check(test_keys)  # and the other way round: a test text inside a message
    files: dict[str, dict[str, dict[str, str]]] = {}
    drops = {"duplicate": 0, "english_left_in": 0, "several_languages": 0, "test_overlap": 0}
    for d in sorted(ui_docs, key=lambda d: (d.lang, d.origin, d.part)):
        for p in paragraphs(d.text):
            p = joined(p, d.lang)
            if not langid_ok(p, d.lang):
                continue
            key = norm_para(p)
            files.setdefault(d.lang, {}).setdefault(d.origin, {}).setdefault(key, p)
    out: list[dict] = []
    per_lang: dict[str, dict[str, int]] = {}
    for lang in sorted(files):
        queues = []
        for o in sorted(files[lang], key=sha):
            queues.append([(o, p, k) for k, p in sorted(files[lang][o].items(), key=lambda kp: sha(o + "\n" + kp[1]))])
        used: set[str] = set()
        took: list[dict] = []
        pos = [0] * len(queues)
        while len(took) < cap and any(pos[i] < len(q) for i, q in enumerate(queues)):
            for i, q in enumerate(queues):
                if len(took) >= cap:
                    break
                while pos[i] < len(q):
                    o, p, key = q[pos[i]]
                    pos[i] += 1
                    if key in used or key in taken_keys:
                        drops["duplicate"] += 1
                        continue
                    used.add(key)
                    if english_left_in(p, lang, english_words):
                        drops["english_left_in"] += 1
                        continue
                    if len(langs_of.get(key, ())) > 1:
                        drops["several_languages"] += 1
                        continue
                    if key in test_keys or key in test_blob or holds_test_text(key):
                        drops["test_overlap"] += 1
                        continue
                    took.append({"text": p, "lang": lang, "origin": o})
                    break
        took.sort(key=lambda r: (r["origin"], sha(r["text"])))
        out.extend(took)
        per_lang[lang] = {"records": len(took), "files": len({r["origin"] for r in took}),
                          "packages": len({r["origin"].split("/", 1)[0] for r in took})}
        for src in sources:
            per_lang[lang][src] = sum(1 for r in took if r["origin"].startswith(src))
    return out, {"per_lang": per_lang, "drops": drops}


def build_langid(out: Path, pools: list[Doc], english_words: frozenset[str] = frozenset(),
                 ui_docs: list[Doc] = (), test_texts: list[str] = (),
                 debian_catalogs: list[list[Doc]] = ()) -> dict:
    """Paragraph records split by origin file: whole files go to one split.

    The held-out split is chosen exactly as it always was (same paragraphs,
    same origins, same cap), so models trained on different training splits
    are compared on the same file.  The training split takes up to
    LANGID_TRAIN_CAP paragraphs per language (LANGID_TRAIN_CAP_EN for
    English) from the other origin files, plus up to LANGID_SHORT_CAP short
    lines from those files; nothing whose normalised text is in the
    held-out split is used for training.

    Translation catalogs (``Doc.name == "catalogs"``, hr and mk only) are
    split on their own, after the documents and by the same rule: the first
    catalog files in sha256 order go to held-out until they hold 20% of the
    language's catalog paragraphs.  They fill what the documents leave of
    the caps, so the documents' records (the man pages held out before
    catalogs were added among them) stay exactly as they were.

    Training records of Latin-script languages other than English also
    lose English that the translations left in (``english_left_in``: option
    descriptions and headings too short for ``looks_english``).  Held-out
    records are chosen exactly as before and then lose what the same rule
    finds, so the held-out split is a subset of the one chosen before the
    rule existed.  They are dropped, not relabelled ``en``: the rule also
    fires on paragraphs in the package's language whose paths, option names
    or technical terms are English ("programes a /etc/cron.weekly/ un cop
    per setmana;"), so it is not a reliable English label."""
    by_lang: dict[str, dict[str, dict[str, list[str]]]] = {}
    for d in pools:
        group = "catalogs" if d.name == "catalogs" else "documents"
        for p in paragraphs(d.text):
            p = " ".join(ln.strip() for ln in p.split("\n")) if d.lang not in ("ja", "zh") else "".join(
                ln.strip() for ln in p.split("\n"))
            if langid_ok(p, d.lang):
                by_lang.setdefault(d.lang, {}).setdefault(group, {}).setdefault(d.origin, []).append(p)
    train, held = [], []
    seen: set[str] = set()
    stats = {}
    dropped_english: dict[str, int] = {}
    held_origins_all: dict[str, set[str]] = {}
    for lang in sorted(by_lang):
        if len(by_lang[lang].get("documents", {})) < 2:
            continue
        train_cap = LANGID_TRAIN_CAP_EN if lang == "en" else LANGID_TRAIN_CAP
        caps = {"train": train_cap, "heldout": LANGID_HELDOUT_CAP}
        held_origins_all[lang] = set()
        for group in ("documents", "catalogs"):
            files = by_lang[lang].get(group, {})
            if len(files) < 2:
                continue
            origins = sorted(files, key=sha)
            total = sum(len(v) for v in files.values())
            held_origins, n = [], 0
            for o in origins:
                if n >= 0.2 * total and held_origins:
                    break
                if len(held_origins) >= len(origins) - 1:
                    break
                held_origins.append(o)
                n += len(files[o])
            held_set = set(held_origins)
            held_origins_all[lang] |= held_set
            recs = {"train": [], "heldout": []}
            for o in sorted(files):
                split = "heldout" if o in held_set else "train"
                for p in files[o]:
                    key = norm_para(p)
                    if key in seen:
                        continue
                    seen.add(key)
                    if split == "train" and english_left_in(p, lang, english_words):
                        continue
                    recs[split].append({"text": p, "lang": lang, "origin": o})
            for split in ("train", "heldout"):
                rs = sorted(recs[split], key=lambda r: sha(r["origin"] + "\n" + r["text"]))[:caps[split]]
                caps[split] -= len(rs)
                rs.sort(key=lambda r: (r["origin"], sha(r["text"])))
                if split == "heldout":  # chosen as before, then the training split's rule
                    kept = [r for r in rs if not english_left_in(r["text"], lang, english_words)]
                    if len(kept) < len(rs):
                        dropped_english[lang] = dropped_english.get(lang, 0) + len(rs) - len(kept)
                    rs = kept
                (train if split == "train" else held).extend(rs)
    # Short lines, from training origin files only, never a held-out text.
    held_keys = {norm_para(r["text"]) for r in held}
    short: dict[str, dict[str, dict]] = {}
    if LANGID_SHORT_CAP:
        for d in sorted(pools, key=lambda d: (d.lang, d.origin, d.part)):  # not the order man pages rendered in
            if d.lang not in held_origins_all or d.origin in held_origins_all[d.lang]:
                continue
            for ln in short_segments(d.text, d.lang):
                key = norm_para(ln)
                if key in seen or key in held_keys or english_left_in(ln, d.lang, english_words):
                    continue
                short.setdefault(d.lang, {}).setdefault(key, {"text": ln, "lang": d.lang, "origin": d.origin})
    for lang in sorted(short):
        rs = sorted(short[lang].values(), key=lambda r: sha(r["origin"] + "\n" + r["text"]))[:LANGID_SHORT_CAP]
        rs.sort(key=lambda r: (r["origin"], sha(r["text"])))
        train.extend(rs)
    ui_stats: dict = {"per_lang": {}, "drops": {}}
    other_catalogs = [d for d in pools if d.name == "catalogs"]
    if ui_docs:  # training only, after everything above, so none of it changes
        taken = seen | held_keys | {norm_para(r["text"]) for r in train}
        ui_recs, ui_stats = select_ui_catalogs(
            [d for d in ui_docs if d.lang in held_origins_all], other_catalogs,
            taken, [r["text"] for r in held] + list(test_texts), english_words)
        train.extend(ui_recs)
        LOG.info("langid: %d UI catalog training records; dropped %s", len(ui_recs), ui_stats["drops"])
    debcat_stats: list[dict] = []
    for batch in debian_catalogs:  # after the UI records and each earlier batch, so none of those change
        taken = seen | held_keys | {norm_para(r["text"]) for r in train}
        dc_recs, stats_ = select_ui_catalogs(
            [d for d in batch if d.lang in held_origins_all], other_catalogs + list(ui_docs),
            taken, [r["text"] for r in held] + list(test_texts), english_words, cap=DEBIAN_CATALOG_CAP, sources=())
        train.extend(dc_recs)
        debcat_stats.append(stats_)
        LOG.info("langid: %d Debian catalog training records; dropped %s", len(dc_recs), stats_["drops"])
    train.sort(key=lambda r: (r["lang"], r["origin"], sha(r["text"])))
    for lang in held_origins_all:
        stats[lang] = (sum(1 for r in train if r["lang"] == lang), sum(1 for r in held if r["lang"] == lang))
    if dropped_english:
        LOG.info("langid: held-out paragraphs dropped as English left in: %s",
                 ", ".join(f"{k} {v}" for k, v in sorted(dropped_english.items())))
    sizes = {}
    for split, recs_ in (("train", train), ("heldout", held)):
        sizes[split] = write_zst_jsonl(out / "langid" / f"{split}.jsonl.zst", recs_)
    LOG.info("langid: %d train, %d heldout paragraphs in %d languages", len(train), len(held), len(stats))
    return {"per_lang": stats, "sizes": sizes, "train": len(train), "heldout": len(held),
            "dropped_english": dropped_english, "ui": ui_stats, "debian_catalogs": debcat_stats}
