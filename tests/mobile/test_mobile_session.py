"""A mobile session through the client generated from /api/schema/, against a real server.

uvicorn serves config.asgi on a loopback port (tests/asgi_server.py); the student's side is
tests/mobile/mobile_app.py, which only speaks the generated client (REST) and the websocket.
The answer path is the real one (answer graph, retrieval on the imported mini book, verifier graph);
the session's model is scripted and its entailment scorer lexical, for speed; one question on its
own goes to the embedded model and the shipped verifier.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from curriculum.models import PracticeQuestion
from tests.factories import TeachingClassroomFactory
from tests.fakes import LexicalScorer, ScriptedChatClient
from tests.mobile import mobile_app

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "a-long-passphrase-42"
ANSWER = "Speed is the magnitude of velocity."


@pytest.fixture
def scripted_model(settings, use_chat_client, use_scorer):
    """The answer graph drafts only the scripted model's sentence, a word every 50 ms."""
    settings.TUTOR_COMPOSITION = "draft"
    use_scorer(LexicalScorer())
    return use_chat_client(ScriptedChatClient(answer=ANSWER, token_delay_s=0.05))


def the_key(question) -> int:
    """The student knows the answer: the shown option that is the question's key."""
    stored = PracticeQuestion.objects.get(pk=question.question_id)
    return question.options.index(stored.choices[stored.answer_index])


def test_a_student_session_on_the_generated_client(imported_mini_book, scripted_model, server):
    # given a teacher's class on the mini book, with its join code
    classroom = TeachingClassroomFactory(curriculum=imported_mini_book, name="Physics 1")
    code = classroom.join_code.code
    exam_date = timezone.localdate() + timedelta(days=30)

    # when a student signs up on the phone, logs in and joins the class with the code (typed loosely)
    signed_up = mobile_app.sign_up(server, username="mo", password=PASSWORD)
    client = mobile_app.log_in(server, username="mo", password=PASSWORD)
    joined = mobile_app.join_class(client, code=f"{code[:3]}-{code[3:]}".lower())
    # and enrols with an exam date
    plan = mobile_app.enrol(client, curriculum="mini-physics", exam_date=exam_date, daily_minutes=20)
    day = mobile_app.today(client, curriculum="mini-physics")

    # then the token is the one sign-up gave, and the class and plan are the ones asked for
    assert client.token == signed_up.token
    assert (joined.id, joined.name, joined.teacher, joined.curriculum) == (
        classroom.pk,
        "Physics 1",
        classroom.teacher.username,
        "mini-physics",
    )
    assert (plan.curriculum, plan.exam_date, plan.daily_minutes) == ("mini-physics", exam_date, 20)
    assert day.day == timezone.localdate()
    first = day.items[0]
    assert (first.kind, first.status, first.topic) == ("learn", "planned", "1.1 Velocity and Speed")

    # when the student asks over the websocket and loses the connection as soon as it is accepted
    accepted = mobile_app.ask_then_lose_connection(
        server, client.token, curriculum="mini-physics", question="What is speed?", client_msg_id="phone-1"
    )
    # and fetches the answer by its client_msg_id after reconnecting
    message = mobile_app.answer_after_reconnect(client, client_msg_id="phone-1")

    # then the whole verified answer was finished and kept for the phone, with its citation
    assert (message.id, message.conversation_id, message.client_msg_id) == (
        accepted.message_id,
        accepted.conversation_id,
        "phone-1",
    )
    assert (message.status, message.question, message.curriculum, message.answer) == (
        "completed",
        "What is speed?",
        "mini-physics",
        ANSWER,
    )
    assert [(s.text, s.verdict, s.delivery) for s in message.sentences] == [(ANSWER, "supported", "released")]
    assert [(c.label, c.module) for c in message.sentences[0].citations] == [("1.1 Velocity and Speed", "m90001")]

    # when the student practises today's first topic and answers every question right
    practice = mobile_app.practise_topic(client, curriculum="mini-physics", topic_id=first.topic_id, pick=the_key)
    # and reads their progress
    progress = mobile_app.progress(client, curriculum="mini-physics")

    # then the session was graded and finished
    assert [q.stem for q in practice.session.questions] == ["Which quantity has a direction?"]
    assert [(g.correct, g.revealed, g.evidence) for g in practice.graded] == [(True, True, 1)]
    summary = practice.summary
    assert (summary.session_id, summary.questions, summary.answered, summary.correct) == (
        practice.session.id,
        1,
        1,
        1,
    )
    # and progress shows the topic's new mastery, resting on that answer, and today's answers
    topic = next(t for t in progress.topics if t.topic_id == first.topic_id)
    assert (topic.label, topic.answers, topic.correct, topic.mastery) == (
        "1.1 Velocity and Speed",
        1,
        1,
        practice.graded[0].mastery,
    )
    assert [(h.day, h.answers, h.correct) for h in progress.history] == [(timezone.localdate(), 1, 1)]


@pytest.mark.integration
@pytest.mark.slow
def test_a_question_asked_over_rest_on_the_real_embedded_model(imported_mini_book, server, settings):
    # given a student of a class on the mini book, signed in on the phone; the embedded SmolLM2 and the
    # shipped verifier answer (no fakes), the model's own part kept to a sentence or two
    settings.TUTOR_MAX_ANSWER_TOKENS = 24
    classroom = TeachingClassroomFactory(curriculum=imported_mini_book)
    mobile_app.sign_up(server, username="ria", password=PASSWORD)
    client = mobile_app.log_in(server, username="ria", password=PASSWORD)
    mobile_app.join_class(client, code=classroom.join_code.code)

    # when they ask over REST and wait for the whole answer
    message = mobile_app.ask_and_wait(
        client,
        curriculum="mini-physics",
        question="What is the difference between speed and velocity?",
        client_msg_id="r1",
    )

    # then it is complete, and every sentence shown is supported and cited from the mini book
    shown = [s for s in message.sentences if s.delivery == "released"]
    assert (message.status, message.client_msg_id) == ("completed", "r1")
    assert shown, "no sentence was shown"
    assert message.answer == " ".join(s.text or "" for s in shown)
    for sentence in shown:
        assert sentence.verdict == "supported"
        assert sentence.citations, sentence
        assert {c.module for c in sentence.citations} <= {"m90001", "m90002", "m90003"}
    # and the phone gets the same message again by its client_msg_id
    again = mobile_app.answer_after_reconnect(client, client_msg_id="r1")
    assert (again.id, again.answer) == (message.id, message.answer)
