"""Included under /api/v1/ (config/urls.py): ``teacher/classes/`` and the student's ``me/classes/``."""

from django.urls import path

from . import apis

urlpatterns = [
    path("teacher/classes/", apis.ClassroomListCreateApi.as_view(), name="teacher-class-list"),
    path("teacher/classes/<int:classroom_id>/", apis.ClassroomDetailApi.as_view(), name="teacher-class-detail"),
    path(
        "teacher/classes/<int:classroom_id>/students/", apis.ClassroomRosterApi.as_view(), name="teacher-class-roster"
    ),
    path(
        "teacher/classes/<int:classroom_id>/mastery/", apis.ClassroomMasteryApi.as_view(), name="teacher-class-mastery"
    ),
    path(
        "teacher/classes/<int:classroom_id>/settings/",
        apis.ClassroomSettingsApi.as_view(),
        name="teacher-class-settings",
    ),
    path(
        "teacher/classes/<int:classroom_id>/uploads/", apis.UploadListCreateApi.as_view(), name="teacher-class-uploads"
    ),
    path(
        "teacher/classes/<int:classroom_id>/uploads/<int:job_id>/",
        apis.UploadDetailApi.as_view(),
        name="teacher-class-upload",
    ),
    path("teacher/classes/<int:classroom_id>/review/", apis.ReviewListApi.as_view(), name="teacher-class-review"),
    path(
        "teacher/classes/<int:classroom_id>/review/<int:sentence_id>/",
        apis.ReviewSaveApi.as_view(),
        name="teacher-class-review-save",
    ),
    path(
        "teacher/classes/<int:classroom_id>/hallucination-rate/",
        apis.HallucinationRateApi.as_view(),
        name="teacher-class-hallucination-rate",
    ),
    path(
        "curricula/<slug:slug>/hallucination-rate/",
        apis.CurriculumHallucinationRateApi.as_view(),
        name="curriculum-hallucination-rate",
    ),
    path("me/classes/", apis.MyClassroomListJoinApi.as_view(), name="me-classes"),
]
