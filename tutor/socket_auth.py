"""Websocket authentication: the browser's session cookie, or a DRF token for mobile clients.

Mobile clients pass the token as the subprotocol pair ``["token", "<key>"]`` (browsers cannot set
headers on a websocket) or, where subprotocols are awkward, as ``?token=<key>`` in the query string.
"""

from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from django.contrib.auth.models import AnonymousUser


@database_sync_to_async
def _user_for_token(key: str):
    from rest_framework.authtoken.models import Token

    try:
        return Token.objects.select_related("user").get(key=key).user
    except Token.DoesNotExist:
        return AnonymousUser()


def token_from_scope(scope) -> str | None:
    subprotocols = scope.get("subprotocols") or []
    if len(subprotocols) >= 2 and subprotocols[0] == "token":
        return subprotocols[1]
    query = parse_qs(scope.get("query_string", b"").decode())
    tokens = query.get("token")
    return tokens[0] if tokens else None


class TokenAuthMiddleware:
    """Replaces the session user with the token's user when a token is presented."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        key = token_from_scope(scope)
        if key:
            scope = dict(scope, user=await _user_for_token(key))
        return await self.inner(scope, receive, send)


def TokenOrSessionAuthMiddlewareStack(inner):  # noqa: N802 - mirrors Channels' naming
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))
