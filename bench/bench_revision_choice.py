"""Can the configured LLM choose among revision candidates, or does it pick by position?

    nice -n 5 .venv/bin/python bench/bench_revision_choice.py [--questions 8]

The live answers of bench_answer's questions are verified; every revision with two or more
candidate syllabus sentences is recorded. Each recorded (draft, candidates) is then put to the LLM
three times with the candidates in their ranked, reversed and rotated order, with the prompt of the
``select`` revision mode. A model that reads the options picks the same sentence each time; a model
that picks by position picks a different one. The answer decides whether ``select`` is worth its
prompt evaluation on that model (docs/verifier.md, "Revision of a failed sentence").
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_answer as live
from django.conf import settings

from llm.factory import get_revision_client
from verification.graph import nodes
from verification.revision import build_selection_messages, selection_schema

ROOT = Path(__file__).resolve().parent.parent


async def _choose(sentence: str, candidates: list[str]) -> tuple[int, float]:
    started = time.perf_counter()
    choice = await get_revision_client().complete_json(
        build_selection_messages(sentence=sentence, candidates=candidates),
        schema=selection_schema(len(candidates)),
        max_tokens=nodes.SELECTION_MAX_TOKENS,
        temperature=0.0,
    )
    return choice.sentence - 1, time.perf_counter() - started  # type: ignore[attr-defined]


async def _probe(recorded: list[tuple[str, list[str]]]) -> list[tuple[list[int], list[int], float]]:
    rows = []
    for sentence, ranked in recorded:
        orders = [ranked, ranked[::-1], ranked[1:] + ranked[:1]]
        picked, positions, seconds = [], [], []
        for order in orders:
            position, elapsed = await _choose(sentence, order)
            picked.append(ranked.index(order[position]))
            positions.append(position)
            seconds.append(elapsed)
        rows.append((picked, positions, statistics.median(seconds)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "revision_choice.md")
    args = parser.parse_args()

    student, curriculum = live.enrolled_student()

    recorded: list[tuple[str, list[str]]] = []
    candidates_of = nodes.revision_candidates

    def recording(*, sentence: str, evidence: list[str]) -> list[str]:
        found = candidates_of(sentence=sentence, evidence=evidence)
        if len(found) >= 2:
            recorded.append((sentence, found))
        return found

    nodes.revision_candidates = recording
    for question in live.QUESTIONS[: args.questions]:
        asyncio.run(live._ask(student, curriculum.slug, question, True))
    nodes.revision_candidates = candidates_of

    rows = asyncio.run(_probe(recorded))
    same_sentence = sum(1 for picked, _, _ in rows if len(set(picked)) == 1)
    first_listed = sum(1 for _, positions, _ in rows if set(positions) == {0})
    seconds = statistics.median(s for _, _, s in rows) if rows else float("nan")
    lines = [
        "## Revision choice: does the LLM read the candidates? (`select` mode)",
        "",
        f"- Machine: {live._cpu()}; Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; commit {live._commit()}",
        f"- Model: {settings.LLM_BACKEND} `{settings.LLM_MODEL}`; {len(rows)} revisions with 2-3 candidates from "
        f"{args.questions} verified Biology 2e answers, each asked in ranked, reversed and rotated order. "
        "Command: `nice -n 5 .venv/bin/python bench/bench_revision_choice.py`",
        "",
        "| measure | value |",
        "| --- | ---: |",
        f"| revisions probed | {len(rows)} |",
        f"| same sentence chosen in all three orders | {same_sentence} |",
        f"| first-listed candidate chosen in all three orders | {first_listed} |",
        f"| median time of one choice | {seconds * 1000:.0f} ms |",
        "",
        "A model that picks the first-listed candidate whatever it is adds nothing to the ranking it was "
        "given: for it the `extract` mode (the best-ranked candidate, no LLM call) has the same outcome.",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
