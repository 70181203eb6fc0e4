"""Measuring the detector on a folder laid out like shared/langid-testdata.

The folder has one sub-folder per kind of text (single-words, word-pairs,
sentences) and in each a <code>.txt per language, one sample per line. Only
supported languages count; a detector's `und` counts as wrong. Side by side:
Acollida's detector without and with a hint that is right 80 % of the time,
langdetect as it comes (an unsupported answer counts wrong) and langdetect
restricted to the supported languages.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException

from bot.language.detector import detect
from bot.languages import LANGUAGE_CODES, UNDETERMINED

KINDS = ("single-words", "word-pairs", "sentences")
HINT_RIGHT = 0.8
# A wrong hint: another supported language, or an interface language the
# deployment does not support.
UNSUPPORTED_HINTS = ("de", "tr", "zh")
DETECTORS = ("acollida", "acollida_with_hint", "langdetect", "langdetect_restricted")

Samples = dict[str, dict[str, list[str]]]  # kind -> language -> lines


def _read_folder(root: Path, supported: bool) -> Samples:
    """Each kind's non-empty lines per language, for the supported languages (in their order) or for the others."""
    samples: Samples = {}
    for kind in KINDS:
        paths = [path for path in (root / kind).glob("*.txt") if (path.stem in LANGUAGE_CODES) == supported]
        for path in sorted(paths, key=lambda path: (LANGUAGE_CODES.index(path.stem) if supported else 0, path.stem)):
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            if lines:
                samples.setdefault(kind, {})[path.stem] = lines
    return samples


def read_samples(root: Path) -> Samples:
    return _read_folder(root, supported=True)


def read_unsupported_samples(root: Path) -> Samples:
    """The folder's texts in languages the deployment does not support, which should come out und."""
    return _read_folder(root, supported=False)


def undetermined_shares(samples: Samples) -> dict[str, dict[str, float]]:
    """Per kind and unsupported language, the share of texts the detector answers und (without a hint)."""
    return {
        kind: {code: sum(detect(line).language == UNDETERMINED for line in lines) / len(lines) for code, lines in by_language.items()}
        for kind, by_language in samples.items()
    }


def hints_for(samples: Samples, seed: int) -> dict[tuple[str, str], list[str]]:
    """A hint per sample: the right language 80 % of the time, else another code."""
    rng = random.Random(seed)
    hints = {}
    for kind, by_language in samples.items():
        for code, lines in by_language.items():
            wrong = [other for other in LANGUAGE_CODES + UNSUPPORTED_HINTS if other != code]
            hints[kind, code] = [code if rng.random() < HINT_RIGHT else rng.choice(wrong) for _ in lines]
    return hints


@dataclass
class Run:
    """One detector's answers: accuracy per kind and language, and time per text."""

    accuracy: dict[str, dict[str, float]]
    times_ms: list[float]

    def summary(self) -> dict:
        per_kind = {}
        for kind, by_language in self.accuracy.items():
            worst = min(by_language, key=lambda code: by_language[code])
            per_kind[kind] = {
                "mean": round(statistics.mean(by_language.values()), 4),
                "worst": [worst, round(by_language[worst], 4)],
                "per_language": {code: round(value, 4) for code, value in by_language.items()},
            }
        figures: dict = {"accuracy": per_kind}
        if self.times_ms:
            ordered = sorted(self.times_ms)
            figures["median_ms"] = round(statistics.median(ordered), 3)
            figures["p95_ms"] = round(ordered[int(0.95 * (len(ordered) - 1))], 3)
        return figures


def run_acollida(samples: Samples, hints: dict[tuple[str, str], list[str]] | None) -> Run:
    accuracy: dict[str, dict[str, float]] = {}
    times = []
    for kind, by_language in samples.items():
        for code, lines in by_language.items():
            line_hints = hints[kind, code] if hints else [None] * len(lines)
            right = 0
            for line, hint in zip(lines, line_hints):
                started = time.perf_counter()
                answer = detect(line, hint=hint).language
                times.append((time.perf_counter() - started) * 1000)
                right += answer == code
            accuracy.setdefault(kind, {})[code] = right / len(lines)
    return Run(accuracy, times)


@lru_cache(maxsize=2)
def _langdetect_factory(restricted: bool) -> DetectorFactory:
    factory = DetectorFactory()
    if restricted:
        profiles = [Path(PROFILES_DIRECTORY, code).read_text(encoding="utf-8") for code in LANGUAGE_CODES]
        factory.load_json_profile(profiles)
    else:
        factory.load_profile(PROFILES_DIRECTORY)
    # langdetect samples n-grams at random: a fixed seed makes runs repeatable.
    factory.set_seed(0)
    return factory


def langdetect_language(text: str, restricted: bool) -> str:
    detector = _langdetect_factory(restricted).create()
    detector.append(text)
    try:
        return detector.detect()
    except LangDetectException:
        return UNDETERMINED


def _langdetect_accuracy(job: tuple[bool, str, str, list[str]]) -> tuple[bool, str, str, float]:
    restricted, kind, code, lines = job
    right = sum(langdetect_language(line, restricted) == code for line in lines)
    return restricted, kind, code, right / len(lines)


def run_langdetect(samples: Samples, workers: int) -> dict[str, Run]:
    """Both langdetect baselines, spread over processes: langdetect takes ~10 ms a text."""
    jobs = [
        (restricted, kind, code, lines)
        for restricted in (False, True)
        for kind, by_language in samples.items()
        for code, lines in by_language.items()
    ]
    runs = {"langdetect": Run({}, []), "langdetect_restricted": Run({}, [])}
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for restricted, kind, code, accuracy in pool.map(_langdetect_accuracy, jobs):
            name = "langdetect_restricted" if restricted else "langdetect"
            runs[name].accuracy.setdefault(kind, {})[code] = accuracy
    return runs


# Run in a fresh interpreter that already has numpy (as the Rasa server
# does), so the figure is what loading the detector adds to such a process.
_MEMORY_PROBE = """
import json, os, resource, time, numpy
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6
before = resident()
started = time.perf_counter()
from bot.language import detect
for text in ("necesito ayuda", "Мені потрібна допомога", "مرحبا", "Καλημέρα"):
    detect(text)
print(json.dumps({
    "memory_added_mb": resident() - before,
    "peak_memory_added_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6 - before,
    "load_seconds": time.perf_counter() - started,
}))
"""


def measure_loading() -> dict[str, float]:
    environment = dict(os.environ, PYTHONPATH=os.pathsep.join(path for path in sys.path if path))
    probe = subprocess.run(
        [sys.executable, "-c", _MEMORY_PROBE], capture_output=True, text=True, env=environment, check=True
    )
    figures = json.loads(probe.stdout.strip().splitlines()[-1])
    return {name: round(value, 1) for name, value in figures.items()}


def run_bench(root: Path, seed: int = 0, workers: int = 2) -> dict:
    samples = read_samples(root)
    if not samples:
        raise ValueError(f"{root} has no <kind>/<code>.txt for a supported language")
    loading = measure_loading()
    detect("warm up")  # loading the models is not part of any text's time
    runs = {
        "acollida": run_acollida(samples, hints=None),
        "acollida_with_hint": run_acollida(samples, hints=hints_for(samples, seed)),
        **run_langdetect(samples, workers),
    }
    return {
        "data": str(root),
        "seed": seed,
        "samples": {kind: sum(map(len, by_language.values())) for kind, by_language in samples.items()},
        **loading,
        "detectors": {name: runs[name].summary() for name in DETECTORS},
        "unsupported_undetermined": {
            kind: {code: round(share, 4) for code, share in shares.items()}
            for kind, shares in undetermined_shares(read_unsupported_samples(root)).items()
        },
    }


def format_report(report: dict) -> str:
    detectors = report["detectors"]
    kinds = [kind for kind in KINDS if kind in report["samples"]]
    lines = [
        f"Language detection on {report['data']} (seed {report['seed']}; "
        + ", ".join(f"{report['samples'][kind]} {kind}" for kind in kinds)
        + "; und counts as wrong)",
        "",
        "| detector | " + " | ".join(f"{kind} mean | {kind} worst" for kind in kinds) + " | median ms | p95 ms |",
        "|---|" + "---|---|" * len(kinds) + "---|---|",
    ]
    for name, figures in detectors.items():
        cells = []
        for kind in kinds:
            accuracy = figures["accuracy"][kind]
            worst_code, worst_value = accuracy["worst"]
            cells += [f"{accuracy['mean']:.1%}", f"{worst_code} {worst_value:.1%}"]
        timing = [f"{figures['median_ms']:.2f}", f"{figures['p95_ms']:.2f}"] if "p95_ms" in figures else ["", ""]
        lines.append(f"| {name} | " + " | ".join(cells + timing) + " |")
    lines += [
        "",
        f"Resident memory added by loading the detector: {report['memory_added_mb']} MB "
        f"(peak while loading {report['peak_memory_added_mb']} MB; loaded in {report['load_seconds']} s)",
        "",
    ]
    codes = list(next(iter(detectors["acollida"]["accuracy"].values()))["per_language"])
    lines += ["| acollida per language | " + " | ".join(codes) + " |", "|---|" + "---|" * len(codes)]
    for name in ("acollida", "acollida_with_hint"):
        for kind in kinds:
            per_language = detectors[name]["accuracy"][kind]["per_language"]
            lines.append(f"| {name} {kind} | " + " | ".join(f"{per_language.get(code, 0):.1%}" for code in codes) + " |")
    unsupported = report.get("unsupported_undetermined") or {}
    foreign = sorted({code for shares in unsupported.values() for code in shares})
    if foreign:
        lines += [
            "",
            "Texts in languages the deployment does not support, answered und (right) rather than a supported language:",
            "",
            "| acollida, no hint | " + " | ".join(foreign) + " |",
            "|---|" + "---|" * len(foreign),
        ]
        for kind in (kind for kind in KINDS if kind in unsupported):
            lines.append(f"| {kind} | " + " | ".join(f"{unsupported[kind].get(code, 0):.1%}" for code in foreign) + " |")
    return "\n".join(lines)


# Texts typed in Latin letters in languages with a script of their own, one
# <code>.txt per language; written for measuring, never read by the detector.
ROMANIZED_SAMPLES = Path(__file__).resolve().parents[2] / "tests" / "language" / "romanized"


def run_romanized(root: Path) -> dict:
    """Share of romanized texts detected as their language and as written in Latin letters, per language."""
    from bot.language.detector import detect as detect_one
    from bot.languages import LANGUAGES_BY_CODE

    per_language: dict[str, float] = {}
    times: list[float] = []
    for path in sorted(root.glob("*.txt")):
        if path.stem not in LANGUAGES_BY_CODE:
            continue
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")]
        right = 0
        for line in lines:
            started = time.perf_counter()
            detection = detect_one(line)
            times.append(time.perf_counter() - started)
            right += detection.language == path.stem and detection.romanized
        if lines:
            per_language[path.stem] = right / len(lines)
    times.sort()
    return {
        "per_language": per_language,
        "mean": sum(per_language.values()) / len(per_language) if per_language else 0.0,
        "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))] if times else 0.0,
    }


def format_romanized(figures: dict) -> str:
    codes = list(figures["per_language"])
    lines = [
        "Romanized writing (detected as its language, in Latin letters):",
        "",
        "| | " + " | ".join(codes) + " | mean | p95 ms |",
        "|---|" + "---|" * (len(codes) + 2),
        "| acollida | " + " | ".join(f"{100 * figures['per_language'][code]:.1f}%" for code in codes)
        + f" | {100 * figures['mean']:.1f}% | {figures['p95_ms']:.2f} |",
    ]
    return "\n".join(lines)
