"""Questions made from the syllabus: key terms, clozes and their distractors (pure), and the service
that stores only the verified ones (with a fake verifier; the real one in the integration test)."""

import pytest

from learning.generation import BookPassage, KeyTerm, clozes, key_terms
from learning.models import GeneratedQuestion
from learning.services import practice_questions_generate
from tests.factories import ChunkFactory, CurriculumFactory, SyllabusDocumentFactory, TopicFactory, UnitFactory
from tests.learning.factories import PracticeQuestionFactory
from tests.learning.fake_verifier import FakeVerifier

BOOK = [
    BookPassage(
        chunk_id=1,
        topic_id=10,
        unit_position=1,
        text="Velocity is the rate of change of position with respect to time.\n\nvelocity: the rate of change of position",
    ),
    BookPassage(
        chunk_id=2, topic_id=11, unit_position=1, text="Speed is the magnitude of velocity, without direction."
    ),
    BookPassage(chunk_id=3, topic_id=12, unit_position=2, text="Acceleration is the rate at which velocity changes."),
    BookPassage(
        chunk_id=4,
        topic_id=13,
        unit_position=3,
        text="Heat is energy transferred between systems because of a temperature difference. It flows.",
    ),
]


def test_key_terms_are_glossary_entries_and_defined_subjects_once_each():
    # given the book
    # when
    terms = key_terms(BOOK)
    # then
    assert terms == [
        KeyTerm(term="velocity", unit_position=1),
        KeyTerm(term="speed", unit_position=1),
        KeyTerm(term="acceleration", unit_position=1 + 1),
        KeyTerm(term="heat", unit_position=3),
    ]


def test_a_cloze_blanks_the_term_and_takes_the_nearest_chapters_terms_as_distractors():
    # given
    terms = key_terms(BOOK)
    # when questions are made for the heat section
    (cloze,) = clozes(passages=BOOK, terms=terms, topic_ids={13}, per_topic=5)
    # then
    assert (
        cloze.stem
        == "Fill in the blank: _____ is energy transferred between systems because of a temperature difference."
    )
    assert sorted(cloze.choices) == ["acceleration", "heat", "speed", "velocity"]
    assert cloze.choices[cloze.answer_index] == "heat"
    assert cloze.filled[cloze.answer_index] == cloze.sentence
    assert (cloze.chunk_id, cloze.topic_id) == (4, 13)


def test_no_distractor_is_a_term_the_sentence_uses():
    # given the speed section, whose sentence says "speed" and "velocity" (the longer term is blanked)
    terms = [*key_terms(BOOK), KeyTerm(term="heat capacity", unit_position=3), KeyTerm(term="force", unit_position=4)]
    # when
    (cloze,) = clozes(passages=BOOK, terms=terms, topic_ids={11}, per_topic=5)
    # then "speed" is not offered; the nearest chapters' terms are
    assert cloze.stem == "Fill in the blank: Speed is the magnitude of _____, without direction."
    assert cloze.choices[cloze.answer_index] == "velocity"
    assert sorted(cloze.choices) == ["acceleration", "heat", "heat capacity", "velocity"]


def test_a_term_without_three_distractors_makes_no_question():
    # given a book of two terms
    # when
    made = clozes(passages=BOOK[:2], terms=key_terms(BOOK[:2]), topic_ids={10, 11}, per_topic=5)
    # then
    assert made == []


HEAT = "Heat is energy transferred between systems because of a temperature difference."


@pytest.fixture
def physics(db):
    """The book as a curriculum: the velocity and speed sections have a question, the others none."""
    curriculum = CurriculumFactory(slug="physics")
    units = {}
    chunks = {}
    for n, passage in enumerate(BOOK):
        if passage.unit_position not in units:
            units[passage.unit_position] = UnitFactory(
                curriculum=curriculum, position=passage.unit_position, number=str(passage.unit_position)
            )
        topic = TopicFactory(
            unit=units[passage.unit_position], position=n + 1, number=f"{passage.unit_position}.{n + 1}", title=f"T{n}"
        )
        chunks[passage.chunk_id] = ChunkFactory(document=SyllabusDocumentFactory(topic=topic), text=passage.text)
    for chunk_id in (1, 2):
        PracticeQuestionFactory(topic=chunks[chunk_id].document.topic)
    return curriculum, chunks


def test_a_cloze_the_verifier_supports_is_stored_with_its_provenance(physics, monkeypatch):
    # given a verifier that supports the heat sentence with its key only
    curriculum, chunks = physics
    monkeypatch.setattr("learning.services.verify_sentence", FakeVerifier({HEAT: "supported"}))
    # when
    report = practice_questions_generate(curriculum=curriculum)
    # then (the acceleration section's sentence uses "velocity": too few distractors are left for it)
    assert (report.candidates, report.created, report.discarded_ambiguous, report.discarded_key_unverified) == (
        1,
        1,
        0,
        0,
    )
    stored = GeneratedQuestion.objects.select_related("question").get()
    assert (stored.term, stored.sentence, stored.chunk_id, stored.key_score) == ("heat", HEAT, chunks[4].pk, 0.99)
    assert stored.question.topic_id == chunks[4].document.topic_id
    assert stored.question.choices[stored.question.answer_index] == "heat"
    assert stored.question.source_id.startswith("generated-cloze-")


@pytest.mark.parametrize(
    ("verdicts", "expected"),
    [
        ({}, (0, 0, 1)),  # the key's sentence is not supported: no verifiable key
        (
            {HEAT: "supported", HEAT.replace("Heat", "Speed"): "supported"},
            (0, 1, 0),
        ),  # a distractor is supported too: two right answers
    ],
)
def test_a_cloze_without_a_verifiable_key_or_with_two_right_answers_is_discarded(
    physics, monkeypatch, verdicts, expected
):
    # given
    curriculum, _ = physics
    monkeypatch.setattr("learning.services.verify_sentence", FakeVerifier(verdicts))
    # when
    report = practice_questions_generate(curriculum=curriculum)
    # then
    assert (report.created, report.discarded_ambiguous, report.discarded_key_unverified) == expected
    assert GeneratedQuestion.objects.count() == 0
