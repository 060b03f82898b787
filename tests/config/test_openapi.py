"""The OpenAPI schema of every app validates without warnings, and its docs page is served."""

import pytest
from django.core.management import call_command


def test_the_schema_validates_without_warnings(tmp_path):
    # given every app's APIs
    # when the schema is generated with validation, failing on any warning
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    # then it is written and documents the mobile endpoints
    schema = target.read_text()
    for path in ("/api/v1/ask/", "/api/v1/auth/register/", "/api/v1/messages/by-client-id/{client_msg_id}/"):
        assert f"  {path}:" in schema


@pytest.mark.django_db
def test_the_docs_page_renders(client):
    # given an anonymous developer
    # when they open the API docs and the schema
    docs = client.get("/api/docs/")
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    # then both are served
    assert (docs.status_code, schema.status_code) == (200, 200)
    assert schema.json()["info"]["title"] == "Veritutor API"
