"""Writes of the learner model: enrolment with an exam date, plan recomputation, practice and grading,
mastery (BKT) and review cards (FSRS), and fitting BKT parameters.

Progress is stored as evidence (graded answers, mastery states, review cards); the plan is derived
from it and recomputed after new results or missed days, so a recomputation never loses progress.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from curriculum.models import Curriculum, PracticeQuestion, Topic
from curriculum.services import enrollment_create

from . import bkt, srs
from .grading import question_identity, served_options
from .models import (
    MasteryState,
    PlanItem,
    PracticeAnswer,
    PracticeSession,
    ReviewCard,
    SessionQuestion,
    StudyPlan,
    TopicBktParams,
)
from .plan import QUESTIONS_PER_SESSION, PlanInput, PlanTopic, build_plan, prerequisites_from_book
from .selectors import (
    bkt_params_for,
    bkt_params_map,
    enrollment_get,
    gradable_questions,
    question_history,
    review_due_dates,
    topic_outline,
)

# A daily budget under 10 minutes fits no session; over 10 hours is not a study plan.
MIN_DAILY_MINUTES = 10
MAX_DAILY_MINUTES = 600
# A session longer than this stops being one sitting.
MAX_SESSION_QUESTIONS = 30
# Four parameters from fewer answers (or from a handful of students: p_init is estimated once per
# student) would fit noise; topics below these keep the defaults.
MIN_FIT_ANSWERS = 100
MIN_FIT_STUDENTS = 10


class LearningError(Exception):
    """A request the learner model refuses; ``code`` is what the API returns."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, kw_only=True)
class GradedAnswer:
    correct: bool
    chosen_option: int
    key_option: int
    explanation: str
    topic_id: int
    mastery_before: float
    mastery: bkt.MasteryEstimate
    next_review: datetime


@dataclass(frozen=True, kw_only=True)
class SessionSummary:
    session_id: int
    questions: int
    answered: int
    correct: int
    plan_item_done: bool
    predicted_readiness: float | None


# --- enrolment and the plan ------------------------------------------------------------------------


@transaction.atomic
def study_plan_enrol(
    *,
    student: AbstractBaseUser,
    curriculum: Curriculum,
    exam_date: date,
    daily_minutes: int,
    now: datetime | None = None,
) -> StudyPlan:
    """Enrol (or re-enrol) with an exam date and a daily budget, and compute the plan. Re-enrolling
    changes the date or budget and keeps every answer, mastery and card."""
    now = now or timezone.now()
    _check_plan_settings(exam_date=exam_date, daily_minutes=daily_minutes, today=timezone.localdate(now))
    enrollment = enrollment_create(student=student, curriculum=curriculum)
    enrollment.exam_date = exam_date
    enrollment.save(update_fields=["exam_date"])
    plan, _ = StudyPlan.objects.update_or_create(enrollment=enrollment, defaults={"daily_minutes": daily_minutes})
    return study_plan_recompute(plan=plan, now=now)


@transaction.atomic
def study_plan_reschedule(
    *,
    plan: StudyPlan,
    exam_date: date | None = None,
    daily_minutes: int | None = None,
    now: datetime | None = None,
) -> StudyPlan:
    """Recompute from today (after missed days), optionally with a new exam date or budget."""
    now = now or timezone.now()
    enrollment = plan.enrollment
    new_date = exam_date or enrollment.exam_date
    new_minutes = daily_minutes or plan.daily_minutes
    if new_date is None:
        raise LearningError("no_exam_date", "Enrol with an exam date first.")
    _check_plan_settings(exam_date=new_date, daily_minutes=new_minutes, today=timezone.localdate(now))
    if new_date != enrollment.exam_date:
        enrollment.exam_date = new_date
        enrollment.save(update_fields=["exam_date"])
    if new_minutes != plan.daily_minutes:
        plan.daily_minutes = new_minutes
        plan.save(update_fields=["daily_minutes", "updated_at"])
    return study_plan_recompute(plan=plan, now=now)


def _check_plan_settings(*, exam_date: date, daily_minutes: int, today: date) -> None:
    if exam_date <= today:
        raise LearningError("exam_date_past", "The exam date must be after today.")
    if not MIN_DAILY_MINUTES <= daily_minutes <= MAX_DAILY_MINUTES:
        raise LearningError(
            "daily_minutes_out_of_range",
            f"The daily time budget must be {MIN_DAILY_MINUTES} to {MAX_DAILY_MINUTES} minutes.",
        )


@transaction.atomic
def study_plan_refresh(*, plan: StudyPlan, now: datetime | None = None) -> StudyPlan:
    """Recompute the plan if it was last computed before today: a student back after missed days
    finds them re-planned from today, without asking."""
    now = now or timezone.now()
    if plan.computed_for == timezone.localdate(now):
        return plan
    return study_plan_recompute(plan=plan, now=now)


@transaction.atomic
def study_plan_recompute(*, plan: StudyPlan, now: datetime | None = None) -> StudyPlan:
    """Replace the plan's open items from today on with a plan computed from the current learner
    state. Done items and past days stay as history; today's done work counts against today's budget."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    plan = (
        StudyPlan.objects.select_for_update(of=("self",))
        .select_related("enrollment__curriculum", "enrollment__student")
        .get(pk=plan.pk)
    )
    enrollment = plan.enrollment
    if enrollment.exam_date is None:
        raise LearningError("no_exam_date", "Enrol with an exam date first.")
    student = enrollment.student
    PlanItem.objects.filter(plan=plan, day__gte=today, done_at__isnull=True).delete()
    done_today = list(PlanItem.objects.filter(plan=plan, day=today))

    # Only topics with questions to practise are planned (not a chapter's introduction): practice is
    # what moves mastery, and a plan item nobody can start would block the day.
    outline = [t for t in topic_outline(student=student, curriculum=enrollment.curriculum) if t.questions]
    params = bkt_params_for(curriculum=enrollment.curriculum, topic_ids=[t.topic_id for t in outline])
    prerequisites = prerequisites_from_book([(t.topic_id, t.unit_id) for t in outline])
    plan_topics = [
        PlanTopic(
            topic_id=t.topic_id,
            mastery=t.mastery if t.mastery is not None else params[t.topic_id].p_init,
            evidence=t.answers,
            prerequisites=prerequisites[t.topic_id],
            params=params[t.topic_id],
            last_practised=timezone.localdate(t.last_answered_at) if t.last_answered_at else None,
            question_count=t.questions,
        )
        for t in outline
    ]
    result = build_plan(
        PlanInput(
            today=today,
            exam_date=enrollment.exam_date,
            daily_minutes=plan.daily_minutes,
            topics=plan_topics,
            review_due_dates=review_due_dates(
                student=student, curriculum=enrollment.curriculum, until=enrollment.exam_date
            ),
            minutes_done_today=sum(item.minutes for item in done_today),
        )
    )
    next_position: dict[date, int] = defaultdict(int)
    next_position[today] = max((item.position + 1 for item in done_today), default=0)
    rows = []
    for item in result.items:
        rows.append(
            PlanItem(
                plan=plan,
                day=item.day,
                position=next_position[item.day],
                kind=str(item.kind),
                topic_id=item.topic_id,
                questions=item.questions,
                minutes=item.minutes,
            )
        )
        next_position[item.day] += 1
    PlanItem.objects.bulk_create(rows)
    plan.predicted_readiness = result.predicted_readiness
    plan.unplaced_sessions = result.unplaced_sessions
    plan.computed_for = today
    plan.save(update_fields=["predicted_readiness", "unplaced_sessions", "computed_for", "updated_at"])
    return plan


# --- practice ----------------------------------------------------------------------------------------


@transaction.atomic
def practice_session_start(
    *,
    student: AbstractBaseUser,
    curriculum: Curriculum,
    kind: str,
    topic: Topic | None = None,
    size: int = QUESTIONS_PER_SESSION,
    now: datetime | None = None,
) -> PracticeSession:
    """Start a session of questions on one topic, on today's next plan item, or on due reviews.
    No question appears twice in a session, and no option twice in a question."""
    now = now or timezone.now()
    enrollment = enrollment_get(student=student, curriculum=curriculum)
    if enrollment is None:
        raise LearningError("not_enrolled", "Enrol in the curriculum first.")
    if not 1 <= size <= MAX_SESSION_QUESTIONS:
        raise LearningError("bad_size", f"A session has 1 to {MAX_SESSION_QUESTIONS} questions.")
    today = timezone.localdate(now)
    open_today = PlanItem.objects.filter(plan__enrollment=enrollment, day=today, done_at__isnull=True).order_by(
        "position"
    )
    plan_item: PlanItem | None = None
    if kind == PracticeSession.Kind.PLAN:
        plan = StudyPlan.objects.filter(enrollment=enrollment).first()
        if plan is not None:
            study_plan_refresh(plan=plan, now=now)
        has_due_reviews = ReviewCard.objects.filter(
            student=student, question__topic__unit__curriculum=curriculum, due__lte=now
        ).exists()
        # A review item whose cards were reviewed meanwhile (in a review session) is passed over.
        plan_item = next((i for i in open_today if i.topic_id is not None or has_due_reviews), None)
        if plan_item is None:
            raise LearningError("nothing_planned", "Nothing is left in today's plan.")
        topic = plan_item.topic
        size = min(MAX_SESSION_QUESTIONS, plan_item.questions)
    elif kind == PracticeSession.Kind.TOPIC:
        if topic is None or topic.unit.curriculum_id != curriculum.pk:
            raise LearningError("no_such_topic", "Choose a topic of this curriculum.")
        plan_item = open_today.filter(topic=topic).first()
    elif kind == PracticeSession.Kind.REVIEW:
        plan_item = open_today.filter(kind=PlanItem.Kind.REVIEW).first()
    else:
        raise LearningError("bad_kind", f"Choose one of {', '.join(PracticeSession.Kind.values)}.")

    if topic is None:
        questions = _due_review_questions(student=student, curriculum=curriculum, size=size, now=now)
    else:
        questions = _topic_questions(student=student, topic=topic, size=size)
    if not questions:
        raise LearningError("no_questions", "There are no questions to practise here now.")
    session = PracticeSession.objects.create(
        student=student,
        enrollment=enrollment,
        kind=kind,
        topic=topic,
        plan_item_id=plan_item.pk if plan_item else None,
        started_at=now,
    )
    rows = []
    for position, question in enumerate(questions):
        assert question.answer_index is not None  # gradable_questions keeps keyed questions only
        served = served_options(question.choices, question.answer_index)
        rows.append(
            SessionQuestion(
                session=session,
                question=question,
                position=position,
                options=served.options,
                key_option=served.key_option,
            )
        )
    SessionQuestion.objects.bulk_create(rows)
    return session


def _topic_questions(*, student: AbstractBaseUser, topic: Topic, size: int) -> list[PracticeQuestion]:
    """Never-answered questions first (book order), then the ones most often got wrong, then the
    longest unseen: practice goes where the evidence is missing or bad."""
    candidates = _distinct(list(gradable_questions(topic=topic)))
    history = question_history(student=student, question_ids=[q.pk for q in candidates])

    def rank(question: PracticeQuestion) -> tuple[int, float, float, int]:
        if question.pk not in history:
            return (0, 0.0, 0.0, question.pk)
        seen, right, last = history[question.pk]
        return (1, right / seen, last.timestamp(), question.pk)

    return sorted(candidates, key=rank)[:size]


def _due_review_questions(
    *, student: AbstractBaseUser, curriculum: Curriculum, size: int, now: datetime
) -> list[PracticeQuestion]:
    cards = (
        ReviewCard.objects.filter(student=student, question__topic__unit__curriculum=curriculum, due__lte=now)
        .select_related("question")
        .order_by("due", "id")
    )
    return _distinct([card.question for card in cards])[:size]


def _distinct(questions: list[PracticeQuestion]) -> list[PracticeQuestion]:
    seen: set[tuple[str, tuple[str, ...]]] = set()
    out = []
    for question in questions:
        identity = question_identity(question.stem, question.choices)
        if identity not in seen:
            seen.add(identity)
            out.append(question)
    return out


@transaction.atomic
def practice_answer_submit(
    *, session: PracticeSession, position: int, option: int, now: datetime | None = None
) -> GradedAnswer:
    """Grade one answer exactly (the chosen shown option against the key), then update the topic's
    mastery (BKT) and the question's review card (FSRS)."""
    now = now or timezone.now()
    served = (
        SessionQuestion.objects.select_for_update()
        .select_related("question__topic", "session")
        .filter(session=session, position=position)
        .first()
    )
    if served is None:
        raise LearningError("no_such_question", "The session has no question at that position.")
    if served.session.finished_at is not None:
        raise LearningError("session_finished", "The session is finished.")
    if PracticeAnswer.objects.filter(session_question=served).exists():
        raise LearningError("already_answered", "That question is already answered.")
    if not 0 <= option < len(served.options):
        raise LearningError("no_such_option", f"Choose an option from 0 to {len(served.options) - 1}.")
    correct = option == served.key_option
    student = session.student
    topic = served.question.topic
    before, estimate = _mastery_record(student=student, topic=topic, correct=correct, now=now)
    card = _card_review(student=student, question=served.question, correct=correct, now=now)
    PracticeAnswer.objects.create(
        session_question=served,
        student=student,
        topic=topic,
        chosen_option=option,
        correct=correct,
        mastery_before=before,
        mastery_after=estimate.mastery,
        answered_at=now,
    )
    return GradedAnswer(
        correct=correct,
        chosen_option=option,
        key_option=served.key_option,
        explanation=served.question.explanation,
        topic_id=topic.pk,
        mastery_before=before,
        mastery=estimate,
        next_review=card.due,
    )


def _mastery_record(
    *, student: AbstractBaseUser, topic: Topic, correct: bool, now: datetime
) -> tuple[float, bkt.MasteryEstimate]:
    params = bkt_params_map(topic_ids=[topic.pk])[topic.pk]
    state, _ = MasteryState.objects.select_for_update().get_or_create(
        student=student, topic=topic, defaults={"mastery": params.p_init}
    )
    before = state.mastery
    state.mastery = bkt.update(before, correct, params)
    state.answers += 1
    state.correct += int(correct)
    state.last_answered_at = now
    state.save(update_fields=["mastery", "answers", "correct", "last_answered_at"])
    _mirror_for_the_tutor(student=student, topic=topic, mastery=state.mastery)
    return before, bkt.MasteryEstimate(mastery=state.mastery, evidence=state.answers)


def _mirror_for_the_tutor(*, student: AbstractBaseUser, topic: Topic, mastery: float) -> None:
    # The answer graph reads tutor.TopicMastery to explain weak topics step by step. The model is
    # looked up by name: tutor depends on learning, never the other way round in code.
    topic_mastery = apps.get_model("tutor", "TopicMastery")
    topic_mastery.objects.update_or_create(student=student, topic=topic, defaults={"mastery": mastery})


def _card_review(*, student: AbstractBaseUser, question: PracticeQuestion, correct: bool, now: datetime) -> ReviewCard:
    row = ReviewCard.objects.select_for_update().filter(student=student, question=question).first()
    if row is None:
        start = srs.new_card(now=now)
        row = ReviewCard(
            student=student,
            question=question,
            state=start.state,
            step=start.step,
            stability=start.stability,
            difficulty=start.difficulty,
            due=start.due,
            last_review=start.last_review,
        )
    reviewed = srs.review(
        srs.CardState(
            state=row.state,
            step=row.step,
            stability=row.stability,
            difficulty=row.difficulty,
            due=row.due,
            last_review=row.last_review,
        ),
        correct=correct,
        now=now,
    )
    row.state = reviewed.state
    row.step = reviewed.step
    row.stability = reviewed.stability
    row.difficulty = reviewed.difficulty
    row.due = reviewed.due
    row.last_review = reviewed.last_review
    row.reviews += 1
    row.lapses += int(not correct)
    row.save()
    return row


@transaction.atomic
def practice_session_finish(*, session: PracticeSession, now: datetime | None = None) -> SessionSummary:
    """Close a session (again: no-op). A plan item whose session was answered in full is done, and
    the plan is recomputed with the new results."""
    now = now or timezone.now()
    session = PracticeSession.objects.select_for_update().get(pk=session.pk)
    questions = SessionQuestion.objects.filter(session=session).count()
    answers = PracticeAnswer.objects.filter(session_question__session=session)
    answered = answers.count()
    correct = answers.filter(correct=True).count()
    plan = StudyPlan.objects.filter(enrollment_id=session.enrollment_id).first()
    if session.finished_at is None:
        session.finished_at = now
        session.save(update_fields=["finished_at"])
        if session.plan_item_id is not None and answered == questions:
            PlanItem.objects.filter(pk=session.plan_item_id, done_at__isnull=True).update(done_at=now)
        if plan is not None:
            plan = study_plan_recompute(plan=plan, now=now)
    item_done = (
        session.plan_item_id is not None
        and PlanItem.objects.filter(pk=session.plan_item_id, done_at__isnull=False).exists()
    )
    return SessionSummary(
        session_id=session.pk,
        questions=questions,
        answered=answered,
        correct=correct,
        plan_item_done=item_done,
        predicted_readiness=plan.predicted_readiness if plan is not None else None,
    )


# --- fitting ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TopicFit:
    topic_id: int
    answers: int
    students: int
    fitted: bool
    params: bkt.BktParams
    states_replayed: int


@transaction.atomic
def topic_bkt_fit(
    *,
    topic: Topic,
    min_answers: int = MIN_FIT_ANSWERS,
    min_students: int = MIN_FIT_STUDENTS,
    now: datetime | None = None,
) -> TopicFit:
    """Fit the topic's BKT parameters by EM over every student's answers, then replay each student's
    answers with them so the shown mastery uses the fitted model. Too little data keeps the current
    parameters (the defaults until a fit succeeds)."""
    now = now or timezone.now()
    sequences: dict[int, list[bool]] = defaultdict(list)
    for student_id, correct in (
        PracticeAnswer.objects.filter(topic=topic).order_by("answered_at", "id").values_list("student_id", "correct")
    ):
        sequences[student_id].append(correct)
    answers = sum(len(s) for s in sequences.values())
    current = bkt_params_map(topic_ids=[topic.pk])[topic.pk]
    if answers < min_answers or len(sequences) < min_students:
        return TopicFit(
            topic_id=topic.pk,
            answers=answers,
            students=len(sequences),
            fitted=False,
            params=current,
            states_replayed=0,
        )
    result = bkt.fit(list(sequences.values()), start=bkt.DEFAULT_PARAMS)
    TopicBktParams.objects.update_or_create(
        topic=topic,
        defaults={
            "p_init": result.params.p_init,
            "p_learn": result.params.p_learn,
            "p_slip": result.params.p_slip,
            "p_guess": result.params.p_guess,
            "answers": answers,
            "students": len(sequences),
            "log_likelihood": result.log_likelihood,
            "fitted_at": now,
        },
    )
    replayed = 0
    for state in MasteryState.objects.select_for_update().filter(topic=topic):
        estimate = bkt.estimate(sequences.get(state.student_id, []), result.params)
        state.mastery = estimate.mastery
        state.save(update_fields=["mastery"])
        _mirror_for_the_tutor(student=state.student, topic=topic, mastery=estimate.mastery)
        replayed += 1
    return TopicFit(
        topic_id=topic.pk,
        answers=answers,
        students=len(sequences),
        fitted=True,
        params=result.params,
        states_replayed=replayed,
    )
