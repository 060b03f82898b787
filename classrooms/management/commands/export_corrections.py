"""Write the teachers' reviews of flagged answer sentences as labelled claim/passage pairs, in the
format of ../shared/eval (claims.jsonl + passages.jsonl), for the verifier's training data."""

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from classrooms.selectors import correction_pairs


class Command(BaseCommand):
    help = "Export teacher corrections and confirmations as labelled claims (JSONL, ../shared/eval format)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--out",
            type=Path,
            default=Path(settings.BASE_DIR) / "var" / "corrections",
            help="Folder for claims.jsonl and passages.jsonl (created if missing; files are replaced).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        out.mkdir(parents=True, exist_ok=True)
        claims, passages = correction_pairs()
        for name, rows in (("claims.jsonl", claims), ("passages.jsonl", passages)):
            with (out / name).open("w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(asdict(row), ensure_ascii=False) + "\n")
        self.stdout.write(f"{len(claims)} claims on {len(passages)} passages written to {out}")
