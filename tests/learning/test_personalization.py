"""The learner model feeds the answer graph: two learners whose practice results differ get different
explanations of the same question (scripted LLM, real retrieval of the mini book)."""

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.utils import timezone

from curriculum.models import Topic
from learning.models import SessionQuestion
from learning.services import practice_answer_submit, practice_session_start, study_plan_enrol
from tests.factories import MasteryStateFactory, UserFactory
from tests.fakes import ScriptedChatClient
from tutor.graph.graph import answer_graph
from tutor.graph.state import AnswerState
from tutor.models import LearnerProfile

pytestmark = pytest.mark.django_db(transaction=True)

HARD_NOTE = "Explain Velocity and Speed step by step: the student finds it hard."
PRACTICE_QUESTION = "Which quantity has a direction?"


@sync_to_async
def _enrolled_learner(curriculum) -> int:
    student = UserFactory()
    study_plan_enrol(
        student=student, curriculum=curriculum, exam_date=timezone.localdate() + timedelta(days=30), daily_minutes=30
    )
    return student.pk


@sync_to_async
def _answer_the_section_question(curriculum, student_id: int, *, right: bool) -> str:
    """A practice session on Velocity and Speed; its question answered right or wrong. Returns the
    option chosen."""
    topic = Topic.objects.get(unit__curriculum=curriculum, title="Velocity and Speed")
    student = UserFactory._meta.model.objects.get(pk=student_id)
    session = practice_session_start(student=student, curriculum=curriculum, kind="topic", topic=topic)
    served = SessionQuestion.objects.get(session=session, position=0)
    assert served.question.stem == PRACTICE_QUESTION
    option = served.key_option if right else (served.key_option + 1) % len(served.options)
    practice_answer_submit(session=session, position=0, option=option)
    return served.options[option]


def _mistake_note(chosen: str) -> str:
    return (
        f'The student recently answered "{PRACTICE_QUESTION}" with "{chosen}", which was wrong '
        '(the answer is "velocity"): make the right answer clear.'
    )


async def _system_prompt(curriculum, student_id: int, client: ScriptedChatClient) -> str:
    client.prompts.clear()
    state = AnswerState(
        question="What is speed?",
        curriculum_id=curriculum.pk,
        curriculum_title=curriculum.title,
        student_id=student_id,
    )
    async for _ in answer_graph.astream(state, stream_mode="custom"):
        pass
    (answer_prompt,) = [p for p in client.prompts if p[-1].content == "What is speed?"]
    return answer_prompt[0].content


async def test_a_learner_who_got_the_topic_wrong_gets_it_explained_step_by_step(imported_mini_book, use_chat_client):
    # given two learners: one answered the section's practice question wrong, the other right
    client = use_chat_client(ScriptedChatClient(answer="Speed is the magnitude of velocity [1]."))
    struggling = await _enrolled_learner(imported_mini_book)
    chosen = await _answer_the_section_question(imported_mini_book, struggling, right=False)
    confident = await _enrolled_learner(imported_mini_book)
    await _answer_the_section_question(imported_mini_book, confident, right=True)

    # when both ask the same question
    struggling_prompt = await _system_prompt(imported_mini_book, struggling, client)
    confident_prompt = await _system_prompt(imported_mini_book, confident, client)

    # then only the struggling learner's answer is asked to go step by step on that section and to
    # clear up the question they got wrong; nothing else differs
    assert HARD_NOTE in struggling_prompt
    assert _mistake_note(chosen) in struggling_prompt
    assert HARD_NOTE not in confident_prompt
    assert "recently answered" not in confident_prompt
    assert struggling_prompt.replace(f" {HARD_NOTE} {_mistake_note(chosen)}", "") == confident_prompt


async def test_a_mistake_put_right_since_is_not_brought_up(imported_mini_book, use_chat_client):
    # given a learner who got the question wrong, then right in a later session
    client = use_chat_client(ScriptedChatClient(answer="Speed is the magnitude of velocity [1]."))
    learner = await _enrolled_learner(imported_mini_book)
    chosen = await _answer_the_section_question(imported_mini_book, learner, right=False)
    wrong_prompt = await _system_prompt(imported_mini_book, learner, client)
    await _answer_the_section_question(imported_mini_book, learner, right=True)

    # when they ask
    prompt = await _system_prompt(imported_mini_book, learner, client)

    # then the mistake was brought up while it stood, and is not any more
    assert _mistake_note(chosen) in wrong_prompt
    assert "recently answered" not in prompt


@sync_to_async
def _learner_with_mastery(curriculum, *, chosen: str, mastery: float, answers: int) -> int:
    student = UserFactory()
    LearnerProfile.objects.create(student=student, level=chosen)
    topic = Topic.objects.get(unit__curriculum=curriculum, title="Velocity and Speed")
    MasteryStateFactory(student=student, topic=topic, mastery=mastery, answers=answers)
    return student.pk


async def test_mastery_shown_in_practice_sets_the_level_of_an_answer_on_that_topic(imported_mini_book, use_chat_client):
    # given two learners who both chose "intermediate": one has failed the topic asked about in
    # practice (mastery 0.15 over 4 answers), the other has mastered it (0.9 over 4 answers), and a
    # third with the same choice who has answered only twice (mastery 0.15)
    client = use_chat_client(ScriptedChatClient(answer="Speed is the magnitude of velocity [1]."))
    struggling = await _learner_with_mastery(imported_mini_book, chosen="intermediate", mastery=0.15, answers=4)
    mastered = await _learner_with_mastery(imported_mini_book, chosen="intermediate", mastery=0.9, answers=4)
    new = await _learner_with_mastery(imported_mini_book, chosen="intermediate", mastery=0.15, answers=2)

    # when each asks the same question about that topic
    prompts = {
        name: await _system_prompt(imported_mini_book, student_id, client)
        for name, student_id in (("struggling", struggling), ("mastered", mastered), ("new", new))
    }

    # then the answer is pitched at each one's mastery where practice has shown it, and at their
    # choice where it has not yet
    assert "at most 5 short sentences" in prompts["struggling"]
    assert "give one everyday example" in prompts["struggling"]
    assert "at most 3 short sentences" in prompts["mastered"]
    assert "skip basic definitions" in prompts["mastered"]
    assert "at most 4 short sentences" in prompts["new"]
