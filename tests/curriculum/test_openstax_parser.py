from pathlib import Path

import pytest

from curriculum.importers.errors import SyllabusImportError
from curriculum.importers.openstax import parse_openstax_book

DEMO_BOOK = Path(__file__).resolve().parents[2] / "data" / "syllabi" / "biology-2e"


def test_parses_the_unit_topic_tree_and_attribution(mini_book: Path):
    # when
    book = parse_openstax_book(mini_book)

    # then
    assert book.title == "Mini Physics"
    assert book.slug == "mini-physics"
    assert [(u.part, u.title, [t.source_id for t in u.topics]) for u in book.units] == [
        ("Mechanics", "Motion", ["m90001", "m90002"]),
        ("", "Thermodynamics", ["m90003"]),
    ]
    assert "Creative Commons Attribution License" in book.attribution


def test_exercises_become_questions_and_stay_out_of_the_text(mini_book: Path):
    # when
    topic = parse_openstax_book(mini_book).units[0].topics[0]

    # then
    assert topic.title == "Velocity and Speed"
    assert "Which quantity has a direction" not in topic.text
    assert "closed lap" not in topic.text
    assert "Review Questions" not in topic.text
    assert "Critical Thinking Questions" not in topic.text
    assert topic.text.startswith("Velocity is the rate of change of position with respect to time.")
    assert "A car moving east at 25 meters per second." in topic.text
    assert "velocity: the rate of change of position, with direction" in topic.text
    assert topic.objectives == "Define velocity\nDistinguish speed from velocity"
    mc, free = topic.questions
    assert (mc.stem, mc.choices, mc.answer_index) == (
        "Which quantity has a direction?",
        ["speed", "velocity", "distance", "time"],
        1,
    )
    assert (free.choices, free.answer_index, free.explanation) == (
        [],
        None,
        "Because the displacement over a closed lap is zero.",
    )


def test_empty_link_parentheses_are_removed(mini_book: Path):
    topic = parse_openstax_book(mini_book).units[0].topics[0]
    assert "direction." in topic.text
    assert "()" not in topic.text


def test_malformed_module_names_the_file(mini_book: Path):
    # given
    broken = mini_book / "modules" / "m90002" / "index.cnxml"
    broken.write_text("<document><content><para>unclosed")

    # when / then
    with pytest.raises(SyllabusImportError) as excinfo:
        parse_openstax_book(mini_book)
    assert excinfo.value.filename == str(broken)
    assert "not well-formed XML" in excinfo.value.problem


def test_missing_module_and_missing_collection_are_clear_errors(mini_book: Path, tmp_path: Path):
    # given
    (mini_book / "modules" / "m90003" / "index.cnxml").unlink()

    # when / then
    with pytest.raises(SyllabusImportError, match="m90003/index.cnxml: is listed in the collection but missing"):
        parse_openstax_book(mini_book)
    with pytest.raises(SyllabusImportError, match="has no collections/"):
        parse_openstax_book(tmp_path)


def test_demo_book_has_every_review_question_keyed():
    # when
    book = parse_openstax_book(DEMO_BOOK)

    # then
    topics = [t for u in book.units for t in u.topics]
    keyed = [q for t in topics for q in t.questions if q.answer_index is not None]
    assert book.title == "Biology 2e"
    assert len(book.units) == 47
    assert len(keyed) >= 700
    assert all(0 <= q.answer_index < len(q.choices) for q in keyed)


def test_chapters_and_sections_are_numbered_as_the_book_prints_them(mini_book: Path):
    # given a chapter that opens with an introduction module
    intro = mini_book / "modules" / "m90001" / "index.cnxml"
    intro.write_text(intro.read_text().replace("<document ", '<document class="introduction" ', 1))

    # when
    book = parse_openstax_book(mini_book)

    # then chapters count through the book and sections within each chapter; the introduction has no number
    assert [(u.number, [t.number for t in u.topics]) for u in book.units] == [("1", ["", "1.1"]), ("2", ["2.1"])]


def test_demo_book_sections_carry_the_printed_numbers():
    # when
    book = parse_openstax_book(DEMO_BOOK)

    # then chapter 5 reads as in the printed book
    membranes = book.units[4]
    assert (membranes.number, membranes.title) == ("5", "Structure and Function of Plasma Membranes")
    assert [(t.number, t.title) for t in membranes.topics] == [
        ("", "Introduction"),
        ("5.1", "Components and Structure"),
        ("5.2", "Passive Transport"),
        ("5.3", "Active Transport"),
        ("5.4", "Bulk Transport"),
    ]
