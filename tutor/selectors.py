"""Reads on the tutor side, always scoped to the asking student."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch, QuerySet

from .models import AnswerSentence, Conversation, Message


def _messages_with_sentences() -> QuerySet[Message]:
    return Message.objects.select_related("conversation__curriculum").prefetch_related(
        Prefetch("sentences", queryset=AnswerSentence.objects.order_by("index"))
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
