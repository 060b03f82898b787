"""REST endpoints for curricula: thin — parse, call one selector or service, format."""

import logging

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api_errors import ERROR_RESPONSES, ErrorResponseSerializer
from config.pagination import BoundedLimitOffsetPagination

from .importers.errors import SyllabusImportError
from .importers.uploads import check_upload_size
from .indexing.vector_store import VectorStoreUnavailableError
from .models import Curriculum
from .retrieval import search_chunks
from .selectors import (
    chunk_get,
    curriculum_can_edit,
    curriculum_can_study,
    curriculum_get_for_user,
    curriculum_list,
    ingestion_job_get,
    topic_get,
    topic_list,
    unit_get,
    unit_list,
)
from .services import ingestion_job_create, ingestion_job_progress

MAX_SEARCH_K = 20  # more passages than a student can read; also bounds the work per request
MAX_QUERY_CHARS = 1000

logger = logging.getLogger(__name__)


def _curriculum_or_404(slug: str, user: AbstractBaseUser | AnonymousUser) -> Curriculum:
    """A teacher's own syllabus is as absent as an unknown slug to everyone who may not study it."""
    curriculum = curriculum_get_for_user(user=user, slug=slug)
    if curriculum is None:
        raise NotFound(f"No curriculum '{slug}'.")
    return curriculum


def _hidden_from(user: AbstractBaseUser | AnonymousUser, curriculum: Curriculum) -> bool:
    """True for a teacher's own syllabus that this user may not study (its units and topics 404 too)."""
    return curriculum.owner_id is not None and not curriculum_can_study(user=user, curriculum=curriculum)


class CurriculumListApi(APIView):
    pagination_class = BoundedLimitOffsetPagination  # also tells the schema that the list is paginated

    class OutputSerializer(serializers.Serializer):
        slug = serializers.SlugField()
        title = serializers.CharField()
        description = serializers.CharField()
        attribution = serializers.CharField()
        unit_count = serializers.IntegerField()

    @extend_schema(responses={200: OutputSerializer(many=True), **ERROR_RESPONSES}, operation_id="curricula_list")
    def get(self, request: Request) -> Response:
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(curriculum_list(), request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)


class CurriculumDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class UnitSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            title = serializers.CharField()
            number = serializers.CharField(help_text='The chapter number the book prints ("6"); blank if none.')
            part = serializers.CharField()
            position = serializers.IntegerField()
            topic_count = serializers.IntegerField()

        slug = serializers.SlugField()
        title = serializers.CharField()
        description = serializers.CharField()
        attribution = serializers.CharField()
        unsupported_policy = serializers.CharField()
        units = UnitSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer, **ERROR_RESPONSES}, operation_id="curricula_retrieve")
    def get(self, request: Request, slug: str) -> Response:
        curriculum = _curriculum_or_404(slug, request.user)
        data = {
            "slug": curriculum.slug,
            "title": curriculum.title,
            "description": curriculum.description,
            "attribution": curriculum.attribution,
            "unsupported_policy": curriculum.unsupported_policy,
            "units": unit_list(curriculum=curriculum),
        }
        return Response(self.OutputSerializer(data).data)


class UnitDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        class TopicSerializer(serializers.Serializer):
            id = serializers.IntegerField()
            title = serializers.CharField()
            number = serializers.CharField(help_text='The section number the book prints ("6.3"); blank if none.')
            position = serializers.IntegerField()

        id = serializers.IntegerField()
        curriculum = serializers.SlugField(source="curriculum.slug")
        title = serializers.CharField()
        number = serializers.CharField()
        part = serializers.CharField()
        position = serializers.IntegerField()
        topics = TopicSerializer(many=True)

    @extend_schema(responses={200: OutputSerializer, **ERROR_RESPONSES}, operation_id="units_retrieve")
    def get(self, request: Request, unit_id: int) -> Response:
        unit = unit_get(unit_id=unit_id)
        if unit is None or _hidden_from(request.user, unit.curriculum):
            raise NotFound("No such unit.")
        data = {
            "id": unit.pk,
            "title": unit.title,
            "number": unit.number,
            "part": unit.part,
            "position": unit.position,
            "curriculum": unit.curriculum,
            "topics": topic_list(unit=unit),
        }
        return Response(self.OutputSerializer(data).data)


class TopicDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        title = serializers.CharField()
        number = serializers.CharField()
        label = serializers.CharField(help_text='"6.3 Operant Conditioning": how a citation names the topic.')
        position = serializers.IntegerField()
        objectives = serializers.CharField()
        unit_id = serializers.IntegerField()
        unit = serializers.CharField(source="unit.title")
        curriculum = serializers.SlugField(source="unit.curriculum.slug")

    @extend_schema(responses={200: OutputSerializer, **ERROR_RESPONSES}, operation_id="topics_retrieve")
    def get(self, request: Request, topic_id: int) -> Response:
        topic = topic_get(topic_id=topic_id)
        if topic is None or _hidden_from(request.user, topic.unit.curriculum):
            raise NotFound("No such topic.")
        return Response(self.OutputSerializer(topic).data)


class SearchUnavailable(APIException):
    """503: the vector store is down or restarting; the same search works again once it is back."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "Search is unavailable for a moment; please try again shortly."
    default_code = "search_unavailable"


class CurriculumSearchApi(APIView):
    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(max_length=MAX_QUERY_CHARS, trim_whitespace=True)
        k = serializers.IntegerField(min_value=1, max_value=MAX_SEARCH_K, default=5)

    class OutputSerializer(serializers.Serializer):
        chunk_id = serializers.IntegerField()
        topic = serializers.CharField()
        topic_path = serializers.CharField()
        label = serializers.CharField(help_text='The section as the book numbers it, e.g. "6.3 Operant Conditioning".')
        module = serializers.CharField()
        score = serializers.FloatField()
        text = serializers.CharField()

    @extend_schema(
        parameters=[OpenApiParameter("q", str, required=True), OpenApiParameter("k", int)],
        responses={200: OutputSerializer(many=True), **ERROR_RESPONSES, 503: ErrorResponseSerializer},
        operation_id="curricula_search",
    )
    def get(self, request: Request, slug: str) -> Response:
        curriculum = _curriculum_or_404(slug, request.user)
        if not curriculum_can_study(user=request.user, curriculum=curriculum):
            raise PermissionDenied("You are not enrolled in this curriculum.")
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        try:
            results = search_chunks(
                curriculum_id=curriculum.pk, query=params.validated_data["q"], k=params.validated_data["k"]
            )
        except VectorStoreUnavailableError as error:
            logger.warning("search in %s failed: %s", curriculum.slug, error)
            raise SearchUnavailable() from error
        return Response(self.OutputSerializer(results, many=True).data)


class PassageDetailApi(APIView):
    """One syllabus passage, as a citation opens it: its text, where it is in the book, and the
    attribution its licence asks for wherever its text is shown."""

    class OutputSerializer(serializers.Serializer):
        chunk_id = serializers.IntegerField(source="id")
        curriculum = serializers.SlugField(source="curriculum.slug")
        book = serializers.CharField(source="curriculum.title")
        label = serializers.CharField(
            source="document.topic.label", help_text='The section as the book numbers it: "6.3 Operant Conditioning".'
        )
        section = serializers.CharField(source="document.topic.number", help_text='"6.3"; blank if unnumbered.')
        topic = serializers.CharField(source="document.topic.title")
        unit = serializers.CharField(source="document.topic.unit.title", help_text="The chapter's title.")
        module = serializers.CharField(source="document.source_id")
        text = serializers.CharField()
        attribution = serializers.CharField(source="curriculum.attribution")

    @extend_schema(responses={200: OutputSerializer, **ERROR_RESPONSES}, operation_id="passages_retrieve")
    def get(self, request: Request, chunk_id: int) -> Response:
        chunk = chunk_get(chunk_id=chunk_id)
        # A passage of a curriculum the user may not study is as absent as one that does not exist.
        if chunk is None or not curriculum_can_study(user=request.user, curriculum=chunk.curriculum):
            raise NotFound("No such passage.")
        return Response(self.OutputSerializer(chunk).data)


class DocumentUploadApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()

    class OutputSerializer(serializers.Serializer):
        job_id = serializers.IntegerField(source="id")
        status = serializers.CharField()
        filename = serializers.CharField()

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={202: OutputSerializer, **ERROR_RESPONSES},
        operation_id="documents_upload",
    )
    def post(self, request: Request, slug: str) -> Response:
        curriculum = _curriculum_or_404(slug, request.user)
        if not curriculum_can_edit(user=request.user, curriculum=curriculum):
            raise PermissionDenied(
                "Only staff or the teacher who owns this syllabus may upload to it; a shared book takes no uploads."
            )
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        try:
            check_upload_size(filename=upload.name, size=upload.size)
            job = ingestion_job_create(
                curriculum=curriculum, created_by=request.user, filename=upload.name, content=upload.read()
            )
        except SyllabusImportError as exc:
            raise ValidationError({"file": [str(exc)]}) from exc
        job.refresh_from_db()
        return Response(self.OutputSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class IngestionJobDetailApi(APIView):
    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        curriculum = serializers.SlugField(source="curriculum.slug", allow_null=True)
        kind = serializers.CharField()
        filename = serializers.CharField()
        status = serializers.CharField()
        progress_done = serializers.IntegerField()
        progress_total = serializers.IntegerField()
        error = serializers.CharField()
        result = serializers.JSONField()

    @extend_schema(responses={200: OutputSerializer, **ERROR_RESPONSES}, operation_id="ingestion_jobs_retrieve")
    def get(self, request: Request, job_id: int) -> Response:
        job = ingestion_job_get(user=request.user, job_id=job_id)
        if job is None:
            raise NotFound("No such job.")
        progress = ingestion_job_progress(job_id=job.pk)
        if progress is not None and job.status == job.Status.RUNNING:
            job.progress_done, job.progress_total = progress
        return Response(self.OutputSerializer(job).data)
