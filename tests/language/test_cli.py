import argparse
import io
import json

import pytest

from bot.language import cli


def run(argv, stdin="", monkeypatch=None, capsys=None):
    parser = argparse.ArgumentParser(prog="acollida")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = args.func(args)
    return code, capsys.readouterr()


def test_detect_prints_one_code_per_line(monkeypatch, capsys):
    code, out = run(["language", "detect"], "necesito ayuda\n\nМені ніде жити\nሰላም\n", monkeypatch, capsys)
    assert code == 0
    assert out.out.splitlines() == ["es", "und", "uk", "und"]


def test_detect_uses_the_hint(monkeypatch, capsys):
    code, out = run(["language", "detect", "--hint", "ca"], "hola\n", monkeypatch, capsys)
    assert (code, out.out) == (0, "ca\n")


@pytest.fixture
def small_folder(tmp_path):
    samples = {
        "single-words": {"es": ["ayuda", "ayuntamiento"], "uk": ["допомога", "їжа"], "de": ["Hilfe"]},
        "sentences": {
            "fr": ["je cherche un logement pour ma famille"],
            "el": ["χρειάζομαι βοήθεια με τα χαρτιά"],
            "bg": ["Здравейте, търся работа в града", "Имам нужда от помощ"],
            "zh": ["我需要帮助"],
        },
    }
    for kind, by_language in samples.items():
        (tmp_path / kind).mkdir()
        for code, lines in by_language.items():
            (tmp_path / kind / f"{code}.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "README.md").write_text("not a sample file", encoding="utf-8")
    return tmp_path


def test_bench_reports_every_detector_on_the_supported_languages(small_folder, monkeypatch, capsys):
    code, out = run(["language", "bench", str(small_folder), "--seed", "3", "--json"], "", monkeypatch, capsys)
    assert code == 0
    report = json.loads(out.out)
    assert report["samples"] == {"single-words": 4, "sentences": 2}
    assert set(report["detectors"]) == {"acollida", "acollida_with_hint", "langdetect", "langdetect_restricted"}
    acollida = report["detectors"]["acollida"]
    assert acollida["accuracy"]["single-words"]["per_language"] == {"es": 1.0, "uk": 1.0}
    assert acollida["accuracy"]["sentences"]["mean"] == 1.0
    assert 0 < acollida["p95_ms"] < 50
    assert report["memory_added_mb"] > 50
    # Texts in unsupported languages are scored apart: the share that came out und.
    shares = report["unsupported_undetermined"]
    assert shares["sentences"] == {"bg": 1.0, "zh": 1.0}
    assert set(shares["single-words"]) == {"de"}  # one German word that English also writes: either answer is honest


def test_bench_prints_a_table(small_folder, monkeypatch, capsys):
    code, out = run(["language", "bench", str(small_folder)], "", monkeypatch, capsys)
    assert code == 0
    assert "| langdetect_restricted |" in out.out
    assert "Resident memory added" in out.out
    assert "| acollida, no hint | bg | de | zh |" in out.out


def test_bench_refuses_a_folder_without_samples(tmp_path, monkeypatch, capsys):
    code, out = run(["language", "bench", str(tmp_path)], "", monkeypatch, capsys)
    assert code == 2
    assert "no <kind>/<code>.txt" in out.err


def test_bench_skips_empty_files(small_folder, monkeypatch, capsys):
    (small_folder / "sentences" / "it.txt").write_text("\n\n", encoding="utf-8")
    code, out = run(["language", "bench", str(small_folder), "--json"], "", monkeypatch, capsys)
    assert code == 0
    assert json.loads(out.out)["samples"]["sentences"] == 2


def test_bench_has_a_romanized_section(small_folder, tmp_path, monkeypatch, capsys):
    romanized = tmp_path / "romanized"
    romanized.mkdir()
    (romanized / "ru.txt").write_text("ishchu rabotu\nmne nuzhen vrach\nнужна помощь\n", encoding="utf-8")  # the last is Cyrillic: wrong here
    code, out = run(["language", "bench", str(small_folder), "--json", "--romanized", str(romanized)], "", monkeypatch, capsys)
    assert code == 0
    figures = json.loads(out.out)["romanized"]
    assert figures["per_language"] == {"ru": pytest.approx(2 / 3)}
