"""Import the bundled demo syllabus (OpenStax Biology 2e) unless it is already there. Used by `make run`."""

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from curriculum.models import Chunk, Curriculum

DEMO_SLUG = "biology-2e"


class Command(BaseCommand):
    help = "Import the demo curriculum (Biology 2e) if it is not imported yet."

    def handle(self, *args: Any, **options: Any) -> None:
        curriculum = Curriculum.objects.filter(slug=DEMO_SLUG).first()
        if curriculum is not None and Chunk.objects.filter(curriculum=curriculum).exists():
            self.stdout.write(f"Demo syllabus '{DEMO_SLUG}' already imported.")
            return
        call_command(
            "import_openstax", str(settings.DEMO_SYLLABUS_PATH), slug=DEMO_SLUG, stdout=self.stdout, stderr=self.stderr
        )
