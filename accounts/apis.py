"""The student's own account as a whole: ``me/export/`` (all their data as one JSON document) and
``me/delete/`` (delete the account and everything that is theirs, password re-entered).

Thin: parse, call the selector or the service, format. Throttled like the other user endpoints.
"""

from dataclasses import asdict

from django.contrib.auth import logout
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from config.api_errors import ErrorResponseSerializer

from .selectors import user_data_export
from .services import AccountDeletionError, user_delete

_ERRORS = {401: ErrorResponseSerializer, 403: ErrorResponseSerializer}


class AccountDeletionRefused(APIException):
    """An AccountDeletionError in the API's error body, with the service's code."""

    _STATUS = {"wrong_password": status.HTTP_400_BAD_REQUEST, "teacher_account": status.HTTP_403_FORBIDDEN}

    def __init__(self, error: AccountDeletionError) -> None:
        self.status_code = self._STATUS.get(error.code, status.HTTP_400_BAD_REQUEST)
        super().__init__(detail=error.message, code=error.code)


# --- the export's shape (mirrors accounts.selectors.UserDataExport) ------------------------------


class ExportAccountSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    date_joined = serializers.DateTimeField()
    last_login = serializers.DateTimeField(allow_null=True)
    level = serializers.CharField(allow_null=True)
    hint_first = serializers.BooleanField(allow_null=True)


class ExportClassSerializer(serializers.Serializer):
    name = serializers.CharField()
    teacher = serializers.CharField(help_text="The teacher's username.")


class ExportPlanItemSerializer(serializers.Serializer):
    day = serializers.DateField()
    position = serializers.IntegerField()
    kind = serializers.CharField()
    topic = serializers.CharField(allow_null=True)
    questions = serializers.IntegerField()
    minutes = serializers.IntegerField()
    done_at = serializers.DateTimeField(allow_null=True)


class ExportStudyPlanSerializer(serializers.Serializer):
    daily_minutes = serializers.IntegerField()
    predicted_readiness = serializers.FloatField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    items = ExportPlanItemSerializer(many=True)


class ExportEnrollmentSerializer(serializers.Serializer):
    curriculum = serializers.CharField(help_text="The curriculum's slug.")
    curriculum_title = serializers.CharField()
    exam_date = serializers.DateField(allow_null=True)
    created_at = serializers.DateTimeField()
    classroom = ExportClassSerializer(allow_null=True, help_text="The class joined, if any.")
    study_plan = ExportStudyPlanSerializer(allow_null=True)


class ExportSentenceSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    text = serializers.CharField(allow_null=True, help_text="Null for a withheld sentence: it was not shown.")
    verdict = serializers.CharField(allow_null=True)
    delivery = serializers.CharField()
    citations = serializers.ListField(child=serializers.DictField())
    correction = serializers.CharField(allow_null=True, help_text="A teacher's correction, as shown.")


class ExportMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_msg_id = serializers.CharField()
    question = serializers.CharField()
    answer = serializers.CharField()
    status = serializers.CharField()
    error_code = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    sentences = ExportSentenceSerializer(many=True)


class ExportConversationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    curriculum = serializers.CharField()
    title = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    messages = ExportMessageSerializer(many=True)


class ExportMasterySerializer(serializers.Serializer):
    curriculum = serializers.CharField()
    topic = serializers.CharField()
    mastery = serializers.FloatField()
    answers = serializers.IntegerField()
    correct = serializers.IntegerField()
    last_answered_at = serializers.DateTimeField(allow_null=True)


class ExportTutorMasterySerializer(serializers.Serializer):
    curriculum = serializers.CharField()
    topic = serializers.CharField()
    mastery = serializers.FloatField()
    updated_at = serializers.DateTimeField()


class ExportReviewCardSerializer(serializers.Serializer):
    question = serializers.CharField()
    topic = serializers.CharField()
    state = serializers.IntegerField()
    step = serializers.IntegerField(allow_null=True)
    stability = serializers.FloatField(allow_null=True)
    difficulty = serializers.FloatField(allow_null=True)
    due = serializers.DateTimeField()
    last_review = serializers.DateTimeField(allow_null=True)
    reviews = serializers.IntegerField()
    lapses = serializers.IntegerField()


class ExportPracticeAnswerSerializer(serializers.Serializer):
    chosen_option = serializers.IntegerField(allow_null=True)
    correct = serializers.BooleanField()
    grading = serializers.CharField()
    hinted = serializers.BooleanField()
    retry_option = serializers.IntegerField(allow_null=True)
    retry_correct = serializers.BooleanField(allow_null=True)
    mastery_before = serializers.FloatField()
    mastery_after = serializers.FloatField()
    answered_at = serializers.DateTimeField()


class ExportTextAnswerSerializer(serializers.Serializer):
    text = serializers.CharField()
    outcome = serializers.CharField()
    score = serializers.FloatField()
    key_coverage = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    checked_at = serializers.DateTimeField()


class ExportSessionQuestionSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    question = serializers.CharField()
    options = serializers.ListField(child=serializers.CharField())
    key_option = serializers.IntegerField(allow_null=True)
    hint_shown_at = serializers.DateTimeField(allow_null=True)
    answer = ExportPracticeAnswerSerializer(allow_null=True)
    text_answer = ExportTextAnswerSerializer(allow_null=True)


class ExportPracticeSessionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    curriculum = serializers.CharField()
    kind = serializers.CharField()
    topic = serializers.CharField(allow_null=True)
    hint_first = serializers.BooleanField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    questions = ExportSessionQuestionSerializer(many=True)


# --- endpoints ------------------------------------------------------------------------------------


class MeExportApi(APIView):
    throttle_classes = [UserRateThrottle]

    class OutputSerializer(serializers.Serializer):
        format = serializers.IntegerField(help_text="The export format's version.")
        exported_at = serializers.DateTimeField()
        account = ExportAccountSerializer()
        enrollments = ExportEnrollmentSerializer(many=True)
        conversations = ExportConversationSerializer(many=True)
        mastery = ExportMasterySerializer(many=True, help_text="The learner model's estimate per topic.")
        tutor_mastery = ExportTutorMasterySerializer(many=True, help_text="The tutor's own estimate per topic.")
        review_cards = ExportReviewCardSerializer(many=True)
        practice_sessions = ExportPracticeSessionSerializer(many=True)

    @extend_schema(
        responses={200: OutputSerializer, **_ERRORS},
        operation_id="me_export",
        description="Everything the app holds about the signed-in student, as one JSON document "
        "(no password hash, no tokens).",
    )
    def get(self, request: Request) -> Response:
        export = user_data_export(user=request.user)
        response = Response(self.OutputSerializer(asdict(export)).data)
        response["Content-Disposition"] = f'attachment; filename="veritutor-export-{request.user.pk}.json"'
        return response


class MeDeleteApi(APIView):
    throttle_classes = [UserRateThrottle]

    class InputSerializer(serializers.Serializer):
        password = serializers.CharField(write_only=True, style={"input_type": "password"}, trim_whitespace=False)

    @extend_schema(
        request=InputSerializer,
        responses={
            204: OpenApiResponse(description="The account and all its data are deleted."),
            400: ErrorResponseSerializer,
            **_ERRORS,
        },
        operation_id="me_delete",
        description="Delete the signed-in student's account and everything that is theirs, with the password "
        "re-entered. A wrong password (400, code wrong_password) deletes nothing; a teacher's account is "
        "refused (403, code teacher_account).",
    )
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            user_delete(user=request.user, password=serializer.validated_data["password"])
        except AccountDeletionError as exc:
            raise AccountDeletionRefused(exc) from exc
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
