"""Articles in the console: the translation matrix, editing as revisions, conflicts, review and publishing, restoring, diffs."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.console import audit
from bot.database.sessions import engine_for, session_scope
from bot.knowledge import revisions
from bot.knowledge.models import Article
from bot.knowledge.pack import load_pack
from bot.knowledge.revisions import ArticleKey
from bot.knowledge.store import replace_content
from tests.console.staff_client import add_person, csrf_token, signed_in_client

CA, AR = "/articles/health_card/ca/all", "/articles/health_card/ar/all"
ARABIC = {
    "title": "البطاقة الصحية",
    "short_answer": "اطلب البطاقة الصحية في مركزك الصحي.",
    "full_text": "البطاقة الصحية تتيح لك الرعاية الصحية العامة.",
    "documents": "جواز السفر\nشهادة التسجيل",
    "steps": "",
    "links": "CatSalut | https://catsalut.gencat.cat/",
    "offices": "vic-cap",
    "keywords": "",
    "source_url": "https://catsalut.gencat.cat/",
    "last_reviewed": "2026-05-02",
}


@pytest.fixture
def kb(console_db, small_pack):
    with session_scope(engine_for(console_db)) as session:
        replace_content(session, load_pack(small_pack))
    return console_db


@pytest.fixture
def staff(app, kb, people):
    return {role: signed_in_client(app, person) for role, person in people.items()}


def _save(client, path: str, fields: dict, base: int | None, note: str = "", minor: bool = False):
    data = {"csrf_token": csrf_token(client, path), **fields, "note": note, "base_revision": "" if base is None else str(base)}
    if minor:
        data["minor"] = "yes"
    return client.post(path, data=data)


def _step(client, path: str, step: str, number: int):
    return client.post(f"{path}/{step}", data={"csrf_token": csrf_token(client, path), "revision": str(number)})


def _history(url: str, key: ArticleKey) -> list[tuple[int, str, str, bool]]:
    with session_scope(engine_for(url)) as session:
        return [(revision.number, revision.status, revision.author, revision.minor) for revision in revisions.revisions(session, key)]


def _form(page: str) -> dict[str, str]:
    """The article form's fields as the page shows them."""
    fields = dict(re.findall(r'<input id="(\w+)" name="\w+" type="\w+" value="([^"]*)"', page))
    fields.update(re.findall(r'<textarea id="(\w+)" name="\w+"[^>]*>([^<]*)</textarea>', page))
    return {name: value for name, value in fields.items() if name != "note"}


def _cell(page: str, language: str) -> str:
    return re.search(rf'href="/articles/health_card/{language}/all"[^>]*><span class="visually-hidden">[^<]*</span>([^<]+)</a>', page)[1]


@pytest.mark.parametrize("role", ["editor", "reviewer", "admin"])
def test_every_role_sees_the_matrix_of_topics_and_languages_each_cell_a_link(staff, role):
    page = staff[role].get("/articles").text
    assert "Whole territory" in page
    assert (_cell(page, "ca"), _cell(page, "en"), _cell(page, "ar")) == ("source", "up to date", "missing")
    assert page.count('href="/articles/asylum/') == 13


def test_without_a_pack_the_matrix_says_how_to_import_one(app, people):
    page = signed_in_client(app, people["editor"]).get("/articles").text
    assert "No knowledge pack is imported yet" in page and "acollida kb import PATH" in page


def test_an_editor_writes_a_translation_beside_the_catalan_article_in_its_own_direction(staff, kb):
    page = staff["editor"].get(AR).text
    assert "The Catalan article (revision 1, published)" in page and "Targeta sanitària (TSI)" in page
    assert '<textarea id="full_text" name="full_text" rows="8" lang="ar" dir="rtl">' in page
    assert _form(page)["offices"] == "vic-cap"  # a new translation starts with the source's offices and address
    saved = _save(staff["editor"], AR, ARABIC, None, note="first Arabic version")
    assert saved.status_code == 303 and saved.headers["location"] == AR
    page = staff["editor"].get(AR).text
    assert "Saved as revision 1, a draft." in page and "Send revision 1 for review" in page
    assert _history(kb, ArticleKey("health_card", "ar")) == [(1, "draft", "editor@example.org", False)]
    with session_scope(engine_for(kb)) as session:
        entry = audit.recent(session, 1)[0]
    assert (entry.actor, entry.action, entry.target, entry.detail) == (
        "editor@example.org", "article.save", "article health_card/ar", {"revision": 1, "note": "first Arabic version", "minor": False})


def test_mistakes_are_named_by_field_with_the_fix_and_nothing_is_saved(staff, kb):
    response = _save(staff["editor"], AR, {**ARABIC, "title": " ", "last_reviewed": "2 May", "links": "CatSalut https://x"}, None)
    assert response.status_code == 400
    for fix in ("Last reviewed: write the day you checked it against the official source, as YYYY-MM-DD",
                "Links: write each link as &#39;title | https://…&#39;, one per line",
                "Title:"):
        assert fix in response.text
    assert "البطاقة الصحية تتيح لك الرعاية الصحية العامة." in response.text and 'value="2 May"' in response.text
    assert _history(kb, ArticleKey("health_card", "ar")) == []


def test_saving_over_someone_elses_newer_revision_shows_the_difference_and_loses_nothing(app, staff, kb):
    other = signed_in_client(app, add_person(kb, "editor", "jordi@example.org", "Jordi"))
    theirs = _form(other.get(CA).text)
    mine = _form(staff["editor"].get(CA).text)
    assert _save(other, CA, {**theirs, "short_answer": "Demana la TSI al CAP de Vic."}, 1, note="Vic").status_code == 303
    conflict = _save(staff["editor"], CA, {**mine, "title": "Targeta sanitària individual"}, 1)
    assert conflict.status_code == 409
    page = conflict.text
    assert "Not saved: jordi@example.org saved revision 2 while you were editing" in page and "Their note: Vic" in page
    assert '<li class="diff-removed"><span class="diff-mark" aria-hidden="true">−</span><span class="visually-hidden">theirs: </span>Targeta sanitària (TSI)</li>' in page
    assert 'value="Targeta sanitària individual"' in page and '<input type="hidden" name="base_revision" value="2">' in page
    assert [number for number, *_ in _history(kb, ArticleKey("health_card", "ca"))] == [2, 1]
    merged = {**_form(page), "short_answer": "Demana la TSI al CAP de Vic."}
    assert _save(staff["editor"], CA, merged, 2).status_code == 303
    assert _history(kb, ArticleKey("health_card", "ca"))[0][:3] == (3, "draft", "editor@example.org")


def test_an_editor_sends_for_review_and_only_a_reviewer_publishes_which_the_assistant_reads_at_once(staff, kb):
    _save(staff["editor"], AR, ARABIC, None)
    assert "Send revision 1 for review" not in staff["admin"].get(AR).text
    assert _step(staff["editor"], AR, "submit", 1).status_code == 303
    assert "Waiting for a reviewer to publish it." in staff["editor"].get(AR).text
    denied = _step(staff["editor"], AR, "publish", 1)
    assert denied.status_code == 403 and "This page is for reviewers only." in denied.text
    assert "Publish revision 1" in staff["reviewer"].get(AR).text
    assert _step(staff["reviewer"], AR, "publish", 1).status_code == 303
    assert "Revision 1 is published: the assistant answers with it from now on." in staff["reviewer"].get(AR).text
    with session_scope(engine_for(kb)) as session:
        article = session.execute(select(Article).where(Article.topic_key == "health_card", Article.language == "ar")).scalar_one()
        assert (article.status, article.title) == ("published", "البطاقة الصحية")
        actions = [(entry.actor, entry.action) for entry in audit.recent(session, 3)]
    assert actions == [("reviewer@example.org", "article.publish"), ("editor@example.org", "article.submit"), ("editor@example.org", "article.save")]
    assert _cell(staff["editor"].get("/articles").text, "ar") == "up to date"
    again = _step(staff["reviewer"], AR, "publish", 1)
    assert again.status_code == 409 and "Not published: revision 1 of health_card/ar is published, not in review." in again.text


def test_a_minor_catalan_edit_keeps_translations_up_to_date_a_major_one_outdates_them(staff, kb):
    for minor, expected in ((True, "up to date"), (False, "outdated")):
        current = _form(staff["reviewer"].get(CA).text)
        latest = _history(kb, ArticleKey("health_card", "ca"))[0][0]
        _save(staff["reviewer"], CA, {**current, "full_text": current["full_text"] + " Gratuïta."}, latest, minor=minor)
        _step(staff["reviewer"], CA, "submit", latest + 1)
        _step(staff["reviewer"], CA, "publish", latest + 1)
        assert _history(kb, ArticleKey("health_card", "ca"))[0][3] is minor
        assert _cell(staff["editor"].get("/articles").text, "en") == expected


def test_revisions_are_compared_and_an_old_one_restored_as_a_new_draft(staff, kb):
    current = _form(staff["editor"].get(CA).text)
    _save(staff["editor"], CA, {**current, "full_text": "Un text nou.\nAmb dues línies."}, 1, note="nou text")
    diff = staff["editor"].get(f"{CA}/diff?from=1&to=2")
    assert diff.status_code == 200 and "Revision 1 → 2" in diff.text
    assert re.search(r'class="diff-removed">.*La TSI et dona accés a la sanitat pública\.</li>', diff.text)
    assert re.search(r'class="diff-added">.*Amb dues línies\.</li>', diff.text)
    assert "These two revisions have the same content." in staff["editor"].get(f"{CA}/diff?from=2&to=2").text
    restored = _step(staff["editor"], CA, "restore", 1)
    assert restored.status_code == 303
    assert "Revision 1 is back as revision 3, a draft." in staff["editor"].get(CA).text
    assert "These two revisions have the same content." in staff["editor"].get(f"{CA}/diff?from=1&to=3").text
    assert staff["editor"].get(f"{CA}/diff?from=1&to=9").status_code == 404
    assert staff["editor"].get(f"{CA}/diff?from=one&to=2").status_code == 400


def test_admins_read_articles_without_editing_them(staff):
    page = staff["admin"].get(CA).text
    assert "Targeta sanitària (TSI)" in page and 'name="base_revision"' not in page and "Restore revision" not in page
    denied = _save(staff["admin"], CA, _form(staff["editor"].get(CA).text), 1)
    assert denied.status_code == 403 and "This page is for editors and reviewers only." in denied.text


def test_what_staff_type_in_an_article_is_shown_as_text(staff):
    current = _form(staff["editor"].get(CA).text)
    _save(staff["editor"], CA, {**current, "full_text": '<img src=x onerror="alert(1)">'}, 1)
    page = staff["editor"].get(CA).text
    assert '<img src=x' not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


def test_an_article_that_cannot_exist_is_a_clear_404(staff):
    for path in ("/articles/no_topic/ca/all", "/articles/health_card/xx/all", "/articles/health_card/ca/nowhere"):
        response = staff["editor"].get(path)
        assert response.status_code == 404 and "There is no such topic, language or municipality." in response.text
