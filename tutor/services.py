"""The tutor's one entry point: ``tutor_answer_create`` (websocket, REST and CLI all call it).

The question is saved before any generation starts, so a failure or a dropped connection never
loses it. The answer graph drafts sentence by sentence; each sentence is verified as it arrives
(``verification.pipeline.OrderedVerifier``) and released to the caller in order. Only supported
sentences are released as sentences, and only those that read as part of an answer (no fragments,
no references to context the student does not have, no repeats: ``tutor/composition.py``). On the
embedded model the answer graph drafts the answer plan's syllabus sentences first (chosen and
ordered for the kind of question), then the model's; there a sentence that passes only as a
revision is kept back, since the plan already chose the syllabus sentences. Failed ones are
flagged, with their text only when the curriculum's policy is to show them marked "not in your
syllabus".

Hint-first (the student's switch, else their class's: ``learning.selectors.hint_first_for``): a
question gets a guiding question and one verified, cited syllabus sentence with the answer's key term
blanked instead of the answer; asking again with ``full_answer`` gets the answer.
"""

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from curriculum.indexing.vector_store import VectorStoreUnavailableError
from curriculum.models import Chunk, Curriculum
from curriculum.selectors import chunk_map, curriculum_can_study, unsupported_policy_for
from learning.selectors import enrollment_get, hint_first_for
from llm.errors import LLMError, LLMRequestError, LLMUnavailableError
from verification.graph.state import EvidencePassage
from verification.pipeline import OrderedVerifier, SentenceVerdict
from verification.services import verification_run_record

from .composition import Omission, composition_omission
from .events import (
    Accepted,
    AnswerEvent,
    Citation,
    Done,
    Failed,
    HintReleased,
    Notice,
    SentenceFlagged,
    SentenceReleased,
    TutorInputError,
)
from .graph.graph import answer_graph
from .graph.state import (
    AnswerGraphEvent,
    AnswerState,
    DraftFinished,
    DraftSentence,
    HintOffered,
    OffSyllabus,
    Passage,
    PassagesRetrieved,
    QuestionCondensed,
    SentenceDrafted,
    StageTimed,
    Turn,
)
from .models import AnswerSentence, Conversation, Message
from .selectors import INTERRUPTED_CODE, INTERRUPTED_MESSAGE, interrupted_messages

logger = logging.getLogger(__name__)

# Long enough for any exam question with context pasted in; beyond it the prompt would crowd out
# the syllabus passages in a small model's context window.
MAX_QUESTION_CHARS = 2000
MAX_CLIENT_MSG_ID_CHARS = 64
HISTORY_MESSAGES = 6
SEARCH_UNAVAILABLE_MESSAGE = (
    "The tutor cannot search your syllabus right now. Your question is saved; please try again in a minute."
)

EventSink = Callable[[AnswerEvent], Awaitable[None]]


async def _ignore(_: AnswerEvent) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class _Prepared:
    message: Message
    curriculum: Curriculum
    history: list[Turn]
    unsupported_policy: str
    """How this student is shown a sentence the verifier could not support: their class's setting, else
    the curriculum's (``curriculum.selectors.unsupported_policy_for``)."""
    hint_first: bool
    """Give a guiding question and a clue instead of the answer (``Message.Mode.HINT``)."""


@dataclass(frozen=True, kw_only=True)
class AnswerOutcome:
    """How an answer ended and everything of it that is saved with the message."""

    status: str
    """A ``Message.Status``: completed, failed or cancelled."""
    error_code: str = ""
    """Why it failed or was cancelled ("llm_timeout", "internal", "cancelled", ...); "" when completed."""
    error_message: str = ""
    """The same, safe to show to the student."""
    curriculum: Curriculum
    """The curriculum answered from (its verification runs are recorded under it)."""
    unsupported_policy: str
    """The policy that decided the delivery of failed sentences (the class's, else the curriculum's)."""
    verdicts: list[SentenceVerdict]
    """Every verified sentence, in order."""
    kept_back: dict[int, Omission]
    """Supported sentences not shown, by index, with the composition rule that kept them back."""
    hints: dict[int, str]
    """Hint-first clues by index: the sentence as shown, its key term blanked (the verdict's text is
    the whole sentence, which would give the answer away)."""
    unverified: list[DraftSentence]
    """Sentences released unverified (verification switched off)."""
    passages: dict[int, Passage]
    """The retrieved passages by prompt number (what an unverified sentence's markers cite)."""
    chunks: dict[int, Chunk]
    """Cited passages already loaded, by chunk id."""
    notice: str
    """The tutor's own reply (off the syllabus), shown instead of sentences."""
    condensed_question: str
    """The retrieval query."""
    model_name: str
    """Which LLM drafted."""
    timings: dict[str, float]
    """Seconds by stage."""


async def tutor_answer_create(
    *,
    student: AbstractBaseUser,
    curriculum_slug: str,
    question: str,
    conversation_id: int | None = None,
    client_msg_id: str = "",
    on_event: EventSink | None = None,
    verify: bool | None = None,
    full_answer: bool = False,
) -> Message:
    """Answer a student's question from their syllabus, verified sentence by sentence.

    When hint-first is on for the student the answer is a guiding question and a clue (``HintReleased``)
    unless ``full_answer`` asks for the answer itself (the "show the full answer" follow-up).

    Raises TutorInputError before saving anything when the request is invalid. Otherwise the
    message is saved and returned completed, or failed (LLM down or slow; retry with
    ``tutor_answer_retry``), or the CancelledError propagates with the message marked cancelled.
    """
    prepared = await _message_create(
        student=student,
        curriculum_slug=curriculum_slug,
        question=question,
        conversation_id=conversation_id,
        client_msg_id=client_msg_id,
        full_answer=full_answer,
    )
    return await _answer(prepared, on_event=on_event or _ignore, verify=verify)


async def tutor_answer_retry(
    *, student: AbstractBaseUser, message_id: int, on_event: EventSink | None = None, verify: bool | None = None
) -> Message:
    """Answer a failed or cancelled message again (same message, same question)."""
    prepared = await _message_reset(student=student, message_id=message_id)
    return await _answer(prepared, on_event=on_event or _ignore, verify=verify)


async def _answer(prepared: _Prepared, *, on_event: EventSink, verify: bool | None) -> Message:
    message, curriculum = prepared.message, prepared.curriculum
    await on_event(
        Accepted(message_id=message.pk, conversation_id=message.conversation_id, client_msg_id=message.client_msg_id)
    )
    verify = settings.TUTOR_VERIFY_ANSWERS if verify is None else verify
    run = _AnswerRun(
        message=message,
        curriculum=curriculum,
        history=prepared.history,
        unsupported_policy=prepared.unsupported_policy,
        hint_first=prepared.hint_first,
        on_event=on_event,
        verify=verify,
    )
    try:
        await run.execute()
    except asyncio.CancelledError:
        run.cancel()
        cancelled = run.outcome(status=Message.Status.CANCELLED, error_code="cancelled", error_message="Cancelled.")
        await _message_finish(message=message, outcome=cancelled)
        raise
    except LLMError as exc:
        run.cancel()
        code, text = _llm_failure(exc)
        await _message_finish(
            message=message, outcome=run.outcome(status=Message.Status.FAILED, error_code=code, error_message=text)
        )
        await on_event(Failed(code=code, message=text, message_id=message.pk))
        return message
    except VectorStoreUnavailableError as exc:
        run.cancel()
        logger.warning("answer for message %s: %s", message.pk, exc)
        code, text = "search_unavailable", SEARCH_UNAVAILABLE_MESSAGE
        await _message_finish(
            message=message, outcome=run.outcome(status=Message.Status.FAILED, error_code=code, error_message=text)
        )
        await on_event(Failed(code=code, message=text, message_id=message.pk))
        return message
    except Exception:
        run.cancel()
        logger.exception("answer for message %s failed", message.pk)
        text = "Something went wrong while answering. Your question is saved; please try again."
        await _message_finish(
            message=message,
            outcome=run.outcome(status=Message.Status.FAILED, error_code="internal", error_message=text),
        )
        await on_event(Failed(code="internal", message=text, message_id=message.pk))
        return message
    await _message_finish(message=message, outcome=run.outcome(status=Message.Status.COMPLETED))
    await on_event(Done(message_id=message.pk, status=message.status, timings=message.timings))
    return message


def _llm_failure(exc: LLMError) -> tuple[str, str]:
    if isinstance(exc, LLMUnavailableError):
        return ("llm_timeout" if exc.reason == "timeout" else "llm_unavailable"), exc.student_message
    if isinstance(exc, LLMRequestError):
        return "question_too_long", "This question is too long for the tutor to answer; please shorten it."
    return "llm_unavailable", "The tutor's language model failed while answering. Please try again."


class _AnswerRun:
    """One answer in flight: drives the answer graph and the ordered verifier side by side."""

    def __init__(
        self,
        *,
        message: Message,
        curriculum: Curriculum,
        history: list[Turn],
        unsupported_policy: str,
        hint_first: bool,
        on_event: EventSink,
        verify: bool,
    ) -> None:
        self.message = message
        self.curriculum = curriculum
        self.unsupported_policy = unsupported_policy
        self.hint_first = hint_first
        self.history = history
        self.on_event = on_event
        self.verify = verify
        self.passages: dict[int, Passage] = {}
        self.chunks: dict[int, Chunk] = {}
        """Cited passages loaded so far, by chunk id: a citation names their section and chapter."""
        self.verifier: OrderedVerifier | None = None
        self.releaser: asyncio.Task | None = None
        self.verdicts: list[SentenceVerdict] = []
        self.kept_back: dict[int, Omission] = {}
        """Supported sentences not shown, by index, and the composition rule that kept them back
        (a fragment, a reference to context the student does not have, a repeat, a revision in a
        planned answer)."""
        self.unverified: list[DraftSentence] = []
        self.hints: dict[int, str] = {}
        """Hint-first clues by index, as shown (key term blanked)."""
        self.drafted: dict[int, DraftSentence] = {}
        """Every drafted sentence by index: who wrote it (the answer plan or the model)."""
        self.notice = ""
        self.model_name = ""
        self.condensed = ""
        self.timings: dict[str, float] = {}
        self.started = time.perf_counter()

    async def execute(self) -> None:
        state = AnswerState(
            question=self.message.question,
            curriculum_id=self.curriculum.pk,
            curriculum_title=self.curriculum.title,
            student_id=self.message.student_id,
            history=self.history,
            hint_first=self.hint_first,
        )
        async for event in answer_graph.astream(state, stream_mode="custom"):
            # The custom stream carries only what the nodes emit (graph.nodes._emit: AnswerGraphEvents);
            # LangGraph types its items as dict[str, Any] | Any.
            await self._on_graph_event(cast(AnswerGraphEvent, event))
        if self.verifier is not None:
            self.verifier.close()
        if self.releaser is not None:
            await self.releaser
        self.timings["total"] = time.perf_counter() - self.started

    async def _on_graph_event(self, event: AnswerGraphEvent) -> None:
        match event:
            case StageTimed():
                self.timings[event.stage] = event.seconds
            case QuestionCondensed():
                self.condensed = event.standalone_question
            case PassagesRetrieved():
                self.passages = {p.number: p for p in event.passages}
                if self.verify:
                    evidence = [
                        EvidencePassage(chunk_id=p.chunk_id, text=p.text, topic=p.topic, module=p.module)
                        for p in event.passages
                    ]
                    self.verifier = OrderedVerifier(curriculum_id=self.curriculum.pk, answer_evidence=evidence)
                    self.releaser = asyncio.create_task(self._release())
            case OffSyllabus():
                self.notice = event.notice
                await self.on_event(Notice(kind="off_syllabus", text=event.notice, topics=list(event.topics)))
            case HintOffered():
                self.notice = event.notice
                await self.on_event(Notice(kind="hint_first", text=event.notice))
                if event.clue is not None:
                    self.hints[event.clue.index] = event.blanked
                    await self._on_sentence(event.clue)
            case SentenceDrafted():
                await self._on_sentence(event.sentence)
            case DraftFinished():
                self.model_name = event.model_name

    async def _on_sentence(self, sentence: DraftSentence) -> None:
        self._mark("first_generated_sentence")
        self.drafted[sentence.index] = sentence
        hint = self.hints.get(sentence.index)
        if self.verifier is not None:
            # A clue is the syllabus sentence or nothing: a revision would be another sentence, and
            # its blank would no longer hide the key term.
            self.verifier.submit(index=sentence.index, sentence=sentence.text, allow_revision=hint is None)
            return
        self.unverified.append(sentence)
        self._mark("first_released_sentence")
        citations = await self._citations([self.passages[n] for n in sentence.markers if n in self.passages])
        if hint is not None:
            await self.on_event(HintReleased(index=sentence.index, text=hint, citations=citations))
            return
        await self.on_event(
            SentenceReleased(index=sentence.index, text=sentence.text, verdict=None, citations=citations)
        )

    async def _release(self) -> None:
        assert self.verifier is not None
        released_texts: list[str] = []
        async for verdict in self.verifier.results():
            self.verdicts.append(verdict)
            omission = self._omission(verdict, shown=released_texts) if verdict.verdict == "supported" else None
            if omission is not None:
                # True and cited, but no use where it would land (tutor/composition.py): kept, not shown.
                self.kept_back[verdict.index] = omission
            hint = self.hints.get(verdict.index)
            delivery = sentence_delivery(
                verdict, kept_back=omission is not None, policy=self.unsupported_policy, hint=hint is not None
            )
            if delivery == AnswerSentence.Delivery.RELEASED:
                released_texts.append(verdict.text)
                self._mark("first_released_sentence")
                citations = await self._citations(verdict.citations)
                if hint is not None:
                    await self.on_event(HintReleased(index=verdict.index, text=hint, citations=citations))
                    continue
                await self.on_event(
                    SentenceReleased(index=verdict.index, text=verdict.text, verdict="supported", citations=citations)
                )
            elif verdict.verdict != "supported":
                shown = verdict.text if delivery == AnswerSentence.Delivery.MARKED else None
                await self.on_event(SentenceFlagged(index=verdict.index, reason=verdict.verdict, text=shown))

    def _omission(self, verdict: SentenceVerdict, *, shown: Sequence[str]) -> Omission | None:
        """Why a supported sentence is kept back (``tutor/composition.py``), or None to release it."""
        if verdict.revised and any(s.source == "plan" for s in self.drafted.values()):
            # The plan already chose the syllabus sentences for the question; a revision is one
            # chosen for the failed sentence's words (what made answers collages).
            return "off_plan"
        return composition_omission(verdict.text, shown=shown)

    def outcome(self, *, status: str, error_code: str = "", error_message: str = "") -> AnswerOutcome:
        return AnswerOutcome(
            status=status,
            error_code=error_code,
            error_message=error_message,
            curriculum=self.curriculum,
            unsupported_policy=self.unsupported_policy,
            verdicts=list(self.verdicts),
            kept_back=dict(self.kept_back),
            hints=dict(self.hints),
            unverified=list(self.unverified),
            passages=dict(self.passages),
            chunks=dict(self.chunks),
            notice=self.notice,
            condensed_question=self.condensed,
            model_name=self.model_name,
            timings=dict(self.timings),
        )

    async def _citations(self, sources: Sequence[EvidencePassage | Passage]) -> list[Citation]:
        missing = {source.chunk_id for source in sources} - self.chunks.keys()
        if missing:
            self.chunks.update(await sync_to_async(chunk_map)(chunk_ids=missing))
        return [_citation(source, self.chunks.get(source.chunk_id)) for source in sources]

    def _mark(self, key: str) -> None:
        self.timings.setdefault(key, time.perf_counter() - self.started)

    def cancel(self) -> None:
        if self.verifier is not None:
            self.verifier.cancel()
        if self.releaser is not None:
            self.releaser.cancel()


# --- persistence (sync ORM, called through sync_to_async) -------------------------------------


@sync_to_async
def _message_create(
    *,
    student: AbstractBaseUser,
    curriculum_slug: str,
    question: str,
    conversation_id: int | None,
    client_msg_id: str,
    full_answer: bool,
) -> _Prepared:
    question = (question or "").strip()
    if not question:
        raise TutorInputError(code="empty_question", message="Please type a question.")
    if len(question) > MAX_QUESTION_CHARS:
        raise TutorInputError(
            code="question_too_long",
            message=f"Your question is {len(question)} characters long; please keep it under {MAX_QUESTION_CHARS}.",
        )
    if len(client_msg_id) > MAX_CLIENT_MSG_ID_CHARS:
        raise TutorInputError(
            code="invalid_client_msg_id", message="client_msg_id is too long (64 characters at most)."
        )
    curriculum = Curriculum.objects.filter(slug=curriculum_slug).first()
    if curriculum is None:
        raise TutorInputError(code="unknown_curriculum", message=f"There is no curriculum '{curriculum_slug}'.")
    if not curriculum_can_study(user=student, curriculum=curriculum):
        raise TutorInputError(code="not_enrolled", message=f"You are not enrolled in {curriculum.title}.")
    if client_msg_id and Message.objects.filter(student=student, client_msg_id=client_msg_id).exists():
        raise TutorInputError(
            code="duplicate_client_msg_id", message="This message was already sent; fetch its answer by client_msg_id."
        )
    hint_first = not full_answer and (
        hint_first_for(student=student, enrollment=enrollment_get(student=student, curriculum=curriculum)).hint_first
    )
    with transaction.atomic():
        if conversation_id is None:
            conversation = Conversation.objects.create(student=student, curriculum=curriculum, title=question[:120])
        else:
            conversation = Conversation.objects.filter(
                pk=conversation_id, student=student, curriculum=curriculum
            ).first()
            if conversation is None:
                raise TutorInputError(code="unknown_conversation", message="That conversation does not exist.")
        try:
            message = Message.objects.create(
                conversation=conversation,
                student=student,
                question=question,
                client_msg_id=client_msg_id,
                status=Message.Status.STREAMING,
                mode=Message.Mode.HINT if hint_first else Message.Mode.ANSWER,
            )
        except IntegrityError as exc:
            raise TutorInputError(
                code="duplicate_client_msg_id",
                message="This message was already sent; fetch its answer by client_msg_id.",
            ) from exc
        Conversation.objects.filter(pk=conversation.pk).update(updated_at=timezone.now())
    return _Prepared(
        message=message,
        curriculum=curriculum,
        history=_history(message),
        unsupported_policy=unsupported_policy_for(student=student, curriculum=curriculum),
        hint_first=hint_first,
    )


@sync_to_async
def _message_reset(*, student: AbstractBaseUser, message_id: int) -> _Prepared:
    found = Message.objects.select_related("conversation__curriculum").filter(pk=message_id, student=student)
    message = found.first()
    if message is None:
        raise TutorInputError(code="unknown_message", message="That message does not exist.")
    retryable = message.status in (Message.Status.FAILED, Message.Status.CANCELLED)
    if not retryable and not found.filter(interrupted_messages()).exists():
        raise TutorInputError(code="not_retryable", message="Only a failed or cancelled answer can be retried.")
    with transaction.atomic():
        message.sentences.all().delete()
        message.status, message.error_code, message.error_message, message.answer = Message.Status.STREAMING, "", "", ""
        message.started_at = timezone.now()
        message.save(update_fields=["status", "error_code", "error_message", "answer", "started_at"])
    curriculum = message.conversation.curriculum
    return _Prepared(
        message=message,
        curriculum=curriculum,
        history=_history(message),
        unsupported_policy=unsupported_policy_for(student=student, curriculum=curriculum),
        # A retry gives what was asked for: a hint stays a hint.
        hint_first=message.mode == Message.Mode.HINT,
    )


def tutor_interrupted_answers_sweep() -> int:
    """Fail every answer that lost the process generating it (a restart or crash mid-answer).

    Such an answer is still pending or streaming long after it started
    (``settings.TUTOR_ANSWER_INTERRUPTED_AFTER_S``); its row becomes failed with code "interrupted"
    and a message the student can act on, so that every client, list and export sees a final state,
    not only the reads that present it as failed. Its question and the sentences saved so far are
    kept, and it can be retried. Idempotent: a second sweep finds nothing. Returns how many rows it
    failed. Run by a periodic task (``tutor.tasks.interrupted_answers_sweep_task``).
    """
    return Message.objects.filter(interrupted_messages()).update(
        status=Message.Status.FAILED,
        error_code=INTERRUPTED_CODE,
        error_message=INTERRUPTED_MESSAGE,
        completed_at=timezone.now(),
    )


def _history(message: Message) -> list[Turn]:
    earlier = Message.objects.filter(
        conversation_id=message.conversation_id, status=Message.Status.COMPLETED, id__lt=message.pk
    ).order_by("-id")[:HISTORY_MESSAGES]
    return [Turn(question=m.question, answer=m.answer) for m in reversed(earlier)]


@sync_to_async
def _message_finish(*, message: Message, outcome: AnswerOutcome) -> None:
    with transaction.atomic():
        rows: list[AnswerSentence] = []
        if outcome.verdicts:
            message.verification_run = verification_run_record(curriculum=outcome.curriculum, verdicts=outcome.verdicts)
        cited: list[EvidencePassage | Passage] = [c for v in outcome.verdicts for c in v.citations]
        cited += [outcome.passages[n] for s in outcome.unverified for n in s.markers if n in outcome.passages]
        chunks = {**outcome.chunks, **chunk_map(chunk_ids={c.chunk_id for c in cited} - outcome.chunks.keys())}
        for v in outcome.verdicts:
            hint = outcome.hints.get(v.index)
            delivery = sentence_delivery(
                v, kept_back=v.index in outcome.kept_back, policy=outcome.unsupported_policy, hint=hint is not None
            )
            rows.append(
                AnswerSentence(
                    message=message,
                    index=v.index,
                    # A clue is saved as shown: the whole sentence is the answer (the audit keeps it).
                    text=v.text if hint is None else hint,
                    original_text=v.original if v.revised else "",
                    verdict=v.verdict,
                    delivery=delivery,
                    score=v.score,
                    citations=[dataclasses.asdict(_citation(c, chunks.get(c.chunk_id))) for c in v.citations],
                )
            )
        for s in outcome.unverified:
            passages = [outcome.passages[n] for n in s.markers if n in outcome.passages]
            rows.append(
                AnswerSentence(
                    message=message,
                    index=s.index,
                    text=outcome.hints.get(s.index, s.text),
                    verdict=None,
                    delivery=AnswerSentence.Delivery.RELEASED,
                    citations=[dataclasses.asdict(_citation(p, chunks.get(p.chunk_id))) for p in passages],
                )
            )
        AnswerSentence.objects.bulk_create(rows)
        shown = [r.text for r in sorted(rows, key=lambda r: r.index) if r.delivery == AnswerSentence.Delivery.RELEASED]
        # The tutor's own reply (off the syllabus; hint-first's guiding question) comes before any clue.
        message.answer = " ".join(part for part in (outcome.notice, *shown) if part)
        message.condensed_question = outcome.condensed_question
        message.status = outcome.status
        message.model_name = outcome.model_name
        message.timings = {k: round(v, 4) for k, v in outcome.timings.items()}
        message.completed_at = timezone.now()
        message.error_code, message.error_message = outcome.error_code, outcome.error_message
        message.save()


def _citation(source: EvidencePassage | Passage, chunk: Chunk | None) -> Citation:
    """The one conversion from a cited passage to the citation a student reads ("6.3 Operant
    Conditioning"); ``chunk`` is the passage's row with its section and chapter, None if it was
    re-imported away while the answer was being written (the section's title is all that is left)."""
    marker = source.number if isinstance(source, Passage) else None
    if chunk is None:
        return Citation(
            chunk_id=source.chunk_id, topic=source.topic, module=source.module, marker=marker, label=source.topic
        )
    topic = chunk.document.topic
    return Citation(
        chunk_id=chunk.pk,
        topic=topic.title,
        module=chunk.document.source_id,
        marker=marker,
        label=topic.label,
        section=topic.number,
        unit=topic.unit.title,
    )


def sentence_delivery(verdict: SentenceVerdict, *, kept_back: bool, policy: str, hint: bool = False) -> str:
    """The one delivery decision for a verified sentence: released when supported (unless a
    composition rule kept it back), else withheld or marked "not in your syllabus" per the
    curriculum's ``policy``. A hint-first clue that failed is withheld whatever the policy: marked,
    it would show its key term, the answer the student was to recall. So is a sentence repeating a
    syllabus line that addresses the model: marked, the injection would still reach the student."""
    if verdict.verdict == "supported":
        return str(AnswerSentence.Delivery.WITHHELD if kept_back else AnswerSentence.Delivery.RELEASED)
    if policy == Curriculum.UnsupportedPolicy.MARK and not hint and not verdict.echoes_injection:
        return str(AnswerSentence.Delivery.MARKED)
    return str(AnswerSentence.Delivery.WITHHELD)
