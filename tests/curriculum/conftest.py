"""Fixtures of the curriculum tests: small curricula indexed with the real model and Chroma."""

from tests.curriculum.indexing_fixtures import biology, chemistry, dropped_indexes  # noqa: F401
