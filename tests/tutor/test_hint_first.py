"""Hint-first in the tutor's answer path: a guiding question and a verified, cited clue instead of the
answer, the full answer when asked (scripted LLM, lexical scorer, real retrieval of the mini book)."""

import dataclasses
import json

import pytest
from asgiref.sync import sync_to_async

from learning.services import practice_preference_set
from tests.factories import EnrollmentFactory, UserFactory
from tests.fakes import LexicalScorer, ScriptedChatClient
from tutor.events import Accepted, Done, HintReleased, Notice, SentenceFlagged, SentenceReleased
from tutor.graph.graph import answer_graph
from tutor.graph.prompts import hint_first_reply
from tutor.graph.state import AnswerState, HintOffered, SentenceDrafted
from tutor.models import AnswerSentence, Message
from tutor.services import tutor_answer_create, tutor_answer_retry
from tutor.socket_protocol import AskFrame, ProtocolError, parse_client_frame
from verification.models import VerificationRecord

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("plan_composition")]

QUESTION = "What is speed?"
SPEED = "Speed is the magnitude of velocity."
CLUE = "Speed is the magnitude of _____."
GUIDE = hint_first_reply(section="Velocity and Speed", clue=True)


@pytest.fixture
def hint_first_student(imported_mini_book):
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    practice_preference_set(student=student, hint_first=True)
    return student


async def _ask(student, curriculum, question: str = QUESTION, **kwargs):
    events = []

    async def sink(event):
        events.append(event)

    message = await tutor_answer_create(
        student=student, curriculum_slug=curriculum.slug, question=question, on_event=sink, **kwargs
    )
    return message, events


@dataclasses.dataclass
class NothingSupported(LexicalScorer):
    """Every claim fails: what a clue the verifier cannot confirm looks like."""

    def score_claims(self, claims):
        return [dataclasses.replace(s, probability=0.01, supported=False) for s in super().score_claims(claims)]


async def test_the_graph_offers_a_clue_from_the_plan_instead_of_drafting(imported_mini_book, use_chat_client):
    # given a student in hint-first mode
    client = use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))
    state = AnswerState(
        question=QUESTION,
        curriculum_id=imported_mini_book.pk,
        curriculum_title=imported_mini_book.title,
        hint_first=True,
    )

    # when
    events = [event async for event in answer_graph.astream(state, stream_mode="custom")]

    # then one syllabus sentence is offered whole (for the verifier) and blanked (for the student),
    # nothing is drafted and the model is never asked
    (offered,) = [e for e in events if isinstance(e, HintOffered)]
    assert offered.notice == GUIDE
    assert offered.clue is not None
    assert (offered.clue.index, offered.clue.text, offered.clue.source) == (0, SPEED, "plan")
    assert len(offered.clue.markers) == 1
    assert offered.blanked == CLUE
    assert [e for e in events if isinstance(e, SentenceDrafted)] == []
    assert client.prompts == []


async def test_a_hint_first_student_gets_a_guiding_question_and_a_verified_cited_clue(
    hint_first_student, imported_mini_book, use_chat_client, use_scorer
):
    # given
    client = use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(hint_first_student, imported_mini_book)

    # then
    assert [type(e) for e in events] == [Accepted, Notice, HintReleased, Done]
    notice, clue = events[1], events[2]
    assert (notice.kind, notice.text, notice.topics) == ("hint_first", GUIDE, [])
    assert (clue.index, clue.text) == (0, CLUE)
    assert [(c.label, c.module) for c in clue.citations] == [("1.1 Velocity and Speed", "m90001")]
    assert client.prompts == []
    assert (message.status, message.mode, message.answer) == ("completed", Message.Mode.HINT, f"{GUIDE} {CLUE}")
    rows = await sync_to_async(list)(
        AnswerSentence.objects.filter(message=message).values_list("index", "text", "verdict", "delivery")
    )
    assert rows == [(0, CLUE, "supported", "released")]
    # the verifier checked the sentence whole: the audit has it, the student's record does not
    claims = await sync_to_async(list)(
        VerificationRecord.objects.filter(run__message=message).values_list("claim", flat=True)
    )
    assert claims == [SPEED]


async def test_the_full_answer_comes_when_the_student_asks_for_it(
    hint_first_student, imported_mini_book, use_chat_client, use_scorer
):
    # given a hint already given
    use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))
    use_scorer(LexicalScorer())
    hinted, _ = await _ask(hint_first_student, imported_mini_book)

    # when the student asks for the full answer in the same conversation
    message, events = await _ask(
        hint_first_student, imported_mini_book, conversation_id=hinted.conversation_id, full_answer=True
    )

    # then it is the answer: sentences, the key term shown, no hint
    assert message.mode == Message.Mode.ANSWER
    assert not [e for e in events if isinstance(e, HintReleased | Notice)]
    released = [e.text for e in events if isinstance(e, SentenceReleased)]
    assert released[0] == SPEED
    assert message.answer.startswith(SPEED)


async def test_a_failed_clue_is_withheld_even_under_the_mark_policy(
    hint_first_student, imported_mini_book, use_chat_client, use_scorer
):
    # given a curriculum that shows failed sentences marked, and a verifier that confirms nothing
    imported_mini_book.unsupported_policy = "mark"
    await sync_to_async(imported_mini_book.save)()
    use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))
    use_scorer(NothingSupported())

    # when
    message, events = await _ask(hint_first_student, imported_mini_book)

    # then the guiding question comes alone: the clue is neither revised nor shown marked (its
    # text would be the answer)
    assert [type(e) for e in events] == [Accepted, Notice, SentenceFlagged, Done]
    assert (events[2].index, events[2].reason, events[2].text) == (0, "unsupported", None)
    assert message.answer == GUIDE
    rows = await sync_to_async(list)(
        AnswerSentence.objects.filter(message=message).values_list("text", "original_text", "verdict", "delivery")
    )
    assert rows == [(CLUE, "", "unsupported", "withheld")]


async def test_the_class_default_applies_until_the_student_chooses(imported_mini_book, use_chat_client, use_scorer):
    # given a class whose teacher turned hint-first on, and one of its students
    from classrooms.services import classroom_create, classroom_join, classroom_settings_update
    from tests.factories import TeacherFactory

    def arrange():
        classroom = classroom_create(teacher=TeacherFactory(), curriculum=imported_mini_book, name="Physics 1")
        classroom_settings_update(classroom=classroom, hint_first=True)
        student = UserFactory()
        classroom_join(student=student, code=classroom.join_code.code)
        return student

    student = await sync_to_async(arrange)()
    use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))
    use_scorer(LexicalScorer())

    # when the student asks, then switches hint-first off and asks again
    by_class, _ = await _ask(student, imported_mini_book)
    await sync_to_async(practice_preference_set)(student=student, hint_first=False)
    by_choice, _ = await _ask(student, imported_mini_book)

    # then the class's setting gave a hint, the student's own choice the answer
    assert (by_class.mode, by_choice.mode) == (Message.Mode.HINT, Message.Mode.ANSWER)


async def test_a_student_without_hint_first_gets_the_answer(imported_mini_book, use_chat_client, use_scorer):
    # given an enrolled student who never switched hint-first on (nor did any class)
    student = await sync_to_async(UserFactory)()
    await sync_to_async(EnrollmentFactory)(student=student, curriculum=imported_mini_book)
    use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, imported_mini_book)

    # then
    assert message.mode == Message.Mode.ANSWER
    assert not [e for e in events if isinstance(e, HintReleased | Notice)]
    assert [e.text for e in events if isinstance(e, SentenceReleased)][:1] == [SPEED]


async def test_a_retried_hint_is_a_hint_again(hint_first_student, imported_mini_book, use_chat_client, use_scorer):
    # given a hint that was cancelled
    use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))
    use_scorer(LexicalScorer())
    hinted, _ = await _ask(hint_first_student, imported_mini_book)
    await sync_to_async(Message.objects.filter(pk=hinted.pk).update)(status=Message.Status.CANCELLED)

    # when
    events = []

    async def sink(event):
        events.append(event)

    retried = await tutor_answer_retry(student=hint_first_student, message_id=hinted.pk, on_event=sink)

    # then
    assert retried.mode == Message.Mode.HINT
    assert [type(e) for e in events] == [Accepted, Notice, HintReleased, Done]


@pytest.mark.parametrize(("extra", "full_answer"), [({}, False), ({"full_answer": True}, True)])
def test_the_ask_frame_carries_the_full_answer_flag(extra, full_answer):
    # given an ask frame, with and without the flag
    frame = {"type": "ask", "curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "c1"} | extra
    # when
    parsed = parse_client_frame(json.dumps(frame))
    # then
    assert parsed == AskFrame(
        curriculum="biology", question="What is osmosis?", client_msg_id="c1", full_answer=full_answer
    )


def test_a_full_answer_flag_that_is_not_a_boolean_is_refused():
    # given
    frame = {"type": "ask", "curriculum": "biology", "question": "Q?", "client_msg_id": "c1", "full_answer": "yes"}
    # when
    with pytest.raises(ProtocolError) as refused:
        parse_client_frame(json.dumps(frame))
    # then
    assert (refused.value.code, refused.value.message) == ("invalid_ask", "Full_answer must be true or false.")


@pytest.mark.integration
async def test_on_the_real_verifier_the_clue_is_confirmed_and_cited(hint_first_student, imported_mini_book):
    # given the shipped verifier and real retrieval (no doubles; a hint asks no model, and the full
    # answer on the embedded model is test_answer_integration's, minutes on a loaded 2-core host)

    # when the hint-first student asks
    hinted, events = await _ask(hint_first_student, imported_mini_book)

    # then the clue passed the real verifier as the syllabus sentence it is, cited by its section
    assert [type(e) for e in events] == [Accepted, Notice, HintReleased, Done]
    assert (events[2].text, [c.label for c in events[2].citations]) == (CLUE, ["1.1 Velocity and Speed"])
    assert (hinted.mode, hinted.status, hinted.answer) == (Message.Mode.HINT, "completed", f"{GUIDE} {CLUE}")
