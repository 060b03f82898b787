"""Writing chunks into (and out of) a curriculum's vector collection.

The database is the source of truth for chunk text; the vector store holds, per chunk, its vector,
its text and the ids that let a query be filtered by topic. Record ids are the Chunk primary keys as
strings, so both sides can be compared (``indexed_chunk_ids``) and repaired.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from curriculum.indexing import vector_store
from curriculum.indexing.embeddings import embed_documents

# Chunks embedded per step: progress is reported after each, and a failure loses at most one step.
EMBED_STEP = 256


@dataclass(frozen=True, kw_only=True)
class IndexedChunk:
    """One chunk as the vector store sees it."""

    chunk_id: int
    """Chunk primary key; the record id in the collection is ``str(chunk_id)``."""
    text: str
    """The chunk's text, embedded as is."""
    curriculum_id: int
    """Which curriculum's collection the chunk goes to."""
    unit_id: int
    """Unit (chapter) of the chunk, for filtering."""
    topic_id: int
    """Topic (section) of the chunk, for filtering."""
    document_id: int
    """SyllabusDocument the chunk was cut from."""
    module: str
    """The document's source id, e.g. the OpenStax module "m66374"."""
    position: int
    """Order of the chunk within its document."""


def index_chunks(*, chunks: Sequence[IndexedChunk], on_progress: Callable[[int, int], None] | None = None) -> None:
    """Embed ``chunks`` and upsert them into their curricula's collections.

    Idempotent: re-indexing a chunk replaces its record. ``on_progress(done, total)`` is called after
    each batch of chunks is stored.
    """
    total = len(chunks)
    done = 0
    by_curriculum: dict[int, list[IndexedChunk]] = {}
    for chunk in chunks:
        by_curriculum.setdefault(chunk.curriculum_id, []).append(chunk)
    for curriculum_id, curriculum_chunks in by_curriculum.items():
        collection = vector_store.get_collection(curriculum_id)
        assert collection is not None
        step = min(EMBED_STEP, vector_store.max_batch_size())
        for start in range(0, len(curriculum_chunks), step):
            batch = curriculum_chunks[start : start + step]
            vectors = embed_documents([chunk.text for chunk in batch])
            collection.upsert(
                ids=[str(chunk.chunk_id) for chunk in batch],
                embeddings=vectors,  # type: ignore[arg-type]
                documents=[chunk.text for chunk in batch],
                metadatas=[
                    {
                        "chunk_id": chunk.chunk_id,
                        "curriculum_id": chunk.curriculum_id,
                        "unit_id": chunk.unit_id,
                        "topic_id": chunk.topic_id,
                        "document_id": chunk.document_id,
                        "module": chunk.module,
                        "position": chunk.position,
                    }
                    for chunk in batch
                ],
            )
            done += len(batch)
            if on_progress is not None:
                on_progress(done, total)


def delete_chunks(*, curriculum_id: int, chunk_ids: Sequence[int]) -> None:
    """Remove chunks from the curriculum's collection; ids that are not there are ignored."""
    if not chunk_ids:
        return
    collection = vector_store.get_collection(curriculum_id, create=False)
    if collection is None:
        return
    step = vector_store.max_batch_size()
    ids = [str(chunk_id) for chunk_id in chunk_ids]
    for start in range(0, len(ids), step):
        collection.delete(ids=ids[start : start + step])


def drop_curriculum_index(*, curriculum_id: int) -> None:
    """Delete the curriculum's whole collection (nothing happens if it has none)."""
    vector_store.delete_collection(curriculum_id)


def indexed_chunk_ids(*, curriculum_id: int) -> set[int]:
    """The ids of every chunk in the curriculum's collection."""
    collection = vector_store.get_collection(curriculum_id, create=False)
    if collection is None:
        return set()
    ids: set[int] = set()
    # Paged, because Chroma caps how much one get() returns and a book has tens of thousands.
    page = 10_000
    offset = 0
    while True:
        result = collection.get(include=[], limit=page, offset=offset)
        ids.update(int(record_id) for record_id in result["ids"])
        if len(result["ids"]) < page:
            return ids
        offset += page
