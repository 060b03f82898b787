from curriculum.indexing.lexical import (
    Bm25Index,
    LexicalHit,
    analyse,
    forget_lexical_index,
    get_lexical_index,
    get_lexical_indexes,
    get_section_index,
)
from curriculum.models import Chunk
from tests.curriculum.indexing_fixtures import IndexedCurriculum


def test_analysis_lowercases_drops_stopwords_and_stems():
    assert analyse("The Mitochondria are producing ATP-synthase!") == ["mitochondria", "produc", "atp", "synthas"]


def test_bm25_ranks_rare_exact_terms_first_and_ignores_unknown_words():
    # given three chunks, one naming a rare enzyme
    index = Bm25Index(
        chunk_ids=[10, 11, 12],
        topic_ids=[1, 1, 2],
        texts=[
            "Enzymes speed up reactions in the cell.",
            "Rubisco is the enzyme that fixes carbon dioxide in the Calvin cycle.",
            "Cells divide by mitosis.",
        ],
    )

    # when it is searched for the enzyme by name, and for words no chunk has
    hits = index.search("What does rubisco do to carbon?", limit=5)

    # then the rubisco chunk ranks alone (nothing else shares a term), and unknown words find nothing
    assert [hit.chunk_id for hit in hits] == [11]
    assert index.search("the of and", limit=5) == []
    assert index.search("photosynthesis", limit=5) == []


def test_bm25_topic_filter_and_limit():
    index = Bm25Index(
        chunk_ids=[1, 2, 3], topic_ids=[7, 8, 8], texts=["cell wall", "cell membrane cell", "cell nucleus"]
    )
    assert [hit.chunk_id for hit in index.search("cell", limit=5, topic_ids=[8])] == [2, 3]
    assert index.search("cell", limit=1) == [LexicalHit(chunk_id=2, score=index.search("cell", limit=1)[0].score)]


def test_cached_index_is_rebuilt_when_the_curriculums_chunks_change(biology: IndexedCurriculum):
    # given a cached lexical index
    before = get_lexical_index(biology.curriculum.id)
    assert get_lexical_index(biology.curriculum.id) is before

    # when a chunk is added to the curriculum
    document = biology.chunks[0].document
    added = Chunk.objects.create(
        document=document, curriculum=biology.curriculum, position=99, text="Aquaporins are water channels."
    )

    # then the next lookup sees it
    after = get_lexical_index(biology.curriculum.id)
    assert after is not before
    assert [hit.chunk_id for hit in after.search("aquaporins", limit=3)] == [added.id]


def test_bm25_document_filter():
    index = Bm25Index(
        chunk_ids=[1, 2, 3], topic_ids=[7, 7, 8], document_ids=[70, 71, 80], texts=["cell wall", "cell", "cell cell"]
    )
    assert [hit.chunk_id for hit in index.search("cell", limit=5, document_ids=[70, 80])] == [3, 1]


def test_section_index_ranks_whole_sections_by_title_and_text(biology: IndexedCurriculum):
    # given a curriculum of three sections
    passive = biology.chunk_with("Osmosis").document
    light = biology.chunk_with("Chlorophyll").document

    # when its section index is searched for words of a section title, and for one restricted to a topic
    sections = get_section_index(biology.curriculum.id)
    by_title = sections.search("light-dependent reactions", limit=5)
    filtered = sections.search("membrane", limit=5, topic_ids=[passive.topic_id])

    # then there is one row per section, hits are section (document) ids, and the topic filter holds
    assert len(sections) == 3
    assert by_title[0].chunk_id == light.id
    assert [hit.chunk_id for hit in filtered] == [passive.id]
    assert get_section_index(biology.curriculum.id) is sections


def test_both_indexes_are_cached_together_and_forgotten_together(biology: IndexedCurriculum):
    # given both indexes of a curriculum, fetched together
    curriculum_id = biology.curriculum.id
    indexes = get_lexical_indexes(curriculum_id)

    # then they are the cached ones
    assert indexes.passages is get_lexical_index(curriculum_id)
    assert indexes.sections is get_section_index(curriculum_id)

    # when the curriculum's indexes are forgotten
    forget_lexical_index(curriculum_id)

    # then both are rebuilt on the next lookup
    assert get_lexical_index(curriculum_id) is not indexes.passages
    assert get_section_index(curriculum_id) is not indexes.sections
