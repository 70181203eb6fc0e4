"""Whole-word evidence: how often each word occurs in each language.

The frequencies come from the `wordfreq` package, whose wheel ships them (no
download at run time). Keeping its 3.6 million words as Python strings would
cost several hundred megabytes, so they become sorted numpy arrays: a 64-bit
key per (language, word) and the word's frequency in centibels (wordfreq's
unit: -300 cB is one occurrence per thousand words). The arrays are built
once and kept in a cache folder (under `ACOLLIDA_VAR_DIR`), which every
process then maps read-only: a lookup touches a few pages of them, so most of
the tables never take memory, and no process passes through the millions of
strings that building them creates.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import shutil
import tempfile
import unicodedata
from importlib.metadata import version
from pathlib import Path

import numpy as np
from wordfreq import available_languages, read_cBpack

log = logging.getLogger(__name__)


# Penalties, in centibels, for matching a word only once accents are removed:
# leaving accents out is how people type on phones, writing other accents
# than the language's ("què" for Spanish "qué") is evidence against it.
MISSING_ACCENTS_CB = 30
WRONG_ACCENTS_CB = 200
# Text that passed through a system that only knew ASCII arrives with its
# accented letters deleted ("administracin", "crditos"): a plain word matching
# a listed word so damaged counts, at a penalty, as that word. The form must
# keep a few letters, or short damaged forms would match everything.
DROPPED_LETTERS_CB = 200
DROPPED_LETTERS_MIN_LENGTH = 4
# The frequency given to a word a language's list lacks. wordfreq's large
# lists go down to 1e-8 (-800 cB), its small ones (the only ones for Greek,
# Romanian and Urdu) to 1e-6: a word missing from a small list is rarer than
# that, but not as rare as one missing from a large list. A word that no
# candidate lists gets the same floor everywhere (see WordModel.centibels).
UNLISTED_CB = -850
UNLISTED_IN_SMALL_LIST_CB = -800
_SMALL_LIST_BINS = 600

# Spellings a language writes two ways, as letter pairs swapped where a
# lookahead allows. wordfreq's Portuguese is mostly Brazil's, which writes ê and ô
# before m and n where Portugal and Portuguese-speaking Africa (Angola,
# Mozambique, Cape Verde, Guinea-Bissau) write é and ó: "econômico" and
# "económico", "gênero" and "género". Both are the same word.
SPELLING_VARIANTS: dict[str, tuple[tuple[str, str, str], ...]] = {
    # (letter, the other spelling's letter, where: a regular expression lookahead)
    "pt": (("ê", "é", "(?=[mn])"), ("ô", "ó", "(?=[mn])")),
}

# Scripts whose accents people often leave out when typing. Cyrillic й, ї or
# ё and Arabic hamzas are letters of their own on phone keyboards.
ACCENTED_SCRIPTS = frozenset({"Latin", "Greek"})
# Only Latin letters fall out in ASCII-only systems: a Greek word would lose them all.
DROPPED_LETTERS_SCRIPTS = frozenset({"Latin"})


# How wordfreq normalised the texts its lists come from, so a word typed in
# a message finds its entry.
_APOSTROPHES = re.compile("[’ʼ`´‘]")
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670\u0640]")
_ROMANIAN_CEDILLAS = str.maketrans("şţ", "șț")
# Catalan "l·l" as people type it without the middle dot key: "col.legi", "coŀlegi".
_CATALAN_GEMINATE_L = re.compile(r"(?<=\w)(?:l\.l|ŀl)(?=\w)")
_TOKEN = re.compile(r"[^\W\d_]+(?:['·\-][^\W\d_]+)*")
_JOINERS = re.compile(r"['·\-]")
# A lone Latin consonant is an initial ("J. Smith"), an abbreviation ("n.d.")
# or an elision typed apart from its word; no supported language writes one
# as a word, yet the lists count elisions cut from their words ("d", "l").
_LONE_CONSONANT = re.compile(r"[bcdfghjklmnpqrstvwxz]")


def normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    text = _APOSTROPHES.sub("'", text)
    text = _ARABIC_MARKS.sub("", text)
    text = _CATALAN_GEMINATE_L.sub("l·l", text)
    return text.translate(_ROMANIAN_CEDILLAS)


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(normalise(text))


def strip_accents(word: str) -> str:
    """The word as typed on a phone without accents: "què" -> "que", "ώρα" -> "ωρα"."""
    decomposed = unicodedata.normalize("NFD", word)
    return unicodedata.normalize("NFC", "".join(char for char in decomposed if not unicodedata.combining(char)))


def _accent_stripper(words: list[str]) -> dict[int, str]:
    """A str.translate table removing accents from every letter these words use."""
    letters = set("".join(words))
    return {ord(letter): strip_accents(letter) for letter in letters if not letter.isascii()}


class _Table:
    """(language, word) -> centibels, as sorted 64-bit keys: a word's hash mixed with its language's salt."""

    def __init__(self, keys: np.ndarray, centibels: np.ndarray):
        self.keys = keys
        self.centibels = centibels

    @classmethod
    def sorted_from(cls, keys: list[np.ndarray], centibels: list[np.ndarray]) -> _Table:
        all_keys = np.concatenate(keys)
        order = np.argsort(all_keys)
        return cls(all_keys[order], np.concatenate(centibels)[order])

    def lookup(self, keys: np.ndarray, missing: np.ndarray) -> np.ndarray:
        # Searching sorted keys walks the table in one direction, which keeps
        # more of it in the processor's cache than searching them in any order.
        flat = keys.ravel()
        order = np.argsort(flat)
        positions = np.empty_like(order)
        positions[order] = np.minimum(np.searchsorted(self.keys, flat[order]), len(self.keys) - 1)
        positions = positions.reshape(keys.shape)
        return np.where(self.keys[positions] == keys, self.centibels[positions], missing)


def _hashes(strings: list[str]) -> np.ndarray:
    """A 64-bit hash per string, the same in every process (Python's own hash is salted per process)."""
    return np.fromiter(
        (int.from_bytes(hashlib.blake2b(string.encode(), digest_size=8).digest(), "little", signed=True) for string in strings),
        dtype=np.int64,
        count=len(strings),
    )


_TABLES = ("exact", "accentless", "dropped")
# Bump when the tables' layout or meaning changes, so that older caches are not read.
_CACHE_FORMAT = 1


class WordModel:
    """Word frequencies of every supported language, as typed and without accents."""

    def __init__(self, scripts: dict[str, str], cache_dir: Path | None = None):
        """`scripts` gives the script of each language to model, by ISO 639-1 code; `cache_dir` keeps the built tables."""
        self._scripts = scripts
        codes = tuple(scripts)
        rng = np.random.default_rng(0)
        self._salts = dict(zip(codes, rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, len(codes))))
        folder = cache_dir / f"words-{_cache_key(scripts)}" if cache_dir else None
        loaded = _read_tables(folder) if folder else None
        if loaded is None:
            loaded = self._build()
            if folder:
                _write_tables(folder, *loaded)
        tables, self._unlisted = loaded
        self._exact, self._accentless, self._dropped = (tables[name] for name in _TABLES)

    def _build(self) -> tuple[dict[str, _Table], dict[str, int]]:
        files = available_languages("best")
        unlisted: dict[str, int] = {}
        exact_keys, exact_centibels, plain_keys, plain_centibels, dropped_keys, dropped_centibels = [], [], [], [], [], []
        for code, script in self._scripts.items():
            bins = read_cBpack(files[code])
            unlisted[code] = UNLISTED_IN_SMALL_LIST_CB if len(bins) <= _SMALL_LIST_BINS else UNLISTED_CB
            words = [word for words in bins for word in words]
            centibels = np.repeat(-np.arange(len(bins), dtype=np.int16), [len(words) for words in bins])
            words, centibels = _with_spelling_variants(words, centibels, SPELLING_VARIANTS.get(code, ()))
            hashes = _hashes(words)
            exact_keys.append(hashes ^ self._salts[code])
            exact_centibels.append(centibels)
            if script in ACCENTED_SCRIPTS:
                keys, summed = _accentless_frequencies(words, hashes, centibels)
                plain_keys.append(keys ^ self._salts[code])
                plain_centibels.append(summed)
            if script in DROPPED_LETTERS_SCRIPTS:
                keys, summed = _dropped_letter_frequencies(words, centibels)
                dropped_keys.append(keys ^ self._salts[code])
                dropped_centibels.append(summed)
        tables = {
            "exact": _Table.sorted_from(exact_keys, exact_centibels),
            "accentless": _Table.sorted_from(plain_keys, plain_centibels),
            "dropped": _Table.sorted_from(dropped_keys, dropped_centibels),
        }
        return tables, unlisted

    def _centibels(self, strings: list[str], codes: tuple[str, ...]) -> np.ndarray:
        accents_optional = self._scripts[codes[0]] in ACCENTED_SCRIPTS
        plain = [strip_accents(string) for string in strings] if accents_optional else strings
        salts = np.array([self._salts[code] for code in codes], dtype=np.int64)
        unlisted = np.array([self._unlisted[code] for code in codes], dtype=np.int16)
        exact_keys = _hashes(strings)[:, None] ^ salts
        plain_keys = _hashes(plain)[:, None] ^ salts
        exact = self._exact.lookup(exact_keys, unlisted)
        accented = np.array([p != s for p, s in zip(plain, strings)], dtype=bool)[:, None]
        # A word without accents in the list is its own accentless form.
        plain_listed = self._exact.lookup(plain_keys, unlisted) if accented.any() else exact
        accentless = np.maximum(self._accentless.lookup(plain_keys, unlisted), plain_listed)
        penalty = np.where(accented, WRONG_ACCENTS_CB, MISSING_ACCENTS_CB)
        best = np.maximum(exact, accentless - penalty)
        if self._scripts[codes[0]] in DROPPED_LETTERS_SCRIPTS:
            # Damaged forms are plain ASCII, so only a plain word can be one.
            best = np.maximum(best, self._dropped.lookup(exact_keys, unlisted) - DROPPED_LETTERS_CB)
        return best

    def centibels(self, tokens: list[str], codes: tuple[str, ...]) -> np.ndarray:
        """Per word (rows) and language (columns, all of one script), the word's frequency in centibels.

        Elided and hyphenated words ("l'aigua", "fer-ho") count as the whole
        word if the list has it, else as their rarest part. Lone consonants
        are not words and get no row.
        """
        strings: list[str] = []
        spans: list[tuple[int, int]] = []
        for token in (token for token in tokens if not _LONE_CONSONANT.fullmatch(token)):
            parts = [part for part in _JOINERS.split(token) if part] if _JOINERS.search(token) else []
            spans.append((len(strings), len(strings) + 1 + len(parts)))
            strings += [token, *parts]
        if not strings:
            return np.zeros((0, len(codes)))
        table = self._centibels(strings, codes)
        rows = np.array(
            [
                table[start] if end - start == 1 else np.maximum(table[start], table[start + 1 : end].min(axis=0))
                for start, end in spans
            ],
            dtype=float,
        )
        # A word no candidate lists says nothing about which one it is in:
        # the smaller floor of a small list must not make it Romanian or Urdu.
        unlisted = np.array([self._unlisted[code] for code in codes], dtype=float)
        rows[(rows <= unlisted).all(axis=1)] = UNLISTED_CB
        return rows


def _with_spelling_variants(
    words: list[str], centibels: np.ndarray, variants: tuple[tuple[str, str, str], ...]
) -> tuple[list[str], np.ndarray]:
    """The listed words with both spellings of a word given their summed frequency, the missing one added."""
    if not variants:
        return words, centibels
    rewrites = [(re.compile(letter + where), other) for letter, other, where in variants]
    letters = {letter for variant in variants for letter in variant[:2]}
    index = {word: position for position, word in enumerate(words) if not letters.isdisjoint(word)}
    centibels = centibels.copy()
    added: dict[str, int] = {}
    for word, position in index.items():
        other = word
        for pattern, replacement in rewrites:
            other = pattern.sub(replacement, other)
        if other == word:
            continue
        if other in index:
            summed = 10.0 ** (centibels[position] / 100) + 10.0 ** (centibels[index[other]] / 100)
            centibels[position] = centibels[index[other]] = round(100 * math.log10(summed))
        else:
            added[other] = int(centibels[position])
    return words + list(added), np.concatenate([centibels, np.array(list(added.values()), dtype=centibels.dtype)])


def _summed_by_key(hashes: np.ndarray, centibels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique hashes with the summed frequency of the words that share each, in centibels."""
    keys, inverse = np.unique(hashes, return_inverse=True)
    frequencies = np.bincount(inverse, weights=10.0 ** (centibels / 100))
    return keys, np.round(100 * np.log10(frequencies)).astype(np.int16)


def _dropped_letter_frequencies(words: list[str], centibels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the listed words with their non-ASCII letters deleted, with their summed frequency.

    "crditos" stands for "créditos", "administracin" for "administración".
    """
    damaged = [
        (index, form)
        for index, word in enumerate(words)
        if not word.isascii() and len(form := word.encode("ascii", "ignore").decode()) >= DROPPED_LETTERS_MIN_LENGTH
    ]
    if not damaged:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int16)
    indices = np.fromiter((index for index, _ in damaged), dtype=np.int64, count=len(damaged))
    return _summed_by_key(_hashes([form for _, form in damaged]), centibels[indices])


def _accentless_frequencies(words: list[str], hashes: np.ndarray, centibels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the accentless forms that differ from some listed word, with their summed frequency.

    "que" stands for "que", "què" and "qué" at once.
    """
    accented = np.fromiter((not word.isascii() for word in words), dtype=bool, count=len(words))
    stripper = _accent_stripper([word for word, flag in zip(words, accented) if flag])
    plain_hashes = hashes.copy()
    plain_hashes[accented] = _hashes([word.translate(stripper) for word, flag in zip(words, accented) if flag])
    differing = np.unique(plain_hashes[plain_hashes != hashes])
    involved = np.isin(plain_hashes, differing)
    return _summed_by_key(plain_hashes[involved], centibels[involved])


def _cache_key(scripts: dict[str, str]) -> str:
    """What the tables are made of: another wordfreq, other languages or other rules make other tables."""
    material = {
        "format": _CACHE_FORMAT,
        "wordfreq": version("wordfreq"),
        "scripts": list(scripts.items()),  # in order: the salts follow it
        "variants": SPELLING_VARIANTS,
        "accented": sorted(ACCENTED_SCRIPTS),
        "dropped": [sorted(DROPPED_LETTERS_SCRIPTS), DROPPED_LETTERS_MIN_LENGTH],
        "unlisted": [UNLISTED_CB, UNLISTED_IN_SMALL_LIST_CB, _SMALL_LIST_BINS],
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()[:16]


def _read_tables(folder: Path) -> tuple[dict[str, _Table], dict[str, int]] | None:
    """The cached tables, mapped read-only; None when there are none or they are unreadable (then they are built again)."""
    try:
        unlisted = json.loads((folder / "unlisted.json").read_text(encoding="utf-8"))
        tables = {
            name: _Table(np.load(folder / f"{name}.keys.npy", mmap_mode="r"), np.load(folder / f"{name}.centibels.npy", mmap_mode="r"))
            for name in _TABLES
        }
    except (OSError, ValueError) as error:
        if folder.exists():
            log.warning("word tables in %s unreadable (%s): building them again", folder, type(error).__name__)
            # Removed, or the rebuilt tables could never take their place.
            shutil.rmtree(folder, ignore_errors=True)
        return None
    return tables, unlisted


def _write_tables(folder: Path, tables: dict[str, _Table], unlisted: dict[str, int]) -> None:
    """Keep the tables for the next process; written aside and renamed, so no process reads half a cache."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
        for name, table in tables.items():
            np.save(partial / f"{name}.keys.npy", table.keys)
            np.save(partial / f"{name}.centibels.npy", table.centibels)
        (partial / "unlisted.json").write_text(json.dumps(unlisted), encoding="utf-8")
        try:
            os.rename(partial, folder)
        except OSError:  # another process wrote the same tables first
            shutil.rmtree(partial, ignore_errors=True)
        _remove_other_tables(folder)
    except OSError as error:
        log.warning("could not keep the word tables in %s (%s): each process will build them", folder.parent, type(error).__name__)


def _remove_other_tables(kept: Path) -> None:
    """Tables of another wordfreq or other rules are never read again: they go, so the cache does not grow with each upgrade.

    A process still mapping them keeps reading them: removing a mapped file only unlinks its name.
    """
    for folder in kept.parent.glob("words-*"):
        # "words-<key>.<random>" is another process's tables being written.
        if folder != kept and folder.is_dir() and "." not in folder.name:
            shutil.rmtree(folder, ignore_errors=True)
