"""The answer plan on the answer path: planned syllabus sentences are drafted, verified and released
before the model's (scripted LLM, lexical scorer, real retrieval of the mini book)."""

import pytest
from asgiref.sync import sync_to_async

from tests.factories import EnrollmentFactory, UserFactory
from tests.fakes import LexicalScorer, ScriptedChatClient
from tutor.events import SentenceFlagged, SentenceReleased
from tutor.graph.graph import answer_graph
from tutor.graph.state import AnswerState, DraftSentence, PassagesRetrieved, SentenceDrafted, StageTimed
from tutor.models import AnswerSentence
from tutor.services import tutor_answer_create

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("plan_composition")]

COMPARISON = "What is the difference between speed and velocity?"
SPEED = "Speed is the magnitude of velocity."
VELOCITY = "Velocity is the rate of change of position with respect to time."
CONTRAST = "Velocity has a direction; speed does not."


@pytest.fixture
def enrolled(imported_mini_book):
    student = UserFactory()
    EnrollmentFactory(student=student, curriculum=imported_mini_book)
    return student, imported_mini_book


async def _ask(student, curriculum, question: str):
    events = []

    async def sink(event):
        events.append(event)

    message = await tutor_answer_create(
        student=student, curriculum_slug=curriculum.slug, question=question, on_event=sink
    )
    return message, events


async def test_the_graph_drafts_the_planned_sentences_first_then_the_models(imported_mini_book, use_chat_client):
    # given a model that answers in one sentence of its own
    use_chat_client(ScriptedChatClient(answer="Speed has no direction [1]."))
    state = AnswerState(
        question=COMPARISON, curriculum_id=imported_mini_book.pk, curriculum_title=imported_mini_book.title
    )

    # when
    events = [event async for event in answer_graph.astream(state, stream_mode="custom")]

    # then the plan is timed, and its sentences (both sides, then the one setting them side by
    # side, each citing the passage it quotes) come before the model's, which is numbered after them
    assert "plan" in [e.stage for e in events if isinstance(e, StageTimed)]
    (retrieved,) = [e for e in events if isinstance(e, PassagesRetrieved)]
    number_of = {p.text.split(". ")[0]: p.number for p in retrieved.passages}
    drafted = [e.sentence for e in events if isinstance(e, SentenceDrafted)]
    assert [(s.index, s.text, s.source) for s in drafted] == [
        (0, SPEED, "plan"),
        (1, VELOCITY, "plan"),
        (2, CONTRAST, "plan"),
        (3, "Speed has no direction.", "model"),
    ]
    assert drafted[0] == DraftSentence(index=0, text=SPEED, markers=drafted[0].markers, source="plan")
    assert all(len(s.markers) == 1 for s in drafted[:3])
    assert {s.markers[0] for s in drafted[:3]} <= set(number_of.values())


async def test_a_comparison_is_answered_with_both_sides_and_the_model_revision_is_kept_back(
    enrolled, use_chat_client, use_scorer
):
    # given a model whose sentence is not in the syllabus (its revision would be a syllabus
    # sentence picked for the draft's words)
    student, curriculum = enrolled
    use_chat_client(ScriptedChatClient(answer="Velocity was measured by Galileo in Pisa [1]."))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum, COMPARISON)

    # then the student reads both sides, then what sets them apart, each cited
    released = [e for e in events if isinstance(e, SentenceReleased)]
    assert [(e.index, e.text) for e in released] == [(0, SPEED), (1, VELOCITY), (2, CONTRAST)]
    assert all(e.citations for e in released)
    assert message.answer == f"{SPEED} {VELOCITY} {CONTRAST}"
    # and the model's sentence is kept with its verdict, not shown
    rows = await sync_to_async(list)(
        AnswerSentence.objects.filter(message=message).order_by("index").values_list("index", "delivery")
    )
    assert rows[:3] == [(0, "released"), (1, "released"), (2, "released")]
    assert rows[3] == (3, "withheld")
    assert not [e for e in events if isinstance(e, SentenceFlagged) and e.text]


async def test_a_model_sentence_that_verifies_as_written_follows_the_plan(enrolled, use_chat_client, use_scorer):
    # given a model that repeats the planned definition, then writes a sentence the syllabus
    # supports as written
    student, curriculum = enrolled
    use_chat_client(ScriptedChatClient(answer=f"{VELOCITY} [1] Water boils at 100 degrees Celsius at sea level [3]."))
    use_scorer(LexicalScorer())

    # when
    message, events = await _ask(student, curriculum, "What is velocity?")

    # then the plan's sentences come first, the definition leading; the model's repeat of it is not
    # drafted again; its supported sentence is released after the plan's, as written
    released = [e.text for e in events if isinstance(e, SentenceReleased)]
    assert released[0] == VELOCITY
    assert released[-1] == "Water boils at 100 degrees Celsius at sea level."
    drafted = await sync_to_async(list)(
        AnswerSentence.objects.filter(message=message).order_by("index").values_list("text", flat=True)
    )
    assert drafted.count(VELOCITY) == 1
