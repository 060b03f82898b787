"""Batch verification for teachers: submit claims, read verdicts with their evidence."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import ERROR_RESPONSES
from curriculum.selectors import curriculum_can_teach, curriculum_get

from .selectors import OperatingPoint, verification_record_list, verification_run_get, verifier_operating_point
from .services import MAX_BATCH_CLAIMS, BatchInputError, verification_batch_create


class VerificationBatchCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        claims = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=MAX_BATCH_CLAIMS)

    class OutputSerializer(serializers.Serializer):
        run_id = serializers.IntegerField(source="id")
        status = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={202: OutputSerializer, **ERROR_RESPONSES},
        operation_id="verification_batches_create",
    )
    def post(self, request: Request, slug: str) -> Response:
        curriculum = curriculum_get(slug=slug)
        if curriculum is None:
            raise NotFound(f"No curriculum '{slug}'.")
        if not curriculum_can_teach(user=request.user, curriculum=curriculum):
            raise PermissionDenied("Only staff or a teacher of this curriculum may run batch verification.")
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            run = verification_batch_create(
                curriculum=curriculum, claims=serializer.validated_data["claims"], created_by=request.user
            )
        except BatchInputError as exc:
            raise ValidationError({"claims": [str(exc)]}) from exc
        run.refresh_from_db()
        return Response(self.OutputSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class VerificationRunDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class RecordSerializer(serializers.Serializer):
            sentence_index = serializers.IntegerField()
            claim = serializers.CharField()
            verdict = serializers.CharField()
            score = serializers.FloatField()
            evidence_chunk_ids = serializers.ListField(child=serializers.IntegerField())
            checker_versions = serializers.DictField()
            details = serializers.DictField()
            latency_ms = serializers.FloatField()

        id = serializers.IntegerField()
        curriculum = serializers.SlugField(source="curriculum.slug", allow_null=True)
        status = serializers.CharField()
        error = serializers.CharField()
        claims = serializers.ListField(child=serializers.CharField())
        records = RecordSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer, **ERROR_RESPONSES}, operation_id="verification_runs_retrieve")
    def get(self, request: Request, run_id: int) -> Response:
        run = verification_run_get(user=request.user, run_id=run_id)
        if run is None:
            raise NotFound("No such verification run.")
        data = {
            "id": run.pk,
            "curriculum": run.curriculum,
            "status": run.status,
            "error": run.error,
            "claims": run.claims,
            "records": verification_record_list(run=run),
        }
        return Response(self.OutputSerializer(data).data)


class VerifierOperatingPointApi(APIView):
    """The verifier's operating point in use: its threshold and, when this very checker was
    measured, its precision and recall on the labelled dev set (for teachers deciding how far
    to trust a "verified" badge)."""

    class MeasuredSerializer(serializers.Serializer):
        claims = serializers.IntegerField()
        labelled_supported = serializers.IntegerField()
        precision = serializers.FloatField(allow_null=True)
        precision_lower_95 = serializers.FloatField(allow_null=True)
        recall = serializers.FloatField()
        measured_on = serializers.CharField()
        date = serializers.CharField()
        commit = serializers.CharField()

    class OutputSerializer(serializers.Serializer):
        checker_version = serializers.CharField()
        threshold = serializers.FloatField()
        measured = serializers.SerializerMethodField()

        @extend_schema_field(serializers.DictField(allow_null=True))
        def get_measured(self, point: OperatingPoint) -> dict[str, object] | None:
            if point.measured is None:
                return None
            return dict(VerifierOperatingPointApi.MeasuredSerializer(point.measured).data)

    @extend_schema(responses=OutputSerializer, operation_id="verifier_operating_point")
    def get(self, request: Request) -> Response:
        return Response(self.OutputSerializer(verifier_operating_point()).data)
