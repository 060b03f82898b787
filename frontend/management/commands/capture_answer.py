"""Ask a question on the study page of a running server in a real browser and save the page: the
README's picture of a real answer (`make run` in one shell, this in another).

    python manage.py capture_answer --username ada --password ... --curriculum biology-2e \
        --question "What is the difference between mitosis and meiosis?" --out docs/screenshots/student-answer.png

Debian's chromium is driven by Playwright (it downloads no browser).
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

# A real answer on the embedded model takes tens of seconds on 2 cores (drafting + verifying).
ANSWER_TIMEOUT_MS = 300_000


class Command(BaseCommand):
    help = "Ask a question on a running server's study page in chromium and save a screenshot of the answer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000")
        parser.add_argument("--username", required=True)
        parser.add_argument("--password", required=True)
        parser.add_argument("--curriculum", required=True, help="the curriculum's slug")
        parser.add_argument("--question", required=True)
        parser.add_argument("--out", type=Path, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        from playwright.sync_api import sync_playwright

        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if chromium is None:
            raise CommandError("chromium is not installed (Debian package chromium)")
        url = options["url"].rstrip("/")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.set_default_timeout(60_000)
            page.goto(f"{url}/accounts/login/")
            page.fill("input[name=username]", options["username"])
            page.fill("input[name=password]", options["password"])
            page.click("button[type=submit], input[type=submit]")
            page.wait_for_load_state()
            page.goto(f"{url}/study/{options['curriculum']}/")
            page.wait_for_selector("#connection:has-text('Connected to the tutor.')")
            started = time.monotonic()
            page.fill("#question", options["question"])
            page.click("#ask")
            # The ask button is disabled while the answer streams and enabled again when it is done.
            page.wait_for_selector("#ask[disabled]")
            page.wait_for_selector("#ask:not([disabled])", timeout=ANSWER_TIMEOUT_MS)
            seconds = time.monotonic() - started
            sentences = page.locator("#transcript .answer .sentence").all_inner_texts()
            options["out"].parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(options["out"]), full_page=True)
            browser.close()
        self.stdout.write(f"answered in {seconds:.0f} s; {len(sentences)} sentences shown; saved {options['out']}")
        for sentence in sentences:
            self.stdout.write(f"  {sentence}")
