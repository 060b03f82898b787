"""`make load`: many students asking at once over websockets, against the real app on PostgreSQL + Redis.

What runs is the deployed shape on loopback: uvicorn serving config.asgi (one process, or several
behind the Redis channel layer and cache), PostgreSQL, Redis, a local Chroma store holding the book
(Biology 2e's first two parts by default, BIOLOGY_UNITS), the real answer graph (retrieval, the verifier with its shipped cross-encoder, ordered release,
persistence). Only the LLM is scripted: tests/chaos/llm_server.py, an OpenAI-compatible server
streaming a fixed answer of syllabus sentences at ``--word-delay`` (5 ms a word by default, faster
than any real model), so that the numbers are the system's, not the model's; the app reaches it
through its openai backend as it would reach vLLM.

For each number of students N (1, 8, 32 by default), N students, each with a token and a socket of
their own, ask ``--questions`` questions one after the other, all N at once. Per answer: time to the
first released sentence and to ``done`` (from sending the ``ask``); per level: errors (an ``error``
frame, a dropped socket, or no ``done`` within ANSWER_TIMEOUT_S) and completed answers per second
of wall time. One warm-up answer per server process is not counted (it loads the embedder and the
verifier).

    nice -n 5 .venv/bin/python bench/bench_load.py [--students 1 8 32] [--questions 3]
        [--processes 1 2] [--book biology-2e|mini] [--word-delay 0.005]

Needs PostgreSQL (``LOAD_DATABASE_URL``; the database is dropped and created) and Redis
(``LOAD_REDIS_URL``, a database of its own, flushed). Writes bench/results/load.md and replaces its
section of BENCHMARKS.md. A benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.machine import cpu_model, git_commit  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/veritutor_load"
# A Redis database of its own (the tests use 15, the socket benchmark 13): flushed before each run.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
SECTION_TITLE = "## Load: students asking at once over websockets (`make load`)"
# Far above any answer here (seconds): an answer without `done` by then counts as an error (lost).
ANSWER_TIMEOUT_S = 120.0
SERVER_START_TIMEOUT_S = 90.0
# Biology 2e's first 2 parts, "The Chemistry of Life" and "The Cell" (chapters 1-10, osmosis among
# them): importing the whole book takes 2-3.5 minutes on 2 busy cores, more than the whole run
# should; `--units 0` imports it all.
BIOLOGY_UNITS = 2


@dataclass(frozen=True, slots=True)
class Book:
    """The syllabus the students ask about, and the scripted model's answer: sentences of that
    syllabus with passage markers, so that the verifier does its full work and releases them."""

    slug: str
    path: Path
    answer: str
    questions: tuple[str, ...]


BOOKS = {
    "biology-2e": Book(
        slug="biology-2e",
        path=REPO / "data" / "syllabi" / "biology-2e",
        answer=(
            "Osmosis is a special case of diffusion [1]. "
            "Osmosis is the movement of free water molecules through a semipermeable membrane [1]. "
            "Diffusion expends no energy [2]. "
            "Osmosis proceeds constantly in living systems [1]."
        ),
        questions=(
            "What is osmosis?",
            "How does water move across a semipermeable membrane?",
            "Is osmosis a kind of diffusion?",
            "Does diffusion need energy from the cell?",
        ),
    ),
    "mini": Book(
        slug="mini-physics",
        path=REPO / "tests" / "fixtures" / "mini-openstax",
        answer="Speed is the magnitude of velocity [1]. Velocity has a direction [2].",
        questions=("What is speed?", "How do speed and velocity differ?", "Does velocity have a direction?"),
    ),
}


@dataclass(slots=True)
class AnswerResult:
    first_sentence_s: float | None = None
    """Socket answers only: REST returns the answer whole."""
    done_s: float | None = None
    sentences: int = 0
    error: str = ""
    rest: bool = False
    """Asked with POST /api/v1/ask/ (the mobile client's way) instead of over the socket."""


@dataclass(frozen=True, slots=True)
class LevelResult:
    processes: int
    students: int
    answers: list[AnswerResult] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def completed(self) -> list[AnswerResult]:
        return [a for a in self.answers if not a.error and a.done_s is not None]

    @property
    def errors(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for answer in self.answers:
            if answer.error:
                counts[answer.error] = counts.get(answer.error, 0) + 1
        return counts


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (a p95 of fewer than 20 values is their maximum)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


# --- the stack -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on {port} within {SERVER_START_TIMEOUT_S:g} s")


@contextmanager
def running(args: list[str], *, env: dict[str, str], port: int | None, what: str) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` until the block exits; ``port``: wait until it accepts, else wait for a "ready" line."""
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE if port is None else None)
    try:
        if port is None:
            assert process.stdout is not None
            line = process.stdout.readline().decode().strip()
            if line != "ready":
                raise RuntimeError(f"{what} printed {line!r} instead of 'ready' (exit {process.poll()})")
        else:
            wait_for_port(port, process, what)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def app_env(*, database_url: str, redis_url: str, chroma_path: Path, llm_port: int) -> dict[str, str]:
    """The web process's settings: the deployed integrations, the scripted model as its LLM server."""
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_", "TUTOR_", "VERIFIER_", "CHROMA_"))}
    return {
        **keep,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHROMA_PATH": str(chroma_path),
        "CHROMA_HOST": "",
        "LLM_BACKEND": "openai",
        "LLM_BASE_URL": f"http://127.0.0.1:{llm_port}/v1",
        "LLM_MODEL": "fake-model",
        # The model writes the explanation (a server model's default), every sentence is verified.
        "TUTOR_COMPOSITION": "draft",
        # Failed sentences are replaced by a syllabus sentence without an LLM call: the scripted server
        # streams one answer whatever it is asked, so a selection prompt would only measure its refusal.
        "VERIFIER_REVISION_MODE": "extract",
        # Each student asks a few questions in seconds; the rate limit is not what is measured.
        "TUTOR_SOCKET_ASK_RATE": "10000/min",
        "THROTTLE_ASK": "10000/min",
        "LOG_LEVEL": "WARNING",
    }


def recreate_database(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing to drop a database named {name!r}")
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def first_units(book: Path, units: int, scratch: Path) -> Path:
    """A copy of the OpenStax book folder whose collection keeps only its first ``units`` top-level
    parts (0: all); the modules are a link to the book's own."""
    if units == 0:
        return book
    from defusedxml import ElementTree

    collection = sorted((book / "collections").glob("*.collection.xml"))[0]
    tree = ElementTree.parse(collection)
    content = tree.getroot().find("{http://cnx.rice.edu/collxml}content")
    assert content is not None, f"{collection} has no content"
    for part in content.findall("{http://cnx.rice.edu/collxml}subcollection")[units:]:
        content.remove(part)
    trimmed = scratch / "book"
    (trimmed / "collections").mkdir(parents=True)
    (trimmed / "modules").symlink_to(book / "modules")
    tree.write(trimmed / "collections" / collection.name, xml_declaration=True, encoding="utf-8")
    return trimmed


def prepare(book_name: str, units: int, students: int, scratch: str) -> None:
    """In a process of its own (Django set up from app_env): migrate, import the book, make students.

    Prints their tokens as one JSON line.
    """
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from curriculum.models import Curriculum, Enrollment
    from curriculum.services import curriculum_import_openstax

    book = BOOKS[book_name]
    call_command("migrate", verbosity=0)
    curriculum_import_openstax(path=first_units(book.path, units, Path(scratch)), slug=book.slug)
    curriculum = Curriculum.objects.get(slug=book.slug)
    user_model = get_user_model()
    users = user_model.objects.bulk_create([user_model(username=f"load{n}", password="!") for n in range(students)])
    Enrollment.objects.bulk_create([Enrollment(student=u, curriculum=curriculum) for u in users])
    tokens = Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users])
    print(json.dumps([t.key for t in tokens]), flush=True)


# --- the students --------------------------------------------------------------------------------


async def one_student(
    url: str, token: str, *, slug: str, questions: list[str], tag: str, start: asyncio.Event
) -> list[AnswerResult]:
    from websockets.asyncio.client import connect

    results: list[AnswerResult] = []
    result: AnswerResult | None = None
    try:
        async with connect(url, subprotocols=["token", token], open_timeout=60, ping_interval=None) as ws:  # type: ignore[list-item]
            await start.wait()
            for n, question in enumerate(questions):
                result = AnswerResult()
                results.append(result)
                asked = time.perf_counter()
                ask = {"type": "ask", "curriculum": slug, "question": question, "client_msg_id": f"{tag}-{n}"}
                await ws.send(json.dumps(ask))
                try:
                    async with asyncio.timeout(ANSWER_TIMEOUT_S):
                        while True:
                            frame = json.loads(await ws.recv())
                            if frame["type"] == "sentence":
                                result.sentences += 1
                                if result.first_sentence_s is None:
                                    result.first_sentence_s = time.perf_counter() - asked
                            elif frame["type"] == "done":
                                result.done_s = time.perf_counter() - asked
                                break
                            elif frame["type"] == "error":
                                result.error = str(frame["code"])
                                break
                except TimeoutError:
                    result.error = "no_done_in_time"
                    return results
    except Exception as exc:  # noqa: BLE001 - a student whose socket fails is counted, not fatal to the run
        if result is None or result.done_s is not None or result.error:
            result = AnswerResult()
            results.append(result)
        result.error = type(exc).__name__
    return results


# Every REST_EVERY-th student asks over REST (POST /api/v1/ask/, waiting for the whole answer), as a
# mobile client without a socket does; the others over the socket.
REST_EVERY = 4


async def one_rest_student(
    base: str, token: str, *, slug: str, questions: list[str], tag: str, start: asyncio.Event
) -> list[AnswerResult]:
    import httpx

    results: list[AnswerResult] = []
    async with httpx.AsyncClient(
        base_url=base, headers={"Authorization": f"Token {token}"}, timeout=ANSWER_TIMEOUT_S
    ) as client:
        await start.wait()
        for n, question in enumerate(questions):
            result = AnswerResult(rest=True)
            results.append(result)
            asked = time.perf_counter()
            try:
                response = await client.post(
                    "/api/v1/ask/", json={"curriculum": slug, "question": question, "client_msg_id": f"{tag}-{n}"}
                )
            except httpx.HTTPError as exc:
                result.error = type(exc).__name__
                continue
            body = response.json()
            if response.status_code != 200 or body.get("status") != "completed":
                result.error = str(body.get("error_code") or body.get("code") or response.status_code)
                continue
            result.done_s = time.perf_counter() - asked
            result.sentences = sum(1 for s in body["sentences"] if s["delivery"] == "released")
    return results


async def ask_at_once(
    urls: list[str], tokens: list[str], *, slug: str, questions: list[str], tag: str
) -> tuple[list[AnswerResult], float]:
    """Every student connects (round-robin over the server processes), then all ask at once."""
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(
            one_rest_student(
                urls[i % len(urls)].replace("ws://", "http://").removesuffix("/ws/tutor/"),
                token,
                slug=slug,
                questions=questions,
                tag=f"{tag}-{i}",
                start=start,
            )
            if i % REST_EVERY == REST_EVERY - 1
            else one_student(urls[i % len(urls)], token, slug=slug, questions=questions, tag=f"{tag}-{i}", start=start)
        )
        for i, token in enumerate(tokens)
    ]
    await asyncio.sleep(1.0)  # the handshakes are not what is measured
    began = time.perf_counter()
    start.set()
    answers = [a for per_student in await asyncio.gather(*tasks) for a in per_student]
    return answers, time.perf_counter() - began


# --- the report ----------------------------------------------------------------------------------


def lscpu_machine() -> str:
    try:
        fields = dict(
            (key.strip(), value.strip())
            for key, _, value in (
                line.partition(":") for line in subprocess.check_output(["lscpu"], text=True).splitlines()
            )
        )
        return f"{fields.get('Model name', cpu_model())}, {fields.get('CPU(s)', '?')} CPUs (lscpu)"
    except (OSError, subprocess.CalledProcessError):
        return f"{cpu_model()}, {os.cpu_count()} CPUs"


def ms(values: list[float], q: float | None) -> str:
    if not values:
        return "—"
    return f"{1000 * (statistics.median(values) if q is None else percentile(values, q)):.0f}"


def report(rows: list[LevelResult], *, book: Book, args: argparse.Namespace, load: tuple[float, float]) -> str:
    lines = [
        SECTION_TITLE,
        "",
        f"- Machine: {lscpu_machine()}; server, stores, scripted model and students all on it, loopback "
        f"only, niceness {os.nice(0)}",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; commit {git_commit()}; "
        f"1-minute load average {load[0]:.2f} at the start, {load[1]:.2f} at the end",
        f"- Stack: uvicorn (`--ws websockets-sansio`) serving config.asgi, PostgreSQL, Redis (cache and "
        f"channel layer), local Chroma; the real answer graph and verifier on `{book.slug}` "
        f"({f'its first {args.units} parts' if args.units else 'the whole book'}); the LLM is "
        f"tests/chaos/llm_server.py through the openai backend, {len(book.answer.split(' '))} words at "
        f"{1000 * args.word_delay:g} ms a word ({book.answer.count('. ') + 1} sentences)",
        f"- Load: N students, each with a token, ask {args.questions} questions one after the other, all N at "
        f"once: every {REST_EVERY}th over REST (`POST /api/v1/ask/`, the whole answer in the response), the "
        "others over a socket; several processes: students spread round-robin over them",
        "- Times from sending `ask`: to the first released `sentence`, and to `done`; answers/s: completed "
        "answers ÷ wall time of the level; errors: `error` frames, dropped sockets, answers without `done` "
        f"within {ANSWER_TIMEOUT_S:g} s; p95 and p99 are nearest-rank (of under 20 answers p95 is the slowest, of "
        "under 100 p99 is); first sentence: socket answers only; done: REST answers too, and their own median "
        "in the REST column; sentences shown per answer (its range over the level's answers): the same as for "
        "one student means no frame was lost",
        f"- Command: `.venv/bin/python bench/bench_load.py{''.join(' ' + a for a in sys.argv[1:])}` (`make load` "
        "runs it with no arguments, at niceness 5)",
        "",
        "| web processes | students | answers (REST) | errors | first sentence p50 (ms) | p95 (ms) | p99 (ms) "
        "| done p50 (ms) | p95 (ms) | p99 (ms) | REST done p50 (ms) | sentences shown per answer | answers/s |",
        "| ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in rows:
        completed = row.completed
        firsts = [a.first_sentence_s for a in completed if a.first_sentence_s is not None]
        dones = [a.done_s for a in completed if a.done_s is not None]
        errors = ", ".join(f"{code} {count}" for code, count in sorted(row.errors.items())) or "0"
        counts = [a.sentences for a in completed]
        shown = (
            f"{min(counts)}-{max(counts)}" if counts and min(counts) != max(counts) else str(counts[0] if counts else 0)
        )
        rest = [a.done_s for a in completed if a.rest and a.done_s is not None]
        asked_rest = sum(1 for a in row.answers if a.rest)
        lines.append(
            f"| {row.processes} | {row.students} | {len(row.answers)} ({asked_rest}) | {errors} | {ms(firsts, None)} "
            f"| {ms(firsts, 0.95)} | {ms(firsts, 0.99)} | {ms(dones, None)} | {ms(dones, 0.95)} | {ms(dones, 0.99)} "
            f"| {ms(rest, None) if rest else '–'} | {shown} | {len(completed) / row.wall_s:.1f} |"
        )
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str:
    """BENCHMARKS.md with this benchmark's section replaced, or appended when it has none."""
    start = text.find(SECTION_TITLE)
    if start == -1:
        return text.rstrip("\n") + "\n\n" + section
    following = re.search(r"^#{1,2} ", text[start + len(SECTION_TITLE) :], flags=re.MULTILINE)
    end = start + len(SECTION_TITLE) + following.start() if following else len(text)
    return text[:start] + section + ("\n" + text[end:] if following else "")


# --- main ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--questions", type=int, default=3, help="questions each student asks, one after the other")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="uvicorn processes, one run each")
    parser.add_argument("--book", choices=sorted(BOOKS), default="biology-2e")
    parser.add_argument(
        "--units",
        type=int,
        default=BIOLOGY_UNITS,
        help="import only the book's first N parts (0: all of it)",
    )
    parser.add_argument("--word-delay", type=float, default=0.005, help="seconds between the scripted model's words")
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "load.md")
    parser.add_argument("--no-benchmarks-md", action="store_true", help="do not update BENCHMARKS.md")
    parser.add_argument("--prepare", type=int, help=argparse.SUPPRESS)  # internal: the set-up process
    args = parser.parse_args()
    if args.prepare is not None:
        prepare(args.book, args.units, args.prepare, os.environ["LOAD_SCRATCH"])
        return

    load_start = os.getloadavg()[0]
    book = BOOKS[args.book]
    database_url = os.environ.get("LOAD_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("LOAD_REDIS_URL", DEFAULT_REDIS_URL)
    started = time.monotonic()
    rows: list[LevelResult] = []
    with tempfile.TemporaryDirectory(prefix="veritutor-load-") as scratch, ExitStack() as stack:
        llm_port = free_port()
        env = app_env(
            database_url=database_url, redis_url=redis_url, chroma_path=Path(scratch) / "chroma", llm_port=llm_port
        )
        recreate_database(database_url)
        print(f"set-up: migrate, import {book.slug}, {max(args.students)} students", flush=True)
        prepared = subprocess.run(
            [
                sys.executable,
                __file__,
                "--prepare",
                str(max(args.students) + 1),
                "--book",
                args.book,
                "--units",
                str(args.units),
            ],
            cwd=REPO,
            env={**env, "LOAD_SCRATCH": scratch},
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        tokens: list[str] = json.loads(prepared.stdout.strip().splitlines()[-1])
        warm_token, tokens = tokens[0], tokens[1:]
        print(f"set-up done in {time.monotonic() - started:.0f} s", flush=True)
        llm_args = ["-m", "tests.chaos.llm_server", "--port", str(llm_port), "--mode", "healthy"]
        stack.enter_context(
            running(
                [sys.executable, *llm_args, "--answer", book.answer, "--word-delay", str(args.word_delay)],
                env=env,
                port=None,
                what="the scripted LLM server",
            )
        )
        import redis

        for processes in args.processes:
            redis.Redis.from_url(redis_url).flushdb()
            with ExitStack() as servers:
                urls = []
                for _ in range(processes):
                    port = free_port()
                    uvicorn = ["-m", "uvicorn", "config.asgi:application", "--host", "127.0.0.1", "--port", str(port)]
                    servers.enter_context(
                        running(
                            [sys.executable, *uvicorn, "--ws", "websockets-sansio", "--log-level", "warning"],
                            env=env,
                            port=port,
                            what="uvicorn",
                        )
                    )
                    urls.append(f"ws://127.0.0.1:{port}/ws/tutor/")
                # One warm-up answer per process, all at once, not counted: it loads the embedder and verifier.
                warm, _ = asyncio.run(
                    ask_at_once(
                        urls,
                        [warm_token] * len(urls),
                        slug=book.slug,
                        questions=book.questions[:1],
                        tag=f"warm{processes}",
                    )
                )
                print(f"warm-up, {processes} process(es): {warm}", flush=True)
                for students in args.students:
                    questions = [book.questions[i % len(book.questions)] for i in range(args.questions)]
                    answers, wall = asyncio.run(
                        ask_at_once(
                            urls,
                            tokens[:students],
                            slug=book.slug,
                            questions=questions,
                            tag=f"p{processes}-n{students}",
                        )
                    )
                    row = LevelResult(processes=processes, students=students, answers=answers, wall_s=wall)
                    rows.append(row)
                    print(
                        f"{processes} process(es), {students:>3} students: {len(row.completed)}/{len(answers)} "
                        f"completed, errors {row.errors or 0}, {wall:.1f} s",
                        flush=True,
                    )
    text = report(rows, book=book, args=args, load=(load_start, os.getloadavg()[0]))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    if not args.no_benchmarks_md:
        benchmarks = REPO / "BENCHMARKS.md"
        benchmarks.write_text(replace_section(benchmarks.read_text(), text))
    print(text)
    print(f"whole run: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
