"""A mobile app's student and teacher sessions, written against the client generated from ``/api/schema/``.

What a phone does, in the order a student does it: sign up, log in for a token, join a class with its
code, enrol with an exam date, ask a question over the websocket and lose the connection, get the
answer back by the question's ``client_msg_id``, practise, read progress. And a teacher's: log in,
create a class, list their own classes, open one for its students, their mastery and the sentences
the verifier flagged in their answers (another teacher's class is absent: 404). Every REST call goes
through the generated package ``veritutor_client`` (``tests/mobile/generate_client.py``); the
websocket, which an OpenAPI client cannot speak, through ``websockets`` as the protocol document
shows (docs/websocket-protocol.md).

This module only imports the generated client and typed libraries, and is checked by strict mypy
against the generated types (``make mobile-client``): a schema change that renames, removes or
retypes a field, an operation or a choice this app uses fails the build there.
"""

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

from veritutor_client import AuthenticatedClient, Client
from veritutor_client.api.v1 import (
    ask,
    auth_token_create,
    me_classes_join,
    me_practice_sessions_answer,
    me_practice_sessions_create,
    me_practice_sessions_finish,
    me_progress_history,
    me_progress_topics,
    me_study_plans_create,
    me_study_plans_today,
    messages_by_client_id_retrieve,
    register,
    teacher_classes_create,
    teacher_classes_list,
    teacher_classes_mastery,
    teacher_classes_retrieve,
    teacher_classes_review_list,
    teacher_classes_roster,
)
from veritutor_client.models import (
    AnswerCreateInput,
    Classroom,
    ClassroomDetail,
    ClassroomListCreateInput,
    ClassroomMasteryOutput,
    ErrorResponse,
    GradedAnswer,
    Message,
    MyClassroom,
    MyClassroomListJoinInput,
    PaginatedClassroomList,
    PaginatedStudentList,
    Plan,
    PlanDay,
    PracticeAnswerInput,
    PracticeSessionFinishOutput,
    PracticeSessionStartInput,
    ProgressHistoryOutput,
    ReviewItem,
    Session,
    SessionQuestion,
    Student,
    StudentRegisterInput,
    StudentRegisterOutput,
    StudyPlanEnrolInput,
    TokenObtainInput,
    TokenObtainOutput,
    TopicProgressListOutput,
)
from veritutor_client.models.message_status_enum import MessageStatusEnum
from veritutor_client.models.teacher_classes_review_list_state import TeacherClassesReviewListState
from veritutor_client.types import Response
from websockets.sync.client import connect
from websockets.typing import Subprotocol

T = TypeVar("T")

FINAL_STATUSES: frozenset[MessageStatusEnum] = frozenset({"completed", "failed", "cancelled"})
TIMEOUT_S = 30.0


class ApiError(Exception):
    """The server answered with something other than the documented success; ``code`` is the error
    body's (``not_found``, ``permission_denied``...), empty when the body was not the API's error."""

    def __init__(self, operation: str, status: int, body: bytes, code: str = "") -> None:
        super().__init__(f"{operation}: HTTP {status}: {body[:500]!r}")
        self.operation = operation
        self.status = status
        self.code = code


def _refused(operation: str, status: int, body: bytes, parsed: object) -> ApiError:
    code = parsed.error.code if isinstance(parsed, ErrorResponse) else ""
    return ApiError(operation, status, body, code)


def _ok(operation: str, response: Response[T | ErrorResponse], kind: type[T]) -> T:
    parsed = response.parsed
    if not isinstance(parsed, kind):
        raise _refused(operation, response.status_code, response.content, parsed)
    return parsed


def _ok_list(operation: str, response: Response[list[T] | ErrorResponse], kind: type[T]) -> list[T]:
    parsed = response.parsed
    if not isinstance(parsed, list) or not all(isinstance(item, kind) for item in parsed):
        raise _refused(operation, response.status_code, response.content, parsed)
    return parsed


@dataclass(frozen=True, kw_only=True)
class Server:
    """Where the app talks to: ``http://host:port`` for REST and ``ws://host:port`` for the socket."""

    host: str

    @property
    def http(self) -> str:
        return f"http://{self.host}"

    @property
    def ws(self) -> str:
        return f"ws://{self.host}/ws/tutor/"


# --- account ------------------------------------------------------------------------------------------


def sign_up(server: Server, *, username: str, password: str) -> StudentRegisterOutput:
    with Client(base_url=server.http) as anonymous:
        response = register.sync_detailed(
            client=anonymous, body=StudentRegisterInput(username=username, password=password, level="beginner")
        )
    return _ok("register", response, StudentRegisterOutput)


def log_in(server: Server, *, username: str, password: str) -> AuthenticatedClient:
    """A client carrying the token the server gives for this username and password."""
    with Client(base_url=server.http) as anonymous:
        response = auth_token_create.sync_detailed(
            client=anonymous, body=TokenObtainInput(username=username, password=password)
        )
    token = _ok("auth_token_create", response, TokenObtainOutput).token
    return AuthenticatedClient(base_url=server.http, token=token, prefix="Token")


# --- class and plan -----------------------------------------------------------------------------------


def join_class(client: AuthenticatedClient, *, code: str) -> MyClassroom:
    response = me_classes_join.sync_detailed(client=client, body=MyClassroomListJoinInput(code=code))
    return _ok("me_classes_join", response, MyClassroom)


def enrol(client: AuthenticatedClient, *, curriculum: str, exam_date: date, daily_minutes: int) -> Plan:
    body = StudyPlanEnrolInput(curriculum=curriculum, exam_date=exam_date, daily_minutes=daily_minutes)
    return _ok("me_study_plans_create", me_study_plans_create.sync_detailed(client=client, body=body), Plan)


def today(client: AuthenticatedClient, *, curriculum: str) -> PlanDay:
    return _ok("me_study_plans_today", me_study_plans_today.sync_detailed(curriculum, client=client), PlanDay)


# --- asking -------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Accepted:
    message_id: int
    conversation_id: int
    client_msg_id: str


def ask_then_lose_connection(
    server: Server, token: str, *, curriculum: str, question: str, client_msg_id: str
) -> Accepted:
    """Ask over the websocket (token subprotocol, as a native app authenticates) and drop the
    connection as soon as the server has saved the question, as a phone going into a tunnel does."""
    with connect(server.ws, subprotocols=[Subprotocol("token"), Subprotocol(token)], open_timeout=TIMEOUT_S) as ws:
        ws.send(
            json.dumps({"type": "ask", "curriculum": curriculum, "question": question, "client_msg_id": client_msg_id})
        )
        frame = json.loads(ws.recv(timeout=TIMEOUT_S))
    if frame.get("type") != "accepted":
        raise ApiError("ws ask", 0, json.dumps(frame).encode())
    return Accepted(
        message_id=int(frame["message_id"]),
        conversation_id=int(frame["conversation_id"]),
        client_msg_id=str(frame["client_msg_id"]),
    )


def answer_after_reconnect(client: AuthenticatedClient, *, client_msg_id: str, timeout_s: float = TIMEOUT_S) -> Message:
    """The answer to the question sent under ``client_msg_id``, once the server has finished it."""
    deadline = time.monotonic() + timeout_s
    while True:
        response = messages_by_client_id_retrieve.sync_detailed(client_msg_id, client=client)
        message = _ok("messages_by_client_id_retrieve", response, Message)
        if message.status in FINAL_STATUSES or time.monotonic() > deadline:
            return message
        time.sleep(0.1)


def ask_and_wait(client: AuthenticatedClient, *, curriculum: str, question: str, client_msg_id: str) -> Message:
    """Ask over REST, the websocket's non-streaming twin: the whole verified answer in one response."""
    body = AnswerCreateInput(curriculum=curriculum, question=question, client_msg_id=client_msg_id)
    return _ok("ask", ask.sync_detailed(client=client, body=body), Message)


# --- practice and progress ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Practice:
    session: Session
    graded: list[GradedAnswer]
    summary: PracticeSessionFinishOutput


def practise_topic(
    client: AuthenticatedClient, *, curriculum: str, topic_id: int, pick: Callable[[SessionQuestion], int]
) -> Practice:
    """A multiple-choice session on one topic: each question answered with ``pick``'s option, then finished."""
    body = PracticeSessionStartInput(curriculum=curriculum, kind="topic", topic_id=topic_id, question_format="choice")
    session = _ok(
        "me_practice_sessions_create", me_practice_sessions_create.sync_detailed(client=client, body=body), Session
    )
    graded = [
        _ok(
            "me_practice_sessions_answer",
            me_practice_sessions_answer.sync_detailed(
                session.id, client=client, body=PracticeAnswerInput(position=question.position, option=pick(question))
            ),
            GradedAnswer,
        )
        for question in session.questions
    ]
    summary = _ok(
        "me_practice_sessions_finish",
        me_practice_sessions_finish.sync_detailed(session.id, client=client),
        PracticeSessionFinishOutput,
    )
    return Practice(session=session, graded=graded, summary=summary)


@dataclass(frozen=True, kw_only=True)
class Progress:
    topics: list[TopicProgressListOutput]
    history: list[ProgressHistoryOutput]


def progress(client: AuthenticatedClient, *, curriculum: str) -> Progress:
    topics = _ok_list(
        "me_progress_topics", me_progress_topics.sync_detailed(curriculum, client=client), TopicProgressListOutput
    )
    history = _ok_list(
        "me_progress_history", me_progress_history.sync_detailed(curriculum, client=client), ProgressHistoryOutput
    )
    return Progress(topics=topics, history=history)


# --- teacher ------------------------------------------------------------------------------------------
# A teacher logs in as anyone does (``log_in``); the teacher routes answer 403 to anyone else, and 404
# for a class that is not the asking teacher's, as for one that does not exist.


def create_class(client: AuthenticatedClient, *, name: str, curriculum: str) -> ClassroomDetail:
    body = ClassroomListCreateInput(name=name, curriculum=curriculum)
    return _ok(
        "teacher_classes_create", teacher_classes_create.sync_detailed(client=client, body=body), ClassroomDetail
    )


def my_classes(client: AuthenticatedClient) -> list[Classroom]:
    """Every class of the teacher's, by name, page after page."""
    classes: list[Classroom] = []
    while True:
        response = teacher_classes_list.sync_detailed(client=client, offset=len(classes))
        page = _ok("teacher_classes_list", response, PaginatedClassroomList)
        classes.extend(page.results)
        if not page.next_ or not page.results:
            return classes


def class_detail(client: AuthenticatedClient, *, classroom_id: int) -> ClassroomDetail:
    """One of the teacher's classes with its students; ApiError 404 for anyone else's."""
    response = teacher_classes_retrieve.sync_detailed(classroom_id, client=client)
    return _ok("teacher_classes_retrieve", response, ClassroomDetail)


def class_students(client: AuthenticatedClient, *, classroom_id: int) -> list[Student]:
    """The class's roster, page after page."""
    students: list[Student] = []
    while True:
        response = teacher_classes_roster.sync_detailed(classroom_id, client=client, offset=len(students))
        page = _ok("teacher_classes_roster", response, PaginatedStudentList)
        students.extend(page.results)
        if not page.next_ or not page.results:
            return students


def class_mastery(client: AuthenticatedClient, *, classroom_id: int) -> ClassroomMasteryOutput:
    """Students x topics: each cell a student's mastery of a topic and the answers it rests on."""
    response = teacher_classes_mastery.sync_detailed(classroom_id, client=client)
    return _ok("teacher_classes_mastery", response, ClassroomMasteryOutput)


def class_review(
    client: AuthenticatedClient, *, classroom_id: int, state: TeacherClassesReviewListState = "open"
) -> list[ReviewItem]:
    """The sentences of the class's answers the verifier withheld, marked or replaced, with their evidence."""
    response = teacher_classes_review_list.sync_detailed(classroom_id, client=client, state=state)
    return _ok_list("teacher_classes_review_list", response, ReviewItem)
