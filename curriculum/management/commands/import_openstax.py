"""python manage.py import_openstax PATH [--slug SLUG] — import or refresh an OpenStax CNXML book."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from curriculum.importers.errors import SyllabusImportError
from curriculum.services import curriculum_import_openstax


class Command(BaseCommand):
    help = "Import an OpenStax CNXML book folder (collections/ + modules/) as a curriculum."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--slug", default=None, help="Curriculum slug (default: the book's own slug).")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, path: Path, slug: str | None, no_progress: bool, **options: Any) -> None:
        bar = tqdm(total=0, unit="chunk", desc="indexing", disable=no_progress, file=self.stderr._out)

        def report(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            result = curriculum_import_openstax(path=path, slug=slug, on_progress=report)
        except SyllabusImportError as exc:
            raise CommandError(f"Import failed, nothing was changed: {exc}") from exc
        finally:
            bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported '{result.slug}': {result.units} units, {result.topics} topics, "
                f"{result.documents_changed} documents changed ({result.documents_unchanged} unchanged), "
                f"{result.chunks_indexed} chunks indexed, {result.chunks_removed} replaced, "
                f"{result.questions} practice questions."
            )
        )
