"""How a topic names itself to a student: the book's section number and title."""

import pytest

from tests.factories import TopicFactory, UnitFactory

pytestmark = pytest.mark.django_db


def test_a_numbered_section_reads_as_the_book_prints_it():
    topic = TopicFactory(unit=UnitFactory(number="6", title="Learning"), number="6.3", title="Operant Conditioning")
    assert topic.label == "6.3 Operant Conditioning"


def test_a_chapter_introduction_is_named_by_its_chapter():
    topic = TopicFactory(unit=UnitFactory(number="6", title="Learning"), number="", title="Introduction")
    assert topic.label == "Chapter 6: Learning – Introduction"


def test_an_unnumbered_upload_is_named_by_its_title():
    topic = TopicFactory(unit=UnitFactory(number="", title="My notes"), number="", title="Friction")
    assert topic.label == "Friction"
