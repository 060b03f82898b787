"""Benchmark ingest, retrieval quality and query latency on OpenStax Biology 2e; writes a markdown section.

    nice -n 10 .venv/bin/python bench/bench_retrieval.py [--book data/syllabi/biology-2e]
        [--out bench/results/retrieval.md] [--no-fp32] [--no-naive] [--no-server] [--synthetic 100000]

Everything runs in a scratch SQLite database and scratch Chroma stores under a temporary folder;
the developer's var/ is never touched (except the cached ONNX model, which is built if missing).

- Ingest: the real import service (parse + chunk + embed + index), timed end to end, embedding
  time broken out.
- Quality: every multiple-choice review question of the book (stems read straight from the CNXML;
  exercises are never indexed) must retrieve a chunk of its own module: hit@1 and hit@5 for the
  hybrid default, dense alone and BM25 alone, with the int8 ONNX model and (unless --no-fp32) the
  float32 sentence-transformers model, side by side, and a naive baseline (200-word windows, dense
  only).
- Latency: p50/p95 of the vector query alone and of the whole search, on the embedded store and on a
  `chroma run` server started here on a loopback port, at book size and at --synthetic chunks
  (book vectors plus noise; BM25 over book text recombined to that many chunks).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="veritutor-bench-retrieval-"))
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
os.environ["DATABASE_URL"] = f"sqlite:///{SCRATCH / 'bench.sqlite3'}"
os.environ["CHROMA_PATH"] = str(SCRATCH / "chroma")
os.environ["CHROMA_HOST"] = ""
os.environ["CHROMA_COLLECTION_PREFIX"] = "bench"
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import override_settings  # noqa: E402

from curriculum import retrieval  # noqa: E402
from curriculum.indexing import embeddings, index, vector_store  # noqa: E402
from curriculum.indexing.chroma_server import running_chroma_server  # noqa: E402
from curriculum.indexing.lexical import Bm25Index, get_lexical_index  # noqa: E402
from curriculum.models import Chunk, SyllabusDocument  # noqa: E402
from curriculum.services import curriculum_import_openstax  # noqa: E402

CNX = "{http://cnx.rice.edu/cnxml}"
_SPACES = re.compile(r"\s+")
# Queries timed per latency figure: enough for a stable p95 (the 95th percentile of 400 samples
# rests on 20 of them).
LATENCY_QUERIES = 400


@dataclass(frozen=True, kw_only=True)
class Question:
    module: str
    stem: str


def review_questions(book: Path) -> list[Question]:
    """Stems of the multiple-choice review questions of every module, read from the CNXML."""
    questions = []
    for file in sorted((book / "modules").glob("*/index.cnxml")):
        root = ET.parse(file).getroot()
        for section in root.iter(f"{CNX}section"):
            if section.get("class") != "multiple-choice":
                continue
            for exercise in section.iter(f"{CNX}exercise"):
                paras = exercise.findall(f"{CNX}problem/{CNX}para")
                stem = _SPACES.sub(" ", " ".join("".join(p.itertext()) for p in paras)).strip()
                if stem:
                    questions.append(Question(module=file.parent.name, stem=stem))
    return questions


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def timed_ms(calls: Sequence[Callable[[], object]]) -> list[float]:
    samples = []
    for call in calls:
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


# --- quality -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Quality:
    label: str
    hit1: float
    hit5: float


def hits(
    rankings: Sequence[Sequence[int]], questions: Sequence[Question], module_of: dict[int, str]
) -> tuple[float, float]:
    hit1 = sum(1 for r, q in zip(rankings, questions, strict=True) if r[:1] and module_of[r[0]] == q.module)
    hit5 = sum(1 for r, q in zip(rankings, questions, strict=True) if any(module_of[c] == q.module for c in r[:5]))
    return hit1 / len(questions), hit5 / len(questions)


def dense_rankings_numpy(
    chunk_ids: np.ndarray, matrix: np.ndarray, queries: np.ndarray, depth: int
) -> list[list[tuple[int, float]]]:
    scores = queries @ matrix.T
    top = np.argsort(-scores, axis=1)[:, :depth]
    return [[(int(chunk_ids[i]), float(scores[q, i])) for i in row] for q, row in enumerate(top)]


def fused(
    dense: list[list[tuple[int, float]]],
    lexical: list[list[tuple[int, float]]],
    *,
    cap: int | None,
    document_of: dict[int, int],
) -> list[list[int]]:
    return [
        [
            chunk_id
            for chunk_id, _ in retrieval._diversified(
                retrieval._fuse(dense=d, lexical=lx, document_of=document_of),
                k=5,
                max_per_document=cap,
                document_of=document_of,
            )
        ]
        for d, lx in zip(dense, lexical, strict=True)
    ]


def quality_rows(
    *,
    label: str,
    curriculum_id: int,
    questions: list[Question],
    module_of: dict[int, str],
    chunk_ids: np.ndarray,
    matrix: np.ndarray,
    embedder: embeddings.Embedder,
) -> list[Quality]:
    stems = [q.stem for q in questions]
    query_vectors = embedder.embed(stems)
    dense = dense_rankings_numpy(chunk_ids, matrix, query_vectors, retrieval.CANDIDATES)
    lexical_index = get_lexical_index(curriculum_id)
    lexical = [[(h.chunk_id, h.score) for h in lexical_index.search(s, limit=retrieval.CANDIDATES)] for s in stems]
    document_of = lexical_index.document_of
    rows = []
    for name, rankings in [
        (
            f"hybrid, ≤{retrieval.MAX_PER_DOCUMENT} per section, {label}",
            fused(dense, lexical, cap=retrieval.MAX_PER_DOCUMENT, document_of=document_of),
        ),
        (f"hybrid, no per-section cap, {label}", fused(dense, lexical, cap=None, document_of=document_of)),
        (f"dense only, {label}", [[chunk_id for chunk_id, _ in ranking] for ranking in dense]),
    ]:
        hit1, hit5 = hits(rankings, questions, module_of)
        rows.append(Quality(label=name, hit1=hit1, hit5=hit5))
    return rows


# --- latency -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Latency:
    label: str
    p50: float
    p95: float


def latency(label: str, samples: list[float]) -> Latency:
    return Latency(label=label, p50=percentile(samples, 50), p95=percentile(samples, 95))


def copy_collection(source, target_client, name: str) -> None:
    """Copy every record (vectors included) of ``source`` into a new collection of ``target_client``."""
    target = target_client.get_or_create_collection(
        name=name,
        embedding_function=vector_store.MiniLMEmbeddingFunction(),
        configuration={"hnsw": vector_store.HNSW_CONFIGURATION},
    )
    page = 5_000
    offset = 0
    while True:
        batch = source.get(include=["embeddings", "documents", "metadatas"], limit=page, offset=offset)
        if not batch["ids"]:
            return
        target.upsert(
            ids=batch["ids"], embeddings=batch["embeddings"], documents=batch["documents"], metadatas=batch["metadatas"]
        )
        offset += page


def synthetic_collection(client, name: str, base: np.ndarray, size: int, seed: int = 7):
    """``size`` vectors: the book's vectors, each repeated with Gaussian noise, L2-normalised."""
    rng = np.random.default_rng(seed)
    collection = client.get_or_create_collection(
        name=name,
        embedding_function=vector_store.MiniLMEmbeddingFunction(),
        configuration={"hnsw": vector_store.HNSW_CONFIGURATION},
    )
    step = min(5_000, int(client.get_max_batch_size()))
    for start in range(0, size, step):
        count = min(step, size - start)
        picks = base[rng.integers(0, len(base), count)]
        vectors = picks + rng.normal(0, 0.35 / np.sqrt(base.shape[1]), picks.shape).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        ids = [str(10_000_000 + start + i) for i in range(count)]
        collection.add(
            ids=ids,
            embeddings=vectors,
            metadatas=[{"topic_id": int(i % 300)} for i in range(start, start + count)],
        )
    return collection


def vector_latencies(collection, query_vectors: np.ndarray) -> list[float]:
    calls = [
        (lambda v=v: collection.query(query_embeddings=[v], n_results=retrieval.CANDIDATES, include=["distances"]))
        for v in query_vectors
    ]
    timed_ms(calls[:20])  # warm-up: first queries load the HNSW segment
    return timed_ms(calls)


# --- main ----------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, load average at start {load:.2f}"


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--book", type=Path, default=ROOT / "data" / "syllabi" / "biology-2e")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "retrieval.md")
    parser.add_argument("--no-fp32", action="store_true", help="Skip the float32 reference model (saves minutes).")
    parser.add_argument("--no-naive", action="store_true", help="Skip the naive 200-word-window baseline.")
    parser.add_argument("--no-server", action="store_true", help="Skip the Chroma server latencies.")
    parser.add_argument("--synthetic", type=int, default=100_000, help="Chunks in the synthetic scale test (0: skip).")
    args = parser.parse_args()
    header = machine()
    started = datetime.now(UTC)
    call_command("migrate", verbosity=0)

    # Model load is a one-off per process, timed on its own so that ingest measures the work.
    start = time.perf_counter()
    embeddings.ensure_onnx_model()
    embeddings.get_embedder().embed(["warm-up"])
    model_load_s = time.perf_counter() - start

    embed_seconds = 0.0
    embed_cpu_seconds = 0.0
    original_embed = index.embed_documents

    def counting_embed(texts):
        nonlocal embed_seconds, embed_cpu_seconds
        t, cpu = time.perf_counter(), time.process_time()
        try:
            return original_embed(texts)
        finally:
            embed_seconds += time.perf_counter() - t
            embed_cpu_seconds += time.process_time() - cpu

    index.embed_documents = counting_embed
    start, start_cpu = time.perf_counter(), time.process_time()
    result = curriculum_import_openstax(path=args.book)
    ingest_s = time.perf_counter() - start
    ingest_cpu_s = time.process_time() - start_cpu
    index.embed_documents = original_embed
    curriculum_id = result.curriculum_id
    chunk_rows = list(
        Chunk.objects.filter(curriculum_id=curriculum_id)
        .order_by("id")
        .values_list("id", "text", "document__source_id")
    )
    module_of = {chunk_id: module for chunk_id, _, module in chunk_rows}
    words = sum(len(text.split()) for _, text, _ in chunk_rows)
    print(f"ingest {ingest_s:.1f}s ({embed_seconds:.1f}s embedding), {len(chunk_rows)} chunks", flush=True)

    questions = review_questions(args.book)
    stems = [q.stem for q in questions]
    # The real search path, as the tutor calls it.
    start = time.perf_counter()
    batch = retrieval.search_chunks_batch(curriculum_id=curriculum_id, queries=stems, k=5)
    batch_s = time.perf_counter() - start
    headline = hits([[r.chunk_id for r in rs] for rs in batch], questions, module_of)
    print(f"hybrid search_chunks_batch hit@1 {headline[0]:.3f} hit@5 {headline[1]:.3f}", flush=True)
    # How near the misses are: the same measure at chapter (unit) level.
    unit_of_module = dict(
        Chunk.objects.filter(curriculum_id=curriculum_id).values_list("document__source_id", "document__topic__unit_id")
    )
    chapter_questions = [Question(module=str(unit_of_module.get(q.module, "")), stem=q.stem) for q in questions]
    unit_of_chunk = {chunk_id: str(unit_of_module[module]) for chunk_id, module in module_of.items()}
    chapter = hits([[r.chunk_id for r in rs] for rs in batch], chapter_questions, unit_of_chunk)

    collection = vector_store.get_collection(curriculum_id, create=False)
    stored = collection.get(include=["embeddings"])
    chunk_ids = np.asarray([int(i) for i in stored["ids"]])
    matrix = np.asarray(stored["embeddings"], dtype=np.float32)
    onnx_embedder = embeddings.get_embedder()
    rows = quality_rows(
        label="int8 ONNX",
        curriculum_id=curriculum_id,
        questions=questions,
        module_of=module_of,
        chunk_ids=chunk_ids,
        matrix=matrix,
        embedder=onnx_embedder,
    )
    lexical_index = get_lexical_index(curriculum_id)
    lexical = [[h.chunk_id for h in lexical_index.search(s, limit=5)] for s in stems]
    bm25 = hits(lexical, questions, module_of)
    rows.append(Quality(label="BM25 only", hit1=bm25[0], hit5=bm25[1]))
    if not args.no_naive:
        # The baseline to beat: fixed 200-word windows of each module's text, dense search only.
        windows: list[str] = []
        window_modules: list[str] = []
        for source_id, text in SyllabusDocument.objects.filter(topic__unit__curriculum_id=curriculum_id).values_list(
            "source_id", "text"
        ):
            words_of_module = text.split()
            for start in range(0, len(words_of_module), 200):
                windows.append(" ".join(words_of_module[start : start + 200]))
                window_modules.append(source_id)
        # Read as sentence-transformers would, up to 256 tokens, not our 128.
        naive_embedder = embeddings.OnnxEmbedder(model_path=embeddings.ensure_onnx_model())
        naive_embedder._tokenizer.enable_truncation(max_length=256)
        window_matrix = naive_embedder.embed(windows)
        naive = dense_rankings_numpy(np.arange(len(windows)), window_matrix, naive_embedder.embed(stems), 5)
        naive_hits = hits(
            [[index for index, _ in ranking] for ranking in naive], questions, dict(enumerate(window_modules))
        )
        rows.append(
            Quality(
                label="naive: 200-word windows (256 tokens), dense only, int8 ONNX",
                hit1=naive_hits[0],
                hit5=naive_hits[1],
            )
        )
    fp32_embed_s = None
    if not args.no_fp32:
        reference = embeddings.SentenceTransformerEmbedder()
        texts_by_id = {chunk_id: text for chunk_id, text, _ in chunk_rows}
        start = time.perf_counter()
        fp32_matrix = reference.embed([texts_by_id[int(i)] for i in chunk_ids])
        fp32_embed_s = time.perf_counter() - start
        rows += quality_rows(
            label="float32 PyTorch",
            curriculum_id=curriculum_id,
            questions=questions,
            module_of=module_of,
            chunk_ids=chunk_ids,
            matrix=fp32_matrix,
            embedder=reference,
        )
    for row in rows:
        print(f"{row.label}: hit@1 {row.hit1:.3f} hit@5 {row.hit5:.3f}", flush=True)

    # Latency, one question at a time, as a student asks.
    latency_questions = stems[:LATENCY_QUERIES]
    query_vectors = onnx_embedder.embed(latency_questions)
    latencies = [
        latency(
            "embed one query (int8 ONNX)",
            timed_ms([(lambda s=s: embeddings.embed_query(s)) for s in latency_questions]),
        ),
        latency(
            "BM25 one query",
            timed_ms([(lambda s=s: lexical_index.search(s, limit=retrieval.CANDIDATES)) for s in latency_questions]),
        ),
        latency("vector query, embedded Chroma", vector_latencies(collection, query_vectors)),
        latency(
            "whole search_chunks, embedded Chroma",
            timed_ms(
                [
                    (lambda s=s: retrieval.search_chunks(curriculum_id=curriculum_id, query=s, k=5))
                    for s in latency_questions
                ]
            ),
        ),
    ]
    scale_rows: list[Latency] = []
    synthetic_embedded = None
    if args.synthetic:
        synthetic_embedded = synthetic_collection(vector_store.get_client(), "bench-synthetic", matrix, args.synthetic)
        scale_rows.append(
            latency(
                f"vector query, embedded Chroma, {args.synthetic:,} chunks",
                vector_latencies(synthetic_embedded, query_vectors),
            )
        )
        texts = [text for _, text, _ in chunk_rows]
        rng = np.random.default_rng(3)
        # Book text recombined: halves of two random chunks, so term statistics stay book-like.
        picks = rng.integers(0, len(texts), (args.synthetic, 2))
        synthetic_texts = [
            " ".join(texts[a].split()[: len(texts[a].split()) // 2] + texts[b].split()[len(texts[b].split()) // 2 :])
            for a, b in picks
        ]
        big_bm25 = Bm25Index(
            chunk_ids=list(range(args.synthetic)),
            topic_ids=[i % 300 for i in range(args.synthetic)],
            texts=synthetic_texts,
        )
        scale_rows.append(
            latency(
                f"BM25 one query, {args.synthetic:,} chunks",
                timed_ms([(lambda s=s: big_bm25.search(s, limit=retrieval.CANDIDATES)) for s in latency_questions]),
            )
        )
    if not args.no_server:
        with (
            running_chroma_server(SCRATCH / "chroma-server") as server,
            override_settings(CHROMA_HOST=server.host, CHROMA_PORT=server.port),
        ):
            client = vector_store.get_client()
            copy_collection(collection, client, vector_store.collection_name(curriculum_id))
            remote = vector_store.get_collection(curriculum_id, create=False)
            latencies.append(latency("vector query, Chroma server", vector_latencies(remote, query_vectors)))
            latencies.append(
                latency(
                    "whole search_chunks, Chroma server",
                    timed_ms(
                        [
                            (lambda s=s: retrieval.search_chunks(curriculum_id=curriculum_id, query=s, k=5))
                            for s in latency_questions
                        ]
                    ),
                )
            )
            if args.synthetic:
                remote_synthetic = synthetic_collection(client, "bench-synthetic", matrix, args.synthetic)
                scale_rows.append(
                    latency(
                        f"vector query, Chroma server, {args.synthetic:,} chunks",
                        vector_latencies(remote_synthetic, query_vectors),
                    )
                )
    for row in latencies + scale_rows:
        print(f"{row.label}: p50 {row.p50:.1f} ms p95 {row.p95:.1f} ms", flush=True)

    lines = [
        "## Retrieval (bench/bench_retrieval.py)",
        "",
        f"Machine: {header}. Date: {started:%Y-%m-%d %H:%M} UTC. Commit: {commit()}. Book: {args.book.name}.",
        "",
        f"**Ingest** (parse + chunk + embed + index, `curriculum_import_openstax`): **{ingest_s:.1f} s** "
        f"for {len(chunk_rows):,} chunks ({words:,} words), of which embedding {embed_seconds:.1f} s "
        f"(int8 ONNX). CPU time (all threads): ingest {ingest_cpu_s:.1f} s, embedding {embed_cpu_seconds:.1f} s; "
        f"on {os.cpu_count()} otherwise idle cores ingest would take about "
        f"{ingest_cpu_s - embed_cpu_seconds + embed_cpu_seconds / (os.cpu_count() or 1):.0f} s "
        "(the machine was shared with other jobs; see the load average). "
        f"One-off model load {model_load_s:.1f} s."
        + (
            f" The float32 PyTorch model embeds the same chunks in {fp32_embed_s:.1f} s "
            f"({fp32_embed_s / embed_seconds:.1f}x the int8 time)."
            if fp32_embed_s
            else ""
        ),
        "",
        f"**Quality**: {len(questions)} multiple-choice review questions; a hit is a chunk of the question's own "
        "module in the top k. Question text is never indexed.",
        "",
        "| retriever | hit@1 | hit@5 |",
        "| --- | ---: | ---: |",
        f"| **search_chunks_batch (default)** | **{headline[0]:.3f}** | **{headline[1]:.3f}** |",
        *[f"| {row.label} | {row.hit1:.3f} | {row.hit5:.3f} |" for row in rows],
        f"| search_chunks_batch, hit = a chunk of the question's chapter | {chapter[0]:.3f} | {chapter[1]:.3f} |",
        "",
        f"All {len(questions)} questions through search_chunks_batch took {batch_s:.1f} s.",
        "",
        f"**Latency**, one query at a time ({len(latency_questions)} review questions):",
        "",
        "| what | p50 ms | p95 ms |",
        "| --- | ---: | ---: |",
        *[f"| {row.label} | {row.p50:.1f} | {row.p95:.1f} |" for row in latencies + scale_rows],
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
