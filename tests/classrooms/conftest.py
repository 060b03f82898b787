import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def as_user(api_client: APIClient):
    """Authenticate the API client as a user (token auth, as the mobile client does)."""

    def authenticate(user) -> APIClient:
        token, _ = Token.objects.get_or_create(user=user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return api_client

    return authenticate
