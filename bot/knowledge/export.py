"""Writing a ``Pack`` back to files in the layout ``load_pack`` reads."""
from __future__ import annotations

import dataclasses
from collections import defaultdict
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString

from bot.knowledge.pack import VARIANT_FIELDS, ArticleData, OfficeData, Pack


def write_pack(pack: Pack, root: Path) -> list[Path]:
    """Write ``pack`` under ``root``; returns the files written."""
    root = Path(root)
    written = [
        _dump(root / "pack.yml", {"name": pack.name, "description": pack.description, "review_max_age_days": pack.review_max_age_days}),
        _dump(root / "topics.yml", [dataclasses.asdict(topic) for topic in pack.topics]),
        _dump(root / "municipalities.yml", [dataclasses.asdict(m) for m in pack.municipalities]),
        _dump(root / "offices.yml", [_office_document(office) for office in pack.offices]),
    ]
    by_file: dict[tuple[str, str], list[ArticleData]] = defaultdict(list)
    for article in pack.articles:
        by_file[(article.language, article.topic)].append(article)
    for (language, topic), articles in sorted(by_file.items()):
        general = next((a for a in articles if a.municipality is None), None)
        if general is None:
            raise ValueError(f"{topic}/{language}: municipal variants without a county-wide article")
        document = _article_document(general)
        variants = {
            a.municipality: {name: _text_block(getattr(a, name)) for name in VARIANT_FIELDS if getattr(a, name) != getattr(general, name)}
            for a in articles
            if a.municipality is not None
        }
        if variants:
            document["variants"] = variants
        written.append(_dump(root / "articles" / language / f"{topic}.yml", document))
    return written


def _office_document(office: OfficeData) -> dict[str, Any]:
    # Optional fields left empty are not written, as staff would write the file.
    return {key: value for key, value in dataclasses.asdict(office).items() if value not in (None, [])}


def _article_document(article: ArticleData) -> dict[str, Any]:
    document = {"topic": article.topic, "language": article.language}
    document.update({name: _text_block(getattr(article, name)) for name in VARIANT_FIELDS})
    return document


def _text_block(value: Any) -> Any:
    """Multi-line texts as YAML literal blocks, so exported files stay readable."""
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value)
    return value


def _dump(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    yaml = YAML()
    yaml.width = 100
    yaml.allow_unicode = True
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(document, handle)
    return path
