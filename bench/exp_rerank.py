"""Experiment (issue 12): a cross-encoder reranker over the section model's top sections.

    nice -n 5 .venv/bin/python bench/exp_rerank.py prepare   # import books, write var/rerank/*.pkl
    nice -n 5 .venv/bin/python bench/exp_rerank.py train     # fine-tune MiniLM on the training pairs
    nice -n 5 .venv/bin/python bench/exp_rerank.py evaluate  # hit@1/hit@5 per book, before and after

Result (2026-11-30, not shipped): no gain; see "Ideas measured" under "Retrieval per book" in
BENCHMARKS.md.

Training queries come only from the seven books without multiple-choice questions (their exercise
stems, learning objectives and cloze sentences); Biology 2e and the five
books with questions are only measured. Scratch database and Chroma, as bench_retrieval.
"""

from __future__ import annotations

import os
import pickle
import random
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="veritutor-exp-rerank-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ["CHROMA_PATH"] = str(SCRATCH / "chroma")
os.environ["CHROMA_HOST"] = ""
os.environ["CHROMA_COLLECTION_PREFIX"] = "bench"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402

from bench.bench_retrieval import (  # noqa: E402
    BIOLOGY,
    EMBEDDING_CACHE,
    TRAINING_BOOKS,
    book_questions,
    books_with_questions,
    cached_embeddings,
)
from curriculum import retrieval  # noqa: E402
from curriculum.importers.openstax import parse_openstax_book  # noqa: E402
from curriculum.indexing import embeddings, index  # noqa: E402
from curriculum.models import Chunk  # noqa: E402
from curriculum.services import curriculum_import_openstax  # noqa: E402

OUT = ROOT / "var" / "rerank"
TRAIN_BOOKS = [
    "anthropology",
    "astronomy-2e",
    "chemistry-2e",
    "economics-3e",
    "philosophy-2e",
    "political-science",
    "world-history",
]
DEPTH = 10  # passages the default returns per query; the reranker reorders their sections
_WORDS = re.compile(r"[A-Za-z][A-Za-z'-]+")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")


@dataclass
class Passage:
    chunk_id: int
    module: str
    title: str
    text: str


@dataclass
class Query:
    book: str
    kind: str
    text: str
    module: str
    candidates: list[int]  # chunk ids, default order
    probabilities: list[float]


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORDS.findall(text) if len(w) > 3}


def _cloze(sentence: str, rng: random.Random) -> str | None:
    words = sentence.split()
    if len(words) < 10 or len(words) > 40:
        return None
    spans = [i for i, w in enumerate(words) if len(w.strip(".,;:()")) > 5 and i > 0]
    if not spans:
        return None
    i = rng.choice(spans)
    return " ".join([*words[:i], "_____", *words[i + 1 :]])


def training_queries(book: str, rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, text, module) from a training book's CNXML and text."""
    parsed = parse_openstax_book(TRAINING_BOOKS / book)
    out: list[tuple[str, str, str]] = []
    for unit in parsed.units:
        for topic in unit.topics:
            if not topic.number:
                continue  # introductions: no section to find
            for q in topic.questions:
                if len(q.stem.split()) >= 5:
                    out.append(("exercise", q.stem, topic.source_id))
            for line in topic.objectives.splitlines():
                if len(line.split()) >= 4:
                    out.append(("objective", line.strip(), topic.source_id))
            sentences = [s for p in topic.text.split("\n\n") for s in _SENTENCE.split(p)]
            for s in rng.sample(sentences, min(4, len(sentences))):
                cloze = _cloze(s, rng)
                if cloze:
                    out.append(("cloze", cloze, topic.source_id))
    return out


def prepare() -> None:
    from django.core.management import call_command

    OUT.mkdir(parents=True, exist_ok=True)
    call_command("migrate", verbosity=0)
    embeddings.ensure_onnx_model()
    index.embed_documents = cached_embeddings(EMBEDDING_CACHE)
    rng = random.Random(5)
    eval_books = [BIOLOGY.name, *books_with_questions(TRAINING_BOOKS)]
    for book in [*TRAIN_BOOKS, *eval_books]:
        start = time.perf_counter()
        result = curriculum_import_openstax(path=BIOLOGY if book == BIOLOGY.name else TRAINING_BOOKS / book)
        cid = result.curriculum_id
        passages = {
            c.id: Passage(chunk_id=c.id, module=c.document.source_id, title=c.document.title, text=c.text)
            for c in Chunk.objects.filter(curriculum_id=cid).select_related("document")
        }
        modules = {p.module for p in passages.values()}
        if book in TRAIN_BOOKS:
            raw = [(k, t, m) for k, t, m in training_queries(book, rng) if m in modules]
        else:
            raw = [("question", q.stem, q.module) for q in book_questions(book, TRAINING_BOOKS) if q.module in modules]
        queries: list[Query] = []
        for begin in range(0, len(raw), 64):
            part = raw[begin : begin + 64]
            found = retrieval.search_chunks_batch(curriculum_id=cid, queries=[t for _, t, _ in part], k=DEPTH)
            for (kind, text, module), rs in zip(part, found, strict=True):
                queries.append(
                    Query(
                        book=book,
                        kind=kind,
                        text=text,
                        module=module,
                        candidates=[r.chunk_id for r in rs],
                        probabilities=[r.score for r in rs],
                    )
                )
        with (OUT / f"{book}.pkl").open("wb") as handle:
            pickle.dump({"passages": passages, "queries": queries}, handle)
        kinds: dict[str, int] = {}
        for q in queries:
            kinds[q.kind] = kinds.get(q.kind, 0) + 1
        hit1 = np.mean([bool(q.candidates) and passages[q.candidates[0]].module == q.module for q in queries])
        print(
            f"{book}: {len(passages)} passages, {kinds}, default hit@1 {hit1:.3f}, {time.perf_counter() - start:.0f} s",
            flush=True,
        )


MAX_LENGTH = 192
SECTIONS = 6  # sections of the default ranking the reranker reorders (hit@6 bounds its hit@1)


def _evidence(p: Passage) -> str:
    return f"{p.title}. {p.text}"


def _load(book: str) -> tuple[dict[int, Passage], list[Query]]:
    with (OUT / f"{book}.pkl").open("rb") as handle:
        data = pickle.load(handle)
    return data["passages"], data["queries"]


def training_examples(rng: random.Random) -> list:
    from verification.training.data import Example

    examples = []
    for book in TRAIN_BOOKS:
        passages, queries = _load(book)
        by_module: dict[str, list[Passage]] = {}
        for p in passages.values():
            by_module.setdefault(p.module, []).append(p)
        for q in queries:
            if book == "astronomy-2e" and q.kind == "exercise":
                continue  # its end-of-chapter exercises sit in each chapter's last section: wrong labels
            gold = [passages[c] for c in q.candidates if passages[c].module == q.module]
            others: list[Passage] = []
            seen: set[str] = set()
            for c in q.candidates:
                p = passages[c]
                if p.module != q.module and p.module not in seen:
                    seen.add(p.module)
                    others.append(p)
            words = _words(q.text)
            if q.kind == "cloze" or not gold:
                # A cloze sentence sits in its own passage almost word for word: half the time the
                # positive is another passage of the section, so the model learns the topic, not the copy.
                pool = by_module[q.module]
                if q.kind == "cloze" and rng.random() < 0.5 and len(pool) > 1:
                    stem = q.text.replace("_____", "").split()
                    pool = [p for p in pool if " ".join(stem[:5]) not in p.text] or pool
                positive = max(pool, key=lambda p: len(words & _words(p.text)) + rng.random())
            else:
                positive = gold[0]
            examples.append(Example(claim=q.text, window=_evidence(positive), label=1, source=f"{book}/{q.kind}"))
            for p in others[:2]:
                examples.append(Example(claim=q.text, window=_evidence(p), label=0, source=f"{book}/{q.kind}"))
    rng.shuffle(examples)
    return examples


def train() -> None:
    from verification.entailment.cross_encoder import WEIGHTS_DIR
    from verification.training.loop import RunLimits, TrainConfig, train_cross_encoder

    examples = training_examples(random.Random(11))
    limit = int(os.environ.get("RERANK_PAIRS", "16000"))
    examples = examples[:limit]
    print(f"{len(examples)} pairs, {sum(e.label for e in examples)} positive", flush=True)
    config = TrainConfig(
        max_length=MAX_LENGTH,
        epochs=1.0,
        batch_size=16,
        learning_rate=3e-5,
        init_weights=str(WEIGHTS_DIR),
    )
    train_cross_encoder(
        examples,
        config,
        out_dir=OUT / "weights",
        version="rerank-exp0",
        checkpoint_dir=OUT / "checkpoint",
        resume=(OUT / "checkpoint").exists(),
        limits=RunLimits(max_minutes=float(os.environ.get("RERANK_MINUTES", "40"))),
        log=lambda line: print(line, flush=True),
    )


def evaluate() -> None:
    from verification.entailment.cross_encoder import CrossEncoder

    weights = Path(os.environ.get("RERANK_WEIGHTS", str(OUT / "weights")))
    model = CrossEncoder(weights)
    eval_books = [BIOLOGY.name, *books_with_questions(TRAINING_BOOKS)]
    per_book = {}
    for book in eval_books:
        passages, queries = _load(book)
        rows = []
        for q in queries:
            sections: list[tuple[Passage, float]] = []
            seen: set[str] = set()
            for c, prob in zip(q.candidates, q.probabilities, strict=True):
                p = passages[c]
                if p.module not in seen:
                    seen.add(p.module)
                    sections.append((p, prob))
            rows.append((q, sections[:SECTIONS]))
        pairs = [(q.text, _evidence(p)) for q, sections in rows for p, _ in sections]
        start = time.perf_counter()
        logits = model.logits(pairs, batch_size=32)
        ms = (time.perf_counter() - start) * 1000 / max(len(rows), 1)
        at = 0
        scored = []
        for q, sections in rows:
            n = len(sections)
            scored.append(
                (
                    np.log(np.array([prob for _, prob in sections]) + 1e-9),
                    logits[at : at + n],
                    [p.module == q.module for p, _ in sections],
                )
            )
            at += n
        per_book[book] = (scored, ms)
        print(f"{book}: {len(rows)} stems, {ms:.0f} ms/stem reranking", flush=True)

    def hits(scored: list, w: float) -> tuple[float, float]:
        h1 = h5 = 0.0
        for logp, ce, gold in scored:
            if not gold:
                continue
            order = np.argsort(-(logp + w * ce), kind="stable")
            ranked = [gold[i] for i in order]
            h1 += ranked[0]
            h5 += any(ranked[:5])
        return h1 / len(scored), h5 / len(scored)

    def fit(books: list[str]) -> float:
        grid = [x / 10 for x in range(0, 51)]
        return max(grid, key=lambda w: sum(hits(per_book[b][0], w)[0] for b in books))

    five = eval_books[1:]
    w_all = fit(five)
    print(f"weight fit on the five training books: {w_all}")
    for book in eval_books:
        held = fit([b for b in five if b != book]) if book in five else w_all
        before = hits(per_book[book][0], 0.0)
        after = hits(per_book[book][0], held)
        ce_only = hits(per_book[book][0], 1000.0)
        print(
            f"{book}: default {before[0]:.3f}/{before[1]:.3f}  reranked(w={held}) {after[0]:.3f}/{after[1]:.3f}"
            f"  reranker alone {ce_only[0]:.3f}/{ce_only[1]:.3f}  {per_book[book][1]:.0f} ms/stem"
        )


if __name__ == "__main__":
    {"prepare": prepare, "train": train, "evaluate": evaluate}[sys.argv[1]]()
