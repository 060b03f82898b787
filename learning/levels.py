"""How an answer is pitched: the student's mastery of the topic asked about, once practice has shown it.

A student's chosen level (``LearnerProfile.level``) is a guess made once, for the whole book; the
BKT estimate of the topic the question is about is evidence, topic by topic. With enough graded
answers on that topic the estimate decides; before that, the choice does.
"""

from __future__ import annotations

from dataclasses import dataclass

# Graded answers on a topic before its estimate replaces the student's choice: BKT moves a long way
# on each of the first answers (one slip takes a default estimate from 0.5 to about 0.2), so a level
# read off one or two of them would swing with luck.
MIN_ANSWERS = 3
# BKT's usual mastery line is 0.95; these bands are wider on purpose: "beginner" where the student
# still gets most questions wrong, "advanced" only once they have clearly mastered the topic.
BEGINNER_BELOW = 0.4
ADVANCED_FROM = 0.8


@dataclass(frozen=True, kw_only=True)
class TopicEvidence:
    """What practice has shown of one topic for one student."""

    topic_id: int
    """The topic (an OpenStax section)."""
    mastery: float
    """BKT estimate that the student has learnt it, in [0, 1]."""
    answers: int
    """Graded practice answers behind the estimate."""


def level_for_topic(*, chosen: str, evidence: TopicEvidence | None) -> str:
    """The level an answer about a topic is pitched at: from the student's mastery of it when at
    least ``MIN_ANSWERS`` graded answers stand behind the estimate, else the level they chose."""
    if evidence is None or evidence.answers < MIN_ANSWERS:
        return chosen
    if evidence.mastery < BEGINNER_BELOW:
        return "beginner"
    if evidence.mastery >= ADVANCED_FROM:
        return "advanced"
    return "intermediate"
