"""A test double of ``tutor.services.tutor_answer_create`` for the delivery layers (socket, REST).

It keeps the service's contract (see tutor/services.py): the question is saved first, then
Accepted → (SentenceReleased | SentenceFlagged)* → Done, or → Failed with the message kept as
failed; cancelling the task marks the message cancelled and re-raises. What it answers is scripted
per test (``script``), so delivery is tested without the answer graph. Validation (enrolment,
lengths) is the real service's, and the tests for it call the real service.
"""

import asyncio
import dataclasses
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.utils import timezone

from curriculum.models import Curriculum
from tutor.events import Accepted, Citation, Done, Failed, SentenceFlagged, SentenceReleased
from tutor.models import AnswerSentence, Conversation, Message

DOTTED_PATH = "tests.tutor.answer_double.tutor_answer_create"


@dataclass(kw_only=True)
class AnswerScript:
    sentences: list[str] = field(
        default_factory=lambda: ["Osmosis moves water across a membrane.", "Cells can swell in hypotonic solutions."]
    )
    flagged: dict[int, str] = field(default_factory=dict)
    """index -> reason ("unsupported" | "contradicted"): those sentences fail verification."""
    failure: tuple[str, str] | None = None
    """(code, message): the LLM fails after the question is accepted."""
    pace_s: float = 0.0
    hold: asyncio.Event | None = None
    """When set, the answer waits here after Accepted (to test busy, cancel and disconnects)."""
    calls: list[dict] = field(default_factory=list)


script = AnswerScript()


def reset() -> AnswerScript:
    global script
    script = AnswerScript()
    return script


def citation_for(index: int) -> Citation:
    return Citation(
        chunk_id=1000 + index,
        topic="Passive Transport",
        module="m66374",
        marker=index + 1,
        label="5.2 Passive Transport",
        section="5.2",
        unit="Structure and Function of Plasma Membranes",
    )


@sync_to_async
def _save_question(*, student, curriculum_slug: str, question: str, conversation_id, client_msg_id: str) -> Message:
    curriculum = Curriculum.objects.get(slug=curriculum_slug)
    if conversation_id is None:
        conversation = Conversation.objects.create(student=student, curriculum=curriculum, title=question[:120])
    else:
        conversation = Conversation.objects.get(pk=conversation_id, student=student)
    return Message.objects.create(
        conversation=conversation,
        student=student,
        question=question,
        client_msg_id=client_msg_id,
        status=Message.Status.STREAMING,
    )


@sync_to_async
def _finish(*, message: Message, status: str, rows: list[AnswerSentence], error: tuple[str, str] = ("", "")) -> None:
    AnswerSentence.objects.bulk_create(rows)
    message.answer = " ".join(r.text for r in rows if r.delivery == AnswerSentence.Delivery.RELEASED)
    message.status = status
    message.error_code, message.error_message = error
    message.timings = {"total": 0.01}
    message.completed_at = timezone.now()
    message.save()


async def tutor_answer_create(
    *,
    student,
    curriculum_slug: str,
    question: str,
    conversation_id=None,
    client_msg_id: str = "",
    on_event=None,
    full_answer: bool = False,
) -> Message:
    async def emit(event) -> None:
        if on_event is not None:
            await on_event(event)

    current = script
    current.calls.append(
        {"student": student.pk, "curriculum": curriculum_slug, "question": question, "full_answer": full_answer}
    )
    message = await _save_question(
        student=student,
        curriculum_slug=curriculum_slug,
        question=question,
        conversation_id=conversation_id,
        client_msg_id=client_msg_id,
    )
    await emit(Accepted(message_id=message.pk, conversation_id=message.conversation_id, client_msg_id=client_msg_id))
    rows: list[AnswerSentence] = []
    try:
        if current.hold is not None:
            await current.hold.wait()
        if current.failure is not None:
            await _finish(message=message, status=Message.Status.FAILED, rows=rows, error=current.failure)
            await emit(Failed(code=current.failure[0], message=current.failure[1], message_id=message.pk))
            return message
        for index, text in enumerate(current.sentences):
            if current.pace_s:
                await asyncio.sleep(current.pace_s)
            if index in current.flagged:
                rows.append(
                    AnswerSentence(
                        message=message,
                        index=index,
                        text=text,
                        verdict=current.flagged[index],
                        delivery=AnswerSentence.Delivery.WITHHELD,
                    )
                )
                await emit(SentenceFlagged(index=index, reason=current.flagged[index], text=None))
                continue
            citation = citation_for(index)
            rows.append(
                AnswerSentence(
                    message=message,
                    index=index,
                    text=text,
                    verdict="supported",
                    delivery=AnswerSentence.Delivery.RELEASED,
                    citations=[dataclasses.asdict(citation)],
                )
            )
            await emit(SentenceReleased(index=index, text=text, verdict="supported", citations=[citation]))
    except asyncio.CancelledError:
        await _finish(message=message, status=Message.Status.CANCELLED, rows=rows, error=("cancelled", "Cancelled."))
        raise
    await _finish(message=message, status=Message.Status.COMPLETED, rows=rows)
    await emit(Done(message_id=message.pk, status=message.status, timings=message.timings))
    return message
