"""`kb check`: what staff should fix before newcomers notice.

Broken references and malformed files are found by ``load_pack`` itself; this
adds what a valid pack can still lack: translations and recent reviews.
"""
from __future__ import annotations

import datetime as dt

from bot.knowledge.models import STATUS_PUBLISHED
from bot.knowledge.pack import Pack
from bot.languages import LANGUAGE_CODES


def check_pack(pack: Pack, today: dt.date, max_age_days: int) -> list[str]:
    findings = []
    published = {article.identity for article in pack.articles if article.status == STATUS_PUBLISHED}
    variants = sorted({(a.topic, a.municipality) for a in pack.articles if a.municipality})
    for topic in (topic.key for topic in pack.topics):
        missing = [language for language in LANGUAGE_CODES if (topic, language, None) not in published]
        if missing:
            findings.append(f"missing translation: {topic} has no published article in {', '.join(missing)}")
    for topic, municipality in variants:
        missing = [language for language in LANGUAGE_CODES if (topic, language, municipality) not in published]
        if missing:
            findings.append(f"missing translation: {topic} for {municipality} has no published variant in {', '.join(missing)}")
    oldest_allowed = today - dt.timedelta(days=max_age_days)
    for article in pack.articles:
        if article.last_reviewed < oldest_allowed:
            where = f" for {article.municipality}" if article.municipality else ""
            findings.append(
                f"stale: {article.topic} ({article.language}){where} was last reviewed on {article.last_reviewed}, "
                f"more than {max_age_days} days ago: check it against {article.source_url}"
            )
    return findings
