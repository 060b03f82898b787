"""REST endpoints for classes, under /api/v1/: ``teacher/classes/`` for a teacher's own classes and
what they see of them, ``me/classes/`` for a student joining one with its code.

Thin: parse, call one service or selector, format. A class that is not the asking teacher's is 404
(as absent as one that does not exist); a user who is not a teacher gets 403 on the teacher routes.
"""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from config.api_errors import ErrorResponseSerializer
from config.pagination import BoundedLimitOffsetPagination
from curriculum.importers.errors import SyllabusImportError
from curriculum.importers.uploads import check_upload_size
from curriculum.models import Classroom, Enrollment
from curriculum.selectors import curriculum_get, curriculum_get_for_user, user_is_teacher
from tutor.models import AnswerSentence, SentenceReview

from .selectors import (
    REVIEW_OPEN,
    REVIEW_REVIEWED,
    ReviewItem,
    UploadProgress,
    classroom_get_for_teacher,
    classroom_list_for_student,
    classroom_list_for_teacher,
    classroom_mastery,
    classroom_roster,
    classroom_settings_get,
    hallucination_rate_by_week,
    review_sentence_get,
    review_sentence_list,
    upload_get,
    upload_list,
)
from .services import (
    ClassroomError,
    classroom_create,
    classroom_create_with_syllabus,
    classroom_join,
    classroom_settings_update,
    classroom_upload_create,
    sentence_review_save,
)

_ERRORS = {400: ErrorResponseSerializer, 401: ErrorResponseSerializer, 403: ErrorResponseSerializer}
_ERRORS_404 = {**_ERRORS, 404: ErrorResponseSerializer}
_REFUSAL_STATUS = {
    "unknown_code": status.HTTP_404_NOT_FOUND,
    "unknown_curriculum": status.HTTP_404_NOT_FOUND,
    "not_a_teacher": status.HTTP_403_FORBIDDEN,
    "shared_syllabus": status.HTTP_403_FORBIDDEN,
}


class ClassroomRefused(APIException):
    def __init__(self, error: ClassroomError) -> None:
        self.status_code = _REFUSAL_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST)
        super().__init__(detail=error.message, code=error.code)


class IsTeacher(BasePermission):
    message = "Only teachers can use the teacher endpoints."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return user_is_teacher(user=request.user)


class JoinThrottle(UserRateThrottle):
    """Join attempts per student: codes are short, so guessing them must be slow."""

    scope = "class_join"
    rate = "10/min"


class TeacherApi(APIView):
    permission_classes = [IsAuthenticated, IsTeacher]

    def classroom(self, request: Request, classroom_id: int) -> Classroom:
        classroom = classroom_get_for_teacher(teacher=request.user, classroom_id=classroom_id)
        if classroom is None:
            raise NotFound("No such class.")
        return classroom


# --- shapes -----------------------------------------------------------------------------------------


class StudentSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="student_id")
    username = serializers.CharField(source="student.username")
    joined_at = serializers.DateTimeField(source="created_at")
    exam_date = serializers.DateField(allow_null=True)


class ClassroomSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    curriculum = serializers.SlugField(source="curriculum.slug")
    curriculum_title = serializers.CharField(source="curriculum.title")
    own_syllabus = serializers.SerializerMethodField(
        help_text="The class studies a syllabus of the teacher's own (not in the catalogue; uploads go there)."
    )
    join_code = serializers.SerializerMethodField(help_text="What students type to join; null until one is issued.")
    student_count = serializers.IntegerField()
    created_at = serializers.DateTimeField()

    def get_own_syllabus(self, classroom: Classroom) -> bool:
        return classroom.curriculum.owner_id is not None and classroom.curriculum.owner_id == classroom.teacher_id

    def get_join_code(self, classroom: Classroom) -> str | None:
        join_code = getattr(classroom, "join_code", None)
        return join_code.code if join_code is not None else None


class ClassroomDetailSerializer(ClassroomSerializer):
    students = StudentSerializer(many=True)


# --- teacher: classes -------------------------------------------------------------------------------


class ClassroomListCreateApi(TeacherApi):
    pagination_class = BoundedLimitOffsetPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=255)
        curriculum = serializers.SlugField(
            required=False, help_text="The slug of the curriculum the class studies (or give `syllabus_title`)."
        )
        syllabus_title = serializers.CharField(
            required=False,
            max_length=255,
            help_text="Instead of `curriculum`: start a new, empty syllabus of your own with this title and fill "
            "it with uploads.",
        )

        def validate(self, attrs: dict) -> dict:
            if ("curriculum" in attrs) == ("syllabus_title" in attrs):
                raise serializers.ValidationError("Give either curriculum or syllabus_title.")
            return attrs

    @extend_schema(responses={200: ClassroomSerializer(many=True), **_ERRORS}, operation_id="teacher_classes_list")
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(classroom_list_for_teacher(teacher=request.user), request, view=self)
        return paginator.get_paginated_response(ClassroomSerializer(page, many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: ClassroomDetailSerializer, **_ERRORS_404},
        operation_id="teacher_classes_create",
        description="Create a class on a curriculum; it gets a join code for its students.",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            if "syllabus_title" in data:
                created = classroom_create_with_syllabus(
                    teacher=request.user, name=data["name"], syllabus_title=data["syllabus_title"]
                )
            else:
                # Another teacher's own syllabus is as absent as a slug that does not exist.
                curriculum = curriculum_get_for_user(user=request.user, slug=data["curriculum"])
                if curriculum is None:
                    raise NotFound(f"No curriculum '{data['curriculum']}'.")
                created = classroom_create(teacher=request.user, curriculum=curriculum, name=data["name"])
        except ClassroomError as exc:
            raise ClassroomRefused(exc) from exc
        classroom = self.classroom(request, created.pk)
        classroom.students = []  # type: ignore[attr-defined]
        return Response(ClassroomDetailSerializer(classroom).data, status=status.HTTP_201_CREATED)


class ClassroomDetailApi(TeacherApi):
    @extend_schema(responses={200: ClassroomDetailSerializer, **_ERRORS_404}, operation_id="teacher_classes_retrieve")
    def get(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        classroom.students = classroom_roster(classroom=classroom)  # type: ignore[attr-defined]
        return Response(ClassroomDetailSerializer(classroom).data)


class ClassroomRosterApi(TeacherApi):
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(responses={200: StudentSerializer(many=True), **_ERRORS_404}, operation_id="teacher_classes_roster")
    def get(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(classroom_roster(classroom=classroom), request, view=self)
        return paginator.get_paginated_response(StudentSerializer(page, many=True).data)


# --- teacher: settings and syllabus uploads -----------------------------------------------------------


class ClassSettingsSerializer(serializers.Serializer):
    unsupported_policy = serializers.ChoiceField(
        choices=["withhold", "mark"],
        help_text="How the class's students see a sentence the verifier could not support: withheld, or shown "
        "marked 'not in your syllabus'.",
    )
    hint_first = serializers.BooleanField(help_text="The tutor starts with a hint and gives the answer when asked.")


class ClassroomSettingsApi(TeacherApi):
    class InputSerializer(serializers.Serializer):
        unsupported_policy = serializers.ChoiceField(choices=["withhold", "mark"], required=False)
        hint_first = serializers.BooleanField(required=False)

    @extend_schema(responses={200: ClassSettingsSerializer, **_ERRORS_404}, operation_id="teacher_classes_settings")
    def get(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        return Response(ClassSettingsSerializer(classroom_settings_get(classroom=classroom)).data)

    @extend_schema(
        request=InputSerializer,
        responses={200: ClassSettingsSerializer, **_ERRORS_404},
        operation_id="teacher_classes_settings_update",
        description="Change the class's settings; a field left out keeps its value.",
    )
    def patch(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            classroom_settings_update(classroom=classroom, **serializer.validated_data)
        except ClassroomError as exc:
            raise ClassroomRefused(exc) from exc
        return Response(ClassSettingsSerializer(classroom_settings_get(classroom=classroom)).data)


class UploadSerializer(serializers.Serializer):
    job_id = serializers.IntegerField()
    filename = serializers.CharField()
    status = serializers.ChoiceField(choices=["pending", "running", "succeeded", "failed"])
    done = serializers.IntegerField(help_text="Passages indexed so far.")
    total = serializers.IntegerField(help_text="Passages to index; 0 until the file is parsed.")
    percent = serializers.IntegerField(help_text="0-100; 100 only once the import has succeeded.")
    error = serializers.CharField()
    result = serializers.JSONField(help_text="Once succeeded: units, topics, chunks_indexed, questions.")
    created_at = serializers.DateTimeField()


class UploadListCreateApi(TeacherApi):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField(help_text="A Markdown (.md), text (.txt) or PDF (.pdf) file.")

    @extend_schema(responses={200: UploadSerializer(many=True), **_ERRORS_404}, operation_id="teacher_uploads_list")
    def get(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        return Response(UploadSerializer(upload_list(classroom=classroom, teacher=request.user), many=True).data)

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={202: UploadSerializer, **_ERRORS_404},
        operation_id="teacher_uploads_create",
        description="Add a file to the class's own syllabus. The import runs as a job: poll "
        "`uploads/<job_id>/` for its progress. A catalogue syllabus takes no uploads here (403 shared_syllabus).",
    )
    def post(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            check_upload_size(filename=upload.name, size=upload.size)
        except SyllabusImportError as exc:
            raise ClassroomRefused(ClassroomError(code="invalid_file", message=str(exc))) from exc
        try:
            job = classroom_upload_create(
                teacher=request.user, classroom=classroom, filename=upload.name, content=upload.read()
            )
        except ClassroomError as exc:
            raise ClassroomRefused(exc) from exc
        progress = upload_get(classroom=classroom, teacher=request.user, job_id=job.pk)
        return Response(UploadSerializer(progress).data, status=status.HTTP_202_ACCEPTED)


class UploadDetailApi(TeacherApi):
    @extend_schema(responses={200: UploadSerializer, **_ERRORS_404}, operation_id="teacher_uploads_retrieve")
    def get(self, request: Request, classroom_id: int, job_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        progress: UploadProgress | None = upload_get(classroom=classroom, teacher=request.user, job_id=job_id)
        if progress is None:
            raise NotFound("No such upload in this class.")
        return Response(UploadSerializer(progress).data)


# --- teacher: insight -------------------------------------------------------------------------------


class ClassroomMasteryApi(TeacherApi):
    class OutputSerializer(serializers.Serializer):
        class TopicSerializer(serializers.Serializer):
            topic_id = serializers.IntegerField()
            label = serializers.CharField()
            chapter = serializers.CharField()

        class RowSerializer(serializers.Serializer):
            class CellSerializer(serializers.Serializer):
                mastery = serializers.FloatField(help_text="BKT estimate 0..1; the prior when answers is 0.")
                answers = serializers.IntegerField()

            student_id = serializers.IntegerField()
            username = serializers.CharField()
            cells = CellSerializer(many=True, help_text="One per topic, in the order of `topics`.")

        topics = TopicSerializer(many=True)
        rows = RowSerializer(many=True)

    @extend_schema(
        responses={200: OutputSerializer, **_ERRORS_404},
        operation_id="teacher_classes_mastery",
        description="Students × topics: each student's mastery of each topic of the class's curriculum.",
    )
    def get(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        return Response(self.OutputSerializer(classroom_mastery(classroom=classroom)).data)


class ReviewSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=SentenceReview.Outcome.choices)
    correction = serializers.CharField()
    teacher = serializers.CharField(source="teacher.username", allow_null=True, default=None)
    reviewed_at = serializers.DateTimeField()


class ReviewItemSerializer(serializers.Serializer):
    class EvidenceSerializer(serializers.Serializer):
        chunk_id = serializers.IntegerField()
        label = serializers.CharField()
        text = serializers.CharField()

    sentence_id = serializers.IntegerField(source="sentence.pk")
    message_id = serializers.IntegerField(source="sentence.message_id")
    student = serializers.CharField(source="sentence.message.student.username")
    question = serializers.CharField(source="sentence.message.question")
    asked_at = serializers.DateTimeField(source="sentence.message.created_at")
    index = serializers.IntegerField(source="sentence.index")
    text = serializers.CharField(source="sentence.text", help_text="The sentence as released, marked or withheld.")
    original_text = serializers.CharField(source="sentence.original_text", help_text="The draft a revision replaced.")
    verdict = serializers.CharField(source="sentence.verdict", allow_null=True)
    delivery = serializers.ChoiceField(source="sentence.delivery", choices=AnswerSentence.Delivery.choices)
    score = serializers.FloatField(source="sentence.score", allow_null=True)
    citations = serializers.JSONField(source="sentence.citations")
    evidence = EvidenceSerializer(many=True, help_text="The passages the verifier checked it against.")
    review = serializers.SerializerMethodField()

    @extend_schema_field(ReviewSerializer(allow_null=True))
    def get_review(self, item: ReviewItem) -> dict | None:
        review = getattr(item.sentence, "review", None)
        return ReviewSerializer(review).data if review is not None else None


class ReviewListApi(TeacherApi):
    class FilterSerializer(serializers.Serializer):
        state = serializers.ChoiceField(
            choices=[REVIEW_OPEN, REVIEW_REVIEWED], required=False, help_text="open: not reviewed yet."
        )

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: ReviewItemSerializer(many=True), **_ERRORS_404},
        operation_id="teacher_classes_review_list",
        description="The class's answer sentences the verifier withheld, marked or replaced, with their "
        "evidence, newest first (at most 200).",
    )
    def get(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        items = review_sentence_list(classroom=classroom, state=filters.validated_data.get("state"))
        return Response(ReviewItemSerializer(items, many=True).data)


class ReviewSaveApi(TeacherApi):
    class InputSerializer(serializers.Serializer):
        outcome = serializers.ChoiceField(
            choices=SentenceReview.Outcome.choices,
            help_text="confirmed: the verifier was right; corrected: `correction` says what it should say; "
            "syllabus_gap: true, but missing from the syllabus (`correction`, optional, notes what it lacks).",
        )
        correction = serializers.CharField(required=False, default="", allow_blank=True, max_length=2000)

    @extend_schema(
        request=InputSerializer,
        responses={200: ReviewSerializer, **_ERRORS_404},
        operation_id="teacher_classes_review_save",
        description="Confirm or correct a flagged sentence of the class; a correction is shown to the student.",
    )
    def post(self, request: Request, classroom_id: int, sentence_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        sentence = review_sentence_get(classroom=classroom, sentence_id=sentence_id)
        if sentence is None:
            raise NotFound("No such sentence to review in this class.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            review = sentence_review_save(teacher=request.user, sentence=sentence, **serializer.validated_data)
        except ClassroomError as exc:
            raise ClassroomRefused(exc) from exc
        return Response(ReviewSerializer(review).data)


class HallucinationRateApi(TeacherApi):
    class FilterSerializer(serializers.Serializer):
        weeks = serializers.IntegerField(min_value=1, max_value=104, default=12)

    class OutputSerializer(serializers.Serializer):
        week = serializers.DateField(help_text="The Monday the week starts on.")
        drafted = serializers.IntegerField(help_text="Sentences drafted and checked by the verifier.")
        withheld = serializers.IntegerField()
        marked = serializers.IntegerField()
        replaced = serializers.IntegerField()
        flagged = serializers.IntegerField(help_text="Unsupported (withheld or marked) or replaced; counted once.")
        rate = serializers.FloatField(help_text="flagged / drafted.")

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **_ERRORS_404},
        operation_id="teacher_classes_hallucination_rate",
        description="Per week, the share of the class's drafted answer sentences the verifier withheld, "
        "marked or replaced, on the class's curriculum. Weeks without answers are absent.",
    )
    def get(self, request: Request, classroom_id: int) -> Response:
        classroom = self.classroom(request, classroom_id)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        since = timezone.now() - timedelta(weeks=filters.validated_data["weeks"])
        weeks = hallucination_rate_by_week(curriculum=classroom.curriculum, classroom=classroom, since=since)
        return Response(self.OutputSerializer(weeks, many=True).data)


class CurriculumHallucinationRateApi(APIView):
    """Staff only: the rate over every student of a curriculum (teachers read their classes')."""

    permission_classes = [IsAuthenticated, IsAdminUser]

    @extend_schema(
        parameters=[HallucinationRateApi.FilterSerializer],
        responses={200: HallucinationRateApi.OutputSerializer(many=True), **_ERRORS_404},
        operation_id="curricula_hallucination_rate",
        description="Staff only. Per week, the share of all drafted answer sentences on this curriculum that the "
        "verifier withheld, marked or replaced.",
    )
    def get(self, request: Request, slug: str) -> Response:
        curriculum = curriculum_get(slug=slug)
        if curriculum is None:
            raise NotFound(f"No curriculum '{slug}'.")
        filters = HallucinationRateApi.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        since = timezone.now() - timedelta(weeks=filters.validated_data["weeks"])
        weeks = hallucination_rate_by_week(curriculum=curriculum, since=since)
        return Response(HallucinationRateApi.OutputSerializer(weeks, many=True).data)


# --- student: joining ------------------------------------------------------------------------------


class MyClassroomSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="classroom.id")
    name = serializers.CharField(source="classroom.name")
    teacher = serializers.CharField(source="classroom.teacher.username")
    curriculum = serializers.SlugField(source="classroom.curriculum.slug")
    curriculum_title = serializers.CharField(source="classroom.curriculum.title")
    joined_at = serializers.DateTimeField(source="created_at")
    settings = serializers.SerializerMethodField(help_text="What the teacher set for the class.")

    @extend_schema_field(ClassSettingsSerializer)
    def get_settings(self, enrollment: Enrollment) -> dict:
        return dict(ClassSettingsSerializer(classroom_settings_get(classroom=enrollment.classroom)).data)


class MyClassroomListJoinApi(APIView):
    def get_throttles(self) -> list:
        throttles = super().get_throttles()
        return [*throttles, JoinThrottle()] if self.request.method == "POST" else throttles

    class InputSerializer(serializers.Serializer):
        code = serializers.CharField(max_length=32, help_text="The class's join code (case and dashes ignored).")

    @extend_schema(responses={200: MyClassroomSerializer(many=True), **_ERRORS}, operation_id="me_classes_list")
    def get(self, request: Request) -> Response:
        return Response(MyClassroomSerializer(classroom_list_for_student(student=request.user), many=True).data)

    @extend_schema(
        request=InputSerializer,
        responses={201: MyClassroomSerializer, **_ERRORS_404, 429: ErrorResponseSerializer},
        operation_id="me_classes_join",
        description="Join a class with its code: enrols you in its curriculum (joining twice keeps one enrolment).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            enrollment = classroom_join(student=request.user, code=serializer.validated_data["code"])
        except ClassroomError as exc:
            raise ClassroomRefused(exc) from exc
        return Response(MyClassroomSerializer(enrollment).data, status=status.HTTP_201_CREATED)
