"""Finding the syllabus passages that answer a question: hybrid dense + BM25 retrieval.

Both retrievers rank a curriculum's chunks on their own, dense (MiniLM vectors in the curriculum's
Chroma collection) for meaning, BM25 (``curriculum.indexing.lexical``) for exact terms; their
rankings, and the rankings of the sections (documents) their candidates come from, are merged by
reciprocal-rank fusion, which needs no score calibration between the two. The top k then take at
most ``MAX_PER_DOCUMENT`` passages of one section, so that they cover the likeliest sections.
Every candidate comes from the curriculum's own collection and lexical index, and the final rows
are re-read from the database filtered by curriculum, so no other curriculum's text can come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curriculum.indexing import vector_store
from curriculum.indexing.embeddings import embed_queries
from curriculum.indexing.lexical import get_lexical_index
from curriculum.models import Chunk

# How deep each retriever's ranking goes into the fusion: past ~50 a chunk's fused score is too small
# to reach the top 5, and the HNSW query cost grows with it.
CANDIDATES = 50
# Reciprocal-rank fusion constant: 60 is the value of Cormack et al. (2009), robust across corpora;
# it flattens the difference between rank 1 and rank 5 so that agreement between retrievers wins.
RRF_K = 60
# Equal say for both retrievers: on Biology 2e review questions each alone finds the section about
# equally often (hit@5 0.85 each with 80-word chunks), and they fail on different questions.
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# A section (document) that several candidates come from is likelier to be what the question is about
# than one lucky passage: passages also collect their section's rank, ranked by the mean of its best
# three candidate scores. On Biology 2e this lifts hit@1 by ~3 points at unchanged hit@5.
SECTION_WEIGHT = 1.0
SECTION_TOP = 3
# At most this many of the k results come from one document (an OpenStax section) by default: the
# next-best passage of another section beats a third passage of the same one, both for the tutor
# (wider evidence) and measured (Biology 2e review questions find their own section more often).
MAX_PER_DOCUMENT = 2
# Longest query accepted: a question, not a document (MiniLM reads 256 tokens anyway).
MAX_QUERY_CHARS = 2_000
PATH_SEPARATOR = " › "


@dataclass(frozen=True, kw_only=True)
class RetrievedChunk:
    """A passage retrieved for a query, with what a citation needs."""

    chunk_id: int
    """Chunk primary key."""
    text: str
    """The passage text."""
    score: float
    """Fused relevance in [0, 1]: 1.0 means the passage and its section ranked first by both retrievers."""
    similarity: float
    """Cosine similarity of the query and passage vectors, in [-1, 1]."""
    topic_id: int
    """Topic the passage belongs to."""
    topic: str
    """Topic title."""
    unit: str
    """Unit title."""
    topic_path: str
    """"Unit › Topic", for display."""
    label: str
    """The topic as the book numbers it, e.g. "6.3 Operant Conditioning" (``Topic.label``): for citations."""
    module: str
    """Source id of the passage's document, e.g. the OpenStax module "m66374"."""
    document_id: int
    """SyllabusDocument id."""
    position: int
    """Order of the passage within its document."""


def search_chunks(
    *,
    curriculum_id: int,
    query: str,
    k: int = 5,
    topic_ids: Sequence[int] | None = None,
    max_per_document: int | None = MAX_PER_DOCUMENT,
) -> list[RetrievedChunk]:
    """The ``k`` passages of the curriculum that best answer ``query``, best first.

    ``topic_ids`` restricts the search to those topics; ``max_per_document`` caps the passages taken
    from one document (None: no cap; the cap is lifted when too few documents match to fill k).
    A curriculum with no chunks gives [].
    """
    return search_chunks_batch(
        curriculum_id=curriculum_id, queries=[query], k=k, topic_ids=topic_ids, max_per_document=max_per_document
    )[0]


def search_chunks_batch(
    *,
    curriculum_id: int,
    queries: Sequence[str],
    k: int = 5,
    topic_ids: Sequence[int] | None = None,
    max_per_document: int | None = MAX_PER_DOCUMENT,
) -> list[list[RetrievedChunk]]:
    """``search_chunks`` for several queries, embedded in one batch; results in query order."""
    _validate(queries=queries, k=k)
    if not queries:
        return []
    if topic_ids is not None and not topic_ids:
        # Restricted to no topics at all: nothing can match.
        return [[] for _ in queries]
    lexical = get_lexical_index(curriculum_id)
    if len(lexical) == 0:
        return [[] for _ in queries]
    query_vectors = embed_queries(queries)
    candidates = min(max(CANDIDATES, k), len(lexical))
    dense_rankings = _dense_rankings(curriculum_id, query_vectors, candidates=candidates, topic_ids=topic_ids)
    fused_per_query = []
    for query, dense in zip(queries, dense_rankings, strict=True):
        lexical_ranking = [
            (hit.chunk_id, hit.score) for hit in lexical.search(query, limit=candidates, topic_ids=topic_ids)
        ]
        fused = _fuse(dense=dense, lexical=lexical_ranking, document_of=lexical.document_of)
        fused_per_query.append(
            _diversified(fused, k=k, max_per_document=max_per_document, document_of=lexical.document_of)
        )
    similarities = _similarities(curriculum_id, query_vectors, dense_rankings, fused_per_query)
    rows = _load_rows(curriculum_id, {chunk_id for fused in fused_per_query for chunk_id, _ in fused})
    return [
        [
            _retrieved(rows[chunk_id], score=score, similarity=similarity[chunk_id])
            for chunk_id, score in fused
            if chunk_id in rows
        ]
        for fused, similarity in zip(fused_per_query, similarities, strict=True)
    ]


def _validate(*, queries: Sequence[str], k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    for query in queries:
        if not query.strip():
            raise ValueError("The query is empty.")
        if len(query) > MAX_QUERY_CHARS:
            raise ValueError(f"The query is {len(query)} characters long; at most {MAX_QUERY_CHARS} are accepted.")


def _dense_rankings(
    curriculum_id: int, query_vectors: np.ndarray, *, candidates: int, topic_ids: Sequence[int] | None
) -> list[list[tuple[int, float]]]:
    """Per query, (chunk id, cosine similarity) best first."""
    collection = vector_store.get_collection(curriculum_id, create=False)
    if collection is None:
        return [[] for _ in range(len(query_vectors))]
    where = {"topic_id": {"$in": [int(topic_id) for topic_id in topic_ids]}} if topic_ids is not None else None
    result = collection.query(
        query_embeddings=query_vectors,  # type: ignore[arg-type]
        n_results=candidates,
        where=where,  # type: ignore[arg-type]
        include=["distances"],  # type: ignore[list-item]
    )
    distances = result["distances"] or []
    return [
        [(int(record_id), 1.0 - float(distance)) for record_id, distance in zip(ids, query_distances, strict=True)]
        for ids, query_distances in zip(result["ids"], distances, strict=True)
    ]


def _fuse(
    *, dense: Sequence[tuple[int, float]], lexical: Sequence[tuple[int, float]], document_of: dict[int, int]
) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion of passage and section rankings; 1.0 = first everywhere.

    Each retriever ranks passages, and also sections (documents) by the mean of their best
    ``SECTION_TOP`` passage scores among its candidates; a passage collects the reciprocal ranks of
    itself and of its section in both.
    """
    scores: dict[int, float] = {}
    for weight, ranking in ((DENSE_WEIGHT, dense), (LEXICAL_WEIGHT, lexical)):
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank)
        section_rank = _section_ranks(ranking, document_of)
        for chunk_id, _ in ranking:
            section = section_rank[document_of.get(chunk_id, -chunk_id)]
            scores[chunk_id] += SECTION_WEIGHT * weight / (RRF_K + section)
    best_possible = (1 + SECTION_WEIGHT) * (DENSE_WEIGHT + LEXICAL_WEIGHT) / (RRF_K + 1)
    # Ties (same fused score) go to the better dense rank, then the lower id: reproducible.
    dense_rank = {chunk_id: rank for rank, (chunk_id, _) in enumerate(dense)}
    ordered = sorted(scores.items(), key=lambda item: (-item[1], dense_rank.get(item[0], len(dense)), item[0]))
    return [(chunk_id, score / best_possible) for chunk_id, score in ordered]


def _section_ranks(ranking: Sequence[tuple[int, float]], document_of: dict[int, int]) -> dict[int, int]:
    """1-based rank of each document among a retriever's candidates."""
    best: dict[int, list[float]] = {}
    for chunk_id, score in ranking:
        best.setdefault(document_of.get(chunk_id, -chunk_id), []).append(score)
    # Candidates come best first, so each list is already in descending order.
    strength = {document: sum(found[:SECTION_TOP]) / SECTION_TOP for document, found in best.items()}
    ordered = sorted(strength, key=lambda document: -strength[document])
    return {document: rank for rank, document in enumerate(ordered, start=1)}


def _diversified(
    fused: list[tuple[int, float]], *, k: int, max_per_document: int | None, document_of: dict[int, int]
) -> list[tuple[int, float]]:
    """The best k of ``fused``, at most ``max_per_document`` a document, in fused order."""
    if max_per_document is None:
        return fused[:k]
    taken: list[tuple[int, float]] = []
    skipped: list[tuple[int, float]] = []
    per_document: dict[int, int] = {}
    for chunk_id, score in fused:
        document = document_of.get(chunk_id, -chunk_id)
        if per_document.get(document, 0) < max_per_document:
            per_document[document] = per_document.get(document, 0) + 1
            taken.append((chunk_id, score))
            if len(taken) == k:
                return taken
        else:
            skipped.append((chunk_id, score))
    # Too few documents among the candidates (a narrow topic filter, a small curriculum): fill up
    # with the best of the rest rather than return fewer than k.
    chosen = {chunk_id for chunk_id, _ in taken} | {chunk_id for chunk_id, _ in skipped[: k - len(taken)]}
    return [item for item in fused if item[0] in chosen]


def _similarities(
    curriculum_id: int,
    query_vectors: np.ndarray,
    dense_rankings: list[list[tuple[int, float]]],
    fused_per_query: list[list[tuple[int, float]]],
) -> list[dict[int, float]]:
    """Cosine similarity of each query to each of its results; fetched vectors for lexical-only ones."""
    similarities = [dict(dense) for dense in dense_rankings]
    missing = {
        chunk_id
        for similarity, fused in zip(similarities, fused_per_query, strict=True)
        for chunk_id, _ in fused
        if chunk_id not in similarity
    }
    vectors: dict[int, np.ndarray] = {}
    collection = vector_store.get_collection(curriculum_id, create=False) if missing else None
    if collection is not None:
        stored = collection.get(ids=[str(chunk_id) for chunk_id in sorted(missing)], include=["embeddings"])  # type: ignore[list-item]
        embeddings = stored["embeddings"] if stored["embeddings"] is not None else []
        vectors = {
            int(record_id): np.asarray(vector) for record_id, vector in zip(stored["ids"], embeddings, strict=True)
        }
    for similarity, fused, query_vector in zip(similarities, fused_per_query, query_vectors, strict=True):
        for chunk_id, _ in fused:
            if chunk_id not in similarity:
                vector = vectors.get(chunk_id)
                similarity[chunk_id] = float(np.dot(query_vector, vector)) if vector is not None else 0.0
    return similarities


def _load_rows(curriculum_id: int, chunk_ids: set[int]) -> dict[int, Chunk]:
    chunks = (
        Chunk.objects.filter(curriculum_id=curriculum_id, id__in=sorted(chunk_ids))
        .select_related("document__topic__unit")
        .only(
            "id",
            "text",
            "position",
            "document__id",
            "document__source_id",
            "document__topic__id",
            "document__topic__title",
            "document__topic__number",
            "document__topic__unit__title",
            "document__topic__unit__number",
        )
    )
    return {chunk.id: chunk for chunk in chunks}


def _retrieved(chunk: Chunk, *, score: float, similarity: float) -> RetrievedChunk:
    topic = chunk.document.topic
    return RetrievedChunk(
        chunk_id=chunk.id,
        text=chunk.text,
        score=round(score, 6),
        similarity=round(similarity, 6),
        topic_id=topic.id,
        topic=topic.title,
        unit=topic.unit.title,
        topic_path=f"{topic.unit.title}{PATH_SEPARATOR}{topic.title}",
        label=topic.label,
        module=chunk.document.source_id,
        document_id=chunk.document.id,
        position=chunk.position,
    )
