"""Hostile uploads: XML entity attacks in CNXML, zip bombs, unsafe archive paths, files that lie about their type.

Each is refused with an error that names the file and says what is wrong, and nothing is saved: no
curriculum content, no vectors, and (refused at the door) no job and no stored file.
"""

import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token

from curriculum.importers.errors import SyllabusImportError
from curriculum.importers.uploads import check_upload
from curriculum.indexing.index import drop_curriculum_index, indexed_chunk_ids
from curriculum.models import Chunk, Curriculum, IngestionJob, SyllabusDocument, Topic, Unit
from curriculum.services import curriculum_import_openstax, curriculum_import_upload
from tests.factories import CurriculumFactory, TeacherFactory

pytestmark = pytest.mark.django_db(transaction=True)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mini-openstax"

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE document [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<document xmlns="http://cnx.rice.edu/cnxml"><title>Laughs</title>
<content><para>&lol9;</para></content></document>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<document xmlns="http://cnx.rice.edu/cnxml"><title>Leak</title>
<content><para>The password file: &secret;</para></content></document>
"""


def _book_files(replace: dict[str, bytes] | None = None) -> dict[str, bytes]:
    files = {str(p.relative_to(FIXTURES)): p.read_bytes() for p in sorted(FIXTURES.rglob("*")) if p.is_file()}
    files.update(replace or {})
    return files


def _zip(files: dict[str, bytes], *, prefix: str = "") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(prefix + name, data)
    return buffer.getvalue()


def _zip_bomb() -> bytes:
    """A book whose one module unpacks 40 MB of blanks from ~40 KB (a real bomb nests or repeats this)."""
    return _zip(_book_files({"modules/m90002/index.cnxml": b" " * 40_000_000}))


def _nothing_saved(*, units: int = 0, topics: int = 0) -> None:
    assert (Unit.objects.count(), Topic.objects.count()) == (units, topics)
    assert SyllabusDocument.objects.count() == 0
    assert Chunk.objects.count() == 0


def _teacher_client(api_client, curriculum):
    """Authenticated as the teacher who owns `curriculum` (only an owner uploads to a syllabus)."""
    teacher = TeacherFactory()
    curriculum.owner = teacher
    curriculum.save(update_fields=["owner"])
    token, _ = Token.objects.get_or_create(user=teacher)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def _stored_uploads(settings) -> list[Path]:
    """The files under MEDIA_ROOT/uploads (shared by the whole run: other tests' uploads stay there)."""
    folder = Path(settings.MEDIA_ROOT) / "uploads"
    return sorted(folder.iterdir()) if folder.is_dir() else []


# --- XML entity attacks ---------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_a_book_folder_with_an_entity_attack_is_refused_and_imports_nothing(mini_book: Path, payload: bytes):
    # given a book whose second module declares entities (expansion bomb, or a local file read)
    (mini_book / "modules" / "m90002" / "index.cnxml").write_bytes(payload)

    # when it is imported
    with pytest.raises(SyllabusImportError) as excinfo:
        curriculum_import_openstax(path=mini_book)

    # then the error names the module and the attack, and nothing was written
    assert excinfo.value.filename.endswith("m90002/index.cnxml")
    assert "declares XML entities" in excinfo.value.problem
    assert "root:" not in str(excinfo.value)
    assert Curriculum.objects.count() == 0
    _nothing_saved()


@pytest.mark.parametrize("payload", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_an_uploaded_book_with_an_entity_attack_fails_its_job_and_saves_nothing(api_client, settings, payload: bytes):
    # given a teacher and a zipped book with a hostile module
    curriculum = CurriculumFactory()
    client = _teacher_client(api_client, curriculum)
    content = _zip(_book_files({"modules/m90002/index.cnxml": payload}))
    stored_before = _stored_uploads(settings)

    # when it is uploaded (the job runs eagerly once the request commits)
    response = client.post(
        f"/api/v1/curricula/{curriculum.slug}/documents/",
        {"file": SimpleUploadedFile("book.zip", content)},
        format="multipart",
    )

    # then the job failed with a clear error naming the module; no content and no stored file remain
    assert response.status_code == 202
    job = IngestionJob.objects.get(pk=response.json()["job_id"])
    assert job.status == "failed"
    assert job.error.startswith("book.zip:modules/m90002/index.cnxml: declares XML entities")
    assert not job.upload
    assert _stored_uploads(settings) == stored_before
    _nothing_saved()


# --- zip bombs and unsafe archives -------------------------------------------------------------------


def test_a_zip_bomb_is_refused_at_upload_with_no_job_and_no_file(api_client, settings):
    # given a teacher and a book archive with a 1000:1 entry
    curriculum = CurriculumFactory()
    client = _teacher_client(api_client, curriculum)
    stored_before = _stored_uploads(settings)

    # when it is uploaded
    response = client.post(
        f"/api/v1/curricula/{curriculum.slug}/documents/",
        {"file": SimpleUploadedFile("book.zip", _zip_bomb())},
        format="multipart",
    )

    # then it is refused from the archive's directory, before anything is unpacked or stored
    assert response.status_code == 400
    message = response.json()["error"]["details"]["file"][0]
    assert message.startswith("book.zip: looks like a zip bomb: 'modules/m90002/index.cnxml'")
    assert IngestionJob.objects.count() == 0
    assert _stored_uploads(settings) == stored_before
    _nothing_saved()


def test_a_zip_bomb_given_to_the_import_service_imports_nothing():
    curriculum = CurriculumFactory()
    with pytest.raises(SyllabusImportError, match="looks like a zip bomb"):
        curriculum_import_upload(curriculum=curriculum, filename="book.zip", content=_zip_bomb())
    _nothing_saved()


def test_an_archive_past_the_unpacked_size_limit_is_refused(settings):
    # given a limit below the mini book's XML
    settings.MAX_UPLOAD_EXTRACTED_BYTES = 2_000
    # when / then
    with pytest.raises(SyllabusImportError, match=r"would unpack to \d+ MB of XML; the limit is"):
        check_upload(filename="book.zip", content=_zip(_book_files()))


def test_an_archive_with_too_many_entries_is_refused(settings):
    settings.MAX_UPLOAD_ARCHIVE_ENTRIES = 5
    files = _book_files({f"media/figure-{i}.jpg": b"x" for i in range(10)})
    with pytest.raises(SyllabusImportError, match="holds 14 entries; the limit is 5"):
        check_upload(filename="book.zip", content=_zip(files))


def test_an_archive_reaching_outside_its_folder_is_refused():
    content = _zip(_book_files(), prefix="../")
    with pytest.raises(SyllabusImportError, match="has an entry with an unsafe path"):
        check_upload(filename="book.zip", content=content)


def test_an_archive_that_is_not_a_book_is_refused():
    content = _zip({"notes/readme.txt": b"hello"})
    with pytest.raises(SyllabusImportError, match=r"book.zip: is not an OpenStax book"):
        check_upload(filename="book.zip", content=content)


def test_a_truncated_archive_is_a_clear_error():
    content = _zip(_book_files())[:200]
    with pytest.raises(SyllabusImportError, match="book.zip: is not a readable ZIP archive"):
        check_upload(filename="book.zip", content=content)


# --- PDFs: bounded in pages and in extracted text (pypdf bounds each stream's decompression) ------------


def test_a_pdf_past_the_page_limit_is_refused(settings):
    from curriculum.importers.pdf import parse_pdf_document
    from tests.pdf_builder import build_pdf

    settings.MAX_UPLOAD_PDF_PAGES = 2
    content = build_pdf(["1.1 Atoms\nAtoms have a nucleus."] * 3)
    with pytest.raises(SyllabusImportError, match="notes.pdf: has 3 pages; the limit is 2"):
        parse_pdf_document(filename="notes.pdf", content=content)


def test_a_pdf_past_the_text_limit_is_refused(settings):
    from curriculum.importers.pdf import parse_pdf_document
    from tests.pdf_builder import build_pdf

    settings.MAX_UPLOAD_EXTRACTED_BYTES = 40
    content = build_pdf(["1.1 Atoms\nAtoms have a nucleus.", "1.2 Bonds\nCovalent bonds share electrons."])
    with pytest.raises(SyllabusImportError, match=r"notes.pdf: has more text than the limit \(40 characters\)"):
        parse_pdf_document(filename="notes.pdf", content=content)


# --- the type is the content's, not the name's --------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "content", "problem"),
    [
        ("notes.txt", b"%PDF-1.7\n%binary", "is a PDF, not a text file"),
        ("notes.md", b"PK\x03\x04\x14\x00", "is a ZIP archive (or a Word/OpenDocument file), not a markdown file"),
        ("slides.pdf", b"\x89PNG\r\n\x1a\n....", "is not a PDF (its content is a PNG image)"),
        ("book.zip", b"# Just markdown\n\ntext", "is not a ZIP archive (its content is text)"),
    ],
)
def test_a_file_whose_content_is_not_its_type_is_refused(filename, content, problem):
    with pytest.raises(SyllabusImportError) as excinfo:
        check_upload(filename=filename, content=content)
    assert (excinfo.value.filename, excinfo.value.problem) == (filename, problem)


def test_a_mislabelled_upload_is_refused_at_the_door(api_client, settings):
    curriculum = CurriculumFactory()
    client = _teacher_client(api_client, curriculum)
    stored_before = _stored_uploads(settings)
    response = client.post(
        f"/api/v1/curricula/{curriculum.slug}/documents/",
        {"file": SimpleUploadedFile("notes.md", b"\x7fELF\x02\x01\x01\x00")},
        format="multipart",
    )
    assert response.status_code == 400
    assert "notes.md: is a Linux program, not a markdown file" in response.json()["error"]["details"]["file"][0]
    assert IngestionJob.objects.count() == 0
    assert _stored_uploads(settings) == stored_before


# --- and a good book archive still imports ------------------------------------------------------------


@pytest.mark.integration
def test_a_zipped_book_downloaded_from_its_repository_imports_into_a_curriculum():
    # given a curriculum and the mini book zipped as a repository download (one top folder, media beside)
    curriculum = CurriculumFactory()
    files = _book_files({"media/car.jpg": b"\xff\xd8\xff\xe0 not really a jpeg", "README.md": b"# Mini"})
    content = _zip(files, prefix="mini-physics-main/")

    try:
        # when it is imported as an upload
        result = curriculum_import_upload(curriculum=curriculum, filename="mini-physics.zip", content=content)

        # then its chapters and modules are the curriculum's, indexed like a book imported from disk
        assert (result.units, result.topics) == (2, 3)
        assert set(Unit.objects.filter(curriculum=curriculum).values_list("title", flat=True)) == {
            "Motion",
            "Thermodynamics",
        }
        assert indexed_chunk_ids(curriculum_id=curriculum.pk) == set(
            Chunk.objects.filter(curriculum=curriculum).values_list("pk", flat=True)
        )
    finally:
        drop_curriculum_index(curriculum_id=curriculum.pk)
