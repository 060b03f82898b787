"""Answer quality: do the tutor's released sentences answer exam questions? (issue 12)

    nice -n 5 .venv/bin/python bench/bench_answer_quality.py [--per-book 20] [--book biology-2e --book microbiology]
        [--answers answers.jsonl]

Each book is imported into a scratch database and Chroma store, with its review questions. For a
fixed-seed sample of each book's multiple-choice questions, the stem alone is asked (the options
hidden, as a student would ask it) through ``tutor_answer_create`` with verification on, exactly as
the study page does. An answer is **right** when its released text covers the keyed option's
content words better than every distractor's (share of the option's stemmed content words that
occur in the answer; strictly greater). Questions whose options cannot be told apart that way are
left out: "all/none of the above", options with no content words, or two options with the same
words. Reported per book: share right, share of answers with nothing released (counted wrong),
median time to the first released sentence. Target (issue 12): ≥ 0.70 right on every book.
``--plan-only`` skips the model and the verifier: every judgeable question of each book (or
``--per-book``) is retrieved as the answer graph retrieves (``tutor.graph.nodes.retrieve``: the
question's passages, and each side's for a comparison) and answered with the answer plan alone
(``tutor.composition.plan_answer``, the intermediate learner's budget): the syllabus sentences the
embedded model's answer starts with, which pass the verifier as quotes. Seconds a book instead of
hours, so composition and retrieval are judged on all questions, not on twenty.
``--answers`` writes each asked stem, its keyed option and the released answer, to read them side
by side. A smaller ``--per-book`` asks the first questions of the larger sample (same seed), so
runs of different sizes compare on their common questions.

"Which of the following X" is asked as "Which X" and a blank "____" as "what": with the options
hidden, "the following" refers to nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.machine import use_scratch_stack  # noqa: E402

SCRATCH = use_scratch_stack("veritutor-bench-quality-")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.machine import cpu_model, git_commit  # noqa: E402
from curriculum.models import Curriculum, PracticeQuestion  # noqa: E402
from curriculum.retrieval import search_chunks_batch  # noqa: E402
from curriculum.services import curriculum_import_openstax, enrollment_create  # noqa: E402
from curriculum.text import split_sentences  # noqa: E402
from tutor.composition import SourcePassage, plan_answer, question_shape, quotable  # noqa: E402
from tutor.graph.nodes import PASSAGES_IN_PROMPT, PASSAGES_PER_SIDE  # noqa: E402
from tutor.graph.prompts import sentence_budget  # noqa: E402
from tutor.services import tutor_answer_create  # noqa: E402
from verification.entailment.text import content_terms  # noqa: E402

BOOKS_DIR = ROOT.parent / "shared" / "train" / "books"
SEED = 13
_UNJUDGEABLE = re.compile(r"\b(?:all|none|both|neither) of (?:the )?(?:above|these|those)\b|\bfigure\b", re.IGNORECASE)
_FOLLOWING = re.compile(r"\b(which|what)\s+of\s+the\s+following\s*", re.IGNORECASE)
_BLANK = re.compile(r"_{2,}")


@dataclass(frozen=True, kw_only=True)
class Judged:
    right: bool
    empty: bool
    first_sentence_s: float | None
    reachable: bool | None = None
    """--plan-only: one sentence the plan could have chosen is right on its own (known the key)."""


def asked_form(stem: str) -> str:
    """The stem as a student would ask it without the options."""
    asked = _FOLLOWING.sub(lambda m: f"{m.group(1)} ", stem).strip()
    return _BLANK.sub("what", asked)


def coverage(option: str, answer_terms: set[str]) -> float:
    terms = set(content_terms(option))
    return len(terms & answer_terms) / len(terms) if terms else 0.0


def judgeable(question: PracticeQuestion) -> bool:
    choices = [str(c) for c in question.choices]
    if question.answer_index is None or not 0 <= question.answer_index < len(choices) or len(choices) < 2:
        return False
    if _UNJUDGEABLE.search(question.stem) or any(_UNJUDGEABLE.search(c) for c in choices):
        return False
    term_sets = [frozenset(content_terms(c)) for c in choices]
    return all(term_sets) and len(set(term_sets)) == len(term_sets)


def judge(question: PracticeQuestion, answer: str) -> tuple[bool, bool]:
    """(right, empty)."""
    if not answer.strip():
        return False, True
    answer_terms = set(content_terms(answer))
    scores = [coverage(str(c), answer_terms) for c in question.choices]
    key = scores[question.answer_index or 0]
    others = [s for i, s in enumerate(scores) if i != question.answer_index]
    return key > max(others), False


def book_path(name: str) -> Path:
    return Path(settings.DEMO_SYLLABUS_PATH) if name == "biology-2e" else BOOKS_DIR / name


@dataclass(frozen=True, kw_only=True)
class Planned:
    answer: str
    """The answer plan's sentences, joined."""
    quotable: list[str]
    """Every sentence of the retrieved passages the plan could have chosen (``quotable``)."""


def planned_answer(*, curriculum_id: int, question: str) -> Planned:
    """The answer plan for ``question``, retrieved as ``tutor.graph.nodes.retrieve`` does."""
    shape = question_shape(question)
    sides = list(shape.subjects) if shape.kind == "comparison" else []
    found = search_chunks_batch(curriculum_id=curriculum_id, queries=[question, *sides], k=PASSAGES_IN_PROMPT)
    chunks = found[0]
    for side in found[1:]:
        taken = {c.chunk_id for c in chunks}
        chunks = chunks + [c for c in side if c.chunk_id not in taken][:PASSAGES_PER_SIDE]
    passages = [SourcePassage(number=i + 1, text=c.text) for i, c in enumerate(chunks)]
    planned = plan_answer(question=question, passages=passages, budget=sentence_budget("intermediate"))
    choosable = [q for p in passages for s in split_sentences(p.text) if (q := quotable(s)) is not None]
    return Planned(answer=" ".join(p.text for p in planned), quotable=choosable)


def run_book(
    name: str, *, per_book: int, student: object, answers: TextIO | None, plan_only: bool = False
) -> tuple[list[Judged], int]:
    result = curriculum_import_openstax(path=book_path(name), slug=name)
    curriculum = Curriculum.objects.get(pk=result.curriculum_id)
    enrollment_create(student=student, curriculum=curriculum)
    pool = [q for q in PracticeQuestion.objects.filter(topic__unit__curriculum=curriculum) if judgeable(q)]
    sample = random.Random(f"{SEED}:{name}").sample(pool, min(per_book or len(pool), len(pool)))
    judged = []
    for n, question in enumerate(sample, start=1):
        asked = asked_form(question.stem)
        first: float | None
        reachable: bool | None = None
        if plan_only:
            planned = planned_answer(curriculum_id=curriculum.pk, question=asked)
            answer, first = planned.answer, None
            reachable = any(judge(question, sentence)[0] for sentence in planned.quotable)
        else:
            message = asyncio.run(
                tutor_answer_create(student=student, curriculum_slug=name, question=asked, verify=True)
            )
            answer, first = message.answer, message.timings.get("first_released_sentence")
        right, empty = judge(question, answer)
        judged.append(Judged(right=right, empty=empty, first_sentence_s=first, reachable=reachable))
        if not plan_only:
            print(f"{name} {n}/{len(sample)} right={right} empty={empty} first={first}", flush=True)
        if answers is not None:
            key = question.answer_index or 0
            record = {"book": name, "n": n, "question": asked, "key": str(question.choices[key]), "right": right}
            answers.write(json.dumps({**record, "answer": answer, "first_s": first}) + "\n")
            answers.flush()
    return judged, len(pool)


def plan_only_section(rows: list[tuple[str, list[Judged], int]]) -> list[str]:
    def share(judged: list[Judged], test: Callable[[Judged], bool | None]) -> float:
        return sum(bool(test(j)) for j in judged) / max(1, len(judged))

    return [
        "## Answer plan alone: every exam question asked without its options (issue 12)",
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} CPUs; date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {git_commit()}",
        "- No model, no verifier: retrieval as the answer graph does it, then `tutor.composition.plan_answer` "
        "(intermediate budget): the syllabus sentences an embedded-model answer starts with. Every judgeable "
        "question of each book. Command: `nice -n 5 .venv/bin/python bench/bench_answer_quality.py --plan-only "
        "--per-book 0 --book …`",
        "- Right: as above. Reachable: one sentence of the retrieved passages that the plan may quote is right "
        "on its own, chosen knowing the key: the most any choice of syllabus sentences from these passages "
        "could score one sentence at a time.",
        "",
        "| book | questions | right | empty | reachable | target |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
        *[
            f"| {name} | {len(judged)} | {share(judged, lambda j: j.right):.3f} | "
            f"{share(judged, lambda j: j.empty):.3f} | {share(judged, lambda j: j.reachable):.3f} | ≥ 0.70 right |"
            for name, judged, _ in rows
        ],
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-book", type=int, default=20)
    parser.add_argument("--book", action="append", default=None, help="biology-2e or a folder of shared/train/books")
    parser.add_argument(
        "--out", type=Path, default=None, help="default bench/results/answer_quality.md (answer_plan.md)"
    )
    parser.add_argument(
        "--answers", type=Path, default=None, help="write each question, key and answer here (JSON lines)"
    )
    parser.add_argument("--plan-only", action="store_true", help="the answer plan alone, no model (see above)")
    args = parser.parse_args()
    answers = args.answers.open("w") if args.answers else None
    books = args.book or ["biology-2e", "microbiology", "sociology-3e"]
    call_command("migrate", verbosity=0)
    student, _ = get_user_model().objects.get_or_create(username="bench-quality")
    rows = []
    plan_rows: list[tuple[str, list[Judged], int]] = []
    for name in books:
        judged, pool = run_book(
            name, per_book=args.per_book, student=student, answers=answers, plan_only=args.plan_only
        )
        print(f"{name}: right {sum(j.right for j in judged) / max(1, len(judged)):.3f} of {len(judged)}", flush=True)
        plan_rows.append((name, judged, pool))
        firsts = [j.first_sentence_s for j in judged if j.first_sentence_s is not None]
        rows.append(
            (
                name,
                len(judged),
                pool,
                sum(j.right for j in judged) / max(1, len(judged)),
                sum(j.empty for j in judged) / max(1, len(judged)),
                statistics.median(firsts) if firsts else float("nan"),
            )
        )
    lines = [
        "## Answer quality: exam questions asked without their options (issue 12)",
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} CPUs; date {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {git_commit()}",
        f"- Embedded SmolLM2-135M, verification on, revision mode `{settings.VERIFIER_REVISION_MODE}`; "
        f"{args.per_book} judgeable questions a book (seed {SEED}). "
        "Command: `nice -n 5 .venv/bin/python bench/bench_answer_quality.py`",
        "- Right: the released text covers the keyed option's content words better than every distractor's.",
        "",
        "| book | asked | judgeable in book | right | empty answers | time to first sentence (median) | target |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- |",
        *[
            f"| {name} | {asked} | {pool} | {right:.2f} | {empty:.2f} | {first * 1000:.0f} ms | ≥ 0.70 right |"
            for name, asked, pool, right, empty, first in rows
        ],
        "",
    ]
    if args.plan_only:
        lines = plan_only_section(plan_rows)
    out = args.out or ROOT / "bench" / "results" / ("answer_plan.md" if args.plan_only else "answer_quality.md")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
