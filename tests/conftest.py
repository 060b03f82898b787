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
