"""Article revisions for the staff console, on SQLite and PostgreSQL: saving, review, publishing, translations, imports."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, inspect, select, text

from bot.cli import main
from bot.console.models import StaffAccount
from bot.database.base import metadata
from bot.database.schema import alembic_config, load_models, upgrade_schema
from bot.database.sessions import engine_for, session_scope
from bot.knowledge import answers, revisions
from bot.knowledge.models import Article, ArticleRevision
from bot.knowledge.pack import SHORT_ANSWER_MAX, load_pack
from bot.knowledge.revisions import ArticleKey, Conflict, Content, FieldError, InvalidContent, NotAllowed
from bot.knowledge.store import ConsoleChanges, read_content, replace_content

load_models()

CA = ArticleKey("health_card", "ca")
EN = ArticleKey("health_card", "en")
AR = ArticleKey("health_card", "ar")
STAFF = dict(author_id=None, author="editor@example.org", note="", minor=False)


@pytest.fixture
def kb(database_url, small_pack):
    """The small pack imported; ca/asylum is a draft there."""
    upgrade_schema(database_url)
    with session_scope(engine_for(database_url)) as session:
        replace_content(session, load_pack(small_pack))
    return database_url


def scope(url: str):
    return session_scope(engine_for(url))


def current(session, key: ArticleKey) -> Content:
    return revisions.content_of(revisions.revisions(session, key)[0])


def edited(session, key: ArticleKey, **changes) -> Content:
    return dataclasses.replace(current(session, key), **changes)


def save_and_publish(session, key: ArticleKey, content: Content, **details) -> int:
    latest = revisions.revisions(session, key)
    number = revisions.save(session, key, content, **{**STAFF, **details}, base_revision=latest[0].number if latest else None).number
    revisions.submit(session, key, number, actor="editor@example.org")
    revisions.publish(session, key, number, actor="reviewer@example.org")
    return number


def states(url: str, today: dt.date = dt.date(2026, 6, 1)) -> dict[ArticleKey, revisions.TranslationStatus]:
    with scope(url) as session:
        return {status.key: status for status in revisions.translation_status(session, today, 365)}


def test_save_submit_publish_restore_and_numbering(kb):
    with scope(kb) as session:
        first = current(session, CA)
        draft = revisions.save(session, CA, edited(session, CA, title="Targeta sanitària"), **STAFF, base_revision=1)
        assert (draft.number, draft.status, draft.author) == (2, revisions.DRAFT, "editor@example.org")
        with pytest.raises(NotAllowed):
            revisions.publish(session, CA, 2, actor="reviewer@example.org")  # a draft is reviewed first
        assert revisions.submit(session, CA, 2, actor="editor@example.org").status == revisions.IN_REVIEW
        published = revisions.publish(session, CA, 2, actor="reviewer@example.org")
        assert (published.status, published.published_by) == (revisions.PUBLISHED, "reviewer@example.org")
        restored = revisions.restore(session, CA, 1, author_id=None, author="editor@example.org")
        assert (restored.number, restored.status, restored.note) == (3, revisions.DRAFT, "restored revision 1")
        assert revisions.content_of(restored) == first
        with pytest.raises(NotAllowed, match="overtaken by revision 3"):
            revisions.submit(session, CA, 2, actor="editor@example.org")
    with scope(kb) as session:
        history = revisions.revisions(session, CA)
        assert [(r.number, r.status) for r in history] == [(3, "draft"), (2, "published"), (1, "superseded")]
        # the assistant still reads revision 2: a restored draft is only a draft
        assert answers.find_article(session, "health_card", ["ca"], None).article.title == "Targeta sanitària"


def test_publishing_changes_the_answer_at_once(kb):
    with scope(kb) as session:
        number = revisions.save(session, EN, edited(session, EN, short_answer="Ask your CAP for the TSI today."), **STAFF, base_revision=1).number
        revisions.submit(session, EN, number, actor="editor@example.org")
    with scope(kb) as session:
        assert answers.find_article(session, "health_card", ["en"], None).article.short_answer.startswith("Ask for the health card")
        revisions.publish(session, EN, number, actor="reviewer@example.org")
    with scope(kb) as session:
        assert answers.find_article(session, "health_card", ["en"], None).article.short_answer == "Ask your CAP for the TSI today."


def test_search_finds_what_was_published_from_the_console_without_a_restart(kb):
    from bot.knowledge.search import search

    with scope(kb) as session:
        assert not [hit for hit in search(session, "zorblat clinic", "en") if hit.topic == "health_card"]  # the index is built and cached
        save_and_publish(session, EN, edited(session, EN, keywords=("zorblat",)))
    with scope(kb) as session:
        assert search(session, "zorblat clinic", "en")[0].topic == "health_card"


def test_a_new_translation_is_hidden_until_published(kb):
    with scope(kb) as session:
        arabic = edited(session, EN, title="البطاقة الصحية", short_answer="اطلب البطاقة الصحية في مركز الرعاية.")
        revisions.save(session, AR, arabic, **STAFF, base_revision=None)
    with scope(kb) as session:
        assert answers.find_article(session, "health_card", ["ar"], None) is None
        revisions.submit(session, AR, 1, actor="editor@example.org")
        revisions.publish(session, AR, 1, actor="reviewer@example.org")
    with scope(kb) as session:
        found = answers.find_article(session, "health_card", ["ar"], None)
        assert found.article.short_answer == arabic.short_answer and not found.in_other_language
        assert [office.key for office in found.article.offices] == ["vic-cap"]


def test_a_save_against_an_old_base_conflicts_and_loses_nothing(kb):
    with scope(kb) as session:
        theirs = edited(session, EN, full_text="The health card (TSI) gives you access to public health care.\nAsk at reception.")
        mine = edited(session, EN, full_text="The health card (TSI) gives you access to public health care.\nBring your NIE.")
    with scope(kb) as session:
        revisions.save(session, EN, theirs, **{**STAFF, "author": "first@example.org"}, base_revision=1)
    with scope(kb) as session:
        with pytest.raises(Conflict) as raised:
            revisions.save(session, EN, mine, **STAFF, base_revision=1)
        conflict = raised.value
        assert conflict.theirs.number == 2 and conflict.theirs.author == "first@example.org" and conflict.mine == mine
        assert conflict.diff == [
            revisions.FieldDiff(
                "full_text",
                [
                    ("same", "The health card (TSI) gives you access to public health care."),
                    ("removed", "Ask at reception."),
                    ("added", "Bring your NIE."),
                ],
            )
        ]
        with pytest.raises(Conflict):
            revisions.save(session, EN, mine, **STAFF, base_revision=None)  # "new article", but it exists
    with scope(kb) as session:
        assert [r.number for r in revisions.revisions(session, EN)] == [2, 1]
        assert current(session, EN) == theirs
        # merged by hand, saved against what is there now
        assert revisions.save(session, EN, mine, **STAFF, base_revision=2).number == 3


def test_diff_lists_only_changed_fields_line_by_line():
    old = Content("T", "S", "a\nb", "https://x.cat/", dt.date(2026, 1, 1), links=(("A", "https://a.cat/"),))
    new = dataclasses.replace(old, full_text="a\nc", links=(("A", "https://a.cat/"), ("B", "https://b.cat/")))
    assert revisions.diff(old, new) == [
        revisions.FieldDiff("full_text", [("same", "a"), ("removed", "b"), ("added", "c")]),
        revisions.FieldDiff("links", [("same", "A <https://a.cat/>"), ("added", "B <https://b.cat/>")]),
    ]
    assert revisions.diff(old, old) == []


def test_a_major_catalan_revision_outdates_the_arabic_translation_a_minor_one_does_not(kb):
    with scope(kb) as session:
        save_and_publish(session, AR, edited(session, EN, title="البطاقة الصحية"))
    assert states(kb)[AR].state == "up_to_date"
    with scope(kb) as session:
        save_and_publish(session, CA, edited(session, CA, title="Targeta sanitaria individual"), minor=True)
    assert states(kb)[AR].state == "up_to_date"
    with scope(kb) as session:
        save_and_publish(session, CA, edited(session, CA, short_answer="Demana la TSI al CAP amb el padró."))
    status = states(kb)[AR]
    assert (status.state, status.latest, status.published) == ("outdated", 1, 1)
    assert "revision 3" in status.reason and "update it" in status.reason
    assert states(kb)[EN].state == "outdated"  # the pack's English translation too
    with scope(kb) as session:
        # a typo fix in the translation does not make it follow the new Catalan text
        save_and_publish(session, AR, edited(session, AR, title="البطاقة الصحيّة"), minor=True)
    assert states(kb)[AR].state == "outdated"
    with scope(kb) as session:
        save_and_publish(session, AR, edited(session, AR, short_answer="اطلب البطاقة مع شهادة التسجيل."))
    assert states(kb)[AR].state == "up_to_date"


def test_missing_and_review_overdue(kb):
    found = states(kb)
    # every topic x (territory + municipalities with a variant of it) x every language
    assert len(found) == (2 + 1) * 13 and ArticleKey("health_card", "fr", "vic") in found
    assert not any(key.municipality == "sant-quirze-de-besora" for key in found)
    fr = found[ArticleKey("health_card", "fr")]
    assert (fr.state, fr.latest, fr.published) == ("missing", None, None) and "write one" in fr.reason
    draft = found[ArticleKey("asylum", "ca")]
    assert (draft.state, draft.latest, draft.published) == ("missing", 1, None) and "draft" in draft.reason
    stale = found[ArticleKey("asylum", "en")]
    assert stale.state == "review_overdue" and "2025-01-10" in stale.reason and "https://www.interior.gob.es/" in stale.reason
    assert found[CA].state == "source" and found[EN].state == "up_to_date"
    assert found[ArticleKey("health_card", "en", "vic")].state == "up_to_date"
    assert states(kb, today=dt.date(2027, 6, 1))[CA].state == "review_overdue"  # the source article ages too


def test_when_several_states_hold_missing_then_outdated_then_review_overdue(kb):
    with scope(kb) as session:
        # a draft translation reviewed long ago: missing, not overdue
        revisions.save(session, ArticleKey("asylum", "fr"), edited(session, ArticleKey("asylum", "en"), title="Asile"), **STAFF, base_revision=None)
        # publishing the Catalan asylum article outdates the overdue English one, written before it
        revisions.submit(session, ArticleKey("asylum", "ca"), 1, actor="editor@example.org")
        revisions.publish(session, ArticleKey("asylum", "ca"), 1, actor="reviewer@example.org")
    found = states(kb)
    assert found[ArticleKey("asylum", "fr")].state == "missing"
    assert found[ArticleKey("asylum", "en")].state == "outdated"
    assert "before it was published" in found[ArticleKey("asylum", "en")].reason


def _error(errors: list[FieldError], field: str) -> str:
    messages = [error.message for error in errors if error.field == field]
    assert messages, errors
    return messages[0]


@pytest.mark.parametrize(
    "change, field, fix",
    [
        ({"title": "  "}, "title", "'title' is required and must not be empty"),
        ({"source_url": "htp:/x"}, "source_url", "'htp:/x' is not an https:// URL"),
        ({"offices": ("vic-cap", "nowhere")}, "offices", "there is no office 'nowhere': remove it or choose one from the list of offices"),
        ({"short_answer": "x" * (SHORT_ANSWER_MAX + 1)}, "short_answer", f"shorten it to at most {SHORT_ANSWER_MAX}"),
        ({"links": (("CatSalut", "htp:/x"),)}, "links", "'htp:/x' is not an https:// URL"),
        ({"last_reviewed": dt.date.today() + dt.timedelta(days=2)}, "last_reviewed", "is in the future: write the date it was really reviewed"),
    ],
)
def test_validate_names_the_field_and_the_fix(kb, change, field, fix):
    with scope(kb) as session:
        content = edited(session, EN, **change)
        errors = revisions.validate(session, EN, content)
        assert fix in _error(errors, field)
        with pytest.raises(InvalidContent) as raised:
            revisions.save(session, EN, content, **STAFF, base_revision=1)
        assert raised.value.errors == errors
    with scope(kb) as session:
        assert len(revisions.revisions(session, EN)) == 1  # nothing saved


def test_validate_checks_the_article_it_is_for(kb):
    with scope(kb) as session:
        content = current(session, EN)
        assert revisions.validate(session, EN, content) == []
        assert "choose one from the list of topics" in _error(revisions.validate(session, ArticleKey("tax", "en"), content), "topic")
        assert "not a supported language" in _error(revisions.validate(session, ArticleKey("health_card", "de"), content), "language")
        assert "no municipality 'vik'" in _error(revisions.validate(session, ArticleKey("health_card", "en", "vik"), content), "municipality")
        # a variant needs the article for the whole territory in its language
        assert "first" in _error(revisions.validate(session, ArticleKey("health_card", "ar", "vic"), content), "municipality")


def test_saved_content_is_trimmed_as_the_pack_reader_trims_it(kb):
    with scope(kb) as session:
        revisions.save(session, EN, edited(session, EN, title="  Health card  ", keywords=(" tsi ",)), **STAFF, base_revision=1)
    with scope(kb) as session:
        assert (current(session, EN).title, current(session, EN).keywords) == ("Health card", ("tsi",))


def test_the_import_refuses_over_console_work_and_the_flag_overrides(kb, small_pack, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("DATABASE_URL", kb)
    with scope(kb) as session:
        editor = StaffAccount(email="editor@example.org", name="Editor", role="editor", password_hash="x")
        session.add(editor)
        session.flush()
        save_and_publish(session, EN, edited(session, EN, short_answer="Staff wrote this."), author_id=editor.id)
    with scope(kb) as session:
        before = read_content(session)

    assert main(["kb", "import", str(small_pack)]) == 1
    err = capsys.readouterr().err
    assert "health_card/en: revision 2 saved by editor@example.org" in err and "--overwrite-console-changes" in err
    with scope(kb) as session:
        assert read_content(session) == before
        assert session.execute(select(func.count(ArticleRevision.id))).scalar_one() == 6

    assert main(["kb", "import", str(small_pack), "--overwrite-console-changes"]) == 0
    assert "(1 new revisions, 0 withdrawn)" in capsys.readouterr().out
    with scope(kb) as session:
        assert [(r.number, r.status, r.author) for r in revisions.revisions(session, EN)] == [
            (3, "published", "pack import"), (2, "superseded", "editor@example.org"), (1, "superseded", "pack import"),
        ]
        assert answers.find_article(session, "health_card", ["en"], None).article.short_answer.startswith("Ask for the health card")
        save_and_publish(session, EN, edited(session, EN, short_answer="Staff wrote this again."))

    # once exported, console work is in the files: importing them overwrites nothing
    assert main(["kb", "export", str(tmp_path / "exported")]) == 0
    assert main(["kb", "import", str(tmp_path / "exported")]) == 0
    assert "(0 new revisions, 0 withdrawn)" in capsys.readouterr().out
    with scope(kb) as session:
        assert answers.find_article(session, "health_card", ["en"], None).article.short_answer == "Staff wrote this again."


def test_an_article_left_out_of_the_pack_is_withdrawn_with_its_history(kb, small_pack):
    (small_pack / "articles" / "en" / "asylum.yml").unlink()
    with scope(kb) as session:
        report = replace_content(session, load_pack(small_pack))
    assert report.withdrawn == [ArticleKey("asylum", "en")] and report.changed == []
    with scope(kb) as session:
        history = revisions.revisions(session, ArticleKey("asylum", "en"))
        assert [(r.number, r.status) for r in history] == [(2, "draft"), (1, "superseded")]
        assert history[0].note == "not in the pack Testland: withdrawn"
        assert answers.find_article(session, "asylum", ["en"], None) is None


def test_a_topic_left_out_of_the_pack_goes_with_its_articles(kb, small_pack):
    topics = small_pack / "topics.yml"
    topics.write_text(topics.read_text(encoding="utf-8").split("- key: asylum")[0], encoding="utf-8")
    for language in ("ca", "en"):
        (small_pack / "articles" / language / "asylum.yml").unlink()
    offices = small_pack / "offices.yml"
    offices.write_text(offices.read_text(encoding="utf-8").split("- key: welcome")[0], encoding="utf-8")
    with scope(kb) as session:
        replace_content(session, load_pack(small_pack))
    with scope(kb) as session:
        assert session.execute(select(Article.topic_key).distinct()).scalars().all() == ["health_card"]
        assert revisions.revisions(session, ArticleKey("asylum", "en")) == []


def test_the_revisions_migration_round_trip(database_url):
    """0006 gives every stored article its first revision, and drops the history again on the way down."""
    config = alembic_config(database_url)
    command.upgrade(config, "0005")
    engine = engine_for(database_url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO pack_info (id, name, description, review_max_age_days, imported_at) VALUES (1, 'T', '', 365, '2026-12-01')"))
        connection.execute(text("INSERT INTO topics (key, icon, sensitive, position) VALUES ('health_card', '', false, 0)"))
        connection.execute(text(
            "INSERT INTO offices (key, name, address, opening_hours, languages, sample, position) VALUES ('cap', 'CAP', 'Vic', '[]', '[]', true, 0)"
        ))
        for article_id, language in ((1, "ca"), (2, "en")):
            connection.execute(text(
                "INSERT INTO articles (id, topic_key, language, status, title, short_answer, full_text, documents, steps, links, keywords, source_url, last_reviewed) "
                f"VALUES ({article_id}, 'health_card', '{language}', 'published', 'TSI', 'Short', 'Full', '[\"Passport\"]', '[]', "
                "'[{\"title\": \"CatSalut\", \"url\": \"https://catsalut.gencat.cat/\"}]', '[]', 'https://catsalut.gencat.cat/', '2026-01-15')"
            ))
            connection.execute(text(f"INSERT INTO article_offices (article_id, office_key, position) VALUES ({article_id}, 'cap', 0)"))
    command.upgrade(config, "head")
    with scope(database_url) as session:
        ca, en = (revisions.revisions(session, ArticleKey("health_card", language))[0] for language in ("ca", "en"))
        assert (ca.number, ca.status, ca.author, ca.source_revision, en.source_revision) == (1, "published", "pack import", None, 1)
        assert revisions.content_of(en) == Content(
            "TSI", "Short", "Full", "https://catsalut.gencat.cat/", dt.date(2026, 1, 15),
            documents=("Passport",), links=(("CatSalut", "https://catsalut.gencat.cat/"),), offices=("cap",),
        )
        assert revisions.content_of(en) == revisions.content_of(session.get(Article, 2))
    with engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    command.downgrade(config, "0005")
    with engine.connect() as connection:
        assert "article_revisions" not in inspect(connection).get_table_names()
        assert "exported_at" not in {column["name"] for column in inspect(connection).get_columns("pack_info")}
        assert connection.execute(text("SELECT id, title FROM articles ORDER BY id")).all() == [(1, "TSI"), (2, "TSI")]
        assert connection.execute(text("SELECT count(*) FROM article_offices")).scalar_one() == 2
    command.upgrade(config, "head")
    engine.dispose()


def test_a_staff_revision_blocks_the_import_even_once_its_account_is_gone(kb, small_pack):
    """A deleted account leaves author_id empty; the author still says it was staff."""
    with scope(kb) as session:
        revisions.save(session, EN, edited(session, EN, title="Health card"), **STAFF, base_revision=1)
    with scope(kb) as session:
        with pytest.raises(ConsoleChanges, match="health_card/en: revision 2 saved by editor@example.org"):
            replace_content(session, load_pack(small_pack))
