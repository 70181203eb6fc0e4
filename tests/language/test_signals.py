import math

import numpy as np
import pytest
from langdetect.utils.ngram import NGram

from bot.language import detector
from bot.language.words import (
    DROPPED_LETTERS_CB,
    SPELLING_VARIANTS,
    _dropped_letter_frequencies,
    _hashes,
    _with_spelling_variants,
    tokenize,
)

LATIN = detector.CANDIDATES_BY_SCRIPT["Latin"]


def best(scores, codes=LATIN):
    return codes[int(np.argmax(scores))]


def test_words_are_normalised_the_way_wordfreq_lists_them():
    assert tokenize("L’Ajuntament, 3 col.legis i Ţară!") == ["l'ajuntament", "col·legis", "i", "țară"]
    assert tokenize("السَّلامُ عليكم") == ["السلام", "عليكم"]


def test_word_frequencies_point_to_the_language_that_uses_the_word():
    words = detector.models().words
    assert best(words.centibels(["ajutor"], LATIN)[0]) == "ro"
    assert best(words.centibels(["obrigado"], LATIN)[0]) == "pt"
    assert best(words.centibels(["l'aigua"], LATIN)[0]) == "ca"


def test_missing_accents_cost_little_and_wrong_accents_cost_much():
    words = detector.models().words
    typed, unaccented = words.centibels(["està", "esta"], ("ca", "es"))
    assert typed[0] > typed[1]  # Catalan "està"
    assert unaccented[1] > unaccented[0]  # Spanish "esta" (and "está" typed without its accent)
    catalan_typed_in_spanish = words.centibels(["està"], ("es",))[0, 0]
    spanish_typed_in_spanish = words.centibels(["está"], ("es",))[0, 0]
    assert spanish_typed_in_spanish - catalan_typed_in_spanish >= 150


def test_a_word_no_list_has_gets_the_floor_everywhere():
    words = detector.models().words
    row = words.centibels(["qxzvbwk"], LATIN)[0]
    assert row.max() <= -800


def test_langdetect_signal_reads_the_ngrams_langdetect_reads():
    model = detector.models().langdetect
    text = "Necesito ayuda, por favor!"
    ngram, expected = NGram(), []
    for char in NGram.normalize_vi(text.lower() + " "):
        ngram.add_char(char)
        for n in (1, 2, 3):
            gram = ngram.get(n)
            if gram and gram != " " and gram in model._rows:
                expected.append(model._rows[gram])
    assert sorted(model.rows(text)) == sorted(expected)
    scores = model.log_likelihoods(text)
    assert model.codes[int(np.argmax(scores))] == "es"


def test_lingua_signal_is_a_log_probability_over_the_scripts_candidates():
    cyrillic = detector.models().lingua["Cyrillic"]
    log_probabilities = cyrillic.log_probabilities("дякую за допомогу")
    assert math.isclose(np.exp(log_probabilities).sum(), 1.0, abs_tol=0.01)
    assert cyrillic.codes[int(np.argmax(log_probabilities))] == "uk"


def test_the_hint_adds_its_prior_to_one_candidate_only():
    evidence = detector.gather_evidence("hola", "Latin")
    plain = np.log(detector.combine(evidence, None))
    hinted = np.log(detector.combine(evidence, "ca"))
    shift = hinted - plain
    catalan = LATIN.index("ca")
    others = np.delete(shift, catalan)
    assert math.isclose(shift[catalan] - others.mean(), detector.HINT_PRIOR, abs_tol=1e-6)
    assert np.allclose(others, others[0])


def test_an_unsupported_or_absent_hint_adds_nothing():
    evidence = detector.gather_evidence("hola", "Latin")
    assert np.allclose(detector.combine(evidence, "de"), detector.combine(evidence, None))


def test_a_word_no_candidate_lists_favours_none_of_them():
    # Romanian's list is small, so its floor is higher than the large lists'; a word
    # missing from every list must not lean Romanian because of that.
    words = detector.models().words
    row = words.centibels(["qxzvbwk"], LATIN)[0]
    assert np.all(row == row[0])
    listed_in_one = words.centibels(["ajutor"], LATIN)[0]
    assert best(listed_in_one) == "ro" and len(set(listed_in_one)) > 1


def test_a_word_whose_accented_letters_were_deleted_counts_as_that_word_at_a_cost():
    # Text that passed through an ASCII-only system: "administración" arrives as "administracin".
    words = detector.models().words
    damaged, whole = words.centibels(["administracin", "administración"], LATIN)
    spanish = LATIN.index("es")
    assert best(damaged) == "es"
    assert whole[spanish] - damaged[spanish] == pytest.approx(DROPPED_LETTERS_CB, abs=1)
    assert damaged[spanish] > words.centibels(["qxzvbwk"], LATIN)[0, spanish]


def test_a_short_damaged_form_is_not_kept():
    # "això" without its ò would be "aix": too short to say which word it was.
    keys, centibels = _dropped_letter_frequencies(["això", "acció", "casa"], np.array([-300, -400, -350], dtype=np.int16))
    assert len(keys) == 1 and keys[0] == _hashes(["acci"])[0] and centibels[0] == -400


def test_lone_consonants_are_not_words():
    # French lists "d" and "n" often (elisions cut from their words): as "n.d." they must not vote French.
    words = detector.models().words
    assert words.centibels(["n", "d"], LATIN).shape == (0, len(LATIN))
    assert words.centibels(["y", "i", "e"], LATIN).shape == (3, len(LATIN))
    assert detector.detect("Lecture notes - Medical care. n.d.").language == "en"


def test_portuguese_is_known_in_the_spelling_of_portugal_and_africa_as_well_as_brazil():
    words = detector.models().words
    european, brazilian = words.centibels(["económico", "econômico"], ("pt",))[:, 0]
    assert european == brazilian > words.centibels(["qxzvbwk"], ("pt",))[0, 0]
    listed, centibels = _with_spelling_variants(
        ["gênero", "género", "fenômeno", "você"], np.array([-400, -500, -450, -200], dtype=np.int16), SPELLING_VARIANTS["pt"]
    )
    assert listed == ["gênero", "género", "fenômeno", "você", "fenómeno"]
    # Two spellings of one word share its whole frequency; "você" has no other spelling.
    assert list(centibels) == [-396, -396, -450, -200, -450]
    # Only Portuguese reads ê/é alike: Spanish does not gain "gênero".
    assert words.centibels(["gênero"], ("es",))[0, 0] < words.centibels(["género"], ("es",))[0, 0]
