"""Requests the database cannot take (a NUL character, a bigint-overflowing offset) never reach it as a 500."""

import pytest
from django.urls import reverse

from tests.factories import UserFactory


@pytest.mark.django_db
def test_a_nul_in_a_query_parameter_is_a_400_with_the_api_error_body(api_client):
    # given a signed-in student
    api_client.force_authenticate(UserFactory())
    # when a query parameter holds a NUL character
    response = api_client.get(reverse("practice-preferences"), {"curriculum": "bio\x00logy"})
    # then the API refuses it with its error body, on SQLite and on PostgreSQL alike
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid", "message": "The request contains a NUL character.", "details": None}
    }


@pytest.mark.django_db
def test_a_request_without_nul_reaches_the_view(api_client):
    # given a signed-in student
    api_client.force_authenticate(UserFactory())
    # when the same request has no NUL
    response = api_client.get(reverse("practice-preferences"))
    # then the view answers
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_huge_limit_and_offset_answer_a_bounded_page_not_a_server_error(api_client):
    # given a signed-in student
    api_client.force_authenticate(UserFactory())
    # when a list is asked for with a limit and an offset past what the database can count
    response = api_client.get(reverse("curriculum-list"), {"limit": 10**22, "offset": 10**22})
    # then the page is empty and bounded (PostgreSQL's bigint OFFSET answered 500 before)
    assert response.status_code == 200
    assert response.json()["results"] == []
