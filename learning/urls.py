"""The learner model's REST API, included under /api/v1/: the student's own plan, practice, reviews and
progress under ``me/`` (the scheme of tutor/urls.py)."""

from django.urls import path

from . import apis

urlpatterns = [
    path("me/study-plans/", apis.StudyPlanEnrolApi.as_view(), name="study-plan-enrol"),
    path("me/study-plans/<slug:slug>/", apis.StudyPlanDetailApi.as_view(), name="study-plan-detail"),
    path("me/study-plans/<slug:slug>/today/", apis.StudyPlanTodayApi.as_view(), name="study-plan-today"),
    path("me/study-plans/<slug:slug>/calendar/", apis.StudyPlanCalendarApi.as_view(), name="study-plan-calendar"),
    path("me/study-plans/<slug:slug>/reschedule/", apis.StudyPlanRescheduleApi.as_view(), name="study-plan-reschedule"),
    path("me/practice-sessions/", apis.PracticeSessionStartApi.as_view(), name="practice-session-start"),
    path(
        "me/practice-sessions/<int:session_id>/",
        apis.PracticeSessionDetailApi.as_view(),
        name="practice-session-detail",
    ),
    path(
        "me/practice-sessions/<int:session_id>/answers/",
        apis.PracticeAnswerApi.as_view(),
        name="practice-session-answer",
    ),
    path(
        "me/practice-sessions/<int:session_id>/hints/",
        apis.PracticeHintApi.as_view(),
        name="practice-session-hint",
    ),
    path(
        "me/practice-sessions/<int:session_id>/text-answers/",
        apis.PracticeTextAnswerApi.as_view(),
        name="practice-session-text-answer",
    ),
    path(
        "me/practice-sessions/<int:session_id>/text-answers/assess/",
        apis.PracticeTextAssessApi.as_view(),
        name="practice-session-text-assess",
    ),
    path(
        "me/practice-sessions/<int:session_id>/finish/",
        apis.PracticeSessionFinishApi.as_view(),
        name="practice-session-finish",
    ),
    path("me/practice-preferences/", apis.PracticePreferenceApi.as_view(), name="practice-preferences"),
    path(
        "teacher/classes/<int:class_id>/plan-defaults/",
        apis.ClassroomPlanDefaultApi.as_view(),
        name="classroom-plan-defaults",
    ),
    path("me/reviews/due/", apis.ReviewDueListApi.as_view(), name="reviews-due"),
    path("me/progress/<slug:slug>/topics/", apis.TopicProgressListApi.as_view(), name="progress-topics"),
    path("me/progress/<slug:slug>/history/", apis.ProgressHistoryApi.as_view(), name="progress-history"),
]
