"""One error body for the whole REST API: ``{"error": {"code", "message", "details"}}``.

Mobile clients switch on ``code`` and show ``message``; the field errors stay under ``details``.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import exception_handler


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None
    detail = response.data
    code = getattr(exc, "default_code", "error")
    if isinstance(detail, dict) and "detail" in detail and len(detail) == 1:
        message = str(detail["detail"])
        details = None
        code = getattr(detail["detail"], "code", code)
    else:
        message = "The request is not valid." if response.status_code == 400 else str(exc)
        details = detail
    response.data = api_error_body(code=str(code), message=message, details=details)
    return response


def api_error_body(*, code: str, message: str, details: Any = None) -> dict:
    """The body of an error response built by a view itself (same shape as the handler's)."""
    return {"error": {"code": code, "message": message, "details": details}}


class ErrorResponseSerializer(serializers.Serializer):
    """The error body, for the OpenAPI schema."""

    class ErrorSerializer(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        details = serializers.JSONField(allow_null=True)

    error = ErrorSerializer()


# The errors any API may answer (``extend_schema(responses={200: ..., **ERROR_RESPONSES})``): a bad
# request, no or bad credentials, not allowed, not found.
ERROR_RESPONSES = {
    400: ErrorResponseSerializer,
    401: ErrorResponseSerializer,
    403: ErrorResponseSerializer,
    404: ErrorResponseSerializer,
}


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: under /api/ the API's error body (a path no route matches, such as
    /api/v1/messages/abc/, is documented as the API's 404), elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse(api_error_body(code="not_found", message="Not found."), status=404)
    return page_not_found(request, exception)
