"""The answer graph reports to its caller through typed events only (scripted LLM, real retrieval)."""

import pytest

from tests.fakes import ScriptedChatClient
from tutor.graph.graph import answer_graph
from tutor.graph.state import (
    AnswerState,
    DraftFinished,
    DraftSentence,
    OffSyllabus,
    PassagesRetrieved,
    QuestionCondensed,
    SentenceDrafted,
    StageTimed,
)

# These tests script every drafted sentence: no answer plan before them (see test_answer_plan.py).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("draft_composition")]


async def _events(curriculum, question: str) -> list:
    state = AnswerState(question=question, curriculum_id=curriculum.pk, curriculum_title=curriculum.title)
    return [event async for event in answer_graph.astream(state, stream_mode="custom")]


def _kinds(events: list) -> list[str]:
    return [f"{type(e).__name__}:{e.stage}" if isinstance(e, StageTimed) else type(e).__name__ for e in events]


async def test_an_on_syllabus_question_reports_passages_then_each_drafted_sentence(imported_mini_book, use_chat_client):
    # given a model that answers in two sentences
    use_chat_client(ScriptedChatClient(answer="Speed is the magnitude of velocity [1]. Velocity has a direction [2]."))

    # when
    events = await _events(imported_mini_book, "What is speed?")

    # then the caller hears, in order, what happened, as typed events
    assert _kinds(events) == [
        "StageTimed:load_context",
        "QuestionCondensed",
        "StageTimed:retrieve",
        "PassagesRetrieved",
        "SentenceDrafted",
        "SentenceDrafted",
        "StageTimed:first_token",
        "StageTimed:first_sentence",
        "StageTimed:draft",
        "DraftFinished",
    ]
    assert events[1] == QuestionCondensed(standalone_question="What is speed?")
    retrieved = events[3]
    assert isinstance(retrieved, PassagesRetrieved)
    assert [p.number for p in retrieved.passages] == list(range(1, len(retrieved.passages) + 1))
    assert [e.sentence for e in events if isinstance(e, SentenceDrafted)] == [
        DraftSentence(index=0, text="Speed is the magnitude of velocity.", markers=(1,)),
        DraftSentence(index=1, text="Velocity has a direction.", markers=(2,)),
    ]
    assert events[-1] == DraftFinished(model_name="scripted-fake")


async def test_an_off_syllabus_question_reports_the_reply_and_drafts_nothing(imported_mini_book, use_chat_client):
    # given
    client = use_chat_client(ScriptedChatClient(answer="Leonardo painted it."))

    # when
    events = await _events(imported_mini_book, "Who painted the Mona Lisa?")

    # then
    assert _kinds(events) == [
        "StageTimed:load_context",
        "QuestionCondensed",
        "StageTimed:retrieve",
        "PassagesRetrieved",
        "OffSyllabus",
    ]
    off = events[-1]
    assert isinstance(off, OffSyllabus)
    assert off.notice.startswith("This question does not seem to be covered in your syllabus (Mini Physics)")
    retrieved = events[3]
    assert isinstance(retrieved, PassagesRetrieved)
    assert off.topics == tuple(dict.fromkeys(p.topic_path for p in retrieved.passages))
    assert client.prompts == []
