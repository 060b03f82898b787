"""Settings for the test suite: same integrations as base, isolated stores, fast hashing."""

import os
import tempfile
from pathlib import Path

from .base import *
from .base import env

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each test run gets its own Chroma store and collection prefix so that runs never see each
# other's vectors, whether embedded or on a shared server.
CHROMA_PATH = Path(env("CHROMA_PATH", default=tempfile.mkdtemp(prefix="veritutor-chroma-")))
CHROMA_COLLECTION_PREFIX = env("CHROMA_COLLECTION_PREFIX", default=f"test{os.getpid()}")
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="veritutor-media-"))
REST_FRAMEWORK = {**REST_FRAMEWORK}
# Real-model tests need a few sentences, not a full answer: this bounds their time on 2 cores.
TUTOR_MAX_ANSWER_TOKENS = env.int("TUTOR_MAX_ANSWER_TOKENS", default=72)
# Tests that need the model start it themselves; importing config.asgi must not spawn a child.
LLM_PRESTART = env.bool("LLM_PRESTART", default=False)
