"""Control flow of tutor_answer_create with a scripted LLM and a lexical scorer (real retrieval)."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from curriculum.models import Curriculum
from llm.errors import LLMUnavailableError
from tests.factories import EnrollmentFactory, UserFactory
from tests.fakes import LexicalScorer, ScriptedChatClient
from tutor.events import Accepted, Done, Failed, Notice, SentenceFlagged, SentenceReleased, TutorInputError
from tutor.models import AnswerSentence, Message
from tutor.services import MAX_QUESTION_CHARS, sentence_delivery, tutor_answer_create, tutor_answer_retry
from verification.models import VerificationRecord
from verification.pipeline import SentenceVerdict

# These tests script every drafted sentence: no answer plan before them (see test_answer_plan.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("draft_composition")]

SUPPORTED_1 = "Speed is the magnitude of velocity [1]."
SUPPORTED_2 = "Velocity has a direction [2]."
UNSUPPORTED = "Velocity was discovered by Galileo in Pisa [1]."


@pytest.fixture
def enrolled(imported_mini_book):
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    return student, imported_mini_book


async def _ask(student, curriculum, question="What is speed?", **kwargs):
    events = []

    async def sink(event):
        events.append(event)

    message = await tutor_answer_create(
        student=student, curriculum_slug=curriculum.slug, question=question, on_event=sink, **kwargs
    )
    return message, events


@pytest.fixture
def rewrite_revisions(settings):
    """These tests script the LLM's rewritten sentence (the select mode is tested in the graph's tests)."""
    settings.VERIFIER_REVISION_MODE = "rewrite"


async def test_supported_sentences_are_released_in_order_with_citations(enrolled, use_chat_client, use_scorer):
    # given
    student, curriculum = enrolled
    use_chat_client(ScriptedChatClient(answer=f"{SUPPORTED_1} {SUPPORTED_2}"))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum)

    # then
    assert [type(e) for e in events] == [Accepted, SentenceReleased, SentenceReleased, Done]
    assert [(e.index, e.text, e.verdict) for e in events[1:3]] == [
        (0, "Speed is the magnitude of velocity.", "supported"),
        (1, "Velocity has a direction.", "supported"),
    ]
    assert {c.module for c in events[1].citations} == {"m90001"}
    assert {(c.label, c.section, c.unit) for c in events[1].citations} == {("1.1 Velocity and Speed", "1.1", "Motion")}
    assert message.status == Message.Status.COMPLETED
    assert message.answer == "Speed is the magnitude of velocity. Velocity has a direction."
    rows = await sync_to_async(list)(
        AnswerSentence.objects.filter(message=message).values_list("index", "verdict", "delivery")
    )
    assert rows == [(0, "supported", "released"), (1, "supported", "released")]
    saved = await sync_to_async(AnswerSentence.objects.get)(message=message, index=0)
    assert {(c["label"], c["section"], c["unit"]) for c in saved.citations} == {
        ("1.1 Velocity and Speed", "1.1", "Motion")
    }
    records = await sync_to_async(VerificationRecord.objects.filter(run__message=message).count)()
    assert records == 2


async def test_unsupported_sentence_is_revised_from_evidence_then_released(
    enrolled, use_chat_client, use_scorer, rewrite_revisions
):
    # given: the revision restates the evidence
    student, curriculum = enrolled
    use_chat_client(ScriptedChatClient(answer=UNSUPPORTED, revision="Velocity is the rate of change of position."))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum)

    # then
    released = [e for e in events if isinstance(e, SentenceReleased)]
    assert [(e.text, e.verdict) for e in released] == [("Velocity is the rate of change of position.", "supported")]
    sentence = await sync_to_async(AnswerSentence.objects.get)(message=message)
    assert sentence.original_text == "Velocity was discovered by Galileo in Pisa."
    attempts = await sync_to_async(list)(
        VerificationRecord.objects.filter(run__message=message).values_list("attempt", "verdict")
    )
    assert attempts == [(0, "unsupported"), (1, "supported")]


async def test_sentence_failing_after_revision_is_withheld_never_released(
    enrolled, use_chat_client, use_scorer, rewrite_revisions
):
    # given: the revision is still unsupported; policy withhold (the default)
    student, curriculum = enrolled
    use_chat_client(ScriptedChatClient(answer=f"{SUPPORTED_1} {UNSUPPORTED}", revision="Galileo measured it in Pisa."))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum)

    # then
    assert [type(e) for e in events] == [Accepted, SentenceReleased, SentenceFlagged, Done]
    flagged = events[2]
    assert (flagged.index, flagged.reason, flagged.text) == (1, "unsupported", None)
    assert "Galileo" not in message.answer
    delivery = await sync_to_async(AnswerSentence.objects.get)(message=message, index=1)
    assert (delivery.verdict, delivery.delivery) == ("unsupported", "withheld")


async def test_mark_policy_shows_failed_sentence_marked(enrolled, use_chat_client, use_scorer, rewrite_revisions):
    # given
    student, curriculum = enrolled
    await sync_to_async(Curriculum.objects.filter(pk=curriculum.pk).update)(unsupported_policy="mark")
    use_chat_client(ScriptedChatClient(answer=UNSUPPORTED, revision="Galileo measured it in Pisa."))
    use_scorer(LexicalScorer())

    # when
    _, events = await _ask(student, curriculum)

    # then
    (flagged,) = [e for e in events if isinstance(e, SentenceFlagged)]
    assert flagged.text == "Galileo measured it in Pisa."
    assert not [e for e in events if isinstance(e, SentenceReleased)]


async def test_a_class_policy_decides_for_its_students(
    use_chat_client, use_scorer, rewrite_revisions, imported_mini_book
):
    # given a curriculum that withholds failed sentences and a class on it whose teacher chose to mark them
    from classrooms.services import classroom_create, classroom_join, classroom_settings_update
    from tests.factories import TeacherFactory

    def arrange():
        classroom = classroom_create(teacher=TeacherFactory(), curriculum=imported_mini_book, name="Physics 1")
        classroom_settings_update(classroom=classroom, unsupported_policy="mark")
        student = UserFactory()
        classroom_join(student=student, code=classroom.join_code.code)
        return student

    student = await sync_to_async(arrange)()
    use_chat_client(ScriptedChatClient(answer=UNSUPPORTED, revision="Galileo measured it in Pisa."))
    use_scorer(LexicalScorer())

    # when a student of the class asks
    message, events = await _ask(student, imported_mini_book)

    # then the failed sentence is shown to them marked, and saved as marked
    (flagged,) = [e for e in events if isinstance(e, SentenceFlagged)]
    assert flagged.text == "Galileo measured it in Pisa."
    delivery = await sync_to_async(AnswerSentence.objects.get)(message=message, index=0)
    assert delivery.delivery == "marked"


async def test_number_mismatch_is_flagged_as_contradicted(enrolled, use_chat_client, use_scorer, rewrite_revisions):
    # given
    student, curriculum = enrolled
    wrong = "A runner completes a 400 meter lap in 95 seconds [1]."
    use_chat_client(ScriptedChatClient(answer=wrong, revision="A runner completes a 400 meter lap in 95 seconds."))
    use_scorer(LexicalScorer())

    # when
    _, events = await _ask(student, curriculum)

    # then
    (flagged,) = [e for e in events if isinstance(e, SentenceFlagged)]
    assert flagged.reason == "contradicted"


async def test_release_order_holds_when_a_later_sentence_is_checked_first(enrolled, use_chat_client, use_scorer):
    # given: the first sentence takes far longer to score than the second
    student, curriculum = enrolled
    use_chat_client(ScriptedChatClient(answer=f"{SUPPORTED_1} {SUPPORTED_2}"))
    use_scorer(LexicalScorer(delays_s={"Speed is the magnitude of velocity.": 0.5}))

    # when
    _, events = await _ask(student, curriculum)

    # then
    assert [e.index for e in events if isinstance(e, SentenceReleased)] == [0, 1]


async def test_llm_down_keeps_the_question_and_retry_answers_it(enrolled, use_chat_client, use_scorer):
    # given
    student, curriculum = enrolled
    client = use_chat_client(
        ScriptedChatClient(answer=SUPPORTED_1, fail_with=LLMUnavailableError("unreachable", "connection refused"))
    )
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum, question="What is speed exactly?")

    # then
    assert isinstance(events[-1], Failed)
    assert events[-1].code == "llm_unavailable"
    assert "try again" in events[-1].message
    stored = await sync_to_async(Message.objects.get)(pk=message.pk)
    assert (stored.status, stored.question, stored.error_code) == (
        "failed",
        "What is speed exactly?",
        "llm_unavailable",
    )

    # when the model is back and the student retries
    client.fail_with = None
    retried = await tutor_answer_retry(student=student, message_id=message.pk)

    # then
    assert (retried.pk, retried.status, retried.answer) == (
        message.pk,
        "completed",
        "Speed is the magnitude of velocity.",
    )


async def test_off_syllabus_question_gets_a_notice_and_no_generation(enrolled, use_chat_client, use_scorer):
    # given
    student, curriculum = enrolled
    client = use_chat_client(ScriptedChatClient(answer=SUPPORTED_1))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum, question="Who painted the Mona Lisa?")

    # then
    assert [type(e) for e in events] == [Accepted, Notice, Done]
    assert events[1].text.startswith("This question does not seem to be covered in your syllabus (Mini Physics)")
    assert client.prompts == []
    assert message.answer == events[1].text


async def test_follow_up_uses_the_conversation(enrolled, use_chat_client, use_scorer):
    # given a first exchange
    student, curriculum = enrolled
    client = use_chat_client(ScriptedChatClient(answer=SUPPORTED_1))
    use_scorer(LexicalScorer())
    first, _ = await _ask(student, curriculum, question="What is speed?")

    # when
    second, _ = await _ask(student, curriculum, question="Why?", conversation_id=first.conversation_id)

    # then
    assert second.condensed_question == "What is speed? Why?"
    prompt = client.prompts[-1]
    assert [m.role for m in prompt] == ["system", "user", "assistant", "user"]
    assert (prompt[1].content, prompt[2].content, prompt[3].content) == (
        "What is speed?",
        "Speed is the magnitude of velocity.",
        "Why?",
    )


@pytest.mark.parametrize(
    ("question", "code"),
    [("   ", "empty_question"), ("x" * (MAX_QUESTION_CHARS + 1), "question_too_long")],
)
async def test_invalid_questions_are_refused_before_saving(enrolled, question, code):
    student, curriculum = enrolled
    with pytest.raises(TutorInputError) as excinfo:
        await _ask(student, curriculum, question=question)
    assert excinfo.value.code == code
    assert await sync_to_async(Message.objects.count)() == 0


async def test_student_not_enrolled_is_refused(imported_mini_book):
    outsider = await sync_to_async(UserFactory)()
    with pytest.raises(TutorInputError) as excinfo:
        await _ask(outsider, imported_mini_book)
    assert excinfo.value.code == "not_enrolled"


async def test_cancel_marks_the_message_cancelled(enrolled, use_chat_client, use_scorer):
    # given a slow model
    student, curriculum = enrolled
    use_chat_client(ScriptedChatClient(answer=" ".join([SUPPORTED_1] * 20), token_delay_s=0.05))
    use_scorer(LexicalScorer())
    task = asyncio.create_task(_ask(student, curriculum))
    await asyncio.sleep(0.5)

    # when
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # then
    stored = await sync_to_async(Message.objects.get)()
    assert stored.status == "cancelled"


async def test_answer_stops_at_the_sentence_budget_and_skips_repeats(enrolled, use_chat_client, use_scorer):
    # given a model that repeats itself and rambles past the budget (intermediate level: 4 sentences)
    student, curriculum = enrolled
    rambling = " ".join(
        [
            SUPPORTED_1,
            "Speed is the magnitude of the velocity [1].",
            SUPPORTED_2,
            "Velocity is the rate of change of position with respect to time.",
            "Speed has no direction.",
            "Heat flows from a hotter object to a colder one.",
            "Acceleration is the rate at which velocity changes.",
        ]
    )
    use_chat_client(ScriptedChatClient(answer=rambling))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum)

    # then
    indexed = [(e.index, e.text) for e in events if isinstance(e, SentenceReleased | SentenceFlagged)]
    assert [i for i, _ in indexed] == [0, 1, 2, 3]
    assert "Speed is the magnitude of the velocity." not in [t for _, t in indexed]
    assert "Acceleration is the rate at which velocity changes." not in message.answer


async def test_two_sentences_revised_to_the_same_syllabus_sentence_show_it_once(enrolled, use_chat_client, use_scorer):
    # given two unsupported drafts whose only syllabus candidate is the same sentence (select mode)
    student, curriculum = enrolled
    answer = (
        "Galileo found that velocity is the rate of change of position [1]. "
        "In Pisa, velocity was shown to be the rate at which position changes over time [1]."
    )
    use_chat_client(ScriptedChatClient(answer=answer))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum)

    # then the syllabus sentence is shown once; the repeat is recorded as supported but withheld
    released = [e.text for e in events if isinstance(e, SentenceReleased)]
    assert released == ["Velocity is the rate of change of position with respect to time."]
    assert message.answer == "Velocity is the rate of change of position with respect to time."
    rows = await sync_to_async(list)(
        AnswerSentence.objects.filter(message=message).order_by("index").values_list("verdict", "delivery")
    )
    assert rows == [("supported", "released"), ("supported", "withheld")]


async def test_supported_sentences_that_do_not_read_as_part_of_an_answer_are_kept_back(
    enrolled, use_chat_client, use_scorer
):
    # given a draft whose every sentence the syllabus supports: the second leans on its paragraph
    # ("It"), the third is a glossary line copied as is
    student, curriculum = enrolled
    answer = (
        "Speed is the magnitude of velocity [1]. It is a vector quantity [1].\n\n"
        "velocity: the rate of change of position, with direction\n\n"
        "Velocity has a direction [2]."
    )
    use_chat_client(ScriptedChatClient(answer=answer))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum)

    # then only the sentences that read on their own are shown, the others kept with their verdicts
    released = [(e.index, e.text) for e in events if isinstance(e, SentenceReleased)]
    assert released == [(0, "Speed is the magnitude of velocity."), (3, "Velocity has a direction.")]
    assert not [e for e in events if isinstance(e, SentenceFlagged)]
    assert message.answer == "Speed is the magnitude of velocity. Velocity has a direction."
    rows = await sync_to_async(list)(
        AnswerSentence.objects.filter(message=message).order_by("index").values_list("text", "verdict", "delivery")
    )
    assert rows == [
        ("Speed is the magnitude of velocity.", "supported", "released"),
        ("It is a vector quantity.", "supported", "withheld"),
        ("velocity: the rate of change of position, with direction", "supported", "withheld"),
        ("Velocity has a direction.", "supported", "released"),
    ]


async def test_a_drafted_sentence_repeating_an_earlier_revision_is_shown_once(enrolled, use_chat_client, use_scorer):
    # given a first draft revised to a syllabus sentence, and a second that the syllabus supports as
    # written and that says the same
    student, curriculum = enrolled
    answer = (
        "Galileo found that velocity is the rate of change of position [1]. "
        "Velocity is the rate of change of position with respect to time [1]."
    )
    use_chat_client(ScriptedChatClient(answer=answer))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum)

    # then it is shown once
    released = [e.text for e in events if isinstance(e, SentenceReleased)]
    assert released == ["Velocity is the rate of change of position with respect to time."]
    rows = await sync_to_async(list)(
        AnswerSentence.objects.filter(message=message).order_by("index").values_list("original_text", "delivery")
    )
    assert rows == [("Galileo found that velocity is the rate of change of position.", "released"), ("", "withheld")]


def _verdict(verdict: str, *, echoes_injection: bool = False) -> SentenceVerdict:
    return SentenceVerdict(
        index=0,
        text="Osmosis moves water.",
        original="Osmosis moves water.",
        verdict=verdict,
        score=0.9,
        citations=(),
        records=(),
        echoes_injection=echoes_injection,
    )


@pytest.mark.parametrize(
    ("verdict", "kept_back", "policy", "delivery"),
    [
        ("supported", False, "withhold", "released"),
        ("supported", True, "withhold", "withheld"),
        ("supported", False, "mark", "released"),
        ("unsupported", False, "withhold", "withheld"),
        ("unsupported", False, "mark", "marked"),
        ("contradicted", False, "mark", "marked"),
    ],
)
def test_one_delivery_decision_per_verified_sentence(verdict, kept_back, policy, delivery):
    assert sentence_delivery(_verdict(verdict), kept_back=kept_back, policy=policy) == delivery


@pytest.mark.parametrize(("verdict", "delivery"), [("unsupported", "withheld"), ("supported", "released")])
def test_a_sentence_repeating_an_injected_line_is_not_shown_marked(verdict, delivery):
    # given a sentence that repeats a syllabus line addressing the model, under the "mark" policy
    # when its delivery is decided
    # then unsupported it is withheld, not shown marked; supported by the rest of the syllabus it is released
    assert sentence_delivery(_verdict(verdict, echoes_injection=True), kept_back=False, policy="mark") == delivery
