"""The student's REST API, included under /api/v1/.

The scheme: ``auth/`` for accounts, ``me/`` for what belongs to the signed-in student (curricula,
enrolments; later practice, reviews, plan, progress under ``me/<thing>/``), the answer history as
``conversations/`` and ``messages/`` (always the student's own), and ``teacher/`` kept for the
teacher endpoints.
"""

from django.urls import path

from . import apis

urlpatterns = [
    path("auth/register/", apis.StudentRegisterApi.as_view(), name="register"),
    path("auth/token/", apis.TokenObtainApi.as_view(), name="api-token"),
    path("me/", apis.MeDetailApi.as_view(), name="me"),
    path("me/curricula/", apis.MyCurriculumListApi.as_view(), name="me-curricula"),
    path("me/enrollments/", apis.EnrollmentCreateApi.as_view(), name="me-enrollment-create"),
    path("ask/", apis.AnswerCreateApi.as_view(), name="ask"),
    path("conversations/", apis.ConversationListApi.as_view(), name="conversation-list"),
    path(
        "conversations/<int:conversation_id>/messages/",
        apis.ConversationMessageListApi.as_view(),
        name="conversation-message-list",
    ),
    path("messages/<int:message_id>/", apis.MessageDetailApi.as_view(), name="message-detail"),
    path("messages/<int:message_id>/retry/", apis.AnswerRetryApi.as_view(), name="message-retry"),
    path(
        "messages/by-client-id/<str:client_msg_id>/", apis.MessageByClientIdApi.as_view(), name="message-by-client-id"
    ),
]
