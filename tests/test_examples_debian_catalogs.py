"""examples/debian_catalogs.py: the package lists follow the split rule
written down before any catalog was read, and locale directories map to the
model's languages as documented."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

pytest.importorskip("zstandard")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "examples"))
import debian_catalogs as dc  # noqa: E402
import build_langid_fresh2 as fresh2  # noqa: E402


def test_packages_follow_the_sha256_split_rule():
    everything = set(dc.FRESH3_PACKAGES) | set(dc.TRAIN_PACKAGES)
    assert len(everything) == len(dc.FRESH3_PACKAGES) + len(dc.TRAIN_PACKAGES) == 111
    ordered = sorted(everything, key=lambda n: hashlib.sha256((dc.SPLIT_SALT + n).encode()).hexdigest())
    assert {n for i, n in enumerate(ordered) if i % 3 == 0} == set(dc.FRESH3_PACKAGES)


def test_second_draw_follows_its_own_sha256_split_rule():
    everything = set(dc.FRESH4_PACKAGES) | set(dc.TRAIN2_PACKAGES)
    assert len(everything) == len(dc.FRESH4_PACKAGES) + len(dc.TRAIN2_PACKAGES) == 143
    ordered = sorted(everything, key=lambda n: hashlib.sha256((dc.SPLIT_SALT_2 + n).encode()).hexdigest())
    assert {n for i, n in enumerate(ordered) if i % 3 == 0} == set(dc.FRESH4_PACKAGES)
    # Both training lists are used, in draw order (the third plan's C1: docs/LANGID.md).
    assert dc.TRAIN_BATCHES == (dc.TRAIN_PACKAGES, dc.TRAIN2_PACKAGES)


def test_the_four_package_lists_are_disjoint():
    lists = [dc.FRESH3_PACKAGES, dc.TRAIN_PACKAGES, dc.FRESH4_PACKAGES, dc.TRAIN2_PACKAGES]
    assert sum(map(len, lists)) == len(set().union(*lists))


def test_packages_are_new_to_every_split():
    everything = set(dc.FRESH3_PACKAGES) | set(dc.TRAIN_PACKAGES) | set(dc.FRESH4_PACKAGES) | set(dc.TRAIN2_PACKAGES)
    assert not everything & set(fresh2.PACKAGES)
    assert not everything & set(dc.bc.all_debs())
    # left out before the split was drawn (docs/LANGID.md)
    assert not everything & {"evince-common", "iso-codes", "xkb-data", "policykit-1"}
    assert not any(n.startswith("thunderbird-l10n-") for n in everything)


@pytest.mark.parametrize("code, lang", [
    ("de", "de"), ("pt_BR", "pt"), ("zh_TW", "zh"), ("no", "nb"), ("nb", "nb"), ("sr@latin", "sr"),
    ("ca@valencia", "ca"), ("en_GB", None), ("en@quot", None), ("eo", None), ("ast", None),
])
def test_catalog_lang(code, lang):
    assert dc.catalog_lang(code) == lang


def write_mo(path: Path, messages: dict[str, str]) -> None:
    """A GNU gettext .mo file (little-endian, no hash table) holding ``messages``."""
    import struct

    items = sorted({"": "Content-Type: text/plain; charset=UTF-8\n", **messages}.items())
    ids = [k.encode() for k, _ in items]
    strs = [v.encode() for _, v in items]
    n = len(items)
    start = 28 + 16 * n
    table, blob = [], b""
    for data in ids + strs:
        table.append((len(data), start + len(blob)))
        blob += data + b"\0"
    header = struct.pack("<7I", 0x950412DE, 0, n, 28, 28 + 8 * n, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + b"".join(struct.pack("<2I", *t) for t in table) + blob)


def test_training_docs_read_real_catalogs_and_drop_shared_messages(tmp_path, monkeypatch):
    root = tmp_path / dc.ROOT_NAME / "pkg"
    (root / ".version").parent.mkdir(parents=True)
    (root / ".version").write_text("1.0")  # fetch finds it unpacked and downloads nothing
    locale = root / "usr/share/locale"
    source = "The backup could not be written because the disk is full."
    german = "Die Sicherung konnte nicht geschrieben werden, weil der Datenträger voll ist."
    shared = "Sauvegarde impossible : le disque est plein, libérez de la place et réessayez."
    write_mo(locale / "de/LC_MESSAGES/pkg.mo", {source: german, "Other message that is long enough here.": shared})
    write_mo(locale / "fr/LC_MESSAGES/pkg.mo", {"Other message that is long enough here.": shared})
    write_mo(locale / "eo/LC_MESSAGES/pkg.mo", {source: "Ne eblis skribi la sekurkopion, ĉar la disko estas plena."})
    monkeypatch.setattr(dc, "TRAIN_PACKAGES", {"pkg": "1.0"})
    docs = dc.training_docs(tmp_path, frozenset(), offline=True)
    by_lang = {d.lang: (d.origin, d.text.split("\n\n")) for d in docs}
    assert by_lang["de"] == ("pkg/usr/share/locale/de/LC_MESSAGES/pkg.mo", [german])  # shared: in de and fr
    assert "fr" not in by_lang  # its only message is the shared one
    assert "eo" not in by_lang  # not one of the model's languages
    assert by_lang["en"][0] == "pkg/pkg.mo"  # English: the msgids, one unit per package and domain
    assert source in by_lang["en"][1]


def test_holding_check_finds_keys_inside_a_text():
    holds = dc.bc.holding_check({"disk is full", "cannot open"})
    assert holds("error: the disk is full, sorry")
    assert holds("cannot open")
    assert not holds("the disk is fine")
