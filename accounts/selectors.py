"""A student's data export: everything the app holds about one student, as one typed document.

Only rows reached from the student themself are read (their own foreign key, or a parent that has
it), so nothing of another student can appear. Left out on purpose: the password hash, API tokens and
sessions (credentials, not data about the student), and a withheld sentence's text (the student was
never shown it: only its place, as in the answer history).
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Prefetch
from django.utils import timezone

from curriculum.models import Enrollment
from learning.models import MasteryState, PracticePreference, PracticeSession, ReviewCard, SessionQuestion
from tutor.models import AnswerSentence, Conversation, LearnerProfile, Message, SentenceReview, TopicMastery

EXPORT_FORMAT = 1


@dataclass(frozen=True, kw_only=True)
class AccountExport:
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    date_joined: datetime
    last_login: datetime | None
    level: str | None
    """The learner profile's level; None when the student never set one."""
    hint_first: bool | None
    """The student's own practice preference; None: they follow their class."""


@dataclass(frozen=True, kw_only=True)
class ClassExport:
    name: str
    teacher: str
    """The teacher's username, as the student saw it when joining."""


@dataclass(frozen=True, kw_only=True)
class PlanItemExport:
    day: date
    position: int
    kind: str
    topic: str | None
    questions: int
    minutes: int
    done_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class StudyPlanExport:
    daily_minutes: int
    predicted_readiness: float
    created_at: datetime
    updated_at: datetime
    items: list[PlanItemExport]


@dataclass(frozen=True, kw_only=True)
class EnrollmentExport:
    curriculum: str
    curriculum_title: str
    exam_date: date | None
    created_at: datetime
    classroom: ClassExport | None
    study_plan: StudyPlanExport | None


@dataclass(frozen=True, kw_only=True)
class SentenceExport:
    index: int
    text: str | None
    """None for a withheld sentence: it was not shown."""
    verdict: str | None
    delivery: str
    citations: list[dict]
    correction: str | None
    """A teacher's correction of the sentence, as shown to the student."""


@dataclass(frozen=True, kw_only=True)
class MessageExport:
    id: int
    client_msg_id: str
    question: str
    answer: str
    status: str
    error_code: str
    created_at: datetime
    completed_at: datetime | None
    sentences: list[SentenceExport]


@dataclass(frozen=True, kw_only=True)
class ConversationExport:
    id: int
    curriculum: str
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageExport]


@dataclass(frozen=True, kw_only=True)
class MasteryExport:
    curriculum: str
    topic: str
    mastery: float
    answers: int
    correct: int
    last_answered_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class TutorMasteryExport:
    curriculum: str
    topic: str
    mastery: float
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class ReviewCardExport:
    question: str
    topic: str
    state: int
    step: int | None
    stability: float | None
    difficulty: float | None
    due: datetime
    last_review: datetime | None
    reviews: int
    lapses: int


@dataclass(frozen=True, kw_only=True)
class PracticeAnswerExport:
    chosen_option: int | None
    correct: bool
    grading: str
    hinted: bool
    retry_option: int | None
    retry_correct: bool | None
    mastery_before: float
    mastery_after: float
    answered_at: datetime


@dataclass(frozen=True, kw_only=True)
class TextAnswerExport:
    text: str
    outcome: str
    score: float
    key_coverage: float
    reasons: list
    checked_at: datetime


@dataclass(frozen=True, kw_only=True)
class SessionQuestionExport:
    position: int
    question: str
    options: list
    key_option: int | None
    hint_shown_at: datetime | None
    answer: PracticeAnswerExport | None
    text_answer: TextAnswerExport | None


@dataclass(frozen=True, kw_only=True)
class PracticeSessionExport:
    id: int
    curriculum: str
    kind: str
    topic: str | None
    hint_first: bool
    started_at: datetime
    finished_at: datetime | None
    questions: list[SessionQuestionExport]


@dataclass(frozen=True, kw_only=True)
class UserDataExport:
    format: int
    exported_at: datetime
    account: AccountExport
    enrollments: list[EnrollmentExport]
    conversations: list[ConversationExport]
    mastery: list[MasteryExport]
    """The learner model's estimate per topic (BKT, from practice)."""
    tutor_mastery: list[TutorMasteryExport]
    """The tutor's own per-topic estimate."""
    review_cards: list[ReviewCardExport]
    practice_sessions: list[PracticeSessionExport]


def _account(user: AbstractBaseUser) -> AccountExport:
    profile = LearnerProfile.objects.filter(student=user).first()
    preference = PracticePreference.objects.filter(student=user).first()
    return AccountExport(
        id=user.pk,
        username=user.get_username(),
        email=getattr(user, "email", ""),
        first_name=getattr(user, "first_name", ""),
        last_name=getattr(user, "last_name", ""),
        date_joined=user.date_joined,  # type: ignore[attr-defined]
        last_login=user.last_login,
        level=profile.level if profile else None,
        hint_first=preference.hint_first if preference else None,
    )


def _enrollments(user: AbstractBaseUser) -> list[EnrollmentExport]:
    enrollments = (
        Enrollment.objects.filter(student=user)
        .select_related("curriculum", "classroom__teacher", "study_plan")
        .prefetch_related("study_plan__items__topic")
        .order_by("created_at", "id")
    )
    result = []
    for enrollment in enrollments:
        classroom = enrollment.classroom
        plan = getattr(enrollment, "study_plan", None)
        result.append(
            EnrollmentExport(
                curriculum=enrollment.curriculum.slug,
                curriculum_title=enrollment.curriculum.title,
                exam_date=enrollment.exam_date,
                created_at=enrollment.created_at,
                classroom=ClassExport(name=classroom.name, teacher=classroom.teacher.get_username())
                if classroom is not None
                else None,
                study_plan=StudyPlanExport(
                    daily_minutes=plan.daily_minutes,
                    predicted_readiness=plan.predicted_readiness,
                    created_at=plan.created_at,
                    updated_at=plan.updated_at,
                    items=[
                        PlanItemExport(
                            day=item.day,
                            position=item.position,
                            kind=item.kind,
                            topic=item.topic.title if item.topic else None,
                            questions=item.questions,
                            minutes=item.minutes,
                            done_at=item.done_at,
                        )
                        for item in plan.items.all()
                    ],
                )
                if plan is not None
                else None,
            )
        )
    return result


def _sentence(sentence: AnswerSentence) -> SentenceExport:
    review = getattr(sentence, "review", None)
    corrected = review is not None and review.outcome == SentenceReview.Outcome.CORRECTED
    return SentenceExport(
        index=sentence.index,
        text=None if sentence.delivery == AnswerSentence.Delivery.WITHHELD else sentence.text,
        verdict=sentence.verdict,
        delivery=sentence.delivery,
        citations=list(sentence.citations or []),
        correction=review.correction if corrected and review is not None else None,
    )


def _conversations(user: AbstractBaseUser) -> list[ConversationExport]:
    messages = Message.objects.filter(student=user).prefetch_related(
        Prefetch("sentences", queryset=AnswerSentence.objects.select_related("review").order_by("index"))
    )
    conversations = (
        Conversation.objects.filter(student=user)
        .select_related("curriculum")
        .prefetch_related(Prefetch("messages", queryset=messages))
        .order_by("created_at", "id")
    )
    return [
        ConversationExport(
            id=conversation.pk,
            curriculum=conversation.curriculum.slug,
            title=conversation.title,
            created_at=conversation.created_at,
            updated_at=conversation.updated_at,
            messages=[
                MessageExport(
                    id=message.pk,
                    client_msg_id=message.client_msg_id,
                    question=message.question,
                    answer=message.answer,
                    status=message.status,
                    error_code=message.error_code,
                    created_at=message.created_at,
                    completed_at=message.completed_at,
                    sentences=[_sentence(s) for s in message.sentences.all()],
                )
                for message in conversation.messages.all()
            ],
        )
        for conversation in conversations
    ]


def _practice_sessions(user: AbstractBaseUser) -> list[PracticeSessionExport]:
    questions = SessionQuestion.objects.select_related("question", "answer", "text_answer").order_by("position")
    sessions = (
        PracticeSession.objects.filter(student=user)
        .select_related("enrollment__curriculum", "topic")
        .prefetch_related(Prefetch("questions", queryset=questions))
        .order_by("started_at", "id")
    )
    result = []
    for session in sessions:
        items = []
        for sq in session.questions.all():
            answer = getattr(sq, "answer", None)
            text_answer = getattr(sq, "text_answer", None)
            items.append(
                SessionQuestionExport(
                    position=sq.position,
                    question=sq.question.stem,
                    options=list(sq.options or []),
                    key_option=sq.key_option,
                    hint_shown_at=sq.hint_shown_at,
                    answer=PracticeAnswerExport(
                        chosen_option=answer.chosen_option,
                        correct=answer.correct,
                        grading=answer.grading,
                        hinted=answer.hinted,
                        retry_option=answer.retry_option,
                        retry_correct=answer.retry_correct,
                        mastery_before=answer.mastery_before,
                        mastery_after=answer.mastery_after,
                        answered_at=answer.answered_at,
                    )
                    if answer is not None
                    else None,
                    text_answer=TextAnswerExport(
                        text=text_answer.text,
                        outcome=text_answer.outcome,
                        score=text_answer.score,
                        key_coverage=text_answer.key_coverage,
                        reasons=list(text_answer.reasons or []),
                        checked_at=text_answer.checked_at,
                    )
                    if text_answer is not None
                    else None,
                )
            )
        result.append(
            PracticeSessionExport(
                id=session.pk,
                curriculum=session.enrollment.curriculum.slug,
                kind=session.kind,
                topic=session.topic.title if session.topic else None,
                hint_first=session.hint_first,
                started_at=session.started_at,
                finished_at=session.finished_at,
                questions=items,
            )
        )
    return result


def user_data_export(*, user: AbstractBaseUser) -> UserDataExport:
    """Everything the app holds about ``user`` as a student, oldest first within each list."""
    mastery = MasteryState.objects.filter(student=user).select_related("topic__unit__curriculum").order_by("topic_id")
    tutor_mastery = (
        TopicMastery.objects.filter(student=user).select_related("topic__unit__curriculum").order_by("topic_id")
    )
    cards = ReviewCard.objects.filter(student=user).select_related("question__topic").order_by("due", "id")
    return UserDataExport(
        format=EXPORT_FORMAT,
        exported_at=timezone.now(),
        account=_account(user),
        enrollments=_enrollments(user),
        conversations=_conversations(user),
        mastery=[
            MasteryExport(
                curriculum=m.topic.unit.curriculum.slug,
                topic=m.topic.title,
                mastery=m.mastery,
                answers=m.answers,
                correct=m.correct,
                last_answered_at=m.last_answered_at,
            )
            for m in mastery
        ],
        tutor_mastery=[
            TutorMasteryExport(
                curriculum=m.topic.unit.curriculum.slug, topic=m.topic.title, mastery=m.mastery, updated_at=m.updated_at
            )
            for m in tutor_mastery
        ],
        review_cards=[
            ReviewCardExport(
                question=card.question.stem,
                topic=card.question.topic.title,
                state=card.state,
                step=card.step,
                stability=card.stability,
                difficulty=card.difficulty,
                due=card.due,
                last_review=card.last_review,
                reviews=card.reviews,
                lapses=card.lapses,
            )
            for card in cards
        ],
        practice_sessions=_practice_sessions(user),
    )
