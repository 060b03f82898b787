"""Suite-wide fixtures: a small OpenStax-format book, API clients, users."""

import shutil
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.factories import TeacherFactory, UserFactory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def mini_book(tmp_path: Path) -> Path:
    """A copy of a 2-chapter, 3-module OpenStax CNXML book, safe to modify in a test."""
    target = tmp_path / "mini-book"
    shutil.copytree(FIXTURES / "mini-openstax", target)
    return target


@pytest.fixture
def student(db):
    return UserFactory()


@pytest.fixture
def teacher(db):
    return TeacherFactory()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def imported_mini_book(db, mini_book: Path):
    """The mini book imported through the real service (real MiniLM, real Chroma); index dropped after."""
    from curriculum.indexing.index import drop_curriculum_index
    from curriculum.models import Curriculum
    from curriculum.services import curriculum_import_openstax

    result = curriculum_import_openstax(path=mini_book)
    curriculum = Curriculum.objects.get(pk=result.curriculum_id)
    yield curriculum
    drop_curriculum_index(curriculum_id=curriculum.pk)


@pytest.fixture
def use_chat_client():
    """Install a chat client (a fake) as the process-wide LLM for one test."""
    import llm.factory

    def install(client):
        llm.factory._client = client
        llm.factory._revision_client = client
        return client

    yield install
    llm.factory.reset_chat_client()


@pytest.fixture
def use_scorer():
    """Install an entailment scorer (a fake) as the process-wide verifier model for one test."""
    import verification.entailment.scorer as scorer_module

    previous = scorer_module._scorer

    def install(scorer):
        scorer_module._scorer = scorer
        return scorer

    yield install
    scorer_module._scorer = previous
