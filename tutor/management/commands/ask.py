"""python manage.py ask "QUESTION" --curriculum SLUG [--student USERNAME] [--json]

Asks the tutor exactly as the websocket and REST paths do (tutor_answer_create) and prints the
verified answer. Without --student the question is asked as the local "cli" user, enrolled on
the fly: the command is an operator's tool.
"""

import asyncio
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curriculum.selectors import curriculum_get
from curriculum.services import enrollment_create
from tutor.events import AnswerEvent, Failed, Notice, SentenceFlagged, SentenceReleased, TutorInputError
from tutor.selectors import message_sentences
from tutor.services import tutor_answer_create

CLI_USERNAME = "cli"


class Command(BaseCommand):
    help = "Ask the tutor a question from the command line; every sentence is verified."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("question")
        parser.add_argument("--curriculum", required=True)
        parser.add_argument("--student", default=None, help="Ask as this user (must be enrolled).")
        parser.add_argument("--conversation", type=int, default=None, help="Continue this conversation.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")
        parser.add_argument("--no-verify", action="store_true", help="Skip verification (benchmarks only).")

    def handle(
        self,
        *args: Any,
        question: str,
        curriculum: str,
        student: str | None,
        conversation: int | None,
        json: bool,
        no_verify: bool,
        **options: Any,
    ) -> None:
        user = self._user(student, curriculum)
        stream = None if json else self._print_event
        try:
            message = asyncio.run(
                tutor_answer_create(
                    student=user,
                    curriculum_slug=curriculum,
                    question=question,
                    conversation_id=conversation,
                    on_event=stream,
                    verify=False if no_verify else None,
                )
            )
        except TutorInputError as exc:
            raise CommandError(exc.message) from exc
        sentences = message_sentences(message=message)
        if json:
            payload = {
                "answer": message.answer,
                "sentences": [
                    {"text": s.text, "citations": s.citations, "verdict": s.verdict, "delivery": s.delivery}
                    for s in sentences
                ],
                "timings": message.timings,
                "status": message.status,
                "message_id": message.pk,
                "conversation_id": message.conversation_id,
                "model": message.model_name,
            }
            if message.error_code:
                payload["error"] = {"code": message.error_code, "message": message.error_message}
            self.stdout.write(_json_dumps(payload))
        if message.status == message.Status.FAILED:
            raise CommandError(f"{message.error_message} (message {message.pk} kept; retry later)")

    async def _print_event(self, event: AnswerEvent) -> None:
        if isinstance(event, SentenceReleased):
            cites = ", ".join(dict.fromkeys(c.label or c.topic for c in event.citations))
            self.stdout.write(f"✓ {event.text}  — {cites}")
        elif isinstance(event, SentenceFlagged):
            shown = f": {event.text}" if event.text else ""
            self.stdout.write(
                self.style.WARNING(f"✗ sentence {event.index} {event.reason} (not in your syllabus){shown}")
            )
        elif isinstance(event, Notice):
            self.stdout.write(self.style.NOTICE(event.text))
        elif isinstance(event, Failed):
            self.stderr.write(self.style.ERROR(event.message))

    def _user(self, username: str | None, slug: str) -> AbstractBaseUser:
        users = get_user_model()
        target = curriculum_get(slug=slug)
        if target is None:
            raise CommandError(f"No curriculum with slug '{slug}'.")
        if username:
            user = users.objects.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user '{username}'.")
            return user
        user, _ = users.objects.get_or_create(username=CLI_USERNAME)
        enrollment_create(student=user, curriculum=target)
        return user


def _json_dumps(payload: dict[str, Any]) -> str:
    return json.dumps(payload, ensure_ascii=False)
