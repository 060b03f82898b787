"""Settings for the test suite: same integrations as base, isolated stores, fast hashing."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each test run gets its own Chroma store and collection prefix so that runs never see each
# other's vectors, whether embedded or on a shared server.
CHROMA_PATH = Path(env("CHROMA_PATH", default=tempfile.mkdtemp(prefix="veritutor-chroma-")))
CHROMA_COLLECTION_PREFIX = env("CHROMA_COLLECTION_PREFIX", default=f"test{os.getpid()}")
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="veritutor-media-"))
REST_FRAMEWORK = {**REST_FRAMEWORK}  # noqa: F405
