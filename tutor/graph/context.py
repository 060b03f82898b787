"""Loading the learner context the answer adapts to."""

from dataclasses import replace

from asgiref.sync import sync_to_async

from curriculum.models import Topic
from learning.levels import level_for_topic
from learning.selectors import recent_mistakes, topic_evidence

from ..models import LearnerProfile, TopicMastery
from .state import LearnerContext

# Below this mastery a topic counts as weak: the learner has answered fewer than half of its
# practice questions right (mastery is the learner-model issue's estimate of that rate).
WEAK_MASTERY = 0.5
MAX_WEAK_TOPICS = 5
# The latest few: older mistakes were likely practised since, and each one costs prompt tokens.
MAX_RECENT_MISTAKES = 3


@sync_to_async
def learner_context_load(*, student_id: int | None, curriculum_id: int) -> LearnerContext:
    if student_id is None:
        return LearnerContext()
    profile = LearnerProfile.objects.filter(student_id=student_id).first()
    weak = (
        TopicMastery.objects.filter(
            student_id=student_id, topic__unit__curriculum_id=curriculum_id, mastery__lt=WEAK_MASTERY
        )
        .order_by("mastery")
        .values_list("topic_id", flat=True)[:MAX_WEAK_TOPICS]
    )
    titles = tuple(Topic.objects.filter(pk__in=list(weak)).values_list("title", flat=True))
    mistakes = recent_mistakes(student_id=student_id, curriculum_id=curriculum_id, limit=MAX_RECENT_MISTAKES)
    return LearnerContext(
        level=profile.level if profile else LearnerProfile.Level.INTERMEDIATE,
        weak_topics=titles,
        recent_mistakes=tuple(mistakes),
        topic_evidence=topic_evidence(student_id=student_id, curriculum_id=curriculum_id),
    )


def learner_for_topic(learner: LearnerContext, *, topic_id: int | None) -> LearnerContext:
    """The learner context of an answer about ``topic_id`` (the best passage's topic): pitched at
    the student's mastery of it where practice has shown it."""
    evidence = next((e for e in learner.topic_evidence if e.topic_id == topic_id), None)
    level = level_for_topic(chosen=learner.level, evidence=evidence)
    return learner if level == learner.level else replace(learner, level=level)
