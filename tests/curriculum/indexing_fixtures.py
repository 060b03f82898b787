"""Small curricula indexed for real (real MiniLM, real Chroma) for the indexing and retrieval tests.

Import the fixtures into a test module to use them. Collections are dropped after each test: SQLite
reuses ids after a rollback, and a new curriculum must never find an old test's vectors.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from curriculum.indexing.index import IndexedChunk, drop_curriculum_index, index_chunks
from curriculum.models import Chunk, Curriculum
from tests.factories import CurriculumFactory, SyllabusDocumentFactory, TopicFactory, UnitFactory

BIOLOGY_TOPICS = {
    ("Structure and Function of Plasma Membranes", "Passive Transport", "m66374"): [
        "Diffusion is a passive process of transport: a substance moves from an area of high concentration to an "
        "area of low concentration until the concentration is equal across a space.",
        "Osmosis is the movement of water through a semipermeable membrane according to the water's "
        "concentration gradient across the membrane.",
        "In a hypotonic solution the extracellular fluid has a lower osmolarity than the fluid inside the cell, "
        "so water enters the cell and it may swell and burst.",
    ],
    ("Photosynthesis", "The Light-Dependent Reactions", "m66477"): [
        "Chlorophyll in the thylakoid membranes absorbs light energy, which excites electrons that pass along an "
        "electron transport chain.",
        "The light-dependent reactions split water, release oxygen and produce ATP and NADPH for the Calvin cycle.",
    ],
    ("Genes and Proteins", "Protein Synthesis", "m66540"): [
        "During translation the ribosome reads messenger RNA codons and tRNA molecules deliver the matching "
        "amino acids to build a polypeptide.",
        "Transcription copies a gene's DNA sequence into messenger RNA in the nucleus of eukaryotic cells.",
    ],
}

CHEMISTRY_TOPICS = {
    ("Solutions", "Colligative Properties", "m51084"): [
        "Osmosis is the movement of water through a semipermeable membrane according to the water's "
        "concentration gradient across the membrane.",
        "Osmotic pressure is proportional to the molar concentration of solute particles in a solution.",
    ],
}


@dataclass(frozen=True, kw_only=True)
class IndexedCurriculum:
    curriculum: Curriculum
    chunks: list[Chunk]

    def chunk_with(self, phrase: str) -> Chunk:
        (match,) = [chunk for chunk in self.chunks if phrase in chunk.text]
        return match


def build_curriculum(topics: dict[tuple[str, str, str], Sequence[str]], *, slug: str) -> IndexedCurriculum:
    curriculum = CurriculumFactory(slug=slug, title=slug.title())
    chunks: list[Chunk] = []
    for unit_position, ((unit_title, topic_title, module), texts) in enumerate(topics.items(), start=1):
        unit = UnitFactory(curriculum=curriculum, title=unit_title, position=unit_position)
        topic = TopicFactory(unit=unit, title=topic_title, position=1)
        document = SyllabusDocumentFactory(topic=topic, source_id=module, title=topic_title, text="\n\n".join(texts))
        chunks.extend(
            Chunk.objects.create(document=document, curriculum=curriculum, position=position, text=text)
            for position, text in enumerate(texts)
        )
    index_chunks(chunks=[as_indexed(chunk) for chunk in chunks])
    return IndexedCurriculum(curriculum=curriculum, chunks=chunks)


def as_indexed(chunk: Chunk) -> IndexedChunk:
    topic = chunk.document.topic
    return IndexedChunk(
        chunk_id=chunk.id,
        text=chunk.text,
        curriculum_id=chunk.curriculum_id,
        unit_id=topic.unit_id,
        topic_id=topic.id,
        document_id=chunk.document_id,
        module=chunk.document.source_id,
        position=chunk.position,
    )


@pytest.fixture
def dropped_indexes() -> Iterator[list[int]]:
    """Curriculum ids whose collections are dropped when the test ends."""
    curriculum_ids: list[int] = []
    yield curriculum_ids
    for curriculum_id in curriculum_ids:
        drop_curriculum_index(curriculum_id=curriculum_id)


@pytest.fixture
def biology(db, dropped_indexes: list[int]) -> IndexedCurriculum:
    indexed = build_curriculum(BIOLOGY_TOPICS, slug="biology")
    dropped_indexes.append(indexed.curriculum.id)
    return indexed


@pytest.fixture
def chemistry(db, dropped_indexes: list[int]) -> IndexedCurriculum:
    indexed = build_curriculum(CHEMISTRY_TOPICS, slug="chemistry")
    dropped_indexes.append(indexed.curriculum.id)
    return indexed
