"""The level an answer is pitched at: the student's choice until practice shows their mastery."""

import pytest

from learning.levels import MIN_ANSWERS, TopicEvidence, level_for_topic


def _evidence(*, mastery: float, answers: int) -> TopicEvidence:
    return TopicEvidence(topic_id=7, mastery=mastery, answers=answers)


def test_without_evidence_the_chosen_level_stands():
    # given a student who chose "advanced" and has not practised the topic
    # when the level of an answer about it is decided
    # then it is the one they chose
    assert level_for_topic(chosen="advanced", evidence=None) == "advanced"


def test_too_few_answers_leave_the_chosen_level():
    # given a student who chose "advanced" and got the topic's first two questions wrong
    evidence = _evidence(mastery=0.1, answers=MIN_ANSWERS - 1)
    # when the level is decided, then two answers are not enough to overrule the choice
    assert level_for_topic(chosen="advanced", evidence=evidence) == "advanced"


@pytest.mark.parametrize(
    ("mastery", "level"),
    [(0.0, "beginner"), (0.39, "beginner"), (0.4, "intermediate"), (0.79, "intermediate"), (0.8, "advanced")],
)
def test_with_enough_answers_the_mastery_decides(mastery, level):
    # given a student who chose "intermediate" and has MIN_ANSWERS graded answers on the topic
    evidence = _evidence(mastery=mastery, answers=MIN_ANSWERS)
    # when the level is decided, then the band their mastery falls in decides it
    assert level_for_topic(chosen="intermediate", evidence=evidence) == level
