"""python manage.py search "QUESTION" --curriculum SLUG [-k 5] [--json] [--topic ID ...] [--batch FILE]"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from curriculum.models import Curriculum
from curriculum.retrieval import RetrievedChunk, search_chunks_batch

# Questions embedded per call in --batch mode: one model call per group keeps memory flat on big files.
BATCH_GROUP = 64


class Command(BaseCommand):
    help = "Retrieve the syllabus passages of a curriculum that best answer a question."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("question", nargs="?", help="The question (omit with --batch).")
        parser.add_argument("--curriculum", required=True, help="Curriculum slug.")
        parser.add_argument("-k", type=int, default=5, help="How many passages (default 5).")
        parser.add_argument("--topic", type=int, action="append", dest="topic_ids", help="Restrict to a topic id.")
        parser.add_argument("--json", action="store_true", help="Print JSON instead of a readable listing.")
        parser.add_argument(
            "--batch",
            type=Path,
            help="A file of questions, one per line; prints one result list per line, in order.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        slug = options["curriculum"]
        curriculum = Curriculum.objects.filter(slug=slug).first()
        if curriculum is None:
            known = ", ".join(Curriculum.objects.order_by("slug").values_list("slug", flat=True)) or "none"
            raise CommandError(f"No curriculum with slug {slug!r} (known: {known}).")
        if options["k"] < 1:
            raise CommandError("-k must be at least 1.")
        questions = self._questions(options)
        for start in range(0, len(questions), BATCH_GROUP):
            group = questions[start : start + BATCH_GROUP]
            try:
                results = search_chunks_batch(
                    curriculum_id=curriculum.id, queries=group, k=options["k"], topic_ids=options["topic_ids"]
                )
            except ValueError as error:
                raise CommandError(str(error)) from error
            for question, chunks in zip(group, results, strict=True):
                self._print(question, chunks, as_json=options["json"], batch=options["batch"] is not None)

    def _questions(self, options: dict[str, Any]) -> list[str]:
        batch: Path | None = options["batch"]
        if batch is None:
            if not options["question"]:
                raise CommandError("Give a question, or --batch FILE.")
            return [options["question"]]
        if options["question"]:
            raise CommandError("Give either a question or --batch FILE, not both.")
        try:
            lines = batch.read_text(encoding="utf-8").splitlines()
        except OSError as error:
            raise CommandError(f"Cannot read {batch}: {error.strerror or error}.") from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{batch} is not UTF-8 text.") from error
        questions = [line.strip() for line in lines if line.strip()]
        if not questions:
            raise CommandError(f"{batch} has no questions.")
        return questions

    def _print(self, question: str, chunks: list[RetrievedChunk], *, as_json: bool, batch: bool) -> None:
        if as_json:
            payload = [
                {
                    "chunk_id": chunk.chunk_id,
                    "topic": chunk.topic,
                    "label": chunk.label,
                    "module": chunk.module,
                    "score": chunk.score,
                    "text": chunk.text,
                }
                for chunk in chunks
            ]
            # One line per question in batch mode, so the output can be read line by line.
            self.stdout.write(json.dumps(payload, ensure_ascii=False, indent=None if batch else 2))
            return
        self.stdout.write(self.style.MIGRATE_HEADING(f"Q: {question}"))
        if not chunks:
            self.stdout.write("  (no passages found)")
        for rank, chunk in enumerate(chunks, start=1):
            where = f"{chunk.module}#{chunk.position}, chunk {chunk.chunk_id}"
            self.stdout.write(f"{rank}. [{chunk.score:.3f}] {chunk.topic_path} ({where})")
            self.stdout.write(f"   {chunk.text}")
        self.stdout.write("")
