"""What a teacher sees of a class: the mastery table, the verification review (confirm, correct; the
student sees the correction; the export labels it), and the hallucination rate per week."""

import json
from datetime import date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from classrooms.selectors import (
    class_progress_by_week,
    classroom_mastery,
    correction_pairs,
    hallucination_rate_by_week,
)
from classrooms.services import ClassroomError, classroom_join, sentence_review_save
from learning.models import SessionQuestion
from learning.services import practice_answer_submit, practice_session_start
from tests.factories import (
    AnswerSentenceFactory,
    ChunkFactory,
    ConversationFactory,
    EnrollmentFactory,
    MasteryStateFactory,
    MessageFactory,
    TeachingClassroomFactory,
    TopicFactory,
    UnitFactory,
    UserFactory,
    VerificationRecordFactory,
    VerificationRunFactory,
)
from tests.learning.factories import PracticeQuestionFactory
from tutor.models import SentenceReview

pytestmark = pytest.mark.django_db


@pytest.fixture
def klass():
    """A class on a two-topic curriculum with one student who asked one question, whose answer has a
    released, a withheld, a marked and a replaced sentence (checked against one passage)."""
    classroom = TeachingClassroomFactory(name="10B")
    unit = UnitFactory(curriculum=classroom.curriculum, position=1, number="5", title="Membranes")
    topics = [
        TopicFactory(unit=unit, position=1, number="5.1", title="Components"),
        TopicFactory(unit=unit, position=2, number="5.2", title="Passive Transport"),
    ]
    chunk = ChunkFactory(document__topic=topics[1], text="Osmosis is the diffusion of water across a membrane.")
    student = UserFactory(username="ada")
    classroom_join(student=student, code=classroom.join_code.code)
    run = VerificationRunFactory(curriculum=classroom.curriculum)
    message = MessageFactory(
        conversation=ConversationFactory(student=student, curriculum=classroom.curriculum),
        question="What is osmosis?",
        verification_run=run,
    )
    citation = {"chunk_id": chunk.pk, "topic": "Passive Transport", "module": "m1", "label": "5.2 Passive Transport"}
    sentences = {
        "released": AnswerSentenceFactory(message=message, index=0, text="Osmosis moves water.", citations=[citation]),
        "withheld": AnswerSentenceFactory(
            message=message, index=1, text="Osmosis needs ATP.", verdict="unsupported", delivery="withheld"
        ),
        "marked": AnswerSentenceFactory(
            message=message, index=2, text="Salt follows water.", verdict="contradicted", delivery="marked"
        ),
        "replaced": AnswerSentenceFactory(
            message=message,
            index=3,
            text="Water diffuses across the membrane.",
            original_text="Water is pumped across the membrane.",
            citations=[citation],
        ),
    }
    VerificationRecordFactory(run=run, sentence_index=1, claim="Osmosis needs ATP.", evidence_chunk_ids=[chunk.pk])
    return classroom, topics, student, chunk, sentences


# --- mastery ---------------------------------------------------------------------------------------


def test_the_mastery_table_has_a_row_per_student_and_a_cell_per_topic(klass):
    # given a second student, and mastery evidence on the first topic for ada only
    classroom, topics, ada, _, _ = klass
    bob = UserFactory(username="bob")
    classroom_join(student=bob, code=classroom.join_code.code)
    MasteryStateFactory(student=ada, topic=topics[0], mastery=0.9, answers=4)
    MasteryStateFactory(student=UserFactory(), topic=topics[0], mastery=0.1, answers=9)  # not in the class

    # when the teacher reads the table
    table = classroom_mastery(classroom=classroom)

    # then topics come in book order, students by name, unanswered topics at the default prior
    assert [(t.label, t.chapter) for t in table.topics] == [
        ("5.1 Components", "Membranes"),
        ("5.2 Passive Transport", "Membranes"),
    ]
    assert [(r.username, [(round(c.mastery, 3), c.answers) for c in r.cells]) for r in table.rows] == [
        ("ada", [(0.9, 4), (0.2, 0)]),
        ("bob", [(0.2, 0), (0.2, 0)]),
    ]


def test_the_mastery_api_returns_the_table(klass, as_user):
    classroom, topics, ada, _, _ = klass
    MasteryStateFactory(student=ada, topic=topics[1], mastery=0.75, answers=2)

    response = as_user(classroom.teacher).get(f"/api/v1/teacher/classes/{classroom.pk}/mastery/")

    assert response.status_code == 200
    assert response.json() == {
        "topics": [
            {"topic_id": topics[0].pk, "label": "5.1 Components", "chapter": "Membranes"},
            {"topic_id": topics[1].pk, "label": "5.2 Passive Transport", "chapter": "Membranes"},
        ],
        "rows": [
            {
                "student_id": ada.pk,
                "username": "ada",
                "cells": [{"mastery": pytest.approx(0.2), "answers": 0}, {"mastery": 0.75, "answers": 2}],
            }
        ],
    }


# --- verification review -----------------------------------------------------------------------------


def test_the_review_lists_withheld_marked_and_replaced_sentences_with_evidence(klass, as_user):
    # given the class's answer (and a flagged sentence of a student outside the class)
    classroom, _, _, chunk, sentences = klass
    AnswerSentenceFactory(
        message__conversation__curriculum=classroom.curriculum, verdict="unsupported", delivery="withheld"
    )

    # when the teacher reads the review list
    response = as_user(classroom.teacher).get(f"/api/v1/teacher/classes/{classroom.pk}/review/")

    # then the three flagged sentences of the class come, in answer order, with their evidence
    assert response.status_code == 200
    items = response.json()
    assert [(i["sentence_id"], i["delivery"], i["verdict"]) for i in items] == [
        (sentences["withheld"].pk, "withheld", "unsupported"),
        (sentences["marked"].pk, "marked", "contradicted"),
        (sentences["replaced"].pk, "released", "supported"),
    ]
    withheld = items[0]
    assert (withheld["student"], withheld["question"], withheld["text"], withheld["review"]) == (
        "ada",
        "What is osmosis?",
        "Osmosis needs ATP.",
        None,
    )
    assert withheld["evidence"] == [
        {"chunk_id": chunk.pk, "label": "5.2 Passive Transport", "text": chunk.text},
    ]
    assert items[1]["evidence"] == []
    assert (items[2]["original_text"], items[2]["evidence"][0]["chunk_id"]) == (
        "Water is pumped across the membrane.",
        chunk.pk,
    )


def test_a_correction_is_stored_and_shown_to_the_student(klass, as_user):
    # given the withheld sentence
    classroom, _, ada, _, sentences = klass
    withheld = sentences["withheld"]

    # when the teacher corrects it
    response = as_user(classroom.teacher).post(
        f"/api/v1/teacher/classes/{classroom.pk}/review/{withheld.pk}/",
        {"outcome": "corrected", "correction": "Osmosis is passive: it needs no ATP."},
        format="json",
    )

    # then the review is stored with the teacher and the text
    assert response.status_code == 200
    assert response.json() | {"reviewed_at": None} == {
        "outcome": "corrected",
        "correction": "Osmosis is passive: it needs no ATP.",
        "teacher": classroom.teacher.username,
        "reviewed_at": None,
    }
    review = SentenceReview.objects.get(sentence=withheld)
    assert (review.teacher, review.outcome) == (classroom.teacher, "corrected")
    # and it leaves the open list for the reviewed one
    client = as_user(classroom.teacher)
    open_ids = [
        i["sentence_id"] for i in client.get(f"/api/v1/teacher/classes/{classroom.pk}/review/?state=open").json()
    ]
    reviewed = client.get(f"/api/v1/teacher/classes/{classroom.pk}/review/?state=reviewed").json()
    assert withheld.pk not in open_ids
    assert [(i["sentence_id"], i["review"]["outcome"]) for i in reviewed] == [(withheld.pk, "corrected")]

    # and the student sees it with that sentence of their answer
    message = as_user(ada).get(f"/api/v1/messages/{withheld.message_id}/").json()
    shown = {s["index"]: s["correction"] for s in message["sentences"]}
    assert shown[0] is None
    assert shown[1] | {"corrected_at": None} == {
        "text": "Osmosis is passive: it needs no ATP.",
        "teacher": classroom.teacher.username,
        "corrected_at": None,
    }


def test_confirming_is_not_shown_to_the_student_and_reviewing_again_replaces(klass, as_user):
    classroom, _, ada, _, sentences = klass
    marked = sentences["marked"]
    sentence_review_save(
        teacher=classroom.teacher, sentence=marked, outcome="corrected", correction="Water follows salt."
    )

    review = sentence_review_save(
        teacher=classroom.teacher, sentence=marked, outcome="confirmed", correction="ignored when confirming"
    )

    assert (SentenceReview.objects.count(), review.outcome, review.correction) == (1, "confirmed", "")
    message = as_user(ada).get(f"/api/v1/messages/{marked.message_id}/").json()
    assert [s["correction"] for s in message["sentences"]] == [None, None, None, None]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"outcome": "corrected", "correction": "  "}, 400, "correction_required"),
        ({"outcome": "maybe"}, 400, "invalid"),
    ],
)
def test_a_correction_needs_its_text(klass, as_user, payload, status, code):
    classroom, _, _, _, sentences = klass

    response = as_user(classroom.teacher).post(
        f"/api/v1/teacher/classes/{classroom.pk}/review/{sentences['withheld'].pk}/", payload, format="json"
    )

    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert not SentenceReview.objects.exists()


def test_a_released_sentence_is_not_reviewable(klass, as_user):
    classroom, _, _, _, sentences = klass

    response = as_user(classroom.teacher).post(
        f"/api/v1/teacher/classes/{classroom.pk}/review/{sentences['released'].pk}/",
        {"outcome": "confirmed"},
        format="json",
    )

    assert response.status_code == 404


def test_the_service_refuses_an_unknown_outcome(klass):
    classroom, _, _, _, sentences = klass
    with pytest.raises(ClassroomError) as exc:
        sentence_review_save(teacher=classroom.teacher, sentence=sentences["withheld"], outcome="maybe")
    assert exc.value.code == "invalid_outcome"


# --- export ------------------------------------------------------------------------------------------


def test_reviews_export_as_labelled_claims_in_the_eval_format(klass, tmp_path):
    # given a corrected withheld sentence, a confirmed replaced one, and a marked one the teacher says
    # was right all along (the correction restates it), which has no stored evidence
    classroom, _, _, chunk, s = klass
    teacher = classroom.teacher
    sentence_review_save(
        teacher=teacher, sentence=s["withheld"], outcome="corrected", correction="Osmosis needs no ATP."
    )
    sentence_review_save(teacher=teacher, sentence=s["replaced"], outcome="confirmed")
    sentence_review_save(teacher=teacher, sentence=s["marked"], outcome="corrected", correction="salt follows water")

    # when the corrections are exported
    call_command("export_corrections", "--out", str(tmp_path))

    # then each reviewed sentence with evidence is a passage and its claims are labelled
    source = f"teacher-{classroom.curriculum.slug}"
    withheld, replaced = (f"veritutor:sentence:{s['withheld'].pk}", f"veritutor:sentence:{s['replaced'].pk}")
    claims = [json.loads(line) for line in (tmp_path / "claims.jsonl").read_text().splitlines()]
    passages = [json.loads(line) for line in (tmp_path / "passages.jsonl").read_text().splitlines()]
    assert passages == [{"id": withheld, "text": chunk.text}, {"id": replaced, "text": chunk.text}]
    assert claims == [
        {
            "id": f"{withheld}:draft",
            "passage_id": withheld,
            "claim": "Osmosis needs ATP.",
            "label": 0,
            "source": source,
        },
        {
            "id": f"{withheld}:correction",
            "passage_id": withheld,
            "claim": "Osmosis needs no ATP.",
            "label": 1,
            "source": source,
        },
        {
            "id": f"{replaced}:draft",
            "passage_id": replaced,
            "claim": "Water is pumped across the membrane.",
            "label": 0,
            "source": source,
        },
        {
            "id": f"{replaced}:revision",
            "passage_id": replaced,
            "claim": "Water diffuses across the membrane.",
            "label": 1,
            "source": source,
        },
    ]


def test_a_correction_restating_the_draft_labels_it_supported(klass):
    classroom, _, _, _, s = klass
    sentence_review_save(
        teacher=classroom.teacher, sentence=s["withheld"], outcome="corrected", correction="osmosis needs  ATP"
    )

    claims, _ = correction_pairs()

    assert [(c.claim, c.label) for c in claims] == [("Osmosis needs ATP.", 1)]


# --- hallucination rate ------------------------------------------------------------------------------


def _at(when: datetime, **kwargs):
    sentence = AnswerSentenceFactory(**kwargs)
    type(sentence.message).objects.filter(pk=sentence.message_id).update(created_at=when)
    return sentence


def test_the_hallucination_rate_is_per_week_over_checked_sentences(klass, as_user):
    # given the class's answer this week (4 checked sentences: withheld, marked, replaced = 3 flagged)
    # plus, two weeks ago, one supported and one unsupported sentence, a supported one held back by a
    # composition rule (no hallucination) and one never checked (verification off)
    classroom, _, _, _, sentences = klass
    message = sentences["released"].message
    now = timezone.now()
    type(message).objects.filter(pk=message.pk).update(created_at=now)
    earlier = now - timedelta(weeks=2)
    conversation = message.conversation
    _at(earlier, message__conversation=conversation)
    _at(earlier, message__conversation=conversation, verdict="unsupported", delivery="withheld")
    _at(earlier, message__conversation=conversation, delivery="withheld")
    _at(earlier, message__conversation=conversation, verdict=None)

    # when the rate is read
    weeks = hallucination_rate_by_week(curriculum=classroom.curriculum, classroom=classroom)

    # then there is one row per week with answers, Monday first
    def monday(moment: datetime):
        day = timezone.localdate(moment)
        return day - timedelta(days=day.weekday())

    assert [(w.week, w.drafted, w.withheld, w.marked, w.replaced, w.flagged, w.rate) for w in weeks] == [
        (monday(earlier), 3, 1, 0, 0, 1, pytest.approx(1 / 3)),
        (monday(now), 4, 1, 1, 1, 3, 0.75),
    ]
    # and the API gives the same, limited to recent weeks
    response = as_user(classroom.teacher).get(f"/api/v1/teacher/classes/{classroom.pk}/hallucination-rate/?weeks=1")
    assert response.status_code == 200
    assert response.json() == [
        {
            "week": monday(now).isoformat(),
            "drafted": 4,
            "withheld": 1,
            "marked": 1,
            "replaced": 1,
            "flagged": 3,
            "rate": 0.75,
        }
    ]


def test_the_curriculum_rate_counts_every_student(klass):
    classroom, _, _, _, _ = klass
    AnswerSentenceFactory(
        message__conversation__curriculum=classroom.curriculum, verdict="unsupported", delivery="withheld"
    )

    [week] = hallucination_rate_by_week(curriculum=classroom.curriculum)

    assert (week.drafted, week.flagged) == (5, 4)


def test_staff_read_the_curriculum_rate_and_teachers_cannot(klass, as_user):
    # given the class's answer (4 checked sentences, 3 flagged) and a staff member
    classroom, _, _, _, _ = klass
    staff = UserFactory(is_staff=True)
    path = f"/api/v1/curricula/{classroom.curriculum.slug}/hallucination-rate/"

    # when staff, the class's teacher and a student ask for the whole curriculum's rate
    staff_response = as_user(staff).get(path)
    teacher_status = as_user(classroom.teacher).get(path).status_code
    student_status = as_user(UserFactory()).get(path).status_code

    # then only staff read it
    assert [(w["drafted"], w["flagged"], w["rate"]) for w in staff_response.json()] == [(4, 3, 0.75)]
    assert (staff_response.status_code, teacher_status, student_status) == (200, 403, 403)
    assert as_user(staff).get("/api/v1/curricula/nope/hallucination-rate/").status_code == 404


# --- class progress over time ------------------------------------------------------------------------


def _practise(student, curriculum, topic, *, right: list[bool], at: datetime) -> None:
    """One practice session on ``topic``, its questions answered right or wrong in order, at ``at``."""
    session = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=topic, now=at)
    for position, is_right in enumerate(right):
        served = SessionQuestion.objects.get(session=session, position=position)
        option = served.key_option if is_right else (served.key_option + 1) % len(served.options)
        practice_answer_submit(session=session, position=position, option=option, now=at)


def test_class_progress_is_per_week_over_the_class_students_practice(klass):
    # given the class's student, who practised two questions in one week (one right) and one the
    # week after (right), and a student outside the class who practised the same curriculum
    classroom, topics, student, _, _ = klass
    for _ in range(2):
        PracticeQuestionFactory(topic=topics[0])
    monday = timezone.make_aware(datetime(2026, 11, 2, 10, 0))
    _practise(student, classroom.curriculum, topics[0], right=[True, False], at=monday)
    _practise(student, classroom.curriculum, topics[0], right=[True], at=monday + timedelta(days=8))
    outsider = UserFactory()
    EnrollmentFactory(student=outsider, curriculum=classroom.curriculum)
    _practise(outsider, classroom.curriculum, topics[0], right=[False, False], at=monday)

    # when the class's progress is read
    weeks = class_progress_by_week(classroom=classroom)

    # then each week counts only the class's answers, and how many were right at the first try
    assert [(w.week, w.answers, w.correct, w.students, w.share_right) for w in weeks] == [
        (date(2026, 11, 2), 2, 1, 1, 0.5),
        (date(2026, 11, 9), 1, 1, 1, 1.0),
    ]


def test_a_syllabus_gap_is_stored_with_its_note_and_exported_as_unsupported_by_the_passage(klass, as_user, tmp_path):
    # given the withheld sentence
    classroom, _, ada, _, sentences = klass
    withheld = sentences["withheld"]

    # when the teacher says it is true but missing from the syllabus, with a note of what is missing
    response = as_user(classroom.teacher).post(
        f"/api/v1/teacher/classes/{classroom.pk}/review/{withheld.pk}/",
        {"outcome": "syllabus_gap", "correction": "  The syllabus never says where osmosis gets its energy. "},
        format="json",
    )

    # then the review is stored with the note
    assert response.status_code == 200
    review = SentenceReview.objects.get(sentence=withheld)
    assert (review.outcome, review.correction) == (
        "syllabus_gap",
        "The syllabus never says where osmosis gets its energy.",
    )
    # and the student is shown no correction: the sentence stays withheld
    message = as_user(ada).get(f"/api/v1/messages/{withheld.message_id}/").json()
    assert [s["correction"] for s in message["sentences"] if s["index"] == withheld.index] == [None]
    # and the export labels the draft unsupported by the passage it was checked against, with no other claim
    call_command("export_corrections", "--out", str(tmp_path))
    claims = [json.loads(line) for line in (tmp_path / "claims.jsonl").read_text().splitlines()]
    assert [(c["id"], c["claim"], c["label"]) for c in claims] == [
        (f"veritutor:sentence:{withheld.pk}:draft", "Osmosis needs ATP.", 0)
    ]
