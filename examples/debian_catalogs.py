"""Debian gettext catalogs as language-ID data: which packages, how they are
fetched and unpacked, and how their messages become paragraphs.

Used by ``build_langid_fresh2.py`` and ``build_langid_fresh3.py`` (test
splits: ``catalog_split``) and by ``build_corpus.py`` (training records from
TRAIN_BATCHES: ``training_docs``).

FRESH3_PACKAGES and TRAIN_PACKAGES (Debian 12) were chosen on 2026-11-30
before any of their catalogs was read: 111 packages shipping gettext
catalogs that no split used (left out beforehand: fresh-2's
``evince-common``; ``iso-codes`` and ``xkb-data``, which hold names rather
than messages; ``thunderbird-l10n-*``; the transitional ``policykit-1``).
Sorted by sha256(SPLIT_SALT + name), every third package from the first is
a fresh-3 test package, the others are training packages.  A second draw of
143 more packages (FRESH4_PACKAGES, TRAIN2_PACKAGES) followed the same rule
with SPLIT_SALT_2.  Licenses are in ``examples/SOURCES.md``.
"""
from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

import build_corpus as bc
from build_langid_fresh import MODEL_LANGS, man_files, render_many

LOG = logging.getLogger("debian_catalogs")
POOL_MAX_CHARS = 200_000  # as build_corpus.main's language-ID pool
MAN_RENDERED = 260  # English man pages per package that build_corpus renders
LANG_ALIASES = {"no": "nb"}
SPLIT_SALT = "palmkit-catalog-split:"
ROOT_NAME = "root-catalogs"  # <cache>/root-catalogs/<package>: the unpacked packages of both lists

# fresh-3's packages (build_langid_fresh3.py).
FRESH3_PACKAGES = {
    "adduser": "3.134",
    "bison": "2:3.8.2+dfsg-1+b1",
    "blueman": "2.3.5-2+b1",
    "brasero-common": "3.12.3-2",
    "cheese-common": "43.0-1",
    "eog": "43.2-1+deb12u1",
    "evolution-common": "3.46.4-2+deb12u1",
    "filezilla-common": "3.63.0-1+deb12u3",
    "flatpak": "1.14.10-1~deb12u2",
    "gawk": "1:5.2.1-2",
    "gcc-12-locales": "12.2.0-14+deb12u1",
    "gimp-data": "2.10.34-1+deb12u10",
    "git": "1:2.39.5-0+deb12u3",
    "gnome-characters": "43.1-1+deb12u1",
    "gnome-clocks": "43.0-1",
    "gnome-disk-utility": "43.0-1",
    "gnome-maps": "43.5-2~deb12u1",
    "gnome-session-common": "43.0-1+deb12u1",
    "gnome-settings-daemon-common": "43.0-4",
    "gnome-software-common": "43.5-1~deb12u2",
    "gnome-text-editor": "43.2-1",
    "kate": "4:22.12.3-1",
    "kcalc": "4:22.12.3-1",
    "mousepad": "0.5.10-2",
    "mutt": "2.2.12-0.1~deb12u2",
    "packagekit": "1.2.6-5+deb12u1",
    "pavucontrol": "5.0-2",
    "rhythmbox-data": "3.4.6-2",
    "seahorse": "43.0-1",
    "simple-scan": "42.5-2",
    "tilix-common": "1.9.5-2",
    "totem-common": "43.0-2",
    "xfce4-panel": "4.18.2-1",
    "xfce4-power-manager-data": "4.18.1-1",
    "xfce4-settings": "4.18.2-1",
    "xfdesktop4-data": "4.18.1-1",
    "yelp": "42.2-1+deb12u2",
}
# Training packages (build_corpus.py's language-ID training records).
TRAIN_PACKAGES = {
    "alsa-utils": "1.2.8-1",
    "ark": "4:22.12.3-1+deb12u1",
    "audacity-data": "3.2.4+dfsg-1",
    "baobab": "43.0-1",
    "binutils-common": "2.40-2",
    "claws-mail-i18n": "4.1.1-2",
    "cryptsetup-bin": "2:2.6.1-4~deb12u2",
    "dconf-editor": "43.0-1",
    "debconf-i18n": "1.5.82",
    "deja-dup": "44.0-2",
    "dolphin": "4:22.12.3-1",
    "evolution-data-server-common": "3.46.4-2+deb12u1",
    "file-roller": "43.0-1",
    "fwupd": "2.0.20-1~deb12u2",
    "galculator": "2.1.4-1.2",
    "gdb": "13.1-3",
    "geany-common": "1.38-1",
    "gimp": "2.10.34-1+deb12u10",
    "gnome-calculator": "1:43.0.1-2",
    "gnome-calendar": "43.1-2",
    "gnome-contacts": "43.1-1",
    "gnome-font-viewer": "43.0-1",
    "gnome-initial-setup": "43.2-6",
    "gnome-logs": "43.0-1",
    "gnome-screenshot": "41.0-2",
    "gnome-shell-common": "43.9-0+deb12u2",
    "gnome-system-monitor": "42.0-2",
    "gnome-terminal-data": "3.46.8-1",
    "gnome-tweaks": "42~beta-4",
    "gnome-weather": "43.0-1",
    "gnote": "43.1-1",
    "gnucash-common": "1:4.13-1",
    "gparted": "1.3.1-1",
    "grub-common": "2.06-13+deb12u2",
    "gstreamer1.0-plugins-base": "1.22.0-3+deb12u7",
    "gstreamer1.0-plugins-good": "1.22.0-5+deb12u4",
    "gvfs-common": "1.50.3-1+deb12u1",
    "gwenview": "4:22.12.3-1",
    "hexchat-common": "2.16.1-1",
    "ibus": "1.5.27-5",
    "inkscape": "1.2.2-2+deb12u1",
    "konsole": "4:22.12.3-1+deb12u1",
    "libnewt0.52": "0.52.23-1+b1",
    "libparted-i18n": "3.5-3+deb12u1",
    "libxfce4ui-common": "4.18.2-2",
    "lightdm-gtk-greeter": "2.0.8-2+b1",
    "lxde-common": "0.99.2-4",
    "lxpanel-data": "0.10.1-2",
    "lynx-common": "2.9.0dev.12-1",
    "make": "4.3-4.1",
    "mc-data": "3:4.8.29-2",
    "meld": "3.22.0-2",
    "mutter-common": "43.8-0+deb12u1",
    "network-manager-gnome": "1.30.0-2",
    "okular": "4:22.12.3-1+deb12u1",
    "orca": "43.1-1",
    "pcmanfm": "1.3.2-1",
    "pidgin-data": "2.14.12-1",
    "polkitd": "122-3",
    "pulseaudio": "16.1+dfsg1-2+b1",
    "remmina-common": "1.4.29+dfsg-1",
    "ristretto": "0.12.4-1",
    "shotwell-common": "0.30.17-1",
    "synaptic": "0.91.3",
    "system-config-printer-common": "1.5.18-1",
    "tasksel-data": "3.73",
    "thunar-data": "4.18.4-1",
    "transmission-common": "3.00-2.1+deb12u1",
    "udisks2": "2.9.4-4+deb12u2",
    "vlc-l10n": "3.0.24-0+deb12u1",
    "xfce4-session": "4.18.1-1",
    "xfce4-terminal": "1.0.4-1",
    "xfwm4": "4.18.0-1",
    "zenity-common": "3.44.0-1",
}


# The second draw (2026-11-30 01:20 UTC, docs/LANGID.md "Second plan"): 143 more
# packages, sorted by sha256(SPLIT_SALT_2 + name), every third from the first to
# fresh-4 (build_langid_fresh4.py), the others to training after TRAIN_PACKAGES.
SPLIT_SALT_2 = "palmkit-catalog-split-2:"
FRESH4_PACKAGES = {
    "accountsservice": "22.08.8-6",
    "audacious": "4.2-1",
    "catfish": "4.16.4-2",
    "cinnamon-l10n": "5.6.1-2",
    "colord-data": "1.4.6-2.2",
    "engrampa-common": "1.26.0-1+deb12u2",
    "evolution-plugins": "3.46.4-2+deb12u1",
    "gettext": "0.21-12",
    "gigolo": "0.5.2-1",
    "gimp-help-common": "2.10.34-2",
    "gnome-boxes": "43.2-1",
    "gnome-builder": "43.6-3",
    "gnome-console": "43.0-2",
    "gnome-keyring": "42.1-1+b2",
    "gnome-music": "42.1-1",
    "gnome-online-accounts": "3.46.0-1",
    "gnome-remote-desktop": "43.3-1",
    "gnome-robots": "1:40.0-2",
    "gnome-shell-extension-prefs": "43.9-0+deb12u2",
    "gnome-sudoku": "1:43.1-1",
    "gnome-todo": "43.0-1",
    "gnome-user-share": "43.0-1",
    "grsync": "1.3.0-1+b1",
    "gtranslator": "42.0-1",
    "hitori": "3.38.4-2",
    "indent": "2.2.12-4+deb12u3",
    "libidn12": "1.41-1",
    "libnotify-bin": "0.8.1-1",
    "m4": "1.4.19-3",
    "marco-common": "1.26.1-3+deb12u2",
    "mate-power-manager-common": "1.26.0-2+deb12u1",
    "mate-terminal-common": "1.26.0-2",
    "mercurial-common": "6.3.2-1+deb12u1",
    "mtools": "4.0.33-1+really4.0.32-1",
    "quilt": "0.67+really0.66-1",
    "remmina-plugin-rdp": "1.4.29+dfsg-1",
    "rygel": "0.42.1-1",
    "sharutils": "1:4.15.2-9",
    "subversion": "1.14.2-4+deb12u1",
    "swell-foop": "1:41.1-1",
    "telepathy-mission-control-5": "1:5.16.5-2",
    "thunar-volman": "4.18.0-1",
    "upower": "0.99.20-2",
    "xfburn": "0.6.2-1+b1",
    "xfce4-screenshooter": "1.10.3-1",
    "xfce4-taskmanager": "1.5.5-1",
    "xfce4-weather-plugin": "0.11.3-1~deb12u1",
    "zathura": "0.5.2-1",
}
TRAIN2_PACKAGES = {
    "a2ps": "1:4.14-8",
    "abiword-common": "3.0.5~dfsg-3.2",
    "aisleriot": "1:3.22.23-1",
    "anjuta-common": "2:3.34.0-8",
    "at-spi2-common": "2.46.0-5",
    "atril-common": "1.26.0-2+deb12u4",
    "caja-common": "1.26.1-1+deb12u1",
    "claws-mail-plugins": "4.1.1-2",
    "darktable": "4.2.1-4",
    "devhelp-common": "43.0-3",
    "dia-common": "0.97.3+git20220525-5",
    "dialog": "1.3-20230209-1",
    "enscript": "1.6.5.90-3+b1",
    "eom-common": "1.26.0-2",
    "five-or-more": "1:3.32.3-1",
    "folks-common": "0.15.5-2",
    "font-manager-common": "0.8.8-2",
    "four-in-a-row": "1:3.38.1-1+b1",
    "gdm3": "43.0-3",
    "geary": "43.0-1+b1",
    "ghex": "43.1-1",
    "gitg": "41-2",
    "glade": "3.40.0-3+b1",
    "gnome-chess": "1:43.1-1",
    "gnome-connections": "43.0-1",
    "gnome-dictionary": "40.0-3",
    "gnome-klotski": "1:3.38.2-1",
    "gnome-mahjongg": "1:3.38.3-2",
    "gnome-mines": "1:40.1-1",
    "gnome-nettool": "42.0-1",
    "gnome-nibbles": "1:3.38.2-2+b1",
    "gnome-photos": "43.0-2",
    "gnome-power-manager": "43.0-1",
    "gnome-sound-recorder": "43~beta-1",
    "gnome-sushi": "43.0-2",
    "gnome-taquin": "3.38.1-2+b1",
    "gnome-tetravex": "1:3.38.2-3",
    "gnumeric-common": "1.12.55-1",
    "gsettings-desktop-schemas": "43.0-1",
    "gthumb-data": "3:3.12.2-3",
    "gtkhash": "1.4+git20220617-3",
    "hello": "2.10-3",
    "hexchat-plugins": "2.16.1-1+b3",
    "hplip-data": "3.22.10+dfsg0-2+deb12u1",
    "iagno": "1:3.38.1-2",
    "k3b-i18n": "22.12.3-1",
    "kdenlive-data": "22.12.3-2+deb12u2",
    "libavahi-common-data": "0.8-10+deb12u1",
    "libgpg-error-l10n": "1.46-1",
    "libgweather-4-common": "4.2.0-2",
    "librecode0": "3.6-25",
    "libsecret-common": "0.20.5-3",
    "libsoup-3.0-common": "3.2.3-0+deb12u2",
    "lightdm": "1.26.0-8+deb12u1",
    "lightsoff": "1:40.0.1-1",
    "luckybackup": "0.5.0-6",
    "mate-applets-common": "1.26.1-1",
    "mate-control-center-common": "1.26.0-2+deb12u1",
    "mate-desktop-common": "1.26.0-2",
    "mate-panel-common": "1.27.0-1",
    "mate-screensaver-common": "1.26.1-1+deb12u1",
    "mate-settings-daemon-common": "1.26.0-1+deb12u1",
    "mate-system-monitor": "1.26.0-1",
    "mate-utils-common": "1.26.0-1+deb12u1",
    "modemmanager": "1.20.4-1",
    "nautilus-extension-gnome-terminal": "3.46.8-1",
    "orage": "4.16.0-2",
    "parole": "4.16.0-3",
    "parted": "3.5-3+deb12u1",
    "pavumeter": "0.9.3-4+b4",
    "pidgin-otr": "4.0.2-3",
    "pitivi": "2022.06-1+b1",
    "pluma-common": "1.26.0-1+deb12u1",
    "polari": "43.0-1",
    "printer-driver-gutenprint": "5.3.4.20220624T01008808d602-1",
    "quadrapassel": "1:40.2-1",
    "sound-juicer": "3.38.0-2.1",
    "tali": "1:40.9-1",
    "texinfo": "6.8-6+b1",
    "thunar-archive-plugin": "0.5.0-1",
    "tracker": "3.4.2-1",
    "tumbler-common": "4.18.0-1",
    "usermode": "1.114-3+b1",
    "vinagre": "3.22.0-8.1",
    "wdiff": "1.2.2-5",
    "weechat-core": "3.8-1",
    "wpasupplicant": "2:2.10-12+deb12u3",
    "xfce4-appfinder": "4.18.0-1",
    "xfce4-clipman": "2:1.6.2-1",
    "xfce4-dict": "0.8.4-1+b1",
    "xfce4-notifyd": "0.7.3-1",
    "xfce4-pulseaudio-plugin": "0.4.5-1",
    "xfce4-whiskermenu-plugin": "2.7.2-1",
    "xfsprogs": "6.1.0-1",
    "xsane-common": "0.999-12.1~deb12u1",
}

# build_corpus's training batches, in order: each is selected after the ones before it.
# TRAIN2_PACKAGES joined on 2026-11-30 as the third plan's candidate C1, chosen on the
# development splits (docs/LANGID.md, "Third attempt"); fresh-4 leaves out every text of both.
TRAIN_BATCHES = (TRAIN_PACKAGES, TRAIN2_PACKAGES)


def deb_version(f: Path) -> str:
    return bc.run(["dpkg-deb", "-f", str(f), "Version"]).decode().strip()


def fetch(cache: Path, packages: dict[str, str], root_name: str, offline: bool) -> None:
    """apt-get download NAME=VERSION of ``packages`` into <cache>/debs and
    dpkg-deb -x each into <cache>/<root_name>/NAME (nothing is installed)."""
    debs_dir = cache / "debs"
    debs_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(debs_dir, 0o777)  # apt's _apt user may write here
    for name, ver in sorted(packages.items()):
        root = cache / root_name / name
        stamp = root / ".version"
        if stamp.exists() and stamp.read_text() == ver:
            continue
        found = [f for f in sorted(debs_dir.glob(f"{name}_*.deb")) if deb_version(f) == ver]
        if not found:
            if offline:
                raise bc.BuildError(f"{name}={ver} is not in {debs_dir} and --offline was given")
            LOG.info("apt-get download %s=%s", name, ver)
            bc.run(["apt-get", "download", f"{name}={ver}"], cwd=debs_dir)
            found = [f for f in sorted(debs_dir.glob(f"{name}_*.deb")) if deb_version(f) == ver]
            if not found:
                raise bc.BuildError(f"apt-get download {name}={ver} produced no .deb")
        if root.exists():
            shutil.rmtree(root)
        root.mkdir(parents=True)
        bc.run(["dpkg-deb", "-x", str(found[0]), str(root)])
        stamp.write_text(ver)


def catalog_lang(code: str) -> str | None:
    """The model language of a locale directory name, or None to skip it."""
    base = re.split(r"[_@.]", code, maxsplit=1)[0]
    base = LANG_ALIASES.get(base, base)
    if base == "en" or base not in MODEL_LANGS:
        return None
    return base


def catalogs(cache: Path, packages: dict[str, str], root_name: str) -> list[tuple[str, str, str, Path]]:
    """(package, origin, lang code of the directory, file) of every catalog."""
    out = []
    for pkg in sorted(packages):
        root = cache / root_name / pkg
        for f in sorted((root / "usr/share/locale").glob("*/LC_MESSAGES/*.mo")):
            if f.is_file() and not f.is_symlink():
                out.append((pkg, f"{pkg}/{f.relative_to(root)}", f.parts[-3], f))
    return out


def message_paragraphs(msgid: str, text: str, lang: str, english_words: frozenset[str]) -> list[str]:
    """Paragraphs of one message text that the held-out split's rules keep."""
    out = []
    id_paras = {bc.norm_para(p) for p in bc.paragraphs(bc.tidy(msgid, "en"))} if msgid else set()
    for p in bc.paragraphs(bc.tidy(text, lang)):
        if bc.norm_para(p) in id_paras:
            continue
        if lang == "en":
            # Only the markup/placeholder removal: a non-Latin code skips the
            # checks for English left in a translation.
            c = bc.clean_message("", p, "zh")
        else:
            c = bc.clean_message(msgid, p, lang, english_words)
        if not c:
            continue
        c = bc.tidy(c, lang)
        if bc.langid_ok(c, lang) and not bc.english_left_in(c, lang, english_words):
            out.append(c)
    return out


def cleaned_keys(text: str, lang: str) -> set[str]:
    """Normalised paragraphs of a message after markup/placeholder removal
    only (no quality checks): what the cross-language check compares."""
    out = set()
    for p in bc.paragraphs(bc.tidy(text, lang)):
        c = bc.clean_message("", p, "zh")
        if c:
            out.add(bc.norm_para(bc.tidy(c, lang)))
    return out


def english_vocabulary(cache: Path) -> frozenset[str]:
    """build_corpus's English vocabulary (the same documents: its rendered
    English man pages and the English handbook, installation guide,
    reference and fortunes), computed the way build_langid_fresh does."""
    other: list[bc.Doc] = []
    for fn in (bc.handbook_docs, bc.install_guide_docs, bc.reference_docs, bc.fortune_docs):
        other.extend(d for d in fn(cache) if d.lang == "en" and len(d.text) <= POOL_MAX_CHARS)
    jobs = [(o, lang, f) for o, lang, f, rank in man_files(cache) if lang == "en" and rank < MAN_RENDERED]
    en_man = render_many(jobs)
    en_docs = [bc.Doc("manpages", o, 0, "en", t) for o, t in sorted(en_man.items())
               if t is not None and len(t) <= POOL_MAX_CHARS]
    return bc.english_vocabulary(en_docs + other)


def catalog_candidates(cache: Path, english_words: frozenset[str], packages: dict[str, str],
                       root_name: str) -> tuple[dict[str, dict[str, dict[str, str]]], dict, set[str]]:
    """Every paragraph the held-out rules keep from the catalogs of
    ``packages``: (lang -> unit -> {norm_para key: text}, (unit, key) -> origin
    of an English paragraph, the keys found in more than one language's
    catalogs).  A unit is a catalog file (its origin), for English a package
    and domain, whose paragraphs are the msgids."""
    cand: dict[str, dict[str, dict[str, str]]] = {}
    en_origin: dict[tuple[str, str], str] = {}  # (unit, key) -> origin of an English paragraph
    # Every cleaned paragraph of every catalog (all locales, the 31 or not;
    # English msgids and en_* / en@* catalogs count as "en") -> its languages.
    langs_of_key: dict[str, set[str]] = {}
    en_first: dict[tuple[str, str, str], str] = {}  # (pkg, domain, msgid) -> first catalog with it
    n_files = 0
    for pkg, origin, code, f in catalogs(cache, packages, root_name):
        lang = catalog_lang(code)
        base = LANG_ALIASES.get(re.split(r"[_@.]", code, maxsplit=1)[0], re.split(r"[_@.]", code, maxsplit=1)[0])
        pairs = bc.mo_messages(f.read_bytes())
        for msgid, _msgstr in pairs:
            en_first.setdefault((pkg, f.name, msgid), origin)
        n_files += lang is not None
        for msgid, msgstr in pairs:
            if not msgstr.strip() or msgstr.strip() == msgid.strip():
                continue
            for k in cleaned_keys(msgstr, base):
                langs_of_key.setdefault(k, set()).add(base)
            if lang is None:
                continue
            for p in message_paragraphs(msgid, msgstr, lang, english_words):
                cand.setdefault(lang, {}).setdefault(origin, {}).setdefault(bc.norm_para(p), p)
    for (pkg, domain, msgid), origin in sorted(en_first.items()):
        for k in cleaned_keys(msgid, "en"):
            langs_of_key.setdefault(k, set()).add("en")
        unit = f"{pkg}/{domain}"
        for p in message_paragraphs("", msgid, "en", english_words):
            k = bc.norm_para(p)
            if k not in cand.setdefault("en", {}).setdefault(unit, {}):
                cand["en"][unit][k] = p
                en_origin[(unit, k)] = origin
    multi = {k for k, ls in langs_of_key.items() if len(ls) > 1}
    LOG.info("%d catalogs in the 31 languages; %d paragraph texts occur in more than one language",
             n_files, len(multi))

    return cand, en_origin, multi


def catalog_split(cache: Path, english_words: frozenset[str], packages: dict[str, str], root_name: str,
                  used_recs: list[dict], cap: int, per_file_cap: int, id_prefix: str,
                  drop_holding_used: bool = False) -> tuple[list[dict], dict]:
    """A test split of the catalog messages of ``packages`` (unpacked under
    <cache>/<root_name>), drawn by the rules in build_langid_fresh2's
    docstring: ``cap`` paragraphs a language, at most ``per_file_cap`` a unit,
    nothing of ``used_recs`` (the other splits), ids
    ``<id_prefix>:<origin>#<n>``.  With ``drop_holding_used`` a paragraph
    that holds a text of ``used_recs`` is dropped too (otherwise only one
    equal to or inside such a text), so that building the training file
    afterwards leaves every training record in place."""
    used_origins = {r["origin"] for r in used_recs}
    used_keys = {bc.norm_para(r["text"]) for r in used_recs}
    used_blob = "\n".join(sorted(used_keys))
    holds_used = bc.holding_check(used_keys) if drop_holding_used else (lambda text: False)
    used_pkgs = {o.split("/", 1)[0] for o in used_origins}
    if used_pkgs & set(packages):
        raise bc.BuildError(f"packages already used by another split: {sorted(used_pkgs & set(packages))}")

    cand, en_origin, multi = catalog_candidates(cache, english_words, packages, root_name)

    fresh: list[dict] = []
    taken: set[str] = set()
    stats: dict[str, dict] = {}
    drops = {"multi_lang": 0, "in_other_splits": 0}
    for lang in MODEL_LANGS:
        left = cap
        st = {"files": 0, "paragraphs": 0, "by_package": {}}
        units = cand.get(lang, {})
        for unit in sorted(units, key=bc.sha):
            if left <= 0:
                break
            items = sorted(units[unit].items(), key=lambda kv: bc.sha(unit + "\n" + kv[1]))
            take = []
            for k, p in items:
                if len(take) >= min(per_file_cap, left):
                    break
                if k in multi:
                    drops["multi_lang"] += 1
                    continue
                if k in taken:
                    continue
                if k in used_keys or k in used_blob or holds_used(k):
                    drops["in_other_splits"] += 1
                    continue
                taken.add(k)
                origin = en_origin[(unit, k)] if lang == "en" else unit
                take.append({"text": p, "lang": lang, "origin": origin})
            if not take:
                continue
            left -= len(take)
            pkg = unit.split("/", 1)[0]
            st["files"] += 1
            st["paragraphs"] += len(take)
            st["by_package"][pkg] = st["by_package"].get(pkg, 0) + len(take)
            fresh.extend(take)
        stats[lang] = st
        LOG.info("%s: %d paragraphs from %d files %s", lang, st["paragraphs"], st["files"],
                 dict(sorted(st["by_package"].items())))
    LOG.info("skipped while selecting: %s", drops)
    fresh.sort(key=lambda r: (r["lang"], r["origin"], bc.sha(r["text"])))
    seen_ids: dict[str, int] = {}
    out = []
    for r in fresh:
        base = f"{id_prefix}:{r['origin']}"
        n = seen_ids.get(base + "\x00" + r["lang"], 0)
        seen_ids[base + "\x00" + r["lang"]] = n + 1
        rid = f"{base}#{n}" if r["lang"] != "en" else f"{base}#en{n}"
        out.append({"id": rid, "text": r["text"], "lang": r["lang"], "origin": r["origin"]})
    if len({r["id"] for r in out}) != len(out):
        raise bc.BuildError("duplicate ids")
    if any(r["origin"] in used_origins for r in out):
        raise bc.BuildError("an origin of another split came through")
    return out, stats


def training_docs(cache: Path, english_words: frozenset[str], offline: bool,
                  packages: dict[str, str] | None = None) -> list[bc.Doc]:
    """The catalogs of ``packages`` (default TRAIN_PACKAGES; build_corpus
    reads each of TRAIN_BATCHES) as build_corpus documents for its UI-catalog
    selection (``select_ui_catalogs``): one document per unit (catalog file;
    for English, package and domain), one paragraph per kept message.  A
    paragraph found in the catalogs of more than one language, any locale
    counted (``catalog_candidates``), is left out here."""
    if packages is None:
        packages = TRAIN_PACKAGES
    fetch(cache, packages, ROOT_NAME, offline)
    cand, _en_origin, multi = catalog_candidates(cache, english_words, packages, ROOT_NAME)
    docs, several = [], 0
    for lang in sorted(cand):
        for unit in sorted(cand[lang]):
            texts = [p for k, p in sorted(cand[lang][unit].items()) if k not in multi]
            several += len(cand[lang][unit]) - len(texts)
            if texts:
                docs.append(bc.Doc("debian-catalogs", unit, 0, lang, "\n\n".join(texts)))
    LOG.info("Debian training catalogs: %d units, %d paragraphs left out as found in several languages",
             len(docs), several)
    return docs
