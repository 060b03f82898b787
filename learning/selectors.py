"""Reads of the learner model: mastery with its evidence, the plan by day, reviews due, progress."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from curriculum.models import Chunk, Classroom, Curriculum, Enrollment, PracticeQuestion, Topic

from . import bkt
from .generation import BookPassage
from .levels import TopicEvidence
from .models import (
    ClassroomPlanDefault,
    MasteryState,
    PlanItem,
    PracticeAnswer,
    PracticePreference,
    PracticeSession,
    ReviewCard,
    StudyPlan,
    TopicBktParams,
)
from .plan import prerequisites_from_book

# Practice is hint-first only where the student or their class asked for it: a wrong answer then
# gets a hint and a second try before the key is shown.
DEFAULT_HINT_FIRST = False


@dataclass(frozen=True, kw_only=True)
class TopicProgress:
    topic_id: int
    label: str
    chapter: str
    mastery: float
    uncertainty: float
    answers: int
    correct: int
    mastered: bool
    prerequisites: tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class DayProgress:
    day: date
    answers: int
    correct: int
    mean_mastery: float
    """Mean over the curriculum's topics at the end of the day (unanswered topics at their prior)."""
    topics_mastered: int


@dataclass(frozen=True, kw_only=True)
class PlanDay:
    day: date
    items: list[PlanItem]
    minutes: int


def curriculum_topics(*, curriculum: Curriculum) -> list[Topic]:
    """The curriculum's topics in book order."""
    return list(
        Topic.objects.filter(unit__curriculum=curriculum)
        .select_related("unit")
        .order_by("unit__position", "position", "id")
    )


def topic_prerequisites(*, topics: Sequence[Topic]) -> dict[int, tuple[int, ...]]:
    return prerequisites_from_book([(t.pk, t.unit_id) for t in topics])


@dataclass(frozen=True, kw_only=True)
class TopicOutline:
    """What planning needs of a topic and its student's state, read without building model rows (a
    re-plan reads every topic of the book after each session)."""

    topic_id: int
    unit_id: int
    mastery: float | None
    answers: int
    last_answered_at: datetime | None
    questions: int
    """Gradable (keyed multiple-choice) questions."""


def topic_outline(*, student: AbstractBaseUser, curriculum: Curriculum) -> list[TopicOutline]:
    """The curriculum's topics in book order with the student's mastery state (None: no answers yet)."""
    topics = list(
        Topic.objects.filter(unit__curriculum=curriculum)
        .order_by("unit__position", "position", "id")
        .values_list("id", "unit_id")
    )
    states = {
        topic_id: (mastery, answers, last)
        for topic_id, mastery, answers, last in MasteryState.objects.filter(
            student=student, topic__unit__curriculum=curriculum
        ).values_list("topic_id", "mastery", "answers", "last_answered_at")
    }
    questions = dict(
        _gradable(PracticeQuestion.objects.filter(topic__unit__curriculum=curriculum))
        .values("topic_id")
        .annotate(n=Count("id"))
        .values_list("topic_id", "n")
    )
    return [
        TopicOutline(
            topic_id=topic_id,
            unit_id=unit_id,
            mastery=states[topic_id][0] if topic_id in states else None,
            answers=states[topic_id][1] if topic_id in states else 0,
            last_answered_at=states[topic_id][2] if topic_id in states else None,
            questions=questions.get(topic_id, 0),
        )
        for topic_id, unit_id in topics
    ]


def bkt_params_map(*, topic_ids: Sequence[int]) -> dict[int, bkt.BktParams]:
    """Fitted parameters per topic; topics never fitted get ``bkt.DEFAULT_PARAMS``."""
    fitted = {
        row.topic_id: bkt.BktParams(p_init=row.p_init, p_learn=row.p_learn, p_slip=row.p_slip, p_guess=row.p_guess)
        for row in TopicBktParams.objects.filter(topic_id__in=topic_ids)
    }
    return {topic_id: fitted.get(topic_id, bkt.DEFAULT_PARAMS) for topic_id in topic_ids}


def bkt_params_for(*, curriculum: Curriculum, topic_ids: Sequence[int]) -> dict[int, bkt.BktParams]:
    """``bkt_params_map`` for a whole curriculum, filtered by curriculum rather than a 300-id IN list."""
    fitted = {
        row.topic_id: bkt.BktParams(p_init=row.p_init, p_learn=row.p_learn, p_slip=row.p_slip, p_guess=row.p_guess)
        for row in TopicBktParams.objects.filter(topic__unit__curriculum=curriculum)
    }
    return {topic_id: fitted.get(topic_id, bkt.DEFAULT_PARAMS) for topic_id in topic_ids}


def mastery_states(*, student: AbstractBaseUser, topic_ids: Sequence[int]) -> dict[int, MasteryState]:
    return {s.topic_id: s for s in MasteryState.objects.filter(student=student, topic_id__in=topic_ids)}


def topic_evidence(*, student_id: int, curriculum_id: int) -> tuple[TopicEvidence, ...]:
    """The student's mastery estimate of each topic of the curriculum that practice has graded."""
    rows = MasteryState.objects.filter(
        student_id=student_id, topic__unit__curriculum_id=curriculum_id, answers__gt=0
    ).values_list("topic_id", "mastery", "answers")
    return tuple(
        TopicEvidence(topic_id=topic_id, mastery=mastery, answers=answers) for topic_id, mastery, answers in rows
    )


def enrollment_get(*, student: AbstractBaseUser, curriculum: Curriculum) -> Enrollment | None:
    return Enrollment.objects.filter(student=student, curriculum=curriculum).first()


def study_plan_get(*, student: AbstractBaseUser, curriculum: Curriculum) -> StudyPlan | None:
    return (
        StudyPlan.objects.filter(enrollment__student=student, enrollment__curriculum=curriculum)
        .select_related("enrollment")
        .first()
    )


def plan_days(*, plan: StudyPlan, start: date | None = None, end: date | None = None) -> list[PlanDay]:
    """The plan's items grouped by day, history included: done items and missed (past, not done) ones."""
    items = PlanItem.objects.filter(plan=plan).select_related("topic__unit").order_by("day", "position")
    if start is not None:
        items = items.filter(day__gte=start)
    if end is not None:
        items = items.filter(day__lte=end)
    grouped: dict[date, list[PlanItem]] = defaultdict(list)
    for item in items:
        grouped[item.day].append(item)
    return [PlanDay(day=day, items=rows, minutes=sum(i.minutes for i in rows)) for day, rows in grouped.items()]


def plan_item_status(*, item: PlanItem, today: date) -> str:
    if item.done_at is not None:
        return "done"
    return "missed" if item.day < today else "planned"


def reviews_due(
    *, student: AbstractBaseUser, curriculum: Curriculum, now: datetime | None = None
) -> QuerySet[ReviewCard]:
    now = now or timezone.now()
    return (
        ReviewCard.objects.filter(student=student, question__topic__unit__curriculum=curriculum, due__lte=now)
        .select_related("question__topic__unit")
        .order_by("due", "id")
    )


def review_due_dates(*, student: AbstractBaseUser, curriculum: Curriculum, until: date) -> list[date]:
    """Local due day of every card falling due before ``until``."""
    dues = ReviewCard.objects.filter(student=student, question__topic__unit__curriculum=curriculum).values_list(
        "due", flat=True
    )
    days = [timezone.localdate(due) for due in dues]
    return [d for d in days if d < until]


def _gradable(questions: QuerySet[PracticeQuestion]) -> QuerySet[PracticeQuestion]:
    """Multiple-choice questions with a key: the only ones graded exactly."""
    return questions.filter(~Q(choices=[]), answer_index__isnull=False)


def gradable_questions(*, topic: Topic) -> QuerySet[PracticeQuestion]:
    return _gradable(PracticeQuestion.objects.filter(topic=topic)).order_by("id")


def keyed_question_counts(*, curriculum: Curriculum) -> dict[int, int]:
    """Keyed (multiple-choice) questions per topic of the curriculum, zero included."""
    counts = {t.pk: 0 for t in curriculum_topics(curriculum=curriculum)}
    for topic_id in (
        PracticeQuestion.objects.filter(topic__unit__curriculum=curriculum, answer_index__isnull=False)
        .exclude(choices=[])
        .values_list("topic_id", flat=True)
    ):
        counts[topic_id] = counts.get(topic_id, 0) + 1
    return counts


def free_text_questions(*, topic: Topic) -> QuerySet[PracticeQuestion]:
    """Free-response questions with a model answer (the key a typed answer is checked against)."""
    return PracticeQuestion.objects.filter(topic=topic, choices=[]).exclude(explanation="").order_by("id")


def topic_passages(*, topic: Topic) -> list[Chunk]:
    """The section's syllabus chunks in reading order: the evidence of its questions and their hints."""
    return list(
        Chunk.objects.filter(document__topic=topic).select_related("document").order_by("document_id", "position")
    )


def book_passages(*, curriculum: Curriculum) -> list[BookPassage]:
    """Every chunk of the curriculum in book order, as question generation reads them."""
    rows = (
        Chunk.objects.filter(curriculum=curriculum)
        .order_by("document__topic__unit__position", "document__topic__position", "document_id", "position")
        .values_list("id", "document__topic_id", "document__topic__unit__position", "text")
    )
    return [
        BookPassage(chunk_id=chunk_id, topic_id=topic_id, unit_position=unit_position, text=text)
        for chunk_id, topic_id, unit_position, text in rows
    ]


def classroom_plan_default_get(*, classroom: Classroom) -> ClassroomPlanDefault | None:
    return ClassroomPlanDefault.objects.filter(classroom=classroom).first()


def classroom_for_teacher(*, teacher: AbstractBaseUser, classroom_id: int) -> Classroom | None:
    """The class if it is this teacher's (staff: any); None otherwise, so another's class is a 404."""
    classes = Classroom.objects.select_related("curriculum")
    if not teacher.is_staff:  # type: ignore[attr-defined]
        classes = classes.filter(teacher=teacher)
    return classes.filter(pk=classroom_id).first()


@dataclass(frozen=True, kw_only=True)
class HintFirstSetting:
    hint_first: bool
    source: str
    """Where it comes from: ``student`` (their own choice), ``class`` (the teacher's setting) or ``default``."""


def hint_first_for(*, student: AbstractBaseUser, enrollment: Enrollment | None = None) -> HintFirstSetting:
    """The student's own choice, else the hint-first setting of this enrolment's class, else the app's."""
    own = PracticePreference.objects.filter(student=student).values_list("hint_first", flat=True).first()
    if own is not None:
        return HintFirstSetting(hint_first=own, source="student")
    if enrollment is not None and enrollment.classroom_id is not None:
        class_setting = _class_hint_first(classroom_id=enrollment.classroom_id)
        if class_setting is not None:
            return HintFirstSetting(hint_first=class_setting, source="class")
    return HintFirstSetting(hint_first=DEFAULT_HINT_FIRST, source="default")


def _class_hint_first(*, classroom_id: int) -> bool | None:
    # The teacher's switch lives with the class's other settings in ``classrooms``, which sits above
    # learning in the import order: the model is looked up by name (as the tutor's mastery mirror is)
    # so no code import goes upwards. None: the class saved no settings.
    try:
        settings_model = apps.get_model("classrooms", "ClassroomSettings")
    except LookupError:
        return None
    return settings_model.objects.filter(classroom_id=classroom_id).values_list("hint_first", flat=True).first()


def question_history(*, student: AbstractBaseUser, question_ids: Sequence[int]) -> dict[int, tuple[int, int, datetime]]:
    """Per question: (times answered, times right, last answered) for this student."""
    history: dict[int, tuple[int, int, datetime]] = {}
    for question_id, correct, answered_at in PracticeAnswer.objects.filter(
        student=student, session_question__question_id__in=question_ids
    ).values_list("session_question__question_id", "correct", "answered_at"):
        seen, right, _ = history.get(question_id, (0, 0, answered_at))
        history[question_id] = (seen + 1, right + int(correct), answered_at)
    return history


@dataclass(frozen=True, kw_only=True)
class Mistake:
    """A practice question the student last answered wrong."""

    topic: str
    """The question's section title (as the answer graph's passages name their topic)."""
    question: str
    """The stem."""
    answered: str
    """The option the student chose; "" for a free-text answer."""
    key: str
    """The right option (or a free-text question's model answer)."""


# Questions looked at per mistake wanted: a student who got a question right on a later try has
# several answers to it, and those later right ones drop the question.
_ANSWERS_PER_MISTAKE = 4


def recent_mistakes(*, student_id: int, curriculum_id: int, limit: int) -> list[Mistake]:
    """The student's most recent wrong answers in this curriculum, newest first, each question once;
    a question whose latest answer was right is not a mistake any more. First answers count (a
    hint-first retry does not undo a wrong first answer, as for mastery)."""
    answers = (
        PracticeAnswer.objects.filter(student_id=student_id, topic__unit__curriculum_id=curriculum_id)
        .select_related("topic", "session_question__question")
        .order_by("-answered_at", "-id")[: limit * _ANSWERS_PER_MISTAKE]
    )
    mistakes: list[Mistake] = []
    seen: set[int] = set()
    for answer in answers:
        served = answer.session_question
        if served.question_id in seen:
            continue
        seen.add(served.question_id)
        if answer.correct:
            continue
        options = served.options
        mistakes.append(
            Mistake(
                topic=answer.topic.title,
                question=served.question.stem,
                answered=options[answer.chosen_option] if options and answer.chosen_option is not None else "",
                key=options[served.key_option]
                if options and served.key_option is not None
                else served.question.explanation,
            )
        )
        if len(mistakes) == limit:
            break
    return mistakes


def practice_session_get(*, student: AbstractBaseUser, session_id: int) -> PracticeSession | None:
    return PracticeSession.objects.filter(student=student, pk=session_id).select_related("enrollment").first()


def progress_by_topic(*, student: AbstractBaseUser, curriculum: Curriculum) -> list[TopicProgress]:
    topics = curriculum_topics(curriculum=curriculum)
    ids = [t.pk for t in topics]
    params = bkt_params_map(topic_ids=ids)
    states = mastery_states(student=student, topic_ids=ids)
    prerequisites = topic_prerequisites(topics=topics)
    rows = []
    for topic in topics:
        state = states.get(topic.pk)
        mastery = state.mastery if state else params[topic.pk].p_init
        estimate = bkt.MasteryEstimate(mastery=mastery, evidence=state.answers if state else 0)
        rows.append(
            TopicProgress(
                topic_id=topic.pk,
                label=topic.label,
                chapter=topic.unit.title,
                mastery=mastery,
                uncertainty=estimate.uncertainty,
                answers=estimate.evidence,
                correct=state.correct if state else 0,
                mastered=mastery >= bkt.MASTERED,
                prerequisites=prerequisites[topic.pk],
            )
        )
    return rows


def progress_over_time(*, student: AbstractBaseUser, curriculum: Curriculum) -> list[DayProgress]:
    """One row per day the student answered: that day's answers and the curriculum's mastery at its end."""
    topics = curriculum_topics(curriculum=curriculum)
    if not topics:
        return []
    ids = [t.pk for t in topics]
    params = bkt_params_map(topic_ids=ids)
    current = {topic_id: params[topic_id].p_init for topic_id in ids}
    answers = PracticeAnswer.objects.filter(student=student, topic_id__in=ids).order_by("answered_at", "id")
    days: list[DayProgress] = []
    day: date | None = None
    count = right = 0

    def close(on: date) -> DayProgress:
        values = list(current.values())
        return DayProgress(
            day=on,
            answers=count,
            correct=right,
            mean_mastery=sum(values) / len(values),
            topics_mastered=sum(1 for v in values if v >= bkt.MASTERED),
        )

    for answer in answers.values_list("topic_id", "correct", "mastery_after", "answered_at"):
        topic_id, correct, mastery_after, answered_at = answer
        answer_day = timezone.localdate(answered_at)
        if day is not None and answer_day != day:
            days.append(close(day))
            count = right = 0
        day = answer_day
        count += 1
        right += int(correct)
        current[topic_id] = mastery_after
    if day is not None:
        days.append(close(day))
    return days
