"""REST endpoints for the mobile client: accounts, enrolment, asking, and the answer history.

Thin: parse, call one service or selector, format. Asking over REST is the non-streaming twin of
the websocket: it waits for the whole verified answer.
"""

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from config.api_errors import ErrorResponseSerializer, api_error_body
from config.pagination import BoundedLimitOffsetPagination
from curriculum.selectors import curriculum_get, curriculum_list_for_student, user_is_teacher
from curriculum.services import enrollment_create

from .accounts import RegistrationError, student_register
from .events import TutorInputError
from .models import AnswerSentence, LearnerProfile, Message, SentenceReview
from .selectors import (
    conversation_get,
    conversation_list,
    message_get,
    message_get_by_client_id,
    message_list,
)
from .services import tutor_answer_retry

# Refusals the client can act on get the status that says what is wrong; the rest are 400.
_REFUSAL_STATUS = {
    "unknown_curriculum": status.HTTP_404_NOT_FOUND,
    "unknown_conversation": status.HTTP_404_NOT_FOUND,
    "not_enrolled": status.HTTP_403_FORBIDDEN,
    "duplicate_client_msg_id": status.HTTP_409_CONFLICT,
    "unknown_message": status.HTTP_404_NOT_FOUND,
    "not_retryable": status.HTTP_409_CONFLICT,
}
_ERRORS = {
    400: ErrorResponseSerializer,
    401: ErrorResponseSerializer,
    403: ErrorResponseSerializer,
    404: ErrorResponseSerializer,
}


class TutorRefused(APIException):
    """A TutorInputError, in the API's error body with the tutor's own code."""

    def __init__(self, error: TutorInputError) -> None:
        self.status_code = _REFUSAL_STATUS.get(error.code, status.HTTP_400_BAD_REQUEST)
        super().__init__(detail=error.message, code=error.code)


# --- shared output shapes -------------------------------------------------------------------------


class CitationSerializer(serializers.Serializer):
    chunk_id = serializers.IntegerField(help_text="GET /api/v1/passages/<chunk_id>/ for its text and attribution.")
    topic = serializers.CharField()
    module = serializers.CharField(help_text="The source document id (OpenStax module): not for students.")
    marker = serializers.IntegerField(required=False, allow_null=True)
    # Answers saved before sections were numbered have no label: they read "" (show the topic).
    label = serializers.CharField(default="", help_text='What to show: "6.3 Operant Conditioning".')
    section = serializers.CharField(default="", help_text='"6.3"; blank if unnumbered.')
    unit = serializers.CharField(default="", help_text="The chapter's title.")


class CorrectionSerializer(serializers.Serializer):
    text = serializers.CharField(source="correction", help_text="What the sentence should say, per the teacher.")
    teacher = serializers.CharField(source="teacher.username", allow_null=True, default=None)
    corrected_at = serializers.DateTimeField(source="reviewed_at")


class SentenceSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    text = serializers.SerializerMethodField(help_text="Null for a withheld sentence: only its place is shown.")
    verdict = serializers.CharField(allow_null=True)
    delivery = serializers.ChoiceField(choices=AnswerSentence.Delivery.choices)
    citations = CitationSerializer(many=True)
    correction = serializers.SerializerMethodField(help_text="The teacher's correction of this sentence, if any.")

    def get_text(self, sentence: AnswerSentence) -> str | None:
        return None if sentence.delivery == AnswerSentence.Delivery.WITHHELD else sentence.text

    @extend_schema_field(CorrectionSerializer(allow_null=True))
    def get_correction(self, sentence: AnswerSentence) -> dict | None:
        review = getattr(sentence, "review", None)
        if review is None or review.outcome != SentenceReview.Outcome.CORRECTED:
            return None
        return dict(CorrectionSerializer(review).data)


class MessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    curriculum = serializers.SlugField(source="conversation.curriculum.slug")
    client_msg_id = serializers.CharField()
    question = serializers.CharField()
    answer = serializers.CharField(help_text="The released (verified) sentences, joined.")
    mode = serializers.ChoiceField(
        choices=Message.Mode.choices,
        help_text='"hint": hint-first gave a guiding question and a clue; ask again with full_answer for the answer.',
    )
    status = serializers.ChoiceField(choices=Message.Status.choices, source="shown_status")
    error_code = serializers.CharField(
        source="shown_error_code", help_text='"interrupted": the server stopped mid-answer; retry it.'
    )
    error_message = serializers.CharField(source="shown_error_message")
    timings = serializers.DictField(child=serializers.FloatField())
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    sentences = SentenceSerializer(many=True)


# --- accounts ---------------------------------------------------------------------------------------


class StudentRegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [AnonRateThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150)
        password = serializers.CharField(write_only=True, style={"input_type": "password"})
        email = serializers.EmailField(required=False, default="", allow_blank=True)
        level = serializers.ChoiceField(choices=LearnerProfile.Level.choices, default=LearnerProfile.Level.INTERMEDIATE)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        # Not EmailField: the schema would promise an address, and registering without one (the
        # input's documented default) answers "" (found by schemathesis).
        email = serializers.CharField(help_text="The address given at registration; empty when none was.")
        token = serializers.CharField(help_text="Send as 'Authorization: Token <token>' (REST) or on the websocket.")

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, 400: ErrorResponseSerializer},
        operation_id="register",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            try:
                user = student_register(**serializer.validated_data)
            except RegistrationError as exc:
                raise ValidationError({exc.field: exc.messages}) from exc
            token = Token.objects.create(user=user)
        data = {"id": user.pk, "username": user.get_username(), "email": user.email, "token": token.key}
        return Response(self.OutputSerializer(data).data, status=status.HTTP_201_CREATED)


class TokenObtainApi(ObtainAuthToken):
    # DRF's log-in view, documented as it is used. Credentials come in the body only: a client still
    # sending an old or revoked token in its Authorization header gets its token instead of a 401.
    # Request and response are separate shapes in the schema: DRF's serializer is one shape with
    # write-only and read-only fields, which client generators read as a token to send and a
    # password to receive.

    authentication_classes: list = []
    throttle_classes = [AnonRateThrottle]

    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"})

    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Send as 'Authorization: Token <token>' (REST) or on the websocket.")

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 400: ErrorResponseSerializer},
        operation_id="auth_token_create",
        description="Log in: the account's token for its username and password.",
    )
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().post(request, *args, **kwargs)


class MeDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        username = serializers.CharField()
        email = serializers.EmailField()
        level = serializers.CharField()
        is_teacher = serializers.BooleanField()

    @extend_schema(responses={200: OutputSerializer, **_ERRORS}, operation_id="me_retrieve")
    def get(self, request: Request) -> Response:
        profile = LearnerProfile.objects.filter(student=request.user).first()
        data = {
            "id": request.user.pk,
            "username": request.user.get_username(),
            "email": request.user.email,
            "level": profile.level if profile else LearnerProfile.Level.INTERMEDIATE,
            "is_teacher": user_is_teacher(user=request.user),
        }
        return Response(self.OutputSerializer(data).data)


# --- enrolment --------------------------------------------------------------------------------------


class MyCurriculumListApi(APIView):
    pagination_class = BoundedLimitOffsetPagination

    class OutputSerializer(serializers.Serializer):
        slug = serializers.SlugField()
        title = serializers.CharField()
        description = serializers.CharField()
        unsupported_policy = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer(many=True), **_ERRORS}, operation_id="me_curricula_list")
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(curriculum_list_for_student(user=request.user), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class EnrollmentCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        curriculum = serializers.SlugField(help_text="The slug of the curriculum to study.")

    class OutputSerializer(serializers.Serializer):
        curriculum = serializers.SlugField(source="curriculum.slug")
        exam_date = serializers.DateField(allow_null=True)
        created_at = serializers.DateTimeField()

    @extend_schema(
        request=InputSerializer,
        responses={201: OutputSerializer, **_ERRORS},
        operation_id="me_enrollments_create",
        description="Enrol in a curriculum (idempotent: enrolling twice keeps one enrolment).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        curriculum = curriculum_get(slug=serializer.validated_data["curriculum"])
        if curriculum is None:
            raise NotFound(f"No curriculum '{serializer.validated_data['curriculum']}'.")
        enrollment = enrollment_create(student=request.user, curriculum=curriculum)
        return Response(self.OutputSerializer(enrollment).data, status=status.HTTP_201_CREATED)


# --- asking -----------------------------------------------------------------------------------------


def _answer_response(request: Request, message: Message) -> Response:
    """The whole answer, or 503 with the saved message's id when the model failed (retryable)."""
    if message.status == Message.Status.FAILED:
        body = api_error_body(
            code=message.error_code or "llm_unavailable",
            message=message.error_message or "The tutor could not answer; please try again.",
            details={"message_id": message.pk, "retryable": True},
        )
        return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE)
    return Response(MessageSerializer(message_get(student=request.user, message_id=message.pk)).data)


class AnswerCreateApi(APIView):
    throttle_classes = [UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "ask"

    class InputSerializer(serializers.Serializer):
        curriculum = serializers.SlugField()
        question = serializers.CharField(trim_whitespace=False, allow_blank=True)
        conversation_id = serializers.IntegerField(required=False, allow_null=True, default=None)
        client_msg_id = serializers.CharField(
            required=False, default="", allow_blank=True, max_length=64, help_text="Your id for this question."
        )
        full_answer = serializers.BooleanField(
            required=False,
            default=False,
            help_text="The whole answer even when hint-first is on (after a hint: 'show the full answer').",
        )

    @extend_schema(
        request=InputSerializer,
        responses={
            200: MessageSerializer,
            **_ERRORS,
            409: OpenApiResponse(ErrorResponseSerializer, description="client_msg_id was already used."),
            429: ErrorResponseSerializer,
            503: OpenApiResponse(
                ErrorResponseSerializer,
                description="The language model failed; the question is saved (details.message_id).",
            ),
        },
        operation_id="ask",
        description="Ask a question and wait for the whole verified answer (the websocket streams it instead).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = import_string(settings.TUTOR_ANSWER_BACKEND)
        try:
            message = async_to_sync(answer)(
                student=request.user,
                curriculum_slug=serializer.validated_data["curriculum"],
                question=serializer.validated_data["question"],
                conversation_id=serializer.validated_data["conversation_id"],
                client_msg_id=serializer.validated_data["client_msg_id"],
                full_answer=serializer.validated_data["full_answer"],
            )
        except TutorInputError as exc:
            raise TutorRefused(exc) from exc
        return _answer_response(request, message)


class AnswerRetryApi(APIView):
    throttle_classes = [UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "ask"

    @extend_schema(
        request=None,
        responses={
            200: MessageSerializer,
            **_ERRORS,
            409: OpenApiResponse(
                ErrorResponseSerializer, description="not_retryable: the message is not failed or cancelled."
            ),
            503: OpenApiResponse(ErrorResponseSerializer, description="The language model failed again."),
        },
        operation_id="messages_retry",
        description="Answer a failed or cancelled message again: same message, same question.",
    )
    def post(self, request: Request, message_id: int) -> Response:
        try:
            message = async_to_sync(tutor_answer_retry)(student=request.user, message_id=message_id)
        except TutorInputError as exc:
            raise TutorRefused(exc) from exc
        return _answer_response(request, message)


# --- history ----------------------------------------------------------------------------------------


class ConversationListApi(APIView):
    pagination_class = BoundedLimitOffsetPagination

    class FilterSerializer(serializers.Serializer):
        curriculum = serializers.SlugField(required=False, help_text="Only conversations about this curriculum.")

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        curriculum = serializers.SlugField(source="curriculum.slug")
        title = serializers.CharField()
        created_at = serializers.DateTimeField()
        updated_at = serializers.DateTimeField()

    @extend_schema(
        parameters=[FilterSerializer],
        responses={200: OutputSerializer(many=True), **_ERRORS},
        operation_id="conversations_list",
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        conversations = conversation_list(
            student=request.user, curriculum_slug=filters.validated_data.get("curriculum")
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(conversations, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class ConversationMessageListApi(APIView):
    pagination_class = BoundedLimitOffsetPagination

    @extend_schema(responses={200: MessageSerializer(many=True), **_ERRORS}, operation_id="conversations_messages_list")
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = conversation_get(student=request.user, conversation_id=conversation_id)
        if conversation is None:
            raise NotFound("No such conversation.")
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(message_list(conversation=conversation), request, view=self)
        return paginator.get_paginated_response(MessageSerializer(page, many=True).data)


class MessageDetailApi(APIView):
    @extend_schema(responses={200: MessageSerializer, **_ERRORS}, operation_id="messages_retrieve")
    def get(self, request: Request, message_id: int) -> Response:
        message = message_get(student=request.user, message_id=message_id)
        if message is None:
            raise NotFound("No such message.")
        return Response(MessageSerializer(message).data)


class MessageByClientIdApi(APIView):
    @extend_schema(
        responses={200: MessageSerializer, **_ERRORS},
        operation_id="messages_by_client_id_retrieve",
        description="The message sent under this client_msg_id: how a client that lost its socket gets the answer.",
    )
    def get(self, request: Request, client_msg_id: str) -> Response:
        message = message_get_by_client_id(student=request.user, client_msg_id=client_msg_id)
        if message is None:
            raise NotFound("No message with that client_msg_id.")
        return Response(MessageSerializer(message).data)
