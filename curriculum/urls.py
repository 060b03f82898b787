from django.urls import path

from . import apis

urlpatterns = [
    path("curricula/", apis.CurriculumListApi.as_view(), name="curriculum-list"),
    path("curricula/<slug:slug>/", apis.CurriculumDetailApi.as_view(), name="curriculum-detail"),
    path("curricula/<slug:slug>/search/", apis.CurriculumSearchApi.as_view(), name="curriculum-search"),
    path("curricula/<slug:slug>/documents/", apis.DocumentUploadApi.as_view(), name="curriculum-document-upload"),
    path("units/<int:unit_id>/", apis.UnitDetailApi.as_view(), name="unit-detail"),
    path("topics/<int:topic_id>/", apis.TopicDetailApi.as_view(), name="topic-detail"),
    path("passages/<int:chunk_id>/", apis.PassageDetailApi.as_view(), name="passage-detail"),
    path("ingestion-jobs/<int:job_id>/", apis.IngestionJobDetailApi.as_view(), name="ingestion-job-detail"),
]
