"""Knowledge import (good and broken packs), export round trips and `kb check`, on SQLite and PostgreSQL."""
from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.knowledge.check import check_pack
from bot.database.schema import upgrade_schema
from bot.database.sessions import engine_for, session_scope
from bot.knowledge.export import write_pack
from bot.knowledge.models import Article, Municipality, Office
from bot.knowledge.pack import PackInvalid, load_pack
from bot.knowledge.store import read_content, replace_content


def import_into(url: str, path: Path) -> None:
    upgrade_schema(url)
    with session_scope(engine_for(url)) as session:
        replace_content(session, load_pack(path))


def stored(url: str):
    with session_scope(engine_for(url)) as session:
        return read_content(session)


def errors_of(path: Path) -> list[str]:
    with pytest.raises(PackInvalid) as raised:
        load_pack(path)
    return [str(error) for error in raised.value.errors]


def test_import_stores_every_article_with_its_variant(database_url, small_pack):
    import_into(database_url, small_pack)
    with session_scope(engine_for(database_url)) as session:
        assert session.execute(select(func.count(Article.id))).scalar_one() == 5
        vic = session.execute(select(Article).where(Article.municipality_key == "vic")).scalar_one()
        assert vic.short_answer == "In Vic, ask for the health card at CAP Vic Nord."
        # fields a variant does not give come from the county-wide article
        assert vic.documents == ["Passport", "Padró certificate"]
        assert [office.key for office in vic.offices] == ["vic-cap"]
        office = session.get(Office, "vic-cap")
        assert office.sample is True and [topic.key for topic in office.topics] == ["health_card"]


def test_export_then_import_gives_identical_content(database_url, small_pack, tmp_path):
    import_into(database_url, small_pack)
    first = stored(database_url)
    write_pack(first, tmp_path / "exported")
    import_into(database_url, tmp_path / "exported")
    assert stored(database_url) == first
    # and the exported files read back as the same pack
    assert dataclasses.asdict(load_pack(tmp_path / "exported")) == dataclasses.asdict(first)


def test_shipped_pack_round_trips(sqlite_url, tmp_path):
    import_into(sqlite_url, Path("knowledge/osona"))
    first = stored(sqlite_url)
    write_pack(first, tmp_path / "osona")
    import_into(sqlite_url, tmp_path / "osona")
    assert stored(sqlite_url) == first


@pytest.mark.parametrize(
    "file, find, replace, expected",
    [
        ("offices.yml", "topics: [health_card]", "topics: [health_cards]", "offices.yml:11: office 'vic-cap': topic 'health_cards' is not in topics.yml"),
        ("articles/en/health_card.yml", "last_reviewed: 2026-01-15", "last_reviewed: 15/01/2026", "articles/en/health_card.yml:18: 'last_reviewed' must be a date written YYYY-MM-DD"),
        ("articles/en/health_card.yml", "offices: [vic-cap]", "offices: [vic-cap, nowhere]", "articles/en/health_card.yml:1: office 'nowhere' is not in offices.yml"),
        ("articles/en/health_card.yml", "source_url: https://catsalut.gencat.cat/", "source_url: catsalut", "articles/en/health_card.yml:17: 'catsalut' is not an https:// URL"),
        ("articles/en/health_card.yml", "  vic:", "  vik:", "articles/en/health_card.yml:21: variant 'vik' is not a municipality in municipalities.yml"),
        ("articles/ca/asylum.yml", "language: ca", "language: es", "articles/ca/asylum.yml:2: language 'es' does not match the folder 'ca'"),
        ("topics.yml", "- key: asylum", "- key: health_card", "topics.yml:4: topic 'health_card' is defined twice"),
        ("municipalities.yml", "aliases: [Vich, Вік, فيك]", "aliases: [Vich, Вік, фик", "municipalities.yml:4: not valid YAML"),
        ("articles/en/asylum.yml", "title: Asylum\n", "", "articles/en/asylum.yml:1: 'title' is required"),
    ],
)
def test_broken_pack_names_file_line_and_reason(small_pack, file, find, replace, expected):
    path = small_pack / file
    original = path.read_text(encoding="utf-8")
    assert find in original
    path.write_text(original.replace(find, replace), encoding="utf-8")
    errors = errors_of(small_pack)
    assert any(error.startswith(f"small_pack/{expected}") for error in errors), errors


def test_a_broken_pack_leaves_the_database_exactly_as_it_was(database_url, small_pack, tmp_path, capsys, monkeypatch):
    import_into(database_url, small_pack)
    before = stored(database_url)
    broken = small_pack / "articles" / "en" / "asylum.yml"
    broken.write_text(broken.read_text(encoding="utf-8").replace("offices: [welcome]", "offices: [gone]"), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["kb", "import", str(small_pack)]) == 1
    assert "office 'gone' is not in offices.yml" in capsys.readouterr().err
    assert stored(database_url) == before


def test_a_failure_while_writing_rolls_everything_back(database_url, small_pack):
    import_into(database_url, small_pack)
    before = stored(database_url)
    pack = load_pack(small_pack)
    # Valid files, but a database failure mid-way: a changed article naming an office
    # that does not exist fails at its offices, after its new revision was written.
    pack.articles[-1] = dataclasses.replace(pack.articles[-1], short_answer="Changed.", offices=["nowhere"])
    with pytest.raises(Exception):
        with session_scope(engine_for(database_url)) as session:
            replace_content(session, pack)
    assert stored(database_url) == before


def test_cli_import_export_check(sqlite_url, small_pack, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    assert main(["kb", "import", str(small_pack)]) == 0
    assert "5 articles" in capsys.readouterr().out
    assert main(["kb", "export", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "articles" / "en" / "health_card.yml").is_file()
    assert main(["kb", "check", str(tmp_path / "out"), "--max-age-days", "100000"]) == 1
    out = capsys.readouterr().out
    assert "missing translation: asylum has no published article in ca, es, fr" in out  # ca is a draft


def test_check_lists_missing_translations_and_stale_reviews(small_pack):
    findings = check_pack(load_pack(small_pack), today=dt.date(2026, 6, 1), max_age_days=365)
    assert any(f.startswith("missing translation: health_card has no published article in es,") for f in findings)
    assert any(f.startswith("missing translation: health_card for vic has no published variant in ca,") for f in findings)
    stale = [f for f in findings if f.startswith("stale:")]
    assert stale == [
        "stale: asylum (en) was last reviewed on 2025-01-10, more than 365 days ago: check it against https://www.interior.gob.es/"
    ]


def test_shipped_pack_is_complete_and_reviewed(shipped_pack):
    """Every topic has a published article in every language, reviewed within the pack's limit."""
    assert {topic.key for topic in shipped_pack.topics} == {
        "municipal_registration", "residence_permit", "health_card", "school_enrollment", "language_courses",
        "mediation", "housing", "employment", "asylum", "social_services", "discrimination", "office_info",
    }
    assert check_pack(shipped_pack, today=dt.date.today(), max_age_days=shipped_pack.review_max_age_days) == []
    with_variants = {article.topic for article in shipped_pack.articles if article.municipality}
    assert len(with_variants) >= 3
    assert len(shipped_pack.municipalities) >= 3
    assert shipped_pack.offices and all(office.sample for office in shipped_pack.offices if office.phone)
