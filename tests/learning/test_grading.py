"""Exact multiple-choice grading: options shown once each, and a right answer never graded wrong,
checked on every imported question of the demo book (OpenStax Biology 2e)."""

from collections import defaultdict

import pytest
from django.conf import settings
from django.utils import timezone

from curriculum.models import Curriculum, PracticeQuestion
from curriculum.services import curriculum_import_openstax
from learning.grading import question_identity, served_options
from learning.models import SessionQuestion
from learning.services import MAX_SESSION_QUESTIONS, practice_answer_submit, practice_session_start
from tests.factories import EnrollmentFactory


def test_options_keep_the_book_order_and_show_a_repeated_text_once():
    # given the key is the second copy of a repeated option
    served = served_options(["Mitosis", "meiosis", "  Mitosis ", "binary fission"], 2)
    # then it is shown once, and the key points at the one shown
    assert (served.options, served.key_option) == (["Mitosis", "meiosis", "binary fission"], 0)


def test_a_key_outside_the_choices_is_refused():
    with pytest.raises(ValueError, match="outside the 2 choices"):
        served_options(["a", "b"], 2)


def test_the_same_question_printed_twice_is_one_identity():
    assert question_identity("What is ATP?", ["a", "b"]) == question_identity(" what is  ATP? ", ["B", "A"])
    assert question_identity("What is ATP?", ["a", "b"]) != question_identity("What is ATP?", ["a", "c"])


@pytest.mark.slow
@pytest.mark.django_db
def test_every_keyed_biology_2e_question_is_graded_right_when_the_key_is_chosen(monkeypatch):
    # given Biology 2e imported through the real importer (vector indexing skipped: grading reads no
    # vectors, and embedding the whole book takes minutes on two cores)
    monkeypatch.setattr("curriculum.services.index_chunks", lambda chunks, on_progress=None: None)
    result = curriculum_import_openstax(path=settings.DEMO_SYLLABUS_PATH, slug="biology-2e")
    curriculum = Curriculum.objects.get(pk=result.curriculum_id)
    keyed = list(
        PracticeQuestion.objects.filter(topic__unit__curriculum=curriculum, answer_index__isnull=False).exclude(
            choices=[]
        )
    )
    student = EnrollmentFactory(curriculum=curriculum).student
    by_topic = defaultdict(list)
    for question in keyed:
        by_topic[question.topic_id].append(question)

    # when, topic by topic, every question is served and answered with the text of its key
    graded_right = set()
    served_ids = set()
    now = timezone.now()
    for questions in by_topic.values():
        topic = questions[0].topic
        for _ in range(-(-len(questions) // MAX_SESSION_QUESTIONS)):
            session = practice_session_start(
                student=student, curriculum=curriculum, kind="topic", topic=topic, size=MAX_SESSION_QUESTIONS, now=now
            )
            for served in SessionQuestion.objects.filter(session=session).select_related("question"):
                question = served.question
                assert len(set(served.options)) == len(served.options)
                key_text = " ".join(question.choices[question.answer_index].split())
                option = served.options.index(key_text)
                graded = practice_answer_submit(session=session, position=served.position, option=option, now=now)
                if graded.correct:
                    graded_right.add(question.pk)
                served_ids.add(question.pk)

    # then the book's keyed questions are all there, and every one served was graded right; a
    # question not served is a reprint of a served one (same stem and options)
    assert len(keyed) >= 700
    assert graded_right == served_ids
    served_identities = {question_identity(q.stem, q.choices) for q in keyed if q.pk in served_ids}
    assert all(question_identity(q.stem, q.choices) in served_identities for q in keyed)
    assert len(served_ids) >= 700
