"""python manage.py import_document FILE --curriculum SLUG — add a Markdown/text/PDF file to a curriculum."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from curriculum.importers.errors import SyllabusImportError
from curriculum.selectors import curriculum_get
from curriculum.services import curriculum_import_upload


class Command(BaseCommand):
    help = "Add a Markdown, plain-text or PDF document to an existing curriculum (headings become topics)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--curriculum", required=True)

    def handle(self, *args: Any, file: Path, curriculum: str, **options: Any) -> None:
        target = curriculum_get(slug=curriculum)
        if target is None:
            raise CommandError(f"No curriculum with slug '{curriculum}'.")
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"{file}: cannot be read ({exc.strerror})") from exc
        bar = tqdm(total=0, unit="chunk", desc="indexing", file=self.stderr._out)

        def report(done: int, total: int) -> None:
            bar.total, bar.n = total, done
            bar.refresh()

        try:
            result = curriculum_import_upload(
                curriculum=target, filename=file.name, content=content, on_progress=report
            )
        except SyllabusImportError as exc:
            raise CommandError(f"Import failed, nothing was changed: {exc}") from exc
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(f"Added {result.topics} topics, {result.chunks_indexed} chunks to '{target.slug}'.")
        )
