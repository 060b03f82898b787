"""Make verified cloze questions from the syllabus for the topics the book gives too few questions."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curriculum.selectors import curriculum_get
from learning.services import GENERATED_PER_TOPIC, practice_questions_generate


class Command(BaseCommand):
    help = (
        "Generate cloze questions (a key term blanked in a sentence of the section, other key terms of the book as "
        "distractors) for topics with fewer than --below keyed questions; each is verified against its passage "
        "before it is stored."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("curriculum", help="The curriculum's slug.")
        parser.add_argument("--below", type=int, default=1, help="Topics with fewer keyed questions get some (1).")
        parser.add_argument("--per-topic", type=int, default=GENERATED_PER_TOPIC)

    def handle(self, *args: Any, **options: Any) -> None:
        curriculum = curriculum_get(slug=options["curriculum"])
        if curriculum is None:
            raise CommandError(f"No curriculum '{options['curriculum']}'.")
        report = practice_questions_generate(
            curriculum=curriculum, below=options["below"], per_topic=options["per_topic"]
        )
        self.stdout.write(
            f"{report.key_terms} key terms; {report.candidates} candidates for {report.topics} topics: "
            f"{report.created} created, {report.existing} already there, {report.discarded_key_unverified} discarded "
            f"(key not verified), {report.discarded_ambiguous} discarded (a distractor verified too)."
        )
