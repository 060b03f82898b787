"""A student exports all their data (GET /api/v1/me/export/) and deletes their account with everything
that is theirs (POST /api/v1/me/delete/, password re-entered)."""

import datetime as dt

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from rest_framework.authtoken.models import Token

from classrooms.models import JoinCode
from curriculum.models import Classroom, Enrollment
from learning.models import (
    MasteryState,
    PlanItem,
    PracticeAnswer,
    PracticePreference,
    PracticeSession,
    ReviewCard,
    SessionQuestion,
    StudyPlan,
    TextAnswer,
)
from tests.factories import (
    AnswerSentenceFactory,
    CurriculumFactory,
    EnrollmentFactory,
    MessageFactory,
    TeachingClassroomFactory,
    TopicFactory,
    UnitFactory,
    UserFactory,
    VerificationRecordFactory,
    VerificationRunFactory,
)
from tests.learning.factories import PracticeQuestionFactory
from tutor.models import AnswerSentence, Conversation, LearnerProfile, Message, SentenceReview, TopicMastery
from verification.models import VerificationRecord, VerificationRun

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's
NOW = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def give_history(student, *, classroom: Classroom, tag: str) -> None:
    """One of everything a student can own, each text marked with ``tag``."""
    topic = TopicFactory(unit=UnitFactory(curriculum=classroom.curriculum), title=f"Topic of {tag}")
    enrollment = EnrollmentFactory(student=student, curriculum=classroom.curriculum, classroom=classroom)
    Token.objects.create(user=student)
    LearnerProfile.objects.create(student=student, level="beginner")
    PracticePreference.objects.create(student=student, hint_first=True)
    TopicMastery.objects.create(student=student, topic=topic, mastery=0.4)
    MasteryState.objects.create(student=student, topic=topic, mastery=0.6, answers=2, correct=1)
    # a conversation: a question, a released and a withheld sentence, a teacher's correction
    run = VerificationRunFactory(curriculum=classroom.curriculum, created_by=None)
    VerificationRecordFactory(run=run, claim=f"Claim of {tag}.")
    message = MessageFactory(
        conversation__student=student,
        conversation__curriculum=classroom.curriculum,
        conversation__title=f"Chat of {tag}",
        question=f"Question of {tag}?",
        answer=f"Answer of {tag}.",
        status="completed",
        verification_run=run,
    )
    AnswerSentenceFactory(
        message=message,
        index=0,
        text=f"Answer of {tag}.",
        citations=[{"chunk_id": 7, "topic": topic.title, "module": "m1"}],
    )
    withheld = AnswerSentenceFactory(
        message=message, index=1, text=f"Hidden of {tag}.", verdict="unsupported", delivery="withheld"
    )
    SentenceReview.objects.create(
        sentence=withheld, teacher=classroom.teacher, outcome="corrected", correction=f"Fixed of {tag}."
    )
    # the learner model: a plan, a practice session with a graded and a typed answer, a review card
    plan = StudyPlan.objects.create(enrollment=enrollment, daily_minutes=30)
    PlanItem.objects.create(plan=plan, day=NOW.date(), position=0, kind="learn", topic=topic, questions=5, minutes=10)
    session = PracticeSession.objects.create(student=student, enrollment=enrollment, kind="topic", started_at=NOW)
    choice = PracticeQuestionFactory(topic=topic, stem=f"Choice of {tag}?")
    typed = PracticeQuestionFactory(topic=topic, stem=f"Typed of {tag}?", choices=[], answer_index=None)
    sq = SessionQuestion.objects.create(session=session, question=choice, position=0, options=["a", "b"], key_option=1)
    PracticeAnswer.objects.create(
        session_question=sq,
        student=student,
        topic=topic,
        chosen_option=1,
        correct=True,
        mastery_before=0.3,
        mastery_after=0.6,
        answered_at=NOW,
    )
    typed_sq = SessionQuestion.objects.create(session=session, question=typed, position=1, options=[])
    text_run = VerificationRunFactory(curriculum=classroom.curriculum)
    VerificationRecordFactory(run=text_run, claim=f"Typed answer of {tag}.")
    TextAnswer.objects.create(
        session_question=typed_sq,
        text=f"Typed answer of {tag}.",
        outcome="unconfirmed",
        score=0.2,
        key_coverage=0.5,
        verification_run=text_run,
        checked_at=NOW,
    )
    ReviewCard.objects.create(student=student, question=choice, state=2, due=NOW)
    LogEntry.objects.create(
        user=student,
        content_type=ContentType.objects.get_for_model(Message),
        object_id=message.pk,
        object_repr=f"log of {tag}",
        action_flag=ADDITION,
    )


def rows_of(user_id: int) -> dict[str, int]:
    """Every row the student owns, per model."""
    runs = VerificationRun.objects.filter(
        pk__in=list(Message.objects.filter(student_id=user_id).values_list("verification_run_id", flat=True))
        + list(
            TextAnswer.objects.filter(session_question__session__student_id=user_id).values_list(
                "verification_run_id", flat=True
            )
        )
    )
    mine: dict[type[Model], object] = {
        get_user_model(): get_user_model().objects.filter(pk=user_id),
        Token: Token.objects.filter(user_id=user_id),
        LearnerProfile: LearnerProfile.objects.filter(student_id=user_id),
        PracticePreference: PracticePreference.objects.filter(student_id=user_id),
        TopicMastery: TopicMastery.objects.filter(student_id=user_id),
        MasteryState: MasteryState.objects.filter(student_id=user_id),
        Enrollment: Enrollment.objects.filter(student_id=user_id),
        Conversation: Conversation.objects.filter(student_id=user_id),
        Message: Message.objects.filter(student_id=user_id),
        AnswerSentence: AnswerSentence.objects.filter(message__student_id=user_id),
        SentenceReview: SentenceReview.objects.filter(sentence__message__student_id=user_id),
        StudyPlan: StudyPlan.objects.filter(enrollment__student_id=user_id),
        PlanItem: PlanItem.objects.filter(plan__enrollment__student_id=user_id),
        PracticeSession: PracticeSession.objects.filter(student_id=user_id),
        SessionQuestion: SessionQuestion.objects.filter(session__student_id=user_id),
        PracticeAnswer: PracticeAnswer.objects.filter(student_id=user_id),
        TextAnswer: TextAnswer.objects.filter(session_question__session__student_id=user_id),
        ReviewCard: ReviewCard.objects.filter(student_id=user_id),
        VerificationRun: runs,
        VerificationRecord: VerificationRecord.objects.filter(run__in=runs),
        LogEntry: LogEntry.objects.filter(user_id=user_id),
    }
    return {model.__name__: qs.count() for model, qs in mine.items()}  # type: ignore[attr-defined]


def totals() -> dict[str, int]:
    models = [
        get_user_model(),
        Token,
        LearnerProfile,
        PracticePreference,
        TopicMastery,
        MasteryState,
        Enrollment,
        Conversation,
        Message,
        AnswerSentence,
        SentenceReview,
        StudyPlan,
        PlanItem,
        PracticeSession,
        SessionQuestion,
        PracticeAnswer,
        TextAnswer,
        ReviewCard,
        VerificationRun,
        VerificationRecord,
        LogEntry,
        Classroom,
        JoinCode,
    ]
    return {model.__name__: model.objects.count() for model in models}


ONE_OF_EACH = {
    "User": 1,
    "Token": 1,
    "LearnerProfile": 1,
    "PracticePreference": 1,
    "TopicMastery": 1,
    "MasteryState": 1,
    "Enrollment": 1,
    "Conversation": 1,
    "Message": 1,
    "AnswerSentence": 2,
    "SentenceReview": 1,
    "StudyPlan": 1,
    "PlanItem": 1,
    "PracticeSession": 1,
    "SessionQuestion": 2,
    "PracticeAnswer": 1,
    "TextAnswer": 1,
    "ReviewCard": 1,
    "VerificationRun": 2,
    "VerificationRecord": 2,
    "LogEntry": 1,
}


@pytest.fixture
def classroom():
    return TeachingClassroomFactory(name="Biology 1", curriculum=CurriculumFactory(slug="bio"))


@pytest.fixture
def amira(classroom):
    student = UserFactory(username="amira", email="amira@example.org")
    give_history(student, classroom=classroom, tag="amira")
    return student


@pytest.fixture
def bilal(classroom):
    student = UserFactory(username="bilal", email="bilal@example.org")
    give_history(student, classroom=classroom, tag="bilal")
    return student


# --- export -----------------------------------------------------------------------------------------


def test_the_export_holds_exactly_the_students_data(api_client, classroom, amira, bilal):
    # given two students of one class, each with a full history
    api_client.force_authenticate(amira)
    # when amira exports her data
    response = api_client.get("/api/v1/me/export/")
    # then it is one JSON document of hers, and nothing of bilal's
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="veritutor-export-{amira.pk}.json"'
    body = response.json()
    assert "bilal" not in response.content.decode()
    assert body["format"] == 1
    account = body["account"]
    assert {k: account[k] for k in ("id", "username", "email", "level", "hint_first")} == {
        "id": amira.pk,
        "username": "amira",
        "email": "amira@example.org",
        "level": "beginner",
        "hint_first": True,
    }
    assert account["date_joined"] == amira.date_joined.isoformat().replace("+00:00", "Z")
    assert "password" not in account and "token" not in response.content.decode().lower()
    assert amira.password not in response.content.decode()
    assert Token.objects.get(user=amira).key not in response.content.decode()

    [enrollment] = body["enrollments"]
    assert enrollment["curriculum"] == "bio"
    assert enrollment["classroom"] == {"name": "Biology 1", "teacher": classroom.teacher.username}
    assert enrollment["study_plan"]["daily_minutes"] == 30
    assert [(i["kind"], i["topic"], i["questions"]) for i in enrollment["study_plan"]["items"]] == [
        ("learn", "Topic of amira", 5)
    ]

    [conversation] = body["conversations"]
    assert conversation["title"] == "Chat of amira"
    [message] = conversation["messages"]
    assert (message["question"], message["answer"], message["status"]) == (
        "Question of amira?",
        "Answer of amira.",
        "completed",
    )
    assert message["sentences"] == [
        {
            "index": 0,
            "text": "Answer of amira.",
            "verdict": "supported",
            "delivery": "released",
            "citations": [{"chunk_id": 7, "topic": "Topic of amira", "module": "m1"}],
            "correction": None,
        },
        {
            "index": 1,
            "text": None,
            "verdict": "unsupported",
            "delivery": "withheld",
            "citations": [],
            "correction": "Fixed of amira.",
        },
    ]

    assert [(m["topic"], m["mastery"], m["answers"], m["correct"]) for m in body["mastery"]] == [
        ("Topic of amira", 0.6, 2, 1)
    ]
    assert [(m["topic"], m["mastery"]) for m in body["tutor_mastery"]] == [("Topic of amira", 0.4)]
    assert [(c["question"], c["state"]) for c in body["review_cards"]] == [("Choice of amira?", 2)]
    [session] = body["practice_sessions"]
    assert (session["curriculum"], session["kind"]) == ("bio", "topic")
    choice, typed = session["questions"]
    assert (choice["question"], choice["answer"]["chosen_option"], choice["answer"]["correct"]) == (
        "Choice of amira?",
        1,
        True,
    )
    assert choice["text_answer"] is None
    assert typed["answer"] is None
    assert (typed["text_answer"]["text"], typed["text_answer"]["outcome"]) == ("Typed answer of amira.", "unconfirmed")


def test_a_new_student_exports_an_empty_history(api_client):
    # given a student who has done nothing yet
    student = UserFactory(username="newcomer")
    api_client.force_authenticate(student)
    # when they export
    body = api_client.get("/api/v1/me/export/").json()
    # then every list is empty and the account has no profile settings
    assert (body["account"]["username"], body["account"]["level"], body["account"]["hint_first"]) == (
        "newcomer",
        None,
        None,
    )
    for part in ("enrollments", "conversations", "mastery", "tutor_mastery", "review_cards", "practice_sessions"):
        assert body[part] == []


# --- delete -----------------------------------------------------------------------------------------


def test_delete_removes_every_row_of_the_student_and_leaves_another_intact(api_client, classroom, amira, bilal):
    # given two students with one of everything, and the class they are in
    amira_id = amira.pk
    assert rows_of(amira_id) == ONE_OF_EACH
    assert rows_of(bilal.pk) == ONE_OF_EACH
    before = totals()
    api_client.force_authenticate(amira)
    # when amira deletes her account with her password
    response = api_client.post("/api/v1/me/delete/", {"password": PASSWORD}, format="json")
    # then it is gone with every row of hers, bilal's rows and the teacher's class stay
    assert response.status_code == 204
    assert rows_of(amira_id) == dict.fromkeys(ONE_OF_EACH, 0)
    assert rows_of(bilal.pk) == ONE_OF_EACH
    after = totals()
    assert {name: before[name] - after[name] for name in before} == {
        **ONE_OF_EACH,
        "User": 1,
        "Classroom": 0,
        "JoinCode": 0,
    }
    assert Classroom.objects.filter(pk=classroom.pk, teacher=classroom.teacher).exists()


def test_a_wrong_password_deletes_nothing(api_client, amira, bilal):
    # given a student with a full history
    before = totals()
    api_client.force_authenticate(amira)
    # when they ask to delete with a wrong password, or none
    wrong = api_client.post("/api/v1/me/delete/", {"password": "not-my-password"}, format="json")
    missing = api_client.post("/api/v1/me/delete/", {}, format="json")
    # then both are refused and nothing is deleted
    assert wrong.status_code == 400
    assert wrong.json()["error"]["code"] == "wrong_password"
    assert missing.status_code == 400
    assert totals() == before
    assert rows_of(amira.pk) == ONE_OF_EACH


def test_a_teachers_account_is_refused(api_client, classroom):
    # given a teacher with a class
    before = totals()
    api_client.force_authenticate(classroom.teacher)
    # when they ask to delete their account with the right password
    response = api_client.post("/api/v1/me/delete/", {"password": PASSWORD}, format="json")
    # then it is refused: their class would go for every student in it
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "teacher_account"
    assert totals() == before


def test_a_deleted_students_token_no_longer_works(api_client, amira):
    # given a student signed in with their token
    token = Token.objects.get(user=amira).key
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    # when they delete their account
    assert api_client.post("/api/v1/me/delete/", {"password": PASSWORD}, format="json").status_code == 204
    # then the token is refused
    assert api_client.get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize(
    ("method", "path"), [("get", "/api/v1/me/export/"), ("post", "/api/v1/me/delete/")], ids=["export", "delete"]
)
def test_anonymous_is_refused(api_client, method, path):
    # given a client that is not signed in, and a student
    UserFactory()
    before = totals()
    # when it asks for an export or a deletion
    response = getattr(api_client, method)(path, {"password": PASSWORD}, format="json")
    # then it is told to authenticate, and nothing is deleted
    assert response.status_code == 401
    assert totals() == before


def test_the_delete_runs_in_one_transaction(api_client, amira, monkeypatch):
    # given a deletion that fails after the user row is gone
    import accounts.services

    def fail(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(accounts.services, "_orphans_delete", fail)
    amira_id = amira.pk
    before = totals()
    api_client.force_authenticate(amira)
    api_client.raise_request_exception = True
    # when amira deletes her account
    with pytest.raises(RuntimeError):
        api_client.post("/api/v1/me/delete/", {"password": PASSWORD}, format="json")
    # then nothing is deleted
    assert totals() == before
    assert rows_of(amira_id) == ONE_OF_EACH
