"""Fit each topic's BKT parameters by EM over the answers accumulated so far, and replay students'
mastery with them. Topics with too little data keep their parameters (the defaults until fitted)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curriculum.selectors import curriculum_get
from learning.selectors import curriculum_topics
from learning.services import MIN_FIT_ANSWERS, MIN_FIT_STUDENTS, topic_bkt_fit


class Command(BaseCommand):
    help = "Fit per-topic Bayesian Knowledge Tracing parameters (EM) from students' graded answers."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("curriculum", help="The curriculum's slug.")
        parser.add_argument("--min-answers", type=int, default=MIN_FIT_ANSWERS)
        parser.add_argument("--min-students", type=int, default=MIN_FIT_STUDENTS)

    def handle(self, *args: Any, **options: Any) -> None:
        curriculum = curriculum_get(slug=options["curriculum"])
        if curriculum is None:
            raise CommandError(f"No curriculum '{options['curriculum']}'.")
        fitted = skipped = 0
        for topic in curriculum_topics(curriculum=curriculum):
            fit = topic_bkt_fit(topic=topic, min_answers=options["min_answers"], min_students=options["min_students"])
            if not fit.fitted:
                skipped += 1
                continue
            fitted += 1
            p = fit.params
            self.stdout.write(
                f"{topic.label}: init {p.p_init:.3f} learn {p.p_learn:.3f} slip {p.p_slip:.3f} guess {p.p_guess:.3f}"
                f" ({fit.answers} answers, {fit.students} students, {fit.states_replayed} estimates replayed)"
            )
        self.stdout.write(f"Fitted {fitted} topics; {skipped} kept their parameters (too few answers).")
