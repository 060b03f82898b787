"""Finding the syllabus passages that answer a question: hybrid dense + BM25 retrieval, ranked by section.

Three retrievers look at a curriculum on their own: dense (MiniLM vectors of the passages in the
curriculum's Chroma collection) for meaning, BM25 over passages (``curriculum.indexing.lexical``)
for exact terms, and BM25 over whole sections (title and full text), because a question is usually
about a section's subject rather than about the wording of one passage. Their candidates are
grouped by section (document), and each candidate section is scored by a small linear model over
what the three retrievers saw of it (``SECTION_FEATURES``); the results are the best passage of
each section, best section first, then second passages up to ``max_per_document``. Passages within
a section are ordered by reciprocal-rank fusion of their dense and BM25 ranks.

The model has eight weights, fit by ``bench/bench_retrieval.py --fit`` on the review questions of
the five training books that have them (each stem must find its own section); Biology 2e, the dev
syllabus, is never fit on and is reported on its own. Every candidate comes from the curriculum's
own collection and lexical indexes, and the final rows are re-read from the database filtered by
curriculum, so no other curriculum's text can come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from curriculum.indexing import vector_store
from curriculum.indexing.embeddings import embed_queries
from curriculum.indexing.lexical import Bm25Index, LexicalHit, get_lexical_indexes
from curriculum.models import Chunk

# How deep each passage retriever's ranking goes: past ~50 a section's evidence is too weak to reach
# the top 5, and the HNSW query cost grows with it.
CANDIDATES = 50
# Sections taken from the whole-section BM25 ranking: a section below 20th there is not the subject.
SECTION_CANDIDATES = 20
# Reciprocal-rank fusion constant (Cormack et al., 2009), for ordering passages within a section and
# for the rank features of the section model: it flattens the difference between nearby ranks.
RRF_K = 60
# Equal say for both passage retrievers when ordering the passages of a section.
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# A retriever's section strength is the mean of its best three passage scores in that section: one
# lucky passage counts less than a section that matches throughout.
SECTION_TOP = 3
# The features of a candidate section, in the order of ``SECTION_WEIGHTS`` (see ``section_features``).
SECTION_FEATURES = (
    "dense_best",
    "dense_top3",
    "lexical_best",
    "lexical_top3",
    "section_bm25",
    "dense_rank",
    "lexical_rank",
    "section_bm25_rank",
)
# Fit by ``bench/bench_retrieval.py --fit`` (softmax over each question's candidate sections, L2
# 1e-3) on 1,912 review questions of american-government-3e, anatomy-physiology-2e, microbiology,
# sociology-3e and us-history; leaving any one book out changes its hit@1 by under a point, so the
# weights carry over to unseen books (see BENCHMARKS.md, "Retrieval per book").
SECTION_WEIGHTS = (3.21, 3.02, 2.77, 2.5, 2.36, 3.13, -1.38, -0.82)
# Passages a document (an OpenStax section) contributes before the cap: a section's passages beyond
# it come after every other candidate passage, so they appear only when too few sections match to
# fill k. (Round by round, the first passages of all candidate sections come before any second one.)
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
    """How likely the passage's section is what the query is about, in [0, 1]: the section model's
    softmax over the candidate sections. Descending over the first passages of the sections; a
    section's second passage repeats its section's score."""
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
    indexes = get_lexical_indexes(curriculum_id)
    lexical, sections = indexes.passages, indexes.sections
    if len(lexical) == 0:
        return [[] for _ in queries]
    query_vectors = embed_queries(queries)
    candidates = min(max(CANDIDATES, k), len(lexical))
    dense_rankings = _dense_rankings(curriculum_id, query_vectors, candidates=candidates, topic_ids=topic_ids)
    ranked_per_query = []
    for query, dense in zip(queries, dense_rankings, strict=True):
        lexical_ranking = [
            (hit.chunk_id, hit.score) for hit in lexical.search(query, limit=candidates, topic_ids=topic_ids)
        ]
        section_hits = sections.search(query, limit=SECTION_CANDIDATES, topic_ids=topic_ids)
        ranked_per_query.append(
            _ranked_passages(
                query=query,
                dense=dense,
                lexical_ranking=lexical_ranking,
                section_hits=section_hits,
                lexical=lexical,
                k=k,
                max_per_document=max_per_document,
            )
        )
    similarities = _similarities(curriculum_id, query_vectors, dense_rankings, ranked_per_query)
    rows = _load_rows(curriculum_id, {chunk_id for ranked in ranked_per_query for chunk_id, _ in ranked})
    return [
        [
            _retrieved(rows[chunk_id], score=score, similarity=similarity[chunk_id])
            for chunk_id, score in ranked
            if chunk_id in rows
        ]
        for ranked, similarity in zip(ranked_per_query, similarities, strict=True)
    ]


@dataclass(frozen=True, kw_only=True)
class SectionCandidates:
    """The candidate sections of one query and what the section model reads of each."""

    documents: list[int]
    """SyllabusDocument ids, in no particular order."""
    features: np.ndarray
    """One row per document, columns as ``SECTION_FEATURES``."""


def section_features(
    *,
    dense: Sequence[tuple[int, float]],
    lexical: Sequence[tuple[int, float]],
    section_hits: Sequence[LexicalHit],
    document_of: dict[int, int],
) -> SectionCandidates:
    """What each retriever saw of each candidate section (a document with any candidate).

    Scores are made relative to the query's best, so that one set of weights fits short and long
    questions: dense cosines minus the best cosine (a section with no dense candidate gets the last
    candidate's cosine, the most it can have), BM25 scores over the best BM25 score (0 when absent).
    Ranks enter as ``RRF_K / (RRF_K + rank)``, an absent section ranking as if 100th.
    """
    dense_scores = _scores_by_document(dense, document_of)
    lexical_best = lexical[0][1] if lexical else 1.0
    lexical_scores = _scores_by_document([(c, score / lexical_best) for c, score in lexical], document_of)
    section_best = section_hits[0].score if section_hits else 1.0
    section_score = {hit.chunk_id: hit.score / section_best for hit in section_hits}
    section_rank = {hit.chunk_id: rank for rank, hit in enumerate(section_hits, start=1)}
    documents = sorted(set(dense_scores) | set(lexical_scores) | set(section_score))
    best_cosine = dense[0][1] if dense else 0.0
    floor = dense[-1][1] if dense else 0.0
    dense_rank = _strength_ranks(dense_scores, pad=floor)
    lexical_rank = _strength_ranks(lexical_scores, pad=0.0)
    absent = 100
    features = np.zeros((len(documents), len(SECTION_FEATURES)), dtype=np.float64)
    for row, document in enumerate(documents):
        cosines = dense_scores.get(document, [])
        matches = lexical_scores.get(document, [])
        features[row] = (
            (cosines[0] if cosines else floor) - best_cosine,
            _top_mean(cosines, pad=floor) - best_cosine,
            matches[0] if matches else 0.0,
            _top_mean(matches, pad=0.0),
            section_score.get(document, 0.0),
            RRF_K / (RRF_K + dense_rank.get(document, absent)),
            RRF_K / (RRF_K + lexical_rank.get(document, absent)),
            RRF_K / (RRF_K + section_rank.get(document, absent)),
        )
    return SectionCandidates(documents=documents, features=features)


def _scores_by_document(ranking: Sequence[tuple[int, float]], document_of: dict[int, int]) -> dict[int, list[float]]:
    """Each document's candidate scores, best first (rankings come best first)."""
    grouped: dict[int, list[float]] = {}
    for chunk_id, score in ranking:
        grouped.setdefault(document_of.get(chunk_id, -chunk_id), []).append(score)
    return grouped


def _top_mean(scores: list[float], *, pad: float) -> float:
    best = scores[:SECTION_TOP]
    return (sum(best) + pad * (SECTION_TOP - len(best))) / SECTION_TOP


def _strength_ranks(scores: dict[int, list[float]], *, pad: float) -> dict[int, int]:
    """1-based rank of each document by the mean of its best three candidate scores."""
    ordered = sorted(scores, key=lambda document: (-_top_mean(scores[document], pad=pad), document))
    return {document: rank for rank, document in enumerate(ordered, start=1)}


def _ranked_passages(
    *,
    query: str,
    dense: Sequence[tuple[int, float]],
    lexical_ranking: Sequence[tuple[int, float]],
    section_hits: Sequence[LexicalHit],
    lexical: Bm25Index,
    k: int,
    max_per_document: int | None,
) -> list[tuple[int, float]]:
    """The k results as (chunk id, score): sections by the model, passages by fusion within each."""
    document_of = lexical.document_of
    candidates = section_features(
        dense=dense, lexical=lexical_ranking, section_hits=section_hits, document_of=document_of
    )
    if not candidates.documents:
        return []
    logits = candidates.features @ np.asarray(SECTION_WEIGHTS)
    probabilities = np.exp(logits - logits.max())
    probabilities /= probabilities.sum()
    # Ties go to the lower document id: reproducible.
    order = sorted(range(len(candidates.documents)), key=lambda i: (-logits[i], candidates.documents[i]))
    passages: dict[int, list[int]] = {}
    for chunk_id, _ in _fuse(dense=dense, lexical=lexical_ranking):
        passages.setdefault(document_of.get(chunk_id, -chunk_id), []).append(chunk_id)

    def passages_of(document: int) -> list[int]:
        found = passages.get(document)
        if found is None:
            # Found by the whole-section ranking only: its best BM25 passage stands for it (looked up
            # only for the sections that make it into the results).
            best = lexical.search(query, limit=1, document_ids=[document])
            found = passages[document] = [best[0].chunk_id] if best else []
        return found

    if max_per_document is None:
        # No spread asked for: every passage of the likeliest section, then of the next one.
        section_major: list[tuple[int, float]] = []
        for i in order:
            section_major.extend(
                (chunk_id, float(probabilities[i])) for chunk_id in passages_of(candidates.documents[i])
            )
            if len(section_major) >= k:
                break
        return section_major[:k]
    # Round by round: the best passage of each section in section order, then the second ones.
    taken: list[tuple[int, float]] = []
    beyond_cap: list[tuple[int, float]] = []
    round_ = 0
    while True:
        more = False
        for i in order:
            found = passages_of(candidates.documents[i])
            if round_ < len(found):
                more = True
                (taken if round_ < max_per_document else beyond_cap).append((found[round_], float(probabilities[i])))
                if len(taken) == k:
                    return taken
        if not more:
            # Too few sections among the candidates (a narrow topic filter, a small curriculum):
            # lift the cap rather than return fewer than k.
            return (taken + beyond_cap)[:k]
        round_ += 1


def _fuse(*, dense: Sequence[tuple[int, float]], lexical: Sequence[tuple[int, float]]) -> list[tuple[int, float]]:
    """Weighted reciprocal-rank fusion of the passage rankings, best first."""
    scores: dict[int, float] = {}
    for weight, ranking in ((DENSE_WEIGHT, dense), (LEXICAL_WEIGHT, lexical)):
        for rank, (chunk_id, _) in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (RRF_K + rank)
    # Ties (same fused score) go to the better dense rank, then the lower id: reproducible.
    dense_rank = {chunk_id: rank for rank, (chunk_id, _) in enumerate(dense)}
    return sorted(scores.items(), key=lambda item: (-item[1], dense_rank.get(item[0], len(dense)), item[0]))


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
    """Per query, (chunk id, cosine similarity) best first. Raises VectorStoreUnavailableError when the
    Chroma server cannot be reached."""
    with vector_store.reachable():
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


def _similarities(
    curriculum_id: int,
    query_vectors: np.ndarray,
    dense_rankings: list[list[tuple[int, float]]],
    ranked_per_query: list[list[tuple[int, float]]],
) -> list[dict[int, float]]:
    """Cosine similarity of each query to each of its results; fetched vectors for lexical-only ones."""
    similarities = [dict(dense) for dense in dense_rankings]
    missing = {
        chunk_id
        for similarity, ranked in zip(similarities, ranked_per_query, strict=True)
        for chunk_id, _ in ranked
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
    for similarity, ranked, query_vector in zip(similarities, ranked_per_query, query_vectors, strict=True):
        for chunk_id, _ in ranked:
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
