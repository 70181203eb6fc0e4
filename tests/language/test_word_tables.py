"""The word tables are built once, kept in a cache folder, and mapped by every later process."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import numpy as np

from bot.language.words import WordModel, tokenize

# Two languages keep each build to about a second.
SCRIPTS = {"ca": "Latin", "es": "Latin"}
WORDS = tokenize("gràcies gracias ajuda ayuda administracin que zzzqqq")


def test_a_second_model_reads_the_tables_the_first_one_kept(tmp_path):
    built = WordModel(SCRIPTS, tmp_path)
    (folder,) = tmp_path.iterdir()
    read = WordModel(SCRIPTS, tmp_path)
    assert isinstance(read._exact.keys, np.memmap)  # mapped, not loaded
    assert np.array_equal(read.centibels(WORDS, ("ca", "es")), built.centibels(WORDS, ("ca", "es")))
    assert sorted(path.name for path in folder.iterdir()) == sorted(
        [f"{table}.{part}.npy" for table in ("exact", "accentless", "dropped") for part in ("keys", "centibels")] + ["unlisted.json"]
    )


def test_the_cached_tables_match_tables_built_in_memory(tmp_path):
    WordModel(SCRIPTS, tmp_path)
    in_memory = WordModel(SCRIPTS)
    cached = WordModel(SCRIPTS, tmp_path)
    table = cached.centibels(WORDS, ("ca", "es"))
    assert np.array_equal(table, in_memory.centibels(WORDS, ("ca", "es")))
    assert table[0, 0] > table[0, 1] and table[1, 1] > table[1, 0]  # gràcies is Catalan, gracias Spanish


def test_the_tables_are_the_same_in_another_process(tmp_path):
    """The keys are hashes of the words: they must not depend on the process's string-hash salt."""
    WordModel(SCRIPTS, tmp_path)
    program = (
        "import sys, json; from pathlib import Path; from bot.language.words import WordModel, tokenize; "
        f"print(json.dumps(WordModel({SCRIPTS!r}, Path(sys.argv[1])).centibels(tokenize({' '.join(WORDS)!r}), ('ca', 'es')).tolist()))"
    )
    result = subprocess.run([sys.executable, "-c", program, str(tmp_path)], capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    here = WordModel(SCRIPTS, tmp_path).centibels(WORDS, ("ca", "es"))
    assert np.array_equal(np.array(json.loads(result.stdout)), here)


def test_other_languages_get_tables_of_their_own_which_replace_the_old_ones(tmp_path):
    WordModel(SCRIPTS, tmp_path)
    (first,) = tmp_path.iterdir()
    other = WordModel({"pt": "Latin", "es": "Latin"}, tmp_path)
    (second,) = tmp_path.iterdir()
    assert second != first
    assert other.centibels(["obrigado"], ("pt", "es"))[0, 0] > -850


def test_damaged_tables_are_built_again_and_the_answers_do_not_change(tmp_path, caplog):
    good = WordModel(SCRIPTS, tmp_path).centibels(WORDS, ("ca", "es"))
    (folder,) = tmp_path.iterdir()
    (folder / "exact.keys.npy").write_bytes(b"not an array")
    with caplog.at_level(logging.WARNING, logger="bot.language.words"):
        rebuilt = WordModel(SCRIPTS, tmp_path)
    assert "unreadable" in caplog.text
    assert np.array_equal(rebuilt.centibels(WORDS, ("ca", "es")), good)
    assert isinstance(WordModel(SCRIPTS, tmp_path)._exact.keys, np.memmap)  # the rebuilt tables took the damaged ones' place


def test_a_folder_it_cannot_write_leaves_the_tables_in_memory(tmp_path, caplog):
    if os.geteuid() == 0:
        # root writes anywhere: a file where the folder should be stands for a read-only disk
        blocked = tmp_path / "file"
        blocked.write_text("")
        cache = blocked / "cache"
    else:
        tmp_path.chmod(0o500)
        cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger="bot.language.words"):
        model = WordModel(SCRIPTS, cache)
    assert "could not keep the word tables" in caplog.text
    assert not isinstance(model._exact.keys, np.memmap)
    assert model.centibels(["gràcies"], ("ca", "es"))[0, 0] > -850
