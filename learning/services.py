"""Writes of the learner model: enrolment with an exam date, plan recomputation, practice and grading,
mastery (BKT) and review cards (FSRS), and fitting BKT parameters.

Progress is stored as evidence (graded answers, mastery states, review cards); the plan is derived
from it and recomputed after new results or missed days, so a recomputation never loses progress.
"""

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.apps import apps
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from curriculum.models import Chunk, Classroom, Curriculum, PracticeQuestion, Topic
from curriculum.services import enrollment_create
from verification.graph.state import EvidencePassage
from verification.pipeline import SentenceVerdict, verify_sentence
from verification.services import verification_run_record

from . import bkt, free_text, generation, srs
from .grading import question_identity, served_options
from .hints import Hint, Passage, make_hint
from .models import (
    ClassroomPlanDefault,
    GeneratedQuestion,
    MasteryState,
    PlanItem,
    PracticeAnswer,
    PracticePreference,
    PracticeSession,
    ReviewCard,
    SessionQuestion,
    StudyPlan,
    TextAnswer,
    TopicBktParams,
)
from .plan import QUESTIONS_PER_SESSION, PlanInput, PlanTopic, build_plan, prerequisites_from_book
from .selectors import (
    bkt_params_for,
    bkt_params_map,
    book_passages,
    classroom_plan_default_get,
    enrollment_get,
    free_text_questions,
    gradable_questions,
    hint_first_for,
    keyed_question_counts,
    question_history,
    review_due_dates,
    topic_outline,
    topic_passages,
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
    chosen_option: int | None
    key_option: int | None
    """None while the key is not shown (hint-first: a wrong first answer gets a hint and a second try)."""
    explanation: str
    topic_id: int
    mastery_before: float
    mastery: bkt.MasteryEstimate
    next_review: datetime
    revealed: bool = True
    """Whether the key and explanation are shown with this result."""
    hint: Hint | None = None
    """Hint-first: the hint that comes with a wrong first answer instead of the key."""
    can_retry: bool = False
    retry: bool = False
    """This result grades the second try (it changes neither mastery nor the review card)."""


@dataclass(frozen=True, kw_only=True)
class CheckedTextAnswer:
    """A typed answer after the verifier's check: graded right at once when verified, otherwise waiting
    for the student's own assessment against the key and the evidence."""

    outcome: str
    graded: GradedAnswer | None
    """The grade, when verified; None while the student's assessment is awaited."""
    key: str
    evidence: list[Chunk]
    """Chunks that support the answer (verified), else the section's passages it was checked against."""
    score: float
    key_coverage: float
    reasons: list[str]


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
    exam_date: date | None = None,
    daily_minutes: int | None = None,
    now: datetime | None = None,
) -> StudyPlan:
    """Enrol (or re-enrol) with an exam date and a daily budget, and compute the plan. Re-enrolling
    changes the date or budget and keeps every answer, mastery and card. A date or budget not given
    stays as the student had it, or comes from the teacher's default for the student's class."""
    now = now or timezone.now()
    enrollment = enrollment_create(student=student, curriculum=curriculum)
    default = classroom_plan_default_get(classroom=enrollment.classroom) if enrollment.classroom else None
    # Not given: the student's own (re-enrolling), else the class's.
    if exam_date is None:
        exam_date = enrollment.exam_date or (default.exam_date if default else None)
    if daily_minutes is None:
        own = StudyPlan.objects.filter(enrollment=enrollment).values_list("daily_minutes", flat=True).first()
        daily_minutes = own or (default.daily_minutes if default else None)
    if exam_date is None:
        raise LearningError("no_exam_date", "Give the exam date (your class has none set).")
    if daily_minutes is None:
        raise LearningError("no_daily_minutes", "Give the minutes a day you can study (your class has none set).")
    _check_plan_settings(exam_date=exam_date, daily_minutes=daily_minutes, today=timezone.localdate(now))
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
    question_format: str = "choice",
    now: datetime | None = None,
) -> PracticeSession:
    """Start a session of questions on one topic, on today's next plan item, or on due reviews.
    No question appears twice in a session, and no option twice in a question. ``question_format``:
    ``choice`` (multiple choice, graded exactly), ``text`` (free response, checked by the verifier)
    or ``any`` (both, in the same order). The session keeps the student's hint-first setting as it is now."""
    now = now or timezone.now()
    if question_format not in QUESTION_FORMATS:
        raise LearningError("bad_format", f"Choose one of {', '.join(QUESTION_FORMATS)}.")
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
        questions = _topic_questions(student=student, topic=topic, size=size, question_format=question_format)
    if not questions:
        raise LearningError("no_questions", "There are no questions to practise here now.")
    session = PracticeSession.objects.create(
        student=student,
        enrollment=enrollment,
        kind=kind,
        topic=topic,
        plan_item_id=plan_item.pk if plan_item else None,
        hint_first=hint_first_for(student=student, enrollment=enrollment).hint_first,
        started_at=now,
    )
    rows = []
    for position, question in enumerate(questions):
        if question.answer_index is None:  # a free-response question: typed, checked by the verifier
            rows.append(SessionQuestion(session=session, question=question, position=position, options=[]))
            continue
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


QUESTION_FORMATS = ("choice", "text", "any")


def _topic_questions(
    *, student: AbstractBaseUser, topic: Topic, size: int, question_format: str = "choice"
) -> list[PracticeQuestion]:
    """Never-answered questions first (book order), then the ones most often got wrong, then the
    longest unseen: practice goes where the evidence is missing or bad."""
    pool: list[PracticeQuestion] = []
    if question_format in ("choice", "any"):
        pool += list(gradable_questions(topic=topic))
    if question_format in ("text", "any"):
        pool += list(free_text_questions(topic=topic))
    candidates = _distinct(pool)
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
    """Grade one multiple-choice answer exactly (the chosen shown option against the key), then update
    the topic's mastery (BKT) and the question's review card (FSRS).

    Hint-first sessions: a wrong first answer is not told the key; it gets a hint from the syllabus and
    one more try, and the key is shown with the second answer. Mastery and the review card take the
    first answer only (the evidence of what the student knew); the second is kept as it was given."""
    now = now or timezone.now()
    served = _served_for_update(session=session, position=position)
    if served.is_free_text:
        raise LearningError("free_text_question", "That question takes a typed answer.")
    if not 0 <= option < len(served.options):
        raise LearningError("no_such_option", f"Choose an option from 0 to {len(served.options) - 1}.")
    previous = PracticeAnswer.objects.select_for_update().filter(session_question=served).first()
    if previous is not None:
        if not (served.session.hint_first and not previous.correct and previous.retry_option is None):
            raise LearningError("already_answered", "That question is already answered.")
        previous.retry_option = option
        previous.retry_correct = option == served.key_option
        previous.save(update_fields=["retry_option", "retry_correct"])
        card = ReviewCard.objects.get(student=session.student, question=served.question)
        return GradedAnswer(
            correct=previous.retry_correct,
            chosen_option=option,
            key_option=served.key_option,
            explanation=served.question.explanation,
            topic_id=previous.topic_id,
            mastery_before=previous.mastery_before,
            mastery=_current_estimate(student=session.student, topic_id=previous.topic_id),
            next_review=card.due,
            retry=True,
        )
    correct = option == served.key_option
    answer, estimate, card = _grade(served=served, correct=correct, chosen_option=option, now=now)
    withhold = served.session.hint_first and not correct
    return GradedAnswer(
        correct=correct,
        chosen_option=option,
        key_option=None if withhold else served.key_option,
        explanation="" if withhold else served.question.explanation,
        topic_id=answer.topic_id,
        mastery_before=answer.mastery_before,
        mastery=estimate,
        next_review=card.due,
        revealed=not withhold,
        hint=_hint(served=served) if withhold else None,
        can_retry=withhold,
    )


def _served_for_update(*, session: PracticeSession, position: int) -> SessionQuestion:
    served = (
        SessionQuestion.objects.select_for_update()
        .select_related("question__topic__unit", "session")
        .filter(session=session, position=position)
        .first()
    )
    if served is None:
        raise LearningError("no_such_question", "The session has no question at that position.")
    if served.session.finished_at is not None:
        raise LearningError("session_finished", "The session is finished.")
    return served


def _grade(
    *,
    served: SessionQuestion,
    correct: bool,
    now: datetime,
    chosen_option: int | None = None,
    grading: str = "exact",
) -> tuple[PracticeAnswer, bkt.MasteryEstimate, ReviewCard]:
    """Record a graded first answer: mastery (BKT), the review card (FSRS) and the answer itself."""
    student = served.session.student
    topic = served.question.topic
    before, estimate = _mastery_record(student=student, topic=topic, correct=correct, now=now)
    card = _card_review(student=student, question=served.question, correct=correct, now=now)
    answer = PracticeAnswer.objects.create(
        session_question=served,
        student=student,
        topic=topic,
        chosen_option=chosen_option,
        correct=correct,
        grading=grading,
        hinted=served.hint_shown_at is not None,
        mastery_before=before,
        mastery_after=estimate.mastery,
        answered_at=now,
    )
    return answer, estimate, card


def _current_estimate(*, student: AbstractBaseUser, topic_id: int) -> bkt.MasteryEstimate:
    state = MasteryState.objects.get(student=student, topic_id=topic_id)
    return bkt.MasteryEstimate(mastery=state.mastery, evidence=state.answers)


def _hint(*, served: SessionQuestion) -> Hint:
    question = served.question
    key = question.explanation if served.is_free_text else served.options[served.key_option or 0]
    passages = [Passage(chunk_id=c.pk, text=c.text) for c in topic_passages(topic=question.topic)]
    return make_hint(stem=question.stem, key=key, section=question.topic.label, passages=passages)


@transaction.atomic
def practice_hint_show(*, session: PracticeSession, position: int, now: datetime | None = None) -> Hint:
    """A hint for an unanswered question, drawn from its section of the syllabus with the answer
    blanked. The answer that follows is marked as hinted."""
    now = now or timezone.now()
    served = _served_for_update(session=session, position=position)
    if (
        PracticeAnswer.objects.filter(session_question=served).exists()
        or TextAnswer.objects.filter(session_question=served).exists()
    ):
        raise LearningError("already_answered", "That question is already answered.")
    if served.hint_shown_at is None:
        served.hint_shown_at = now
        served.save(update_fields=["hint_shown_at"])
    return _hint(served=served)


def practice_text_answer_submit(
    *, session: PracticeSession, position: int, text: str, now: datetime | None = None
) -> CheckedTextAnswer:
    """Check a typed answer against the syllabus with the verifier, then grade it: right at once when
    verified (every sentence supported by the syllabus, the key's own words used); otherwise the key
    and the evidence are shown and the student's own assessment (``practice_text_answer_assess``)
    grades it. The verifier runs outside any transaction (seconds of CPU); the writes are atomic."""
    now = now or timezone.now()
    text = " ".join(text.split())
    if not text:
        raise LearningError("empty_answer", "Type an answer first.")
    if len(text) > free_text.MAX_ANSWER_CHARS:
        raise LearningError("answer_too_long", f"An answer has at most {free_text.MAX_ANSWER_CHARS} characters.")
    served = (
        SessionQuestion.objects.select_related("question__topic__unit__curriculum", "session")
        .filter(session=session, position=position)
        .first()
    )
    if served is None:
        raise LearningError("no_such_question", "The session has no question at that position.")
    if not served.is_free_text:
        raise LearningError("choice_question", "That question is answered by choosing an option.")
    _check_unanswered(served)
    question = served.question
    chunks = topic_passages(topic=question.topic)
    evidence = [
        EvidencePassage(chunk_id=c.pk, text=c.text, topic=question.topic.title, module=c.document.source_id)
        for c in chunks
    ]
    check = free_text.check_answer(
        answer=text,
        key=question.explanation,
        stem=question.stem,
        curriculum_id=question.topic.unit.curriculum_id,
        evidence=evidence,
        verifier=verify_sentence,  # looked up per call: a test may replace it in this module
    )
    return _text_answer_record(served_id=served.pk, text=text, check=check, now=now)


def _check_unanswered(served: SessionQuestion) -> None:
    if served.session.finished_at is not None:
        raise LearningError("session_finished", "The session is finished.")
    if TextAnswer.objects.filter(session_question=served).exists():
        raise LearningError("already_answered", "That question is already answered.")


@transaction.atomic
def _text_answer_record(*, served_id: int, text: str, check: free_text.TextCheck, now: datetime) -> CheckedTextAnswer:
    served = (
        SessionQuestion.objects.select_for_update().select_related("question__topic__unit", "session").get(pk=served_id)
    )
    _check_unanswered(served)  # again, under the lock: two tabs may have sent the same answer
    run = verification_run_record(curriculum=served.question.topic.unit.curriculum, verdicts=list(check.verdicts))
    TextAnswer.objects.create(
        session_question=served,
        text=text,
        outcome=check.outcome,
        score=check.score,
        key_coverage=check.key_coverage,
        evidence_chunk_ids=list(check.supporting_chunk_ids),
        reasons=list(check.reasons),
        verification_run=run,
        checked_at=now,
    )
    graded = None
    if check.outcome == TextAnswer.Outcome.VERIFIED:
        answer, estimate, card = _grade(served=served, correct=True, now=now, grading="verified")
        graded = _text_graded(served=served, answer=answer, estimate=estimate, card=card)
    chunks = Chunk.objects.in_bulk(list(check.supporting_chunk_ids))
    return CheckedTextAnswer(
        outcome=check.outcome,
        graded=graded,
        key=served.question.explanation,
        evidence=[chunks[i] for i in check.supporting_chunk_ids if i in chunks],
        score=check.score,
        key_coverage=check.key_coverage,
        reasons=list(check.reasons),
    )


def _text_graded(
    *, served: SessionQuestion, answer: PracticeAnswer, estimate: bkt.MasteryEstimate, card: ReviewCard
) -> GradedAnswer:
    return GradedAnswer(
        correct=answer.correct,
        chosen_option=None,
        key_option=None,
        explanation=served.question.explanation,
        topic_id=answer.topic_id,
        mastery_before=answer.mastery_before,
        mastery=estimate,
        next_review=card.due,
    )


@transaction.atomic
def practice_text_answer_assess(
    *, session: PracticeSession, position: int, correct: bool, now: datetime | None = None
) -> GradedAnswer:
    """The student's own grade of a typed answer the verifier could not confirm, given after seeing the
    key and the evidence; it updates mastery and the review card like any graded answer."""
    now = now or timezone.now()
    served = _served_for_update(session=session, position=position)
    checked = TextAnswer.objects.filter(session_question=served).first()
    if checked is None:
        raise LearningError("not_answered", "Type an answer first.")
    if PracticeAnswer.objects.filter(session_question=served).exists():
        raise LearningError("already_answered", "That answer is already graded.")
    answer, estimate, card = _grade(served=served, correct=correct, now=now, grading="self")
    return _text_graded(served=served, answer=answer, estimate=estimate, card=card)


def _mastery_record(
    *, student: AbstractBaseUser, topic: Topic, correct: bool, now: datetime
) -> tuple[float, bkt.MasteryEstimate]:
    params = bkt_params_map(topic_ids=[topic.pk])[topic.pk]
    state, _ = MasteryState.objects.select_for_update().get_or_create(
        student=student, topic=topic, defaults={"mastery": params.p_init}
    )
    before = state.mastery
    history = list(
        PracticeAnswer.objects.filter(student=student, topic=topic)
        .order_by("answered_at", "id")
        .values_list("correct", flat=True)
    )
    if len(history) == state.answers:
        # The topic's answers replayed from the student's prior for it, which their mastery of the
        # course's other practised topics informs (bkt.individual_prior).
        prior = bkt.individual_prior(
            topic_prior=params.p_init, elsewhere=_mastery_elsewhere(student_id=student.pk, topic=topic)
        )
        state.mastery = bkt.estimate([*history, correct], replace(params, p_init=prior)).mastery
    else:
        # A state whose answers are not all on record (made before them): update what it holds.
        state.mastery = bkt.update(before, correct, params)
    state.answers += 1
    state.correct += int(correct)
    state.last_answered_at = now
    state.save(update_fields=["mastery", "answers", "correct", "last_answered_at"])
    _mirror_for_the_tutor(student=student, topic=topic, mastery=state.mastery)
    return before, bkt.MasteryEstimate(mastery=state.mastery, evidence=state.answers)


def _mastery_elsewhere(*, student_id: int, topic: Topic) -> list[float]:
    """The student's mastery of the other topics of ``topic``'s course that they have practised."""
    return list(
        MasteryState.objects.filter(
            student_id=student_id, topic__unit__curriculum_id=topic.unit.curriculum_id, answers__gt=0
        )
        .exclude(topic=topic)
        .values_list("mastery", flat=True)
    )


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


# --- settings: the student's own, the class's defaults ------------------------------------------------


@transaction.atomic
def practice_preference_set(*, student: AbstractBaseUser, hint_first: bool | None) -> PracticePreference:
    """The student's hint-first choice for practice; None goes back to their class's setting (or the app's)."""
    preference, _ = PracticePreference.objects.update_or_create(student=student, defaults={"hint_first": hint_first})
    return preference


@transaction.atomic
def classroom_plan_default_set(
    *,
    classroom: Classroom,
    set_by: AbstractBaseUser,
    exam_date: date | None,
    daily_minutes: int | None,
    now: datetime | None = None,
) -> ClassroomPlanDefault:
    """A teacher's study-plan defaults for their class: the exam date and daily budget a student enrolling
    in it starts with. Students keep what they set themselves; plans already made are not changed."""
    now = now or timezone.now()
    if classroom.teacher_id != set_by.pk and not getattr(set_by, "is_staff", False):
        raise LearningError("not_your_class", "Only the class's teacher sets its defaults.")
    if exam_date is not None and exam_date <= timezone.localdate(now):
        raise LearningError("exam_date_past", "The exam date must be after today.")
    if daily_minutes is not None and not MIN_DAILY_MINUTES <= daily_minutes <= MAX_DAILY_MINUTES:
        raise LearningError(
            "daily_minutes_out_of_range",
            f"The daily time budget must be {MIN_DAILY_MINUTES} to {MAX_DAILY_MINUTES} minutes.",
        )
    default, _ = ClassroomPlanDefault.objects.update_or_create(
        classroom=classroom,
        defaults={
            "exam_date": exam_date,
            "daily_minutes": daily_minutes,
            "updated_by": set_by,
        },
    )
    return default


# --- questions generated from the syllabus -------------------------------------------------------------

# Clozes made per topic: a practice session's worth and a few spare.
GENERATED_PER_TOPIC = 8


@dataclass(frozen=True, kw_only=True)
class GenerationReport:
    topics: int
    """Topics that had fewer keyed questions than asked for, and got candidates."""
    key_terms: int
    candidates: int
    created: int
    discarded_key_unverified: int
    """The keyed sentence was not found supported by its passage."""
    discarded_ambiguous: int
    """A distractor's sentence was found supported too: two right answers."""
    existing: int
    """Already generated before (same sentence and term)."""


def practice_questions_generate(
    *,
    curriculum: Curriculum,
    below: int = 1,
    per_topic: int = GENERATED_PER_TOPIC,
    now: datetime | None = None,
) -> GenerationReport:
    """Make cloze questions for the topics with fewer than ``below`` keyed questions (by default: none),
    from sentences of their own passages that use a key term of the book, with other key terms as
    distractors. Each is verified before it is stored: the keyed sentence must be supported by its
    passage and no distractor's sentence may be. Stored as the curriculum's practice questions (source
    ``generated-cloze-...``) with their provenance; running it again adds only new ones."""
    now = now or timezone.now()
    passages = book_passages(curriculum=curriculum)
    outline = keyed_question_counts(curriculum=curriculum)
    wanting = {topic_id for topic_id, keyed in outline.items() if keyed < below}
    terms = generation.key_terms(passages)
    candidates = generation.clozes(passages=passages, terms=terms, topic_ids=wanting, per_topic=per_topic)
    existing = set(
        PracticeQuestion.objects.filter(
            topic__unit__curriculum=curriculum, source_id__startswith="generated-cloze-"
        ).values_list("source_id", flat=True)
    )
    fresh = [c for c in candidates if c.source_id not in existing]
    texts = {c.chunk_id: t for c in fresh for t in [_chunk_text(passages, c.chunk_id)]}
    checks = asyncio.run(_verify_clozes(fresh, curriculum_id=curriculum.pk, chunk_texts=texts))
    created = unverified = ambiguous = 0
    for cloze, (key_verdict, others) in zip(fresh, checks, strict=True):
        if key_verdict.verdict != "supported":
            unverified += 1
            continue
        if any(v.verdict == "supported" for v in others):
            ambiguous += 1
            continue
        _generated_question_create(cloze=cloze, key_verdict=key_verdict, now=now)
        created += 1
    return GenerationReport(
        topics=len({c.topic_id for c in candidates}),
        key_terms=len(terms),
        candidates=len(candidates),
        created=created,
        discarded_key_unverified=unverified,
        discarded_ambiguous=ambiguous,
        existing=len(candidates) - len(fresh),
    )


def _chunk_text(passages: Sequence[generation.BookPassage], chunk_id: int) -> str:
    return next(p.text for p in passages if p.chunk_id == chunk_id)


async def _verify_clozes(
    clozes: Sequence[generation.Cloze], *, curriculum_id: int, chunk_texts: dict[int, str]
) -> list[tuple[SentenceVerdict, list[SentenceVerdict]]]:
    limit = asyncio.Semaphore(free_text.MAX_CONCURRENT_CHECKS)

    async def check(cloze: generation.Cloze, sentence: str) -> SentenceVerdict:
        evidence = [EvidencePassage(chunk_id=cloze.chunk_id, text=chunk_texts[cloze.chunk_id], topic="", module="")]
        async with limit:
            return await verify_sentence(
                index=0, sentence=sentence, curriculum_id=curriculum_id, answer_evidence=evidence, allow_revision=False
            )

    async def one(cloze: generation.Cloze) -> tuple[SentenceVerdict, list[SentenceVerdict]]:
        key = await check(cloze, cloze.filled[cloze.answer_index])
        if key.verdict != "supported":
            return key, []
        others = [s for i, s in enumerate(cloze.filled) if i != cloze.answer_index]
        return key, list(await asyncio.gather(*(check(cloze, s) for s in others)))

    return list(await asyncio.gather(*(one(c) for c in clozes)))


@transaction.atomic
def _generated_question_create(
    *, cloze: generation.Cloze, key_verdict: SentenceVerdict, now: datetime
) -> PracticeQuestion:
    question, _ = PracticeQuestion.objects.update_or_create(
        topic_id=cloze.topic_id,
        source_id=cloze.source_id,
        defaults={
            "stem": cloze.stem,
            "choices": list(cloze.choices),
            "answer_index": cloze.answer_index,
            "explanation": f"The syllabus says: {cloze.sentence}",
        },
    )
    GeneratedQuestion.objects.update_or_create(
        question=question,
        defaults={
            "kind": GeneratedQuestion.Kind.CLOZE,
            "chunk_id": cloze.chunk_id,
            "sentence": cloze.sentence,
            "term": cloze.term,
            "key_score": key_verdict.score,
            "checker_version": key_verdict.records[0].checker_version if key_verdict.records else "",
            "created_at": now,
        },
    )
    return question


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
        prior = bkt.individual_prior(
            topic_prior=result.params.p_init, elsewhere=_mastery_elsewhere(student_id=state.student_id, topic=topic)
        )
        estimate = bkt.estimate(sequences.get(state.student_id, []), replace(result.params, p_init=prior))
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
