"""Websocket authentication: the browser's session cookie, or a DRF token for mobile clients.

Mobile clients pass the token as the subprotocol pair ``["token", "<key>"]`` (browsers cannot set
headers on a websocket) or, where subprotocols are awkward, as ``?token=<key>`` in the query string.
The subprotocol is preferred: query strings end up in access logs.

Origin rules (the cross-site check a browser cannot bypass):

- an ``Origin`` header naming a host outside ``ALLOWED_HOSTS`` is refused;
- no ``Origin`` header at all is what native (mobile) clients send; such a connection may
  authenticate with a token only. Every browser sends ``Origin`` on a websocket handshake, so a
  page on another site can never reach the session-cookie path this way.
"""

from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import ParseResult, parse_qs

from asgiref.typing import ASGIReceiveCallable, ASGISendCallable
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

TOKEN_SUBPROTOCOL = "token"

# A Channels scope: the ASGI connection scope plus what middleware adds to it (user, session,
# url_route), so a plain dict rather than asgiref.typing's closed Scope TypedDicts.
Scope = dict[str, Any]
ASGIApp = Callable[[Scope, ASGIReceiveCallable, ASGISendCallable], Awaitable[None]]


@database_sync_to_async
def _user_for_token(key: str) -> AbstractBaseUser | AnonymousUser:
    from rest_framework.authtoken.models import Token

    token = Token.objects.select_related("user").filter(key=key).first()
    # Same rule as DRF's TokenAuthentication: a deactivated account's token no longer works.
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


def token_from_scope(scope: Scope) -> str | None:
    subprotocols = scope.get("subprotocols") or []
    if len(subprotocols) >= 2 and subprotocols[0] == TOKEN_SUBPROTOCOL:
        return subprotocols[1]
    query = parse_qs(scope.get("query_string", b"").decode())
    tokens = query.get("token")
    return tokens[0] if tokens else None


def uses_token_subprotocol(scope: Scope) -> bool:
    """The server must then accept with the subprotocol "token" (clients check it was selected)."""
    return (scope.get("subprotocols") or [None])[0] == TOKEN_SUBPROTOCOL


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _ in scope.get("headers", []))


class TokenAuthMiddleware:
    """Replaces the session user with the token's user when a token is presented.

    Without an Origin header (a native client) the session cookie is not trusted: only a token
    authenticates such a connection.
    """

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable) -> None:
        key = token_from_scope(scope)
        if key:
            scope = dict(scope, user=await _user_for_token(key))
        elif not _has_origin(scope):
            scope = dict(scope, user=AnonymousUser())
        return await self.inner(scope, receive, send)


def TokenOrSessionAuthMiddlewareStack(inner: ASGIApp) -> ASGIApp:  # noqa: N802 - mirrors Channels' naming
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class SameSiteOrNativeOriginValidator(OriginValidator):
    """Channels' AllowedHostsOriginValidator, except that a missing Origin (a native client) passes.

    Channels refuses a missing Origin outright, which would lock out the mobile app; the
    TokenAuthMiddleware above makes sure such a connection cannot use the session cookie.
    """

    def valid_origin(self, parsed_origin: ParseResult | None) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def SameSiteOrNativeOriginValidatorStack(inner: ASGIApp) -> ASGIApp:  # noqa: N802 - mirrors Channels' naming
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return SameSiteOrNativeOriginValidator(inner, allowed_hosts)
