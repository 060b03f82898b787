"""Reads on the tutor side, always scoped to the asking student."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Case, CharField, F, Prefetch, Q, QuerySet, TextField, Value, When
from django.utils import timezone

from .models import AnswerSentence, Conversation, Message

INTERRUPTED_CODE = "interrupted"
INTERRUPTED_MESSAGE = (
    "The tutor stopped before finishing this answer (the server restarted). Your question is kept: ask it again."
)


def interrupted_messages() -> Q:
    """Answers still pending or streaming long after they started: their generator is gone."""
    cutoff = timezone.now() - timedelta(seconds=settings.TUTOR_ANSWER_INTERRUPTED_AFTER_S)
    return Q(status__in=[Message.Status.PENDING, Message.Status.STREAMING], started_at__lt=cutoff)


def _messages_with_sentences() -> QuerySet[Message]:
    """Messages as the student sees them: ``shown_status``, ``shown_error_code`` and
    ``shown_error_message`` present an interrupted answer as failed (the row itself changes only
    when it is retried), so that a client polling for it stops waiting and offers a retry."""
    interrupted = interrupted_messages()
    return (
        Message.objects.select_related("conversation__curriculum")
        .prefetch_related(
            Prefetch("sentences", queryset=AnswerSentence.objects.select_related("review__teacher").order_by("index"))
        )
        .annotate(
            shown_status=Case(
                When(interrupted, then=Value(str(Message.Status.FAILED))), default=F("status"), output_field=CharField()
            ),
            shown_error_code=Case(
                When(interrupted, then=Value(INTERRUPTED_CODE)), default=F("error_code"), output_field=CharField()
            ),
            shown_error_message=Case(
                When(interrupted, then=Value(INTERRUPTED_MESSAGE)), default=F("error_message"), output_field=TextField()
            ),
        )
    )


def message_get(*, student: AbstractBaseUser, message_id: int) -> Message | None:
    return _messages_with_sentences().filter(student=student, pk=message_id).first()


def message_get_by_client_id(*, student: AbstractBaseUser, client_msg_id: str) -> Message | None:
    """The message a client sent under its own id: how a reconnecting client finds its answer."""
    if not client_msg_id:
        return None
    return _messages_with_sentences().filter(student=student, client_msg_id=client_msg_id).first()


def message_list(*, conversation: Conversation) -> QuerySet[Message]:
    return _messages_with_sentences().filter(conversation=conversation).order_by("created_at", "id")


def conversation_list(*, student: AbstractBaseUser, curriculum_slug: str | None = None) -> QuerySet[Conversation]:
    qs = Conversation.objects.filter(student=student).select_related("curriculum")
    if curriculum_slug:
        qs = qs.filter(curriculum__slug=curriculum_slug)
    return qs.order_by("-updated_at", "-id")


def conversation_get(*, student: AbstractBaseUser, conversation_id: int) -> Conversation | None:
    return Conversation.objects.select_related("curriculum").filter(student=student, pk=conversation_id).first()


def message_sentences(*, message: Message) -> QuerySet[AnswerSentence]:
    """Every sentence of an answer with its verdict and delivery, in answer order."""
    return AnswerSentence.objects.filter(message=message).order_by("index")
