"""Production: secrets and hosts must come from the environment; nothing insecure by default.

The shape assumed is a school's server behind a TLS-terminating proxy that forwards
``X-Forwarded-Proto``: every default here is the safe one for that shape, and
``python manage.py check --deploy`` reports nothing (tests/deploy/test_check_deploy.py). Each can
be loosened from the environment for a plain-HTTP trial (``DJANGO_SECURE_SSL_REDIRECT=false``,
``DJANGO_SECURE_COOKIES=false``, ``DJANGO_SECURE_HSTS_SECONDS=0``).
"""

from .base import *
from .base import env

DEBUG = False
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")

# The proxy terminates TLS and says so in this header; Django then treats the request as HTTPS.
# Empty turns it off: set that when Django is reachable without the proxy, since any client could
# send the header itself.
_proxy_ssl_header = env("DJANGO_SECURE_PROXY_SSL_HEADER", default="HTTP_X_FORWARDED_PROTO")
SECURE_PROXY_SSL_HEADER = (_proxy_ssl_header, "https") if _proxy_ssl_header else None
# Plain HTTP is redirected to HTTPS (by the proxy too, ideally; this catches a misconfigured one).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# HSTS: browsers then refuse plain HTTP to this host for a year. Subdomains and the preload flag
# are on by default (check --deploy asks for both); a school whose other subdomains still serve
# plain HTTP sets DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS=false. Preload only marks the site as
# eligible: it is on the browsers' list only once someone submits it.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=True)
