"""The periodic sweep that fails answers cut off by a restart (tutor_interrupted_answers_sweep)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ConversationFactory, MessageFactory
from tutor.selectors import INTERRUPTED_MESSAGE
from tutor.services import tutor_interrupted_answers_sweep
from tutor.tasks import interrupted_answers_sweep_task

pytestmark = pytest.mark.django_db


def test_only_overdue_unfinished_answers_are_failed_and_a_second_sweep_finds_none(settings):
    # given answers of every status, some started 11 minutes ago, one just now
    settings.TUTOR_ANSWER_INTERRUPTED_AFTER_S = 600
    conversation = ConversationFactory()
    long_ago = timezone.now() - timedelta(minutes=11)

    def message(status: str, started_at):
        return MessageFactory(
            conversation=conversation, student=conversation.student, status=status, started_at=started_at
        )

    cut_streaming, cut_pending = message("streaming", long_ago), message("pending", long_ago)
    live = message("streaming", timezone.now())
    finished = [message(status, long_ago) for status in ("completed", "failed", "cancelled")]

    # when the sweep runs twice, the second time as the periodic task
    first = tutor_interrupted_answers_sweep()
    second = interrupted_answers_sweep_task.apply().get()

    # then the two cut-off answers are failed as interrupted, once; nothing else changes
    assert (first, second) == (2, 0)
    for cut in (cut_streaming, cut_pending):
        cut.refresh_from_db()
        assert (cut.status, cut.error_code, cut.error_message) == ("failed", "interrupted", INTERRUPTED_MESSAGE)
        assert cut.completed_at is not None
    live.refresh_from_db()
    assert (live.status, live.error_code, live.completed_at) == ("streaming", "", None)
    for before in finished:
        after = type(before).objects.get(pk=before.pk)
        assert (after.status, after.error_code, after.completed_at) == (before.status, "", None)
