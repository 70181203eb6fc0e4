"""Reading and validating a knowledge pack (the files under ``knowledge/<pack>/``).

Everything is validated before anything is written: ``load_pack`` either returns
a complete, consistent ``Pack`` or raises ``PackInvalid`` listing every problem
with its file, line and fix. The format is documented in ``knowledge/README.md``.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from bot.languages import LANGUAGE_CODES
from bot.knowledge.models import ARTICLE_STATUSES
from bot.opening_hours import TIME_PATTERN, WEEKDAYS

KEY_PATTERN = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")

SHORT_ANSWER_MAX = 400
FULL_TEXT_MAX = 3000


@dataclass(frozen=True)
class PackError:
    path: Path
    line: int | None  # 1-based
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else str(self.path)
        return f"{where}: {self.message}"


class PackInvalid(Exception):
    def __init__(self, errors: list[PackError]):
        self.errors = errors
        super().__init__("\n".join(str(error) for error in errors))


@dataclass
class TopicData:
    key: str
    icon: str = ""
    sensitive: bool = False


@dataclass
class MunicipalityData:
    key: str
    name: str
    aliases: list[str] = field(default_factory=list)


@dataclass
class OfficeData:
    key: str
    name: str
    address: str
    municipality: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    email: str | None = None
    url: str | None = None
    opening_hours: list[dict] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    sample: bool = False


@dataclass
class ArticleData:
    topic: str
    language: str
    title: str
    short_answer: str
    full_text: str
    source_url: str
    last_reviewed: dt.date
    municipality: str | None = None
    status: str = "published"
    documents: list[str] = field(default_factory=list)
    steps: list[str] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    offices: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)

    @property
    def identity(self) -> tuple[str, str, str | None]:
        return (self.topic, self.language, self.municipality)


# Fields a variant may give; everything else comes from the county-wide article.
VARIANT_FIELDS = tuple(
    f.name for f in fields(ArticleData) if f.name not in ("topic", "language", "municipality")
)


@dataclass
class Pack:
    name: str
    description: str
    review_max_age_days: int
    topics: list[TopicData]
    municipalities: list[MunicipalityData]
    offices: list[OfficeData]
    articles: list[ArticleData]


class _Reader:
    """Collects every error instead of stopping at the first one."""

    def __init__(self, root: Path):
        self.root = root
        self.errors: list[PackError] = []
        self._yaml = YAML(typ="rt")

    def error(self, path: Path, node: Any, key: Any, message: str) -> None:
        self.errors.append(PackError(self._relative(path), _line_of(node, key), message))

    def _relative(self, path: Path) -> Path:
        try:
            return path.relative_to(self.root.parent)
        except ValueError:
            return path

    def load(self, path: Path) -> Any:
        if not path.is_file():
            self.errors.append(PackError(self._relative(path), None, "file is missing: create it (see knowledge/README.md)"))
            return None
        try:
            with path.open(encoding="utf-8") as handle:
                return self._yaml.load(handle)
        except UnicodeDecodeError:
            self.errors.append(PackError(self._relative(path), None, "not UTF-8 text: save the file as UTF-8"))
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            self.errors.append(PackError(self._relative(path), line, f"not valid YAML: {exc.problem or exc.context}"))
        return None

    # --- typed field readers -------------------------------------------------

    def text(self, path: Path, node: CommentedMap, key: str, *, required: bool = True, max_length: int | None = None) -> str | None:
        value = node.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.error(path, node, key, f"'{key}' is required and must not be empty")
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.error(path, node, key, f"'{key}' must be text")
            return None
        value = str(value).strip()
        if max_length and len(value) > max_length:
            self.error(path, node, key, f"'{key}' has {len(value)} characters; shorten it to at most {max_length}")
        return value

    def key(self, path: Path, node: CommentedMap, key: str = "key") -> str | None:
        value = self.text(path, node, key)
        if value is not None and not KEY_PATTERN.match(value):
            self.error(path, node, key, f"'{value}' is not a valid key: use lower case letters, digits and hyphens")
            return None
        return value

    def boolean(self, path: Path, node: CommentedMap, key: str) -> bool:
        value = node.get(key, False)
        if not isinstance(value, bool):
            self.error(path, node, key, f"'{key}' must be true or false")
            return False
        return value

    def number(self, path: Path, node: CommentedMap, key: str, low: float, high: float) -> float | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= float(value) <= high:
            self.error(path, node, key, f"'{key}' must be a number from {low} to {high}")
            return None
        return float(value)

    def text_list(self, path: Path, node: CommentedMap, key: str) -> list[str]:
        value = node.get(key)
        if value is None:
            return []
        if not isinstance(value, CommentedSeq):
            self.error(path, node, key, f"'{key}' must be a list")
            return []
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, (str, int)) or isinstance(item, bool) or not str(item).strip():
                self.error(path, value, index, f"item {index + 1} of '{key}' must be non-empty text")
                continue
            items.append(str(item).strip())
        return items

    def url(self, path: Path, node: CommentedMap, key: str, *, required: bool) -> str | None:
        value = self.text(path, node, key, required=required)
        if value is not None and not re.match(r"^https://[^\s/]+\.[^\s]+$", value):
            self.error(path, node, key, f"'{value}' is not an https:// URL")
            return None
        return value

    def date(self, path: Path, node: CommentedMap, key: str) -> dt.date | None:
        value = node.get(key)
        if isinstance(value, dt.datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value.strip())
            except ValueError:
                value = None
        if not isinstance(value, dt.date):
            self.error(path, node, key, f"'{key}' must be a date written YYYY-MM-DD")
            return None
        if value > dt.date.today():
            self.error(path, node, key, f"'{key}' {value} is in the future: write the date it was really reviewed")
            return None
        return value


def _line_of(node: Any, key: Any) -> int | None:
    """The 1-based line of ``key`` inside a ruamel node, else of the node itself."""
    try:
        if key is not None and isinstance(node, CommentedMap) and key in node:
            return node.lc.key(key)[0] + 1
        if key is not None and isinstance(node, CommentedSeq) and 0 <= key < len(node):
            return node.lc.item(key)[0] + 1
        return node.lc.line + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def _mapping_items(reader: _Reader, path: Path, document: Any) -> list[CommentedMap]:
    if document is None:
        return []
    if not isinstance(document, CommentedSeq):
        reader.error(path, document, None, "the file must be a list of entries, each starting with '- '")
        return []
    items = []
    for index, item in enumerate(document):
        if isinstance(item, CommentedMap):
            items.append(item)
        else:
            reader.error(path, document, index, f"entry {index + 1} must be a mapping of 'field: value'")
    return items


def _check_unique(reader: _Reader, path: Path, nodes: list[CommentedMap], keys: list[str | None], what: str) -> None:
    seen: set[str] = set()
    for node, key in zip(nodes, keys):
        if key is None:
            continue
        if key in seen:
            reader.error(path, node, "key", f"{what} '{key}' is defined twice: keep one")
        seen.add(key)


def _read_topics(reader: _Reader, root: Path) -> list[TopicData]:
    path = root / "topics.yml"
    nodes = _mapping_items(reader, path, reader.load(path))
    topics = [
        TopicData(key=reader.key(path, node) or "", icon=reader.text(path, node, "icon", required=False) or "", sensitive=reader.boolean(path, node, "sensitive"))
        for node in nodes
    ]
    _check_unique(reader, path, nodes, [topic.key or None for topic in topics], "topic")
    return [topic for topic in topics if topic.key]


def _read_municipalities(reader: _Reader, root: Path) -> list[MunicipalityData]:
    path = root / "municipalities.yml"
    nodes = _mapping_items(reader, path, reader.load(path))
    municipalities = [
        MunicipalityData(key=reader.key(path, node) or "", name=reader.text(path, node, "name") or "", aliases=reader.text_list(path, node, "aliases"))
        for node in nodes
    ]
    _check_unique(reader, path, nodes, [m.key or None for m in municipalities], "municipality")
    return [m for m in municipalities if m.key]


def _read_opening_hours(reader: _Reader, path: Path, node: CommentedMap) -> list[dict]:
    value = node.get("opening_hours")
    if value is None:
        return []
    if not isinstance(value, CommentedSeq):
        reader.error(path, node, "opening_hours", "'opening_hours' must be a list of {days, opens, closes}")
        return []
    periods = []
    for index, period in enumerate(value):
        if not isinstance(period, CommentedMap):
            reader.error(path, value, index, "each opening period must be {days: [...], opens: 'HH:MM', closes: 'HH:MM'}")
            continue
        days = reader.text_list(path, period, "days")
        unknown = [day for day in days if day not in WEEKDAYS]
        if not days or unknown:
            reader.error(path, period, "days", f"'days' must list some of {', '.join(WEEKDAYS)}")
        opens, closes = str(period.get("opens", "")), str(period.get("closes", ""))
        if not (TIME_PATTERN.match(opens) and TIME_PATTERN.match(closes)) or opens >= closes:
            reader.error(path, period, "opens", "'opens' and 'closes' must be times HH:MM with opens before closes")
            continue
        periods.append({"days": days, "opens": opens, "closes": closes})
    return periods


def _read_offices(reader: _Reader, root: Path) -> tuple[list[OfficeData], list[CommentedMap]]:
    path = root / "offices.yml"
    nodes = _mapping_items(reader, path, reader.load(path))
    offices = []
    for node in nodes:
        offices.append(
            OfficeData(
                key=reader.key(path, node) or "",
                name=reader.text(path, node, "name") or "",
                address=reader.text(path, node, "address") or "",
                municipality=reader.text(path, node, "municipality", required=False),
                latitude=reader.number(path, node, "latitude", -90, 90),
                longitude=reader.number(path, node, "longitude", -180, 180),
                phone=reader.text(path, node, "phone", required=False),
                email=reader.text(path, node, "email", required=False),
                url=reader.url(path, node, "url", required=False),
                opening_hours=_read_opening_hours(reader, path, node),
                languages=reader.text_list(path, node, "languages"),
                topics=reader.text_list(path, node, "topics"),
                sample=reader.boolean(path, node, "sample"),
            )
        )
    _check_unique(reader, path, nodes, [office.key or None for office in offices], "office")
    return offices, nodes


def _read_links(reader: _Reader, path: Path, node: CommentedMap) -> list[dict]:
    value = node.get("links")
    if value is None:
        return []
    if not isinstance(value, CommentedSeq):
        reader.error(path, node, "links", "'links' must be a list of {title, url}")
        return []
    links = []
    for index, link in enumerate(value):
        if not isinstance(link, CommentedMap):
            reader.error(path, value, index, "each link must be {title: ..., url: https://...}")
            continue
        title = reader.text(path, link, "title")
        url = reader.url(path, link, "url", required=True)
        if title and url:
            links.append({"title": title, "url": url})
    return links


def _read_status(reader: _Reader, path: Path, node: CommentedMap) -> str:
    status = reader.text(path, node, "status", required=False) or "published"
    if status not in ARTICLE_STATUSES:
        reader.error(path, node, "status", f"'status' must be one of {', '.join(ARTICLE_STATUSES)}")
    return status


# How each article field is read and checked, in the order problems are reported.
_ARTICLE_FIELD_READERS: dict[str, Callable[[_Reader, Path, CommentedMap], Any]] = {
    "title": lambda reader, path, node: reader.text(path, node, "title", max_length=300),
    "short_answer": lambda reader, path, node: reader.text(path, node, "short_answer", max_length=SHORT_ANSWER_MAX),
    "full_text": lambda reader, path, node: reader.text(path, node, "full_text", max_length=FULL_TEXT_MAX),
    "source_url": lambda reader, path, node: reader.url(path, node, "source_url", required=True),
    "last_reviewed": lambda reader, path, node: reader.date(path, node, "last_reviewed"),
    "status": _read_status,
    "documents": lambda reader, path, node: reader.text_list(path, node, "documents"),
    "steps": lambda reader, path, node: reader.text_list(path, node, "steps"),
    "keywords": lambda reader, path, node: reader.text_list(path, node, "keywords"),
    "offices": lambda reader, path, node: reader.text_list(path, node, "offices"),
    "links": _read_links,
}


def _read_article_fields(reader: _Reader, path: Path, node: CommentedMap, *, partial: bool) -> dict[str, Any]:
    """The article fields present in ``node``; all of them unless ``partial``."""
    return {name: read(reader, path, node) for name, read in _ARTICLE_FIELD_READERS.items() if not partial or name in node}


def read_article_fields(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The given fields of one article, read and checked as in a pack file: (what was read, [(field, problem)]).

    For one article edited outside a pack (the staff console), so the rules
    stay the pack's; references to topics, municipalities and offices are the
    caller's to check.
    """
    reader = _Reader(Path("."))
    node = _as_node(values)
    read: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for name, read_field in _ARTICLE_FIELD_READERS.items():
        if name in node:
            before = len(reader.errors)
            read[name] = read_field(reader, Path("."), node)
            problems.extend((name, error.message) for error in reader.errors[before:])
    return read, problems


def _as_node(value: Any) -> Any:
    """Plain mappings and sequences as the ruamel nodes the readers expect."""
    if isinstance(value, Mapping):
        return CommentedMap((key, _as_node(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return CommentedSeq(_as_node(item) for item in value)
    return value


def _read_article_file(reader: _Reader, path: Path, language: str) -> list[tuple[ArticleData, CommentedMap]]:
    document = reader.load(path)
    if document is None:
        return []
    if not isinstance(document, CommentedMap):
        reader.error(path, document, None, "an article file must be a mapping of 'field: value'")
        return []
    topic = reader.text(path, document, "topic")
    declared_language = reader.text(path, document, "language")
    if topic and topic != path.stem:
        reader.error(path, document, "topic", f"topic '{topic}' does not match the file name '{path.name}': rename one of them")
    if declared_language and declared_language != language:
        reader.error(path, document, "language", f"language '{declared_language}' does not match the folder '{language}': move the file or fix the field")

    values = _read_article_fields(reader, path, document, partial=False)
    if topic is None or any(values.get(name) is None for name in ("title", "short_answer", "full_text", "source_url", "last_reviewed")):
        return []
    general = ArticleData(topic=topic, language=language, **values)
    articles = [(general, document)]

    variants = document.get("variants")
    if variants is None:
        return articles
    if not isinstance(variants, CommentedMap):
        reader.error(path, document, "variants", "'variants' must map a municipality key to the fields that differ")
        return articles
    for municipality, variant_node in variants.items():
        if not isinstance(variant_node, CommentedMap):
            reader.error(path, variants, municipality, f"variant '{municipality}' must be a mapping of the fields that differ")
            continue
        unknown = sorted(set(variant_node) - set(VARIANT_FIELDS))
        if unknown:
            reader.error(path, variant_node, unknown[0], f"a variant cannot set {', '.join(unknown)}; it may set {', '.join(VARIANT_FIELDS)}")
        overrides = _read_article_fields(reader, path, variant_node, partial=True)
        merged = {name: getattr(general, name) for name in VARIANT_FIELDS}
        merged.update({name: value for name, value in overrides.items() if value is not None})
        articles.append((ArticleData(topic=topic, language=language, municipality=str(municipality), **merged), variants))
    return articles


def _read_articles(reader: _Reader, root: Path) -> list[tuple[ArticleData, Path, CommentedMap]]:
    articles_dir = root / "articles"
    if not articles_dir.is_dir():
        reader.errors.append(PackError(reader._relative(articles_dir), None, "folder is missing: put articles in articles/<language>/<topic>.yml"))
        return []
    found = []
    for language_dir in sorted(path for path in articles_dir.iterdir() if path.is_dir()):
        if language_dir.name not in LANGUAGE_CODES:
            reader.errors.append(PackError(reader._relative(language_dir), None, f"'{language_dir.name}' is not a supported language ({', '.join(LANGUAGE_CODES)})"))
            continue
        for path in sorted(language_dir.glob("*.yml")):
            for article, node in _read_article_file(reader, path, language_dir.name):
                found.append((article, path, node))
    return found


def _check_references(reader: _Reader, root: Path, pack: Pack, office_nodes: list[CommentedMap], article_sources: list[tuple[ArticleData, Path, CommentedMap]]) -> None:
    topics = {topic.key for topic in pack.topics}
    municipalities = {municipality.key for municipality in pack.municipalities}
    offices = {office.key for office in pack.offices}
    offices_path = root / "offices.yml"

    for office, node in zip(pack.offices, office_nodes):
        if office.municipality and office.municipality not in municipalities:
            reader.error(offices_path, node, "municipality", f"office '{office.key}': municipality '{office.municipality}' is not in municipalities.yml")
        for topic in office.topics:
            if topic not in topics:
                reader.error(offices_path, node, "topics", f"office '{office.key}': topic '{topic}' is not in topics.yml")
        for language in office.languages:
            if len(language) != 2 or not language.isalpha() or not language.islower():
                reader.error(offices_path, node, "languages", f"office '{office.key}': '{language}' is not a two-letter language code")

    seen: dict[tuple, Path] = {}
    for article, path, node in article_sources:
        key = article.municipality if article.municipality else "topic"
        if article.topic not in topics:
            reader.error(path, node, "topic", f"topic '{article.topic}' is not in topics.yml")
        if article.municipality and article.municipality not in municipalities:
            reader.error(path, node, article.municipality, f"variant '{article.municipality}' is not a municipality in municipalities.yml")
        for office in article.offices:
            if office not in offices:
                reader.error(path, node, key, f"office '{office}' is not in offices.yml")
        if article.identity in seen:
            reader.error(path, node, key, f"the article {article.identity} is also defined in {seen[article.identity]}")
        seen[article.identity] = path


def load_pack(root: Path) -> Pack:
    """Read and validate the whole pack; raise ``PackInvalid`` with every problem found."""
    root = Path(root)
    reader = _Reader(root)
    if not root.is_dir():
        raise PackInvalid([PackError(root, None, "is not a folder: give the path of a knowledge pack such as knowledge/osona")])

    manifest = reader.load(root / "pack.yml")
    name = description = ""
    review_max_age_days = 365
    if isinstance(manifest, CommentedMap):
        name = reader.text(root / "pack.yml", manifest, "name") or ""
        description = reader.text(root / "pack.yml", manifest, "description", required=False) or ""
        max_age = manifest.get("review_max_age_days", review_max_age_days)
        if isinstance(max_age, bool) or not isinstance(max_age, int) or max_age < 1:
            reader.error(root / "pack.yml", manifest, "review_max_age_days", "'review_max_age_days' must be a whole number of days")
        else:
            review_max_age_days = max_age
    elif manifest is not None:
        reader.error(root / "pack.yml", manifest, None, "pack.yml must be a mapping with name and description")

    topics = _read_topics(reader, root)
    municipalities = _read_municipalities(reader, root)
    offices, office_nodes = _read_offices(reader, root)
    article_sources = _read_articles(reader, root)
    pack = Pack(
        name=name,
        description=description,
        review_max_age_days=review_max_age_days,
        topics=topics,
        municipalities=municipalities,
        offices=offices,
        articles=[article for article, _, _ in article_sources],
    )
    _check_references(reader, root, pack, office_nodes, article_sources)
    if reader.errors:
        raise PackInvalid(reader.errors)
    return pack
