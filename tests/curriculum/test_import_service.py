"""The import service: DB and vector index agree, re-imports are idempotent, failures change nothing."""

import importlib
from pathlib import Path

import pytest

from curriculum.importers.errors import SyllabusImportError
from curriculum.indexing.index import drop_curriculum_index, indexed_chunk_ids
from curriculum.models import Chunk, Curriculum, PracticeQuestion, SyllabusDocument, Topic, Unit
from curriculum.services import curriculum_import_openstax, curriculum_import_upload

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cleanup_indexes():
    yield
    for pk in Curriculum.objects.values_list("pk", flat=True):
        drop_curriculum_index(curriculum_id=pk)


def _index_matches_db(curriculum: Curriculum) -> bool:
    return indexed_chunk_ids(curriculum_id=curriculum.pk) == set(
        Chunk.objects.filter(curriculum=curriculum).values_list("pk", flat=True)
    )


def test_import_builds_the_tree_questions_and_index(mini_book: Path, cleanup_indexes):
    # when
    result = curriculum_import_openstax(path=mini_book)

    # then
    curriculum = Curriculum.objects.get(slug="mini-physics")
    assert (result.units, result.topics, result.questions) == (2, 3, 3)
    assert list(Unit.objects.filter(curriculum=curriculum).values_list("part", "number", "title", "position")) == [
        ("Mechanics", "1", "Motion", 1),
        ("", "2", "Thermodynamics", 2),
    ]
    assert list(Topic.objects.filter(unit__curriculum=curriculum).values_list("number", "title")) == [
        ("1.1", "Velocity and Speed"),
        ("1.2", "Acceleration"),
        ("2.1", "Heat and Temperature"),
    ]
    assert PracticeQuestion.objects.filter(topic__unit__curriculum=curriculum, answer_index__isnull=False).count() == 2
    assert result.chunks_indexed == Chunk.objects.filter(curriculum=curriculum).count() > 0
    assert not Chunk.objects.filter(curriculum=curriculum, text__contains="Which quantity has a direction").exists()
    assert _index_matches_db(curriculum)
    assert "Creative Commons" in curriculum.attribution


def test_reimporting_the_same_book_adds_nothing(mini_book: Path, cleanup_indexes):
    # given
    curriculum_import_openstax(path=mini_book)
    before = set(Chunk.objects.values_list("pk", flat=True))

    # when
    again = curriculum_import_openstax(path=mini_book)

    # then
    assert (again.documents_changed, again.documents_unchanged, again.chunks_indexed) == (0, 3, 0)
    assert set(Chunk.objects.values_list("pk", flat=True)) == before
    assert PracticeQuestion.objects.count() == 3
    assert _index_matches_db(Curriculum.objects.get())


def test_reimport_numbers_a_book_imported_before_sections_were_numbered(mini_book: Path, cleanup_indexes):
    # given a book whose chapters and sections were stored without numbers
    curriculum_import_openstax(path=mini_book)
    Unit.objects.update(number="")
    Topic.objects.update(number="")

    # when it is imported again, unchanged
    curriculum_import_openstax(path=mini_book)

    # then the numbers are filled in
    assert list(Topic.objects.values_list("unit__number", "number")) == [("1", "1.1"), ("1", "1.2"), ("2", "2.1")]


def test_migration_numbers_books_imported_before_it(mini_book: Path, cleanup_indexes):
    # given a book imported without numbers, and an uploaded unit in the same curriculum
    from django.apps import apps

    migration = importlib.import_module("curriculum.migrations.0002_section_numbers")
    curriculum_import_openstax(path=mini_book)
    curriculum = Curriculum.objects.get()
    curriculum_import_upload(curriculum=curriculum, filename="notes.md", content=b"# Extra notes\n\nFriction slows.")
    Unit.objects.update(number="")
    Topic.objects.update(number="")

    # when the data migration runs
    migration.number_imported_books(apps, None)

    # then the book's chapters and sections are numbered and the upload stays unnumbered
    assert list(Topic.objects.values_list("unit__number", "number", "title")) == [
        ("1", "1.1", "Velocity and Speed"),
        ("1", "1.2", "Acceleration"),
        ("2", "2.1", "Heat and Temperature"),
        ("", "", "Extra notes"),
    ]


def test_changed_module_replaces_only_its_chunks(mini_book: Path, cleanup_indexes):
    # given
    curriculum_import_openstax(path=mini_book)
    module = mini_book / "modules" / "m90003" / "index.cnxml"
    module.write_text(module.read_text().replace("100 degrees Celsius", "one hundred degrees Celsius"))

    # when
    result = curriculum_import_openstax(path=mini_book)

    # then
    assert (result.documents_changed, result.documents_unchanged) == (1, 2)
    assert result.chunks_removed > 0
    assert SyllabusDocument.objects.filter(text__contains="one hundred degrees").count() == 1
    assert not Chunk.objects.filter(text__contains="100 degrees").exists()
    assert _index_matches_db(Curriculum.objects.get())


def test_index_failure_leaves_database_and_index_as_before(mini_book: Path, cleanup_indexes, monkeypatch):
    # given a first import, then a change whose indexing fails half-way
    curriculum_import_openstax(path=mini_book)
    curriculum = Curriculum.objects.get()
    chunks_before = set(Chunk.objects.values_list("pk", "text"))
    module = mini_book / "modules" / "m90002" / "index.cnxml"
    module.write_text(module.read_text().replace("9.8 meters", "9.81 meters"))
    import curriculum.services as services

    real_index = services.index_chunks

    def failing_index(*, chunks, on_progress=None):
        real_index(chunks=chunks[:1], on_progress=on_progress)  # some vectors are written...
        raise RuntimeError("vector store went away")  # ...then the store fails

    monkeypatch.setattr(services, "index_chunks", failing_index)

    # when
    with pytest.raises(RuntimeError, match="vector store went away"):
        curriculum_import_openstax(path=mini_book)

    # then
    assert set(Chunk.objects.values_list("pk", "text")) == chunks_before
    assert _index_matches_db(curriculum)


def test_malformed_book_imports_nothing(mini_book: Path, cleanup_indexes):
    # given
    (mini_book / "modules" / "m90003" / "index.cnxml").write_text("<document><content>")

    # when / then
    with pytest.raises(SyllabusImportError, match="m90003/index.cnxml: is not well-formed XML"):
        curriculum_import_openstax(path=mini_book)
    assert Curriculum.objects.count() == 0
    assert Chunk.objects.count() == 0


def test_markdown_upload_adds_topics_to_an_existing_curriculum(mini_book: Path, cleanup_indexes):
    # given
    curriculum_import_openstax(path=mini_book)
    curriculum = Curriculum.objects.get()
    content = b"# Waves\n\n## Sound\n\nSound is a longitudinal wave.\n\n## Light\n\nLight travels at 300,000 km/s.\n"

    # when
    result = curriculum_import_upload(curriculum=curriculum, filename="waves.md", content=content)
    again = curriculum_import_upload(curriculum=curriculum, filename="waves.md", content=content)

    # then
    assert result.topics == 2
    assert again.chunks_indexed == 0
    assert list(Unit.objects.filter(curriculum=curriculum).values_list("title", flat=True)) == [
        "Motion",
        "Thermodynamics",
        "Waves",
    ]
    assert _index_matches_db(curriculum)


def test_unsupported_upload_type_is_refused(mini_book: Path, cleanup_indexes):
    curriculum_import_openstax(path=mini_book)
    with pytest.raises(
        SyllabusImportError, match=r"notes.docx: has an unsupported type \(allowed: .markdown, .md, .pdf, .txt\)"
    ):
        curriculum_import_upload(curriculum=Curriculum.objects.get(), filename="notes.docx", content=b"PK")
