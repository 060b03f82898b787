"""In-process BM25 indexes over one curriculum's chunks and sections, built from the database.

Dense vectors miss exact terms a student types (a gene name, "ATP synthase", a number); BM25 catches
those, and retrieval fuses both. Two indexes per curriculum: one over passages (chunks), one over
whole sections (a document's title and full text), because a question is often about a section's
subject as a whole rather than about any one passage of it. The index is a sparse matrix of precomputed BM25 term weights, so a
query is one column slice and a sum: ~1 ms at 100k chunks. It is built on first use, cached per
curriculum, and rebuilt when the curriculum's chunks change (checked with one aggregate query per
search, so a worker process sees another process's import).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models import Count, Max, Min
from scipy import sparse

from curriculum.text import bm25_idf, bm25_weight, index_terms

# The index terms and the BM25 formula are the shared ones (curriculum.text); ``analyse`` is the
# name this module and its callers have always used for the index terms.
analyse = index_terms


@dataclass(frozen=True, kw_only=True)
class LexicalHit:
    chunk_id: int
    score: float


class Bm25Index:
    """BM25 over a fixed set of chunks."""

    def __init__(
        self,
        *,
        chunk_ids: Sequence[int],
        topic_ids: Sequence[int],
        texts: Sequence[str],
        document_ids: Sequence[int] | None = None,
    ) -> None:
        self.chunk_ids = np.asarray(chunk_ids, dtype=np.int64)
        self.topic_ids = np.asarray(topic_ids, dtype=np.int64)
        self.document_ids = np.asarray(document_ids or topic_ids, dtype=np.int64)
        self.document_of: dict[int, int] = dict(zip(chunk_ids, document_ids or topic_ids, strict=True))
        """Chunk id -> SyllabusDocument id, for every chunk of the curriculum."""
        vocabulary: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(texts), dtype=np.float32)
        for row, text in enumerate(texts):
            terms = analyse(text)
            lengths[row] = len(terms)
            for term, count in Counter(terms).items():
                rows.append(row)
                columns.append(vocabulary.setdefault(term, len(vocabulary)))
                counts.append(count)
        self.vocabulary = vocabulary
        n_docs = len(texts)
        tf = np.asarray(counts, dtype=np.float32)
        column_index = np.asarray(columns, dtype=np.int64)
        document_frequency = np.bincount(column_index, minlength=len(vocabulary)).astype(np.float32)
        idf = bm25_idf(n_docs, document_frequency)
        average_length = float(lengths.mean()) if n_docs else 1.0
        row_index = np.asarray(rows, dtype=np.int64)
        weights = bm25_weight(tf, idf=idf[column_index], length=lengths[row_index], average_length=average_length)
        self._matrix = sparse.csc_matrix(
            (weights, (row_index, column_index)), shape=(n_docs, len(vocabulary)), dtype=np.float32
        )

    def __len__(self) -> int:
        return len(self.chunk_ids)

    def search(
        self,
        query: str,
        *,
        limit: int,
        topic_ids: Sequence[int] | None = None,
        document_ids: Sequence[int] | None = None,
    ) -> list[LexicalHit]:
        """The best ``limit`` chunks for ``query`` with a positive score, best first.

        ``topic_ids`` / ``document_ids`` restrict the search to chunks of those topics / documents.
        """
        columns = sorted({self.vocabulary[term] for term in analyse(query) if term in self.vocabulary})
        if not columns or limit <= 0:
            return []
        scores = np.asarray(self._matrix[:, columns].sum(axis=1)).ravel()
        if topic_ids is not None:
            scores[~np.isin(self.topic_ids, np.asarray(list(topic_ids), dtype=np.int64))] = 0.0
        if document_ids is not None:
            scores[~np.isin(self.document_ids, np.asarray(list(document_ids), dtype=np.int64))] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > limit:
            candidates = candidates[np.argpartition(-scores[candidates], limit - 1)[:limit]]
        # Ties broken by chunk id so that results are reproducible.
        order = np.lexsort((self.chunk_ids[candidates], -scores[candidates]))
        return [
            LexicalHit(chunk_id=int(self.chunk_ids[index]), score=float(scores[index])) for index in candidates[order]
        ]


_cache: dict[tuple[str, int], tuple[tuple[int, int, int], Bm25Index]] = {}
_cache_lock = threading.Lock()
_PASSAGES = "passages"
_SECTIONS = "sections"


def _signature(curriculum_id: int) -> tuple[int, int, int]:
    from curriculum.models import Chunk

    # Chunks are never edited in place (an import replaces them with new rows, and a changed document
    # gets new chunks), so count and id range change whenever the set of chunks or sections does.
    aggregate = Chunk.objects.filter(curriculum_id=curriculum_id).aggregate(
        count=Count("id"), low=Min("id"), high=Max("id")
    )
    return (aggregate["count"], aggregate["low"] or 0, aggregate["high"] or 0)


def get_lexical_index(curriculum_id: int) -> Bm25Index:
    """The curriculum's BM25 index over passages, rebuilt if its chunks changed since it was built."""
    return _cached(_PASSAGES, curriculum_id, _signature(curriculum_id))


@dataclass(frozen=True, kw_only=True)
class LexicalIndexes:
    passages: Bm25Index
    """``get_lexical_index``."""
    sections: Bm25Index
    """``get_section_index``."""


def get_lexical_indexes(curriculum_id: int) -> LexicalIndexes:
    """Both of the curriculum's BM25 indexes, checked for changes with one query (a search needs both)."""
    signature = _signature(curriculum_id)
    return LexicalIndexes(
        passages=_cached(_PASSAGES, curriculum_id, signature), sections=_cached(_SECTIONS, curriculum_id, signature)
    )


def get_section_index(curriculum_id: int) -> Bm25Index:
    """The curriculum's BM25 index over whole sections (documents): one row per SyllabusDocument.

    Its "chunk ids" are document ids (``LexicalHit.chunk_id`` is a SyllabusDocument id) and its topic
    ids the documents' topics, so it filters by topic like the passage index. A section's text is its
    title and its full text: the title names the subject, which a question often asks about in
    those very words.
    """
    return _cached(_SECTIONS, curriculum_id, _signature(curriculum_id))


def _cached(kind: str, curriculum_id: int, signature: tuple[int, int, int]) -> Bm25Index:
    key = (kind, curriculum_id)
    cached = _cache.get(key)
    if cached is not None and cached[0] == signature:
        return cached[1]
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == signature:
            return cached[1]
        index = _build_passage_index(curriculum_id) if kind == _PASSAGES else _build_section_index(curriculum_id)
        _cache[key] = (signature, index)
        return index


def _build_passage_index(curriculum_id: int) -> Bm25Index:
    from curriculum.models import Chunk

    rows = list(
        Chunk.objects.filter(curriculum_id=curriculum_id)
        .order_by("id")
        .values_list("id", "document__topic_id", "text", "document_id")
    )
    return Bm25Index(
        chunk_ids=[row[0] for row in rows],
        topic_ids=[row[1] for row in rows],
        texts=[row[2] for row in rows],
        document_ids=[row[3] for row in rows],
    )


def _build_section_index(curriculum_id: int) -> Bm25Index:
    from curriculum.models import SyllabusDocument

    # Only documents that have chunks: a section retrieval can point into.
    rows = list(
        SyllabusDocument.objects.filter(chunks__curriculum_id=curriculum_id)
        .distinct()
        .order_by("id")
        .values_list("id", "topic_id", "title", "text")
    )
    return Bm25Index(
        chunk_ids=[row[0] for row in rows],
        topic_ids=[row[1] for row in rows],
        texts=[f"{title}\n\n{text}" for _, _, title, text in rows],
        document_ids=[row[0] for row in rows],
    )


def forget_lexical_index(curriculum_id: int) -> None:
    """Drop the cached indexes of a curriculum (memory; correctness never depends on it)."""
    with _cache_lock:
        for kind in (_PASSAGES, _SECTIONS):
            _cache.pop((kind, curriculum_id), None)
