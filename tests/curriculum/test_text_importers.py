import io

import pytest
from pypdf import PdfWriter

from curriculum.importers.errors import SyllabusImportError
from curriculum.importers.pdf import parse_pdf_document
from curriculum.importers.text import parse_text_document

MARKDOWN = b"""# Cells

Intro to cells.

## Membranes

The plasma membrane is a phospholipid bilayer.

## Organelles

Mitochondria make ATP.

# Genetics

## DNA

DNA is a double helix.
"""


def test_markdown_two_heading_levels_make_units_and_topics():
    # when
    parsed = parse_text_document(filename="bio-notes.md", content=MARKDOWN, is_markdown=True)

    # then
    assert [(u.title, [t.title for t in u.topics]) for u in parsed.units] == [
        ("Cells", ["Cells", "Membranes", "Organelles"]),
        ("Genetics", ["DNA"]),
    ]
    assert parsed.units[0].topics[1].text == "The plasma membrane is a phospholipid bilayer."


def test_plain_text_numbered_headings_become_topics():
    # given
    content = b"1.1 Atoms\nAtoms have a nucleus.\n\n1.2 Bonds\nCovalent bonds share electrons.\n"

    # when
    parsed = parse_text_document(filename="chem.txt", content=content, is_markdown=False)

    # then
    assert [(t.title, t.text) for t in parsed.units[0].topics] == [
        ("1.1 Atoms", "Atoms have a nucleus."),
        ("1.2 Bonds", "Covalent bonds share electrons."),
    ]


@pytest.mark.parametrize(
    ("filename", "content", "problem"),
    [
        ("empty.md", b"   \n", "is empty"),
        ("binary.txt", b"\x00\x01\x02binary", "looks binary"),
        ("only-headings.md", b"# A\n## B\n", "has headings but no text under them"),
    ],
)
def test_bad_text_uploads_name_the_file_and_problem(filename, content, problem):
    with pytest.raises(SyllabusImportError) as excinfo:
        parse_text_document(filename=filename, content=content, is_markdown=filename.endswith(".md"))
    assert excinfo.value.filename == filename
    assert problem in excinfo.value.problem


def test_pdf_that_is_not_a_pdf_is_refused():
    with pytest.raises(SyllabusImportError, match=r"notes.pdf: is not a PDF"):
        parse_pdf_document(filename="notes.pdf", content=b"hello")


def test_pdf_without_text_is_refused():
    # given: a valid PDF with one blank page (what a scan without OCR looks like)
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)

    # when / then
    with pytest.raises(SyllabusImportError, match="has no extractable text"):
        parse_pdf_document(filename="scan.pdf", content=buffer.getvalue())


def test_truncated_pdf_is_a_clear_error():
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(SyllabusImportError, match="broken.pdf"):
        parse_pdf_document(filename="broken.pdf", content=buffer.getvalue()[:60])


def test_pdf_outline_gives_topics():
    # given
    from tests.pdf_builder import build_pdf

    content = build_pdf(
        ["Photosynthesis\nPlants capture light energy.", "Respiration\nCells release energy from glucose."],
        outline=[("Photosynthesis", 0), ("Respiration", 1)],
    )

    # when
    parsed = parse_pdf_document(filename="plants.pdf", content=content)

    # then
    topics = parsed.units[0].topics
    assert [t.title for t in topics] == ["Photosynthesis", "Respiration"]
    assert "Plants capture light energy." in topics[0].text
    assert "glucose" not in topics[0].text
    assert "Cells release energy from glucose." in topics[1].text


def test_pdf_without_outline_uses_numbered_headings():
    from tests.pdf_builder import build_pdf

    content = build_pdf(["1.1 Atoms\nAtoms have a nucleus.\n1.2 Bonds\nCovalent bonds share electrons."])
    parsed = parse_pdf_document(filename="chem.pdf", content=content)
    assert [t.title for t in parsed.units[0].topics] == ["1.1 Atoms", "1.2 Bonds"]
