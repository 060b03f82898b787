"""ASGI entry point: HTTP through Django, websockets through Channels.

Websockets are authenticated (session cookie for the browser, token for mobile) and their Origin
header is checked against ALLOWED_HOSTS, so a page on another site cannot open a socket with a
student's cookies. Native clients send no Origin; they may connect with a token only
(tutor/socket_auth.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from tutor.routing import websocket_urlpatterns  # noqa: E402
from tutor.socket_auth import SameSiteOrNativeOriginValidatorStack, TokenOrSessionAuthMiddlewareStack  # noqa: E402

if settings.DEBUG:
    # uvicorn serves no files, so locally (`make run`) Django serves /static/ itself; without
    # DEBUG, something in front of the app must serve STATIC_ROOT (after collectstatic).
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    django_asgi_app = ASGIStaticFilesHandler(django_asgi_app)

if settings.LLM_PRESTART:
    # The embedded model's child process starts with the server, not at the first question.
    from llm.factory import prestart_model_child

    prestart_model_child()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": SameSiteOrNativeOriginValidatorStack(
            TokenOrSessionAuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)
