"""Fixtures for the delivery layers: the scripted answer double, enrolled students, tokens."""

import pytest
from django.core.cache import cache
from rest_framework.authtoken.models import Token

from tests.factories import CurriculumFactory, EnrollmentFactory, UserFactory
from tests.tutor import answer_double


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Rate-limit counters and DRF throttles live in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def scripted_answers(settings) -> answer_double.AnswerScript:
    """Route every question to the scripted double instead of the answer graph."""
    settings.TUTOR_ANSWER_BACKEND = answer_double.DOTTED_PATH
    return answer_double.reset()


@pytest.fixture
def draft_composition(settings) -> None:
    """Only the scripted model's sentences are drafted (no answer plan before them): for tests of
    the delivery path that script every sentence."""
    settings.TUTOR_COMPOSITION = "draft"


@pytest.fixture
def plan_composition(settings) -> None:
    """The answer plan's syllabus sentences are drafted before the model's (the embedded default)."""
    settings.TUTOR_COMPOSITION = "plan"


@pytest.fixture
def curriculum(db):
    return CurriculumFactory(slug="biology", title="Biology")


@pytest.fixture
def enrolled_student(db, curriculum):
    return EnrollmentFactory(curriculum=curriculum, student=UserFactory()).student


@pytest.fixture
def token(enrolled_student) -> str:
    return Token.objects.create(user=enrolled_student).key
