"""Give an account the teacher role (or take it back with --revoke)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from classrooms.services import teacher_role_set


class Command(BaseCommand):
    help = "Make a user a teacher: they can create classes and see their students' mastery and answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="Take the teacher role away instead.")

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user {options['username']!r}.")
        teacher_role_set(user=user, teacher=not options["revoke"])
        role = "no longer a teacher" if options["revoke"] else "a teacher"
        self.stdout.write(f"{user.get_username()} is {role}.")
