"""Request hygiene that every view would otherwise have to repeat."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from config.api_errors import api_error_body


class RejectNulMiddleware:
    """A NUL character in the path or the query string is refused with 400 before any view runs.

    PostgreSQL cannot store or compare a string holding NUL (psycopg raises ValueError), so a
    query parameter such as ``?curriculum=%00`` looked up in the database answered 500 on
    PostgreSQL and 404 on SQLite (found by schemathesis). No slug, id or search term of this API
    holds one, so refusing it here covers every view at once.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            if request.path.startswith("/api/"):
                return JsonResponse(
                    api_error_body(code="invalid", message="The request contains a NUL character."), status=400
                )
            return HttpResponseBadRequest("The request contains a NUL character.")
        return self.get_response(request)
