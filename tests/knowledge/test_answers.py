"""Reading answers: municipal variants, town names as people write them, search."""
from __future__ import annotations

import pytest

from bot.knowledge import answers
from bot.knowledge.search import search


@pytest.mark.parametrize(
    "text, town",
    [
        ("visc a torello", "torello"),
        ("Vivo en Torelló", "torello"),
        ("empadronament a VIC", "vic"),
        ("я живу у Віку", "vic"),
        ("soc de manlleu", "manlleu"),
    ],
)
def test_town_names_match_as_people_type_them(knowledge, text, town):
    assert answers.match_municipality(knowledge, text) == town


@pytest.mark.parametrize("text", ["vicio", "victoria", "hola", "", "necesito ayuda"])
def test_other_words_do_not_match_a_town(knowledge, text):
    assert answers.match_municipality(knowledge, text) is None


def test_the_municipal_variant_wins_over_the_county_article(knowledge):
    general = answers.find_article(knowledge, "health_card", ["en"], None)
    local = answers.find_article(knowledge, "health_card", ["en"], "manlleu")
    assert general.article.municipality_key is None and local.article.municipality_key == "manlleu"
    assert local.article.short_answer != general.article.short_answer
    # a town without a variant gets the county-wide article
    assert answers.find_article(knowledge, "housing", ["en"], "manlleu").article.municipality_key is None


def test_first_available_language_is_used_and_flagged(knowledge):
    found = answers.find_article(knowledge, "health_card", ["de", "ca"], None)
    assert found.article.language == "ca" and found.in_other_language


@pytest.mark.parametrize(
    "text, language, topic",
    [
        ("targeta sanitaria metge", "ca", "health_card"),
        ("padron certificado ayuntamiento", "es", "municipal_registration"),
        ("escola fills matricula", "ca", "school_enrollment"),
        ("travail emploi SOC", "fr", "employment"),
    ],
)
def test_search_finds_the_topic_in_that_language(knowledge, text, language, topic):
    hits = search(knowledge, text, language)
    assert hits and hits[0].topic == topic


def test_search_without_words_finds_nothing(knowledge):
    assert search(knowledge, "🙏 !!", "en") == []
