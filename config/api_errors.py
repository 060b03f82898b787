"""One error body for the whole REST API: ``{"error": {"code", "message", "details"}}``.

Mobile clients switch on ``code`` and show ``message``; the field errors stay under ``details``.
"""

from rest_framework import serializers
from rest_framework.views import exception_handler


def api_exception_handler(exc, context):
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


def api_error_body(*, code: str, message: str, details=None) -> dict:
    """The body of an error response built by a view itself (same shape as the handler's)."""
    return {"error": {"code": code, "message": message, "details": details}}


class ErrorResponseSerializer(serializers.Serializer):
    """The error body, for the OpenAPI schema."""

    class ErrorSerializer(serializers.Serializer):
        code = serializers.CharField()
        message = serializers.CharField()
        details = serializers.JSONField(allow_null=True)

    error = ErrorSerializer()
