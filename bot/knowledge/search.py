"""Searching the published articles of one language, for when the NLU is unsure.

A small BM25 over folded words, with fields weighted by how much they say
about the topic. Words are cut to their first letters so that "empadronar",
"empadronament" and "empadronamiento" meet, in every language, without a
stemmer per language.
"""
from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.knowledge.models import STATUS_PUBLISHED, Article, ArticleRevision, PackInfo
from bot.textfold import words

STEM_LENGTH = 6
FIELD_WEIGHTS = {"title": 3.0, "keywords": 3.0, "short_answer": 1.5, "documents": 1.0, "full_text": 1.0}
K1, B = 1.2, 0.75


@dataclass(frozen=True)
class SearchHit:
    topic: str
    score: float


def terms(text: str) -> list[str]:
    return [word[:STEM_LENGTH] for word in words(text) if len(word) > 1 or not word.isascii()]


def _article_terms(article: Article) -> Counter:
    weighted: Counter = Counter()
    fields = {
        "title": article.title,
        "keywords": " ".join(article.keywords),
        "short_answer": article.short_answer,
        "documents": " ".join(article.documents),
        "full_text": article.full_text,
    }
    for name, text in fields.items():
        for term in terms(text):
            weighted[term] += FIELD_WEIGHTS[name]
    return weighted


class _Index:
    def __init__(self, documents: dict[str, Counter]):
        self.documents = documents
        self.lengths = {topic: sum(counts.values()) for topic, counts in documents.items()}
        self.average_length = (sum(self.lengths.values()) / len(self.lengths)) if self.lengths else 0.0
        frequency: Counter = Counter()
        for counts in documents.values():
            frequency.update(counts.keys())
        total = len(documents)
        self.idf = {term: math.log(1 + (total - n + 0.5) / (n + 0.5)) for term, n in frequency.items()}

    def score(self, query: list[str]) -> list[SearchHit]:
        hits = []
        for topic, counts in self.documents.items():
            score = 0.0
            norm = K1 * (1 - B + B * self.lengths[topic] / (self.average_length or 1))
            for term in set(query):
                tf = counts.get(term, 0.0)
                if tf:
                    score += self.idf[term] * tf * (K1 + 1) / (tf + norm)
            if score > 0:
                hits.append(SearchHit(topic=topic, score=score))
        return sorted(hits, key=lambda hit: -hit.score)


# One index per database and language, with the state of the content it was built from.
_indexes: dict[tuple[str, str], tuple[tuple, _Index]] = {}


def _index(session: Session, language: str) -> _Index:
    # An import, a publish from the console or a withdrawal changes one of these, which retires the cached index.
    info = session.get(PackInfo, 1)
    published = session.execute(
        select(func.count(Article.id)).where(Article.language == language, Article.status == STATUS_PUBLISHED)
    ).scalar_one()
    last_publish = session.execute(select(func.max(ArticleRevision.published_at))).scalar_one()
    version = (info.imported_at if info else None, published, last_publish)
    place = (str(session.get_bind().url), language)
    cached = _indexes.get(place)
    if cached is None or cached[0] != version:
        query = select(Article).where(Article.language == language, Article.status == STATUS_PUBLISHED)
        documents: dict[str, Counter] = defaultdict(Counter)
        for article in session.execute(query).scalars():
            documents[article.topic_key].update(_article_terms(article))
        cached = _indexes[place] = (version, _Index(dict(documents)))
    return cached[1]


def search(session: Session, text: str, language: str, limit: int = 3) -> list[SearchHit]:
    query = terms(text)
    if not query:
        return []
    return _index(session, language).score(query)[:limit]
