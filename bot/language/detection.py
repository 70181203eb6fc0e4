"""What the detector says about one message, as it travels in Rasa's parse data."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from bot.language.scripts import NO_LETTERS, OTHER, SUPPORTED_SCRIPTS
from bot.languages import LANGUAGES_BY_CODE, UNDETERMINED, is_supported


@dataclass(frozen=True)
class Detection:
    language: str  # a supported code, or "und" when unsure or unsupported
    confidence: float  # 0..1
    script: str  # "Latin", "Greek", "Cyrillic", "Arabic", "Other" or "None" (no letters)
    scores: dict[str, float] = field(default_factory=dict)  # probability per candidate language
    # Beyond the four fields above: the Unicode script of the letters ("Ethiopic"
    # where script says "Other"), which tells whom to address in what language,
    # and how many words the message has, which tells how much it can prove.
    unicode_script: str = ""
    words: int = 0
    # Whether the text reads as a language the deployment does not support (a
    # script none uses, a modelled neighbour such as Persian, or words no
    # candidate knows), as opposed to und from a shared word or two.
    unsupported: bool = False

    @property
    def romanized(self) -> bool:
        """Written in Latin letters though the language has a script of its own ("mujhe kaam chahiye")."""
        language = LANGUAGES_BY_CODE.get(self.language)
        return language is not None and self.script == "Latin" and language.script != "Latin"

    def as_dict(self) -> dict:
        return {
            "language": self.language,
            "confidence": round(self.confidence, 4),
            "script": self.script,
            "scores": {code: round(score, 4) for code, score in self.scores.items()},
            "unicode_script": self.unicode_script,
            "words": self.words,
            "unsupported": self.unsupported,
            "romanized": self.romanized,
        }

    @classmethod
    def from_dict(cls, data: dict | None) -> "Detection":
        data = data if isinstance(data, dict) else {}
        language = data.get("language")
        script = data.get("script")
        scores = data.get("scores")
        return cls(
            language=language if is_supported(language) else UNDETERMINED,
            confidence=_number(data.get("confidence")),
            script=script if script in SUPPORTED_SCRIPTS or script == OTHER else NO_LETTERS,
            scores={code: _number(score) for code, score in scores.items() if is_supported(code)}
            if isinstance(scores, dict)
            else {},
            unicode_script=str(data.get("unicode_script") or ""),
            words=int(_number(data.get("words"))),
            unsupported=data.get("unsupported") is True,
        )


def _number(value: object) -> float:
    """A non-negative finite number from stored data, 0 for anything else."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return number if math.isfinite(number) and number > 0 else 0.0
