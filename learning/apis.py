"""REST endpoints of the learner model, under ``me/`` (always the signed-in student's own): the study
plan (enrol with an exam date, today, calendar, reschedule), practice sessions, reviews due, progress.

Thin: parse, call one service or selector, format.
"""

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import ErrorResponseSerializer
from curriculum.models import Classroom, Curriculum
from curriculum.selectors import curriculum_can_study, curriculum_get, topic_get, user_is_teacher

from .models import PracticeSession, StudyPlan
from .plan import QUESTIONS_PER_SESSION
from .selectors import (
    HintFirstSetting,
    PlanDay,
    classroom_for_teacher,
    classroom_plan_default_get,
    enrollment_get,
    hint_first_for,
    plan_days,
    plan_item_status,
    practice_session_get,
    progress_by_topic,
    progress_over_time,
    reviews_due,
    study_plan_get,
)
from .services import (
    MAX_DAILY_MINUTES,
    MAX_SESSION_QUESTIONS,
    MIN_DAILY_MINUTES,
    QUESTION_FORMATS,
    LearningError,
    classroom_plan_default_set,
    practice_answer_submit,
    practice_hint_show,
    practice_preference_set,
    practice_session_finish,
    practice_session_start,
    practice_text_answer_assess,
    practice_text_answer_submit,
    study_plan_enrol,
    study_plan_refresh,
    study_plan_reschedule,
)

# Refusals the client can act on get the status that says what is wrong; the rest are 400.
_REFUSAL_STATUS = {
    "not_enrolled": status.HTTP_403_FORBIDDEN,
    "no_such_question": status.HTTP_404_NOT_FOUND,
    "already_answered": status.HTTP_409_CONFLICT,
    "session_finished": status.HTTP_409_CONFLICT,
    "nothing_planned": status.HTTP_409_CONFLICT,
    "no_questions": status.HTTP_409_CONFLICT,
    "not_answered": status.HTTP_409_CONFLICT,
    "not_your_class": status.HTTP_404_NOT_FOUND,
}
_ERRORS = {
    400: ErrorResponseSerializer,
    401: ErrorResponseSerializer,
    403: ErrorResponseSerializer,
    404: ErrorResponseSerializer,
    409: ErrorResponseSerializer,
}


class LearningRefused(APIException):
    """A LearningError in the API's error body, with its own code."""

    def __init__(self, error: LearningError) -> None:
        self.status_code = _REFUSAL_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST)
        super().__init__(detail=error.message, code=error.code)


def _curriculum_or_404(slug: str) -> Curriculum:
    curriculum = curriculum_get(slug=slug)
    if curriculum is None:
        raise NotFound(f"No curriculum '{slug}'.")
    return curriculum


def _plan_or_404(request: Request, slug: str) -> StudyPlan:
    plan = study_plan_get(student=request.user, curriculum=_curriculum_or_404(slug))
    if plan is None:
        raise NotFound("No study plan: enrol with an exam date first.")
    return plan


def _session_or_404(request: Request, session_id: int) -> PracticeSession:
    session = practice_session_get(student=request.user, session_id=session_id)
    if session is None:
        raise NotFound("No such practice session.")
    return session


class PlanSerializer(serializers.Serializer):
    curriculum = serializers.SlugField(source="enrollment.curriculum.slug")
    exam_date = serializers.DateField(source="enrollment.exam_date")
    daily_minutes = serializers.IntegerField()
    predicted_readiness = serializers.FloatField(
        help_text="Expected fraction of right answers on an exam with one question per topic, if the plan is followed."
    )
    unplaced_sessions = serializers.IntegerField(
        help_text="Practice sessions the topics need that do not fit before the exam."
    )
    computed_for = serializers.DateField(help_text="The day the plan was last recomputed from.")


class PlanItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    day = serializers.DateField()
    kind = serializers.ChoiceField(choices=["review", "learn", "practice"])
    topic_id = serializers.IntegerField(allow_null=True)
    topic = serializers.CharField(
        allow_null=True, help_text='The section as the book numbers it, e.g. "5.2 Passive Transport".'
    )
    questions = serializers.IntegerField()
    minutes = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["done", "missed", "planned"])


class PlanDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    minutes = serializers.IntegerField()
    items = PlanItemSerializer(many=True)


def _plan_day_data(day: PlanDay) -> dict:
    today = timezone.localdate()
    return {
        "day": day.day,
        "minutes": day.minutes,
        "items": [
            {
                "id": item.pk,
                "day": item.day,
                "kind": item.kind,
                "topic_id": item.topic_id,
                "topic": item.topic.label if item.topic else None,
                "questions": item.questions,
                "minutes": item.minutes,
                "status": plan_item_status(item=item, today=today),
            }
            for item in day.items
        ],
    }


class StudyPlanEnrolApi(APIView):
    class InputSerializer(serializers.Serializer):
        curriculum = serializers.SlugField()
        exam_date = serializers.DateField(
            required=False, help_text="Default: the student's current one, else their class's (teacher's default)."
        )
        daily_minutes = serializers.IntegerField(
            min_value=MIN_DAILY_MINUTES,
            max_value=MAX_DAILY_MINUTES,
            required=False,
            help_text="Default: the student's current one, else their class's.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: PlanSerializer, **_ERRORS},
        operation_id="me_study_plans_create",
        description="Enrol with an exam date and a daily time budget, and compute the plan. Enrolling again changes "
        "the date or budget and keeps all progress. A student in a class may leave out what the teacher set as the "
        "class's default.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        curriculum = _curriculum_or_404(data["curriculum"])
        try:
            plan = study_plan_enrol(
                student=request.user,
                curriculum=curriculum,
                exam_date=data.get("exam_date"),
                daily_minutes=data.get("daily_minutes"),
            )
        except LearningError as error:
            raise LearningRefused(error) from error
        return Response(PlanSerializer(plan).data, status=status.HTTP_201_CREATED)


class StudyPlanDetailApi(APIView):
    @extend_schema(responses={200: PlanSerializer, **_ERRORS}, operation_id="me_study_plans_retrieve")
    def get(self, request: Request, slug: str) -> Response:
        return Response(PlanSerializer(_plan_or_404(request, slug)).data)


class StudyPlanTodayApi(APIView):
    @extend_schema(
        responses={200: PlanDaySerializer, **_ERRORS},
        operation_id="me_study_plans_today",
        description="Today's items, due reviews first; done ones marked. A plan last computed before today is "
        "recomputed first (missed days are re-planned).",
    )
    def get(self, request: Request, slug: str) -> Response:
        plan = study_plan_refresh(plan=_plan_or_404(request, slug))
        today = timezone.localdate()
        days = plan_days(plan=plan, start=today, end=today)
        day = days[0] if days else None
        data = _plan_day_data(day) if day else {"day": today, "minutes": 0, "items": []}
        return Response(PlanDaySerializer(data).data)


class StudyPlanCalendarApi(APIView):
    class OutputSerializer(serializers.Serializer):
        plan = PlanSerializer()
        days = PlanDaySerializer(many=True)

    @extend_schema(
        responses={200: OutputSerializer, **_ERRORS},
        operation_id="me_study_plans_calendar",
        description="Every day of the plan up to the exam, past days included with done and missed items. A plan "
        "last computed before today is recomputed first.",
    )
    def get(self, request: Request, slug: str) -> Response:
        plan = study_plan_refresh(plan=_plan_or_404(request, slug))
        data = {"plan": plan, "days": [_plan_day_data(day) for day in plan_days(plan=plan)]}
        return Response(self.OutputSerializer(data).data)


class StudyPlanRescheduleApi(APIView):
    class InputSerializer(serializers.Serializer):
        exam_date = serializers.DateField(required=False)
        daily_minutes = serializers.IntegerField(
            min_value=MIN_DAILY_MINUTES, max_value=MAX_DAILY_MINUTES, required=False
        )

    @extend_schema(
        request=InputSerializer,
        responses={200: PlanSerializer, **_ERRORS},
        operation_id="me_study_plans_reschedule",
        description="Recompute the plan from today (after missed days or new results), optionally with a new exam "
        "date or budget. Progress is kept: it lives in answers, mastery and review cards, not in the plan.",
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = _plan_or_404(request, slug)
        try:
            plan = study_plan_reschedule(plan=plan, **serializer.validated_data)
        except LearningError as error:
            raise LearningRefused(error) from error
        return Response(PlanSerializer(plan).data)


class SessionSerializer(serializers.Serializer):
    class QuestionSerializer(serializers.Serializer):
        position = serializers.IntegerField()
        question_id = serializers.IntegerField()
        topic_id = serializers.IntegerField(source="question.topic_id")
        stem = serializers.CharField(source="question.stem")
        format = serializers.ChoiceField(
            choices=["choice", "text"], help_text="choice: pick an option (answers/); text: type it (text-answers/)."
        )
        options = serializers.ListField(child=serializers.CharField(), help_text="Empty for a free-text question.")
        answered = serializers.BooleanField()
        hint_shown = serializers.BooleanField()

    id = serializers.IntegerField()
    hint_first = serializers.BooleanField(
        help_text="A wrong first answer gets a hint and a second try before the key is shown."
    )
    curriculum = serializers.SlugField(source="enrollment.curriculum.slug")
    kind = serializers.CharField()
    topic_id = serializers.IntegerField(allow_null=True)
    plan_item_id = serializers.IntegerField(allow_null=True)
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    questions = QuestionSerializer(many=True)


def _session_data(session: PracticeSession) -> dict:
    rows = session.questions.select_related("question").order_by("position")
    answered = set(rows.filter(answer__isnull=False).values_list("position", flat=True))
    return {
        "id": session.pk,
        "enrollment": session.enrollment,
        "kind": session.kind,
        "topic_id": session.topic_id,
        "plan_item_id": session.plan_item_id,
        "hint_first": session.hint_first,
        "started_at": session.started_at,
        "finished_at": session.finished_at,
        "questions": [
            {
                "position": r.position,
                "question_id": r.question_id,
                "question": r.question,
                "format": "text" if r.is_free_text else "choice",
                "options": r.options,
                "answered": r.position in answered,
                "hint_shown": r.hint_shown_at is not None,
            }
            for r in rows
        ],
    }


class PracticeSessionStartApi(APIView):
    class InputSerializer(serializers.Serializer):
        curriculum = serializers.SlugField()
        kind = serializers.ChoiceField(choices=PracticeSession.Kind.choices)
        topic_id = serializers.IntegerField(required=False, help_text="The topic, for kind=topic.")
        size = serializers.IntegerField(min_value=1, max_value=MAX_SESSION_QUESTIONS, default=QUESTIONS_PER_SESSION)
        question_format = serializers.ChoiceField(
            choices=QUESTION_FORMATS,
            default="choice",
            help_text="choice: multiple choice; text: free response checked by the verifier; any: both.",
        )

    @extend_schema(
        request=InputSerializer,
        responses={201: SessionSerializer, **_ERRORS},
        operation_id="me_practice_sessions_create",
        description="Start a session: questions on one topic, today's next plan item, or due reviews. Options are "
        "shown without the key; no question or option appears twice.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        curriculum = _curriculum_or_404(data["curriculum"])
        topic = topic_get(topic_id=data["topic_id"]) if "topic_id" in data else None
        try:
            session = practice_session_start(
                student=request.user,
                curriculum=curriculum,
                kind=data["kind"],
                topic=topic,
                size=data["size"],
                question_format=data["question_format"],
            )
        except LearningError as error:
            raise LearningRefused(error) from error
        return Response(SessionSerializer(_session_data(session)).data, status=status.HTTP_201_CREATED)


class PracticeSessionDetailApi(APIView):
    @extend_schema(responses={200: SessionSerializer, **_ERRORS}, operation_id="me_practice_sessions_retrieve")
    def get(self, request: Request, session_id: int) -> Response:
        return Response(SessionSerializer(_session_data(_session_or_404(request, session_id))).data)


class HintSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="The section's sentence the question rests on, the answer blanked.")
    section = serializers.CharField(help_text='The section as the book numbers it, e.g. "5.2 Passive Transport".')
    chunk_id = serializers.IntegerField(allow_null=True, help_text="The cited passage; null when only named.")


class GradedAnswerSerializer(serializers.Serializer):
    correct = serializers.BooleanField()
    chosen_option = serializers.IntegerField(allow_null=True)
    key_option = serializers.IntegerField(allow_null=True, help_text="Null until the key is shown.")
    explanation = serializers.CharField(allow_blank=True)
    topic_id = serializers.IntegerField()
    mastery_before = serializers.FloatField()
    mastery = serializers.FloatField(source="mastery.mastery")
    uncertainty = serializers.FloatField(source="mastery.uncertainty")
    evidence = serializers.IntegerField(source="mastery.evidence", help_text="Graded answers the mastery rests on.")
    next_review = serializers.DateTimeField(help_text="When spaced repetition (FSRS) brings the question back.")
    revealed = serializers.BooleanField(help_text="Whether the key and explanation are shown.")
    hint = HintSerializer(allow_null=True)
    can_retry = serializers.BooleanField(help_text="Hint-first: one more try is allowed before the key is shown.")
    retry = serializers.BooleanField(help_text="This grades the second try.")


class PracticeAnswerApi(APIView):
    class InputSerializer(serializers.Serializer):
        position = serializers.IntegerField(min_value=0)
        option = serializers.IntegerField(min_value=0, help_text="Index into the question's shown options.")

    OutputSerializer = GradedAnswerSerializer

    @extend_schema(
        request=InputSerializer,
        responses={200: GradedAnswerSerializer, **_ERRORS},
        operation_id="me_practice_sessions_answer",
        description="Answer one multiple-choice question: graded exactly against the key, then mastery (BKT) and the "
        "review card (FSRS) are updated. In a hint-first session a wrong first answer gets a hint instead of the key "
        "and may be answered once more (the second try is graded for the student; mastery takes the first).",
    )
    def post(self, request: Request, session_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = _session_or_404(request, session_id)
        try:
            graded = practice_answer_submit(session=session, **serializer.validated_data)
        except LearningError as error:
            raise LearningRefused(error) from error
        return Response(self.OutputSerializer(graded).data)


class PracticeHintApi(APIView):
    class InputSerializer(serializers.Serializer):
        position = serializers.IntegerField(min_value=0)

    @extend_schema(
        request=InputSerializer,
        responses={200: HintSerializer, **_ERRORS},
        operation_id="me_practice_sessions_hint",
        description="A hint for an unanswered question before its answer: the sentence of its section it rests on, "
        "with the answer blanked. The answer that follows is marked as hinted.",
    )
    def post(self, request: Request, session_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = _session_or_404(request, session_id)
        try:
            hint = practice_hint_show(session=session, **serializer.validated_data)
        except LearningError as error:
            raise LearningRefused(error) from error
        return Response(HintSerializer(hint).data)


class EvidenceSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField(source="pk")
    module = serializers.CharField(source="document.source_id")
    section = serializers.CharField(source="document.topic.label")
    text = serializers.CharField()


class PracticeTextAnswerApi(APIView):
    class InputSerializer(serializers.Serializer):
        position = serializers.IntegerField(min_value=0)
        text = serializers.CharField(max_length=2000)

    class OutputSerializer(serializers.Serializer):
        check = serializers.ChoiceField(
            source="outcome",
            choices=["verified", "unconfirmed", "contradicted"],
            help_text="verified: graded right (supported by the syllabus and on the key). Otherwise the student "
            "compares with the key and the evidence and assesses it (text-answers/assess/).",
        )
        graded = GradedAnswerSerializer(allow_null=True, help_text="The grade when verified; null until assessed.")
        key = serializers.CharField(help_text="The book's model answer.")
        evidence = EvidenceSerializer(many=True, help_text="The supporting passages, or the ones checked against.")
        score = serializers.FloatField(help_text="The verifier's weakest-sentence probability of support.")
        key_coverage = serializers.FloatField(help_text="Share of the key's own words the answer uses.")
        reasons = serializers.ListField(child=serializers.CharField(), help_text="Failed deterministic checks.")

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, **_ERRORS},
        operation_id="me_practice_sessions_text_answer",
        description="Answer a free-text question. Each sentence is checked against the syllabus by the verifier. "
        "Verified answers are graded right at once; any other is never graded wrong by the machine: the key and "
        "the evidence are shown and the student's own assessment grades it.",
    )
    def post(self, request: Request, session_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = _session_or_404(request, session_id)
        try:
            checked = practice_text_answer_submit(session=session, **serializer.validated_data)
        except LearningError as error:
            raise LearningRefused(error) from error
        return Response(self.OutputSerializer(checked).data)


class PracticeTextAssessApi(APIView):
    class InputSerializer(serializers.Serializer):
        position = serializers.IntegerField(min_value=0)
        correct = serializers.BooleanField(help_text="The student's own verdict after comparing with the key.")

    @extend_schema(
        request=InputSerializer,
        responses={200: GradedAnswerSerializer, **_ERRORS},
        operation_id="me_practice_sessions_text_assess",
        description="Grade a typed answer the verifier could not confirm, by the student's own assessment; mastery "
        "and the review card are updated as for any answer.",
    )
    def post(self, request: Request, session_id: int) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = _session_or_404(request, session_id)
        try:
            graded = practice_text_answer_assess(session=session, **serializer.validated_data)
        except LearningError as error:
            raise LearningRefused(error) from error
        return Response(GradedAnswerSerializer(graded).data)


class PracticeSessionFinishApi(APIView):
    class OutputSerializer(serializers.Serializer):
        session_id = serializers.IntegerField()
        questions = serializers.IntegerField()
        answered = serializers.IntegerField()
        correct = serializers.IntegerField()
        plan_item_done = serializers.BooleanField()
        predicted_readiness = serializers.FloatField(allow_null=True)

    @extend_schema(
        request=None,
        responses={200: OutputSerializer, **_ERRORS},
        operation_id="me_practice_sessions_finish",
        description="Finish the session (idempotent); the plan is recomputed with the new results.",
    )
    def post(self, request: Request, session_id: int) -> Response:
        summary = practice_session_finish(session=_session_or_404(request, session_id))
        return Response(self.OutputSerializer(summary).data)


_CURRICULUM_PARAM = OpenApiParameter("curriculum", str, required=True, description="The curriculum's slug.")


class ReviewDueListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        question_id = serializers.IntegerField()
        topic_id = serializers.IntegerField(source="question.topic_id")
        topic = serializers.CharField(source="question.topic.label")
        stem = serializers.CharField(source="question.stem")
        due = serializers.DateTimeField()
        reviews = serializers.IntegerField()
        lapses = serializers.IntegerField()

    @extend_schema(
        parameters=[_CURRICULUM_PARAM],
        responses={200: OutputSerializer(many=True), **_ERRORS},
        operation_id="me_reviews_due",
        description="Questions spaced repetition (FSRS) has due now, most overdue first.",
    )
    def get(self, request: Request) -> Response:
        curriculum = _curriculum_or_404(request.query_params.get("curriculum", ""))
        if not curriculum_can_study(user=request.user, curriculum=curriculum):
            raise LearningRefused(LearningError("not_enrolled", "Enrol in the curriculum first."))
        return Response(self.OutputSerializer(reviews_due(student=request.user, curriculum=curriculum), many=True).data)


class TopicProgressListApi(APIView):
    class OutputSerializer(serializers.Serializer):
        topic_id = serializers.IntegerField()
        label = serializers.CharField()
        chapter = serializers.CharField()
        mastery = serializers.FloatField(help_text="BKT probability the topic is known.")
        uncertainty = serializers.FloatField(
            help_text="Standard error of the estimate: sqrt(m (1 - m) / (answers + 1)), shrinking with evidence."
        )
        answers = serializers.IntegerField(help_text="Graded answers the estimate rests on.")
        correct = serializers.IntegerField()
        mastered = serializers.BooleanField()
        prerequisites = serializers.ListField(child=serializers.IntegerField())

    @extend_schema(
        responses={200: OutputSerializer(many=True), **_ERRORS},
        operation_id="me_progress_topics",
        description="Mastery per topic in book order, with its evidence and uncertainty.",
    )
    def get(self, request: Request, slug: str) -> Response:
        curriculum = _curriculum_or_404(slug)
        if not curriculum_can_study(user=request.user, curriculum=curriculum):
            raise LearningRefused(LearningError("not_enrolled", "Enrol in the curriculum first."))
        return Response(
            self.OutputSerializer(progress_by_topic(student=request.user, curriculum=curriculum), many=True).data
        )


class ProgressHistoryApi(APIView):
    class OutputSerializer(serializers.Serializer):
        day = serializers.DateField()
        answers = serializers.IntegerField()
        correct = serializers.IntegerField()
        mean_mastery = serializers.FloatField()
        topics_mastered = serializers.IntegerField()

    @extend_schema(
        responses={200: OutputSerializer(many=True), **_ERRORS},
        operation_id="me_progress_history",
        description="Progress over time: per day answered, its answers and the curriculum's mean mastery at its end.",
    )
    def get(self, request: Request, slug: str) -> Response:
        curriculum = _curriculum_or_404(slug)
        if not curriculum_can_study(user=request.user, curriculum=curriculum):
            raise LearningRefused(LearningError("not_enrolled", "Enrol in the curriculum first."))
        return Response(
            self.OutputSerializer(progress_over_time(student=request.user, curriculum=curriculum), many=True).data
        )


class PracticePreferenceApi(APIView):
    class InputSerializer(serializers.Serializer):
        hint_first = serializers.BooleanField(allow_null=True, help_text="Null: follow the class's setting.")

    class OutputSerializer(serializers.Serializer):
        hint_first = serializers.BooleanField(help_text="In effect for this curriculum.")
        source = serializers.ChoiceField(choices=["student", "class", "default"])

    @extend_schema(
        parameters=[OpenApiParameter("curriculum", str, required=False, description="Whose class's setting applies.")],
        responses={200: OutputSerializer, **_ERRORS},
        operation_id="me_practice_preferences_retrieve",
        description="Whether practice is hint-first for the student, and whose setting that is.",
    )
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(self._setting(request)).data)

    @extend_schema(
        parameters=[OpenApiParameter("curriculum", str, required=False, description="Whose class's setting applies.")],
        request=InputSerializer,
        responses={200: OutputSerializer, **_ERRORS},
        operation_id="me_practice_preferences_update",
        description="Switch hint-first practice on or off for oneself (null: back to the class's setting). New "
        "sessions take it.",
    )
    def put(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        practice_preference_set(student=request.user, hint_first=serializer.validated_data["hint_first"])
        return Response(self.OutputSerializer(self._setting(request)).data)

    def _setting(self, request: Request) -> HintFirstSetting:
        slug = request.query_params.get("curriculum")
        enrollment = None
        if slug:
            enrollment = enrollment_get(student=request.user, curriculum=_curriculum_or_404(slug))
        return hint_first_for(student=request.user, enrollment=enrollment)


class ClassroomPlanDefaultApi(APIView):
    class Serializer(serializers.Serializer):
        exam_date = serializers.DateField(allow_null=True, help_text="The class's exam; null: none set.")
        daily_minutes = serializers.IntegerField(
            min_value=MIN_DAILY_MINUTES, max_value=MAX_DAILY_MINUTES, allow_null=True
        )

    @extend_schema(
        responses={200: Serializer, **_ERRORS},
        operation_id="teacher_classes_plan_defaults_retrieve",
        description="The class's study-plan defaults (all null when never set).",
    )
    def get(self, request: Request, class_id: int) -> Response:
        default = classroom_plan_default_get(classroom=self._classroom(request, class_id))
        data = default or {"exam_date": None, "daily_minutes": None}
        return Response(self.Serializer(data).data)

    @extend_schema(
        request=Serializer,
        responses={200: Serializer, **_ERRORS},
        operation_id="teacher_classes_plan_defaults_update",
        description="Set the class's study-plan defaults: the exam date and daily minutes a student enrolling in the "
        "class starts with. Students keep what they set themselves. (Hint-first is in the class's settings/.)",
    )
    def put(self, request: Request, class_id: int) -> Response:
        classroom = self._classroom(request, class_id)
        serializer = self.Serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            default = classroom_plan_default_set(classroom=classroom, set_by=request.user, **serializer.validated_data)
        except LearningError as error:
            raise LearningRefused(error) from error
        return Response(self.Serializer(default).data)

    def _classroom(self, request: Request, class_id: int) -> Classroom:
        if not user_is_teacher(user=request.user):
            raise PermissionDenied("Only teachers have classes.")
        classroom = classroom_for_teacher(teacher=request.user, classroom_id=class_id)
        if classroom is None:
            raise NotFound("No such class.")
        return classroom
