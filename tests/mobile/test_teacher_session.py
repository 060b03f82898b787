"""A teacher's session through the client generated from /api/schema/, against a real server.

uvicorn serves config.asgi on a loopback port (tests/asgi_server.py); the teacher and the student
are tests/mobile/mobile_app.py on two phones. No model runs: the student's answer, its withheld
sentence and the student's mastery are stored by factories, as the tutor and practice store them.
"""

import pytest
from django.contrib.auth import get_user_model

from tests.factories import (
    AnswerSentenceFactory,
    ChunkFactory,
    ConversationFactory,
    CurriculumFactory,
    MasteryStateFactory,
    MessageFactory,
    TeacherFactory,
    TeachingClassroomFactory,
    TopicFactory,
    UnitFactory,
    VerificationRecordFactory,
    VerificationRunFactory,
)
from tests.mobile import mobile_app
from tests.mobile.mobile_app import ApiError

pytestmark = pytest.mark.django_db(transaction=True)

TEACHER_PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's
STUDENT_PASSWORD = "a-long-passphrase-42"
PRIOR = 0.2  # learning.bkt.DEFAULT_PARAMS.p_init: a topic the student has not answered on yet


@pytest.fixture
def biology(transactional_db):
    """A two-chapter syllabus of three sections."""
    curriculum = CurriculumFactory(slug="biology", title="Biology")
    membranes = UnitFactory(curriculum=curriculum, position=1, number="5", title="Membranes")
    metabolism = UnitFactory(curriculum=curriculum, position=2, number="6", title="Metabolism")
    topics = [
        TopicFactory(unit=membranes, position=1, number="5.1", title="Components"),
        TopicFactory(unit=membranes, position=2, number="5.2", title="Passive Transport"),
        TopicFactory(unit=metabolism, position=1, number="6.1", title="Energy"),
    ]
    return curriculum, topics


def test_a_teacher_session_on_the_generated_client(server, biology):
    # given two teachers on the same syllabus; the other one already has a class
    curriculum, topics = biology
    TeacherFactory(username="ms-curie")
    others = TeachingClassroomFactory(teacher=TeacherFactory(username="mr-darwin"), curriculum=curriculum)

    # when the teacher logs in on the phone and creates a class
    teacher = mobile_app.log_in(server, username="ms-curie", password=TEACHER_PASSWORD)
    created = mobile_app.create_class(teacher, name="Biology 10B", curriculum="biology")
    # and a student signs up on theirs and joins it with the code
    mobile_app.sign_up(server, username="ada", password=STUDENT_PASSWORD)
    student = mobile_app.log_in(server, username="ada", password=STUDENT_PASSWORD)
    joined = mobile_app.join_class(student, code=created.join_code or "")
    # and the student practises and asks; the verifier withholds a sentence of the answer
    ada = get_user_model().objects.get(username="ada")
    MasteryStateFactory(student=ada, topic=topics[0], mastery=0.9, answers=5)
    run = VerificationRunFactory(curriculum=curriculum)
    message = MessageFactory(
        conversation=ConversationFactory(student=ada, curriculum=curriculum),
        question="What is osmosis?",
        verification_run=run,
    )
    AnswerSentenceFactory(message=message, index=0, text="Osmosis moves water across a membrane.")
    withheld = AnswerSentenceFactory(
        message=message, index=1, text="Osmosis needs ATP.", verdict="unsupported", delivery="withheld", score=0.1
    )
    chunk = ChunkFactory(document__topic=topics[1], text="Osmosis is the diffusion of water through a membrane.")
    VerificationRecordFactory(run=run, sentence_index=1, claim="Osmosis needs ATP.", evidence_chunk_ids=[chunk.pk])

    # then the new class has a join code and no students yet, and the student joined the teacher's class
    assert (created.name, created.curriculum, created.curriculum_title, created.own_syllabus) == (
        "Biology 10B",
        "biology",
        "Biology",
        False,
    )
    assert (created.student_count, created.students) == (0, [])
    assert created.join_code is not None and len(created.join_code) == 7
    assert (joined.id, joined.teacher) == (created.id, "ms-curie")

    # when the teacher lists their classes and opens the new one
    classes = mobile_app.my_classes(teacher)
    detail = mobile_app.class_detail(teacher, classroom_id=created.id)
    roster = mobile_app.class_students(teacher, classroom_id=created.id)

    # then only their own class is listed, with its one student
    assert [(c.id, c.name, c.join_code, c.student_count) for c in classes] == [
        (created.id, "Biology 10B", created.join_code, 1)
    ]
    assert (detail.id, detail.student_count, [s.username for s in detail.students]) == (created.id, 1, ["ada"])
    assert [(s.id, s.username, s.joined_at, s.exam_date) for s in roster] == [
        (detail.students[0].id, "ada", detail.students[0].joined_at, None)
    ]

    # when the teacher reads the class's mastery and the sentences to review
    mastery = mobile_app.class_mastery(teacher, classroom_id=created.id)
    review = mobile_app.class_review(teacher, classroom_id=created.id)

    # then the student's mastery is there topic by topic, the prior where they have not answered
    assert [(t.topic_id, t.label, t.chapter) for t in mastery.topics] == [
        (topics[0].pk, "5.1 Components", "Membranes"),
        (topics[1].pk, "5.2 Passive Transport", "Membranes"),
        (topics[2].pk, "6.1 Energy", "Metabolism"),
    ]
    assert [(r.username, [(c.mastery, c.answers) for c in r.cells]) for r in mastery.rows] == [
        ("ada", [(0.9, 5), (PRIOR, 0), (PRIOR, 0)])
    ]
    # and the withheld sentence, with the passage the verifier checked it against, not reviewed yet
    assert [(i.sentence_id, i.message_id, i.student, i.question, i.review) for i in review] == [
        (withheld.pk, message.pk, "ada", "What is osmosis?", None)
    ]
    assert [(i.index, i.text, i.verdict, i.delivery, i.score) for i in review] == [
        (1, "Osmosis needs ATP.", "unsupported", "withheld", 0.1)
    ]
    assert [(e.chunk_id, e.label, e.text) for e in review[0].evidence] == [
        (chunk.pk, "5.2 Passive Transport", "Osmosis is the diffusion of water through a membrane.")
    ]

    # when the teacher opens the other teacher's class, and a class that does not exist
    refusals = []
    for classroom_id in (others.pk, others.pk + 1000):
        for read in (mobile_app.class_detail, mobile_app.class_mastery, mobile_app.class_review):
            with pytest.raises(ApiError) as refused:
                read(teacher, classroom_id=classroom_id)
            refusals.append((refused.value.operation, refused.value.status, refused.value.code))

    # then both are absent alike: 404, never a hint that the other class exists
    assert refusals == 2 * [
        ("teacher_classes_retrieve", 404, "not_found"),
        ("teacher_classes_mastery", 404, "not_found"),
        ("teacher_classes_review_list", 404, "not_found"),
    ]


def test_a_student_is_refused_the_teacher_routes(server, biology):
    # given a teacher's class and a student of it, signed in on the phone
    curriculum, _ = biology
    classroom = TeachingClassroomFactory(curriculum=curriculum)
    mobile_app.sign_up(server, username="ada", password=STUDENT_PASSWORD)
    student = mobile_app.log_in(server, username="ada", password=STUDENT_PASSWORD)
    mobile_app.join_class(student, code=classroom.join_code.code)

    # when the student calls the teacher's routes, on the class they belong to
    refusals = []
    for call in (
        lambda: mobile_app.my_classes(student),
        lambda: mobile_app.class_detail(student, classroom_id=classroom.pk),
        lambda: mobile_app.class_mastery(student, classroom_id=classroom.pk),
    ):
        with pytest.raises(ApiError) as refused:
            call()
        refusals.append((refused.value.operation, refused.value.status, refused.value.code))

    # then each is 403: only teachers use them
    assert refusals == [
        ("teacher_classes_list", 403, "permission_denied"),
        ("teacher_classes_retrieve", 403, "permission_denied"),
        ("teacher_classes_mastery", 403, "permission_denied"),
    ]
