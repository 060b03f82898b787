"""The tutor websocket, /ws/tutor/: thin — authenticate, parse a frame, call the tutor service.

Each question runs in its own asyncio task, detached from the socket: a dropped connection only
stops the delivery. The answer still completes and is saved, so a client that reconnects fetches
it over REST by its client_msg_id. Frames go straight to the socket (the task runs in the socket's
process), or through the channel layer when settings.TUTOR_SOCKET_DELIVERY says so (and straight
again should the layer fail mid-answer: tests/chaos/test_redis_killed.py).
Wire format: docs/websocket-protocol.md.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import BaseChannelLayer
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils.module_loading import import_string

from curriculum.selectors import curriculum_get_for_user

from .events import Accepted, AnswerEvent, TutorInputError
from .rate_limits import ask_rate_limit_take
from .socket_auth import TOKEN_SUBPROTOCOL, uses_token_subprotocol
from .socket_protocol import AskFrame, CancelFrame, ProtocolError, error_frame, event_frame, parse_client_frame

logger = logging.getLogger(__name__)

# Close code for a refused handshake; before accept() the ASGI server turns it into HTTP 403.
CLOSE_UNAUTHENTICATED = 4401

# Detached answer tasks: the event loop only keeps weak references to tasks.
_answers_in_flight: set[asyncio.Task] = set()


def answers_in_flight() -> frozenset[asyncio.Task]:
    """The answer tasks still running in this process (tests and graceful shutdown wait on them)."""
    return frozenset(_answers_in_flight)


Deliver = Callable[[dict[str, Any]], Awaitable[None]]


class _SocketSink:
    """Where an answer's frames go while the socket lives; closing it silences the answer.

    Frames go through ``deliver``; when that is the channel layer and it fails (its Redis down or
    full), the rest of the answer goes to the socket ``direct``ly, the failed frame first: the answer
    runs in the socket's own process, so a broken layer need not cost the student their answer.
    """

    def __init__(self, deliver: Deliver, *, direct: Deliver | None = None) -> None:
        self._deliver = deliver
        self._direct = direct
        self.open = True
        self.message_id: int | None = None

    async def publish(self, frame: dict[str, Any]) -> None:
        if not self.open:
            return
        try:
            await self._deliver(frame)
        except Exception:  # a full or unreachable layer must not abort the answer: it is saved anyway
            if self._direct is None or self._deliver is self._direct:
                logger.warning("dropped a tutor frame of message %s", self.message_id, exc_info=True)
                return
            logger.warning(
                "the channel layer failed mid-answer (message %s): the rest goes to the socket directly",
                self.message_id,
                exc_info=True,
            )
            self._deliver = self._direct
            await self.publish(frame)


async def _answer_and_relay(*, student: AbstractBaseUser, frame: AskFrame, sink: _SocketSink) -> None:
    answer = import_string(settings.TUTOR_ANSWER_BACKEND)

    async def on_event(event: AnswerEvent) -> None:
        if isinstance(event, Accepted):
            sink.message_id = event.message_id
        await sink.publish(event_frame(event))

    try:
        await answer(
            student=student,
            curriculum_slug=frame.curriculum,
            question=frame.question,
            conversation_id=frame.conversation_id,
            client_msg_id=frame.client_msg_id,
            on_event=on_event,
            full_answer=frame.full_answer,
        )
    except TutorInputError as exc:
        await sink.publish(error_frame(code=exc.code, message=exc.message))
    except asyncio.CancelledError:
        await sink.publish(
            error_frame(
                code="cancelled", message="The answer was cancelled.", message_id=sink.message_id, retryable=True
            )
        )
        raise
    except Exception:
        logger.exception("answer to %s failed", frame.client_msg_id)
        await sink.publish(
            error_frame(
                code="internal",
                message="Something went wrong while answering; please try again.",
                message_id=sink.message_id,
                retryable=True,
            )
        )


class TutorConsumer(AsyncJsonWebsocketConsumer):
    answer_task: asyncio.Task | None = None
    sink: _SocketSink | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        await self.accept(subprotocol=TOKEN_SUBPROTOCOL if uses_token_subprotocol(self.scope) else None)

    async def disconnect(self, code: int) -> None:
        # The answer goes on and is saved; only its delivery to this socket stops.
        if self.sink is not None:
            self.sink.open = False

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any) -> None:
        try:
            frame = parse_client_frame(text_data, bytes_data)
        except ProtocolError as exc:
            await self.send_json(error_frame(code=exc.code, message=exc.message))
            return
        if isinstance(frame, CancelFrame):
            await self._cancel()
        else:
            await self._ask(frame)

    async def _ask(self, frame: AskFrame) -> None:
        if self.answer_task is not None and not self.answer_task.done():
            await self.send_json(
                error_frame(code="busy", message="Wait for the current answer (or cancel it) before asking again.")
            )
            return
        decision = await ask_rate_limit_take(user_id=self.scope["user"].pk)
        if not decision.allowed:
            await self.send_json(
                error_frame(
                    code="rate_limited",
                    message=f"You are asking faster than the tutor allows; try again in {decision.retry_after_s} s.",
                    retryable=True,
                )
            )
            return
        # Tenancy: a teacher's own syllabus that this user may not study is answered exactly as a slug
        # that does not exist (its title, even its existence, stays in its classes).
        reachable = await database_sync_to_async(curriculum_get_for_user)(
            user=self.scope["user"], slug=frame.curriculum
        )
        if reachable is None:
            await self.send_json(
                error_frame(code="unknown_curriculum", message=f"There is no curriculum '{frame.curriculum}'.")
            )
            return
        via_layer = settings.TUTOR_SOCKET_DELIVERY == "channel_layer" and self.channel_layer is not None
        self.sink = (
            _SocketSink(self._deliver_via_layer, direct=self.send_json) if via_layer else _SocketSink(self.send_json)
        )
        task = asyncio.create_task(_answer_and_relay(student=self.scope["user"], frame=frame, sink=self.sink))
        _answers_in_flight.add(task)
        task.add_done_callback(_answers_in_flight.discard)
        self.answer_task = task

    async def _cancel(self) -> None:
        if self.answer_task is None or self.answer_task.done():
            await self.send_json(error_frame(code="nothing_to_cancel", message="No answer is in progress."))
            return
        self.answer_task.cancel()

    async def _deliver_via_layer(self, frame: dict[str, Any]) -> None:
        layer: BaseChannelLayer = self.channel_layer
        await layer.send(self.channel_name, {"type": "answer.frame", "frame": frame})

    async def answer_frame(self, message: dict[str, Any]) -> None:
        """Channel-layer handler: one frame of the answer in flight, on its way to the client."""
        await self.send_json(message["frame"])
