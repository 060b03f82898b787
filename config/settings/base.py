"""Settings shared by every environment.

Each integration is switched by an environment variable; with none set the app runs embedded:
SQLite, an in-memory channel layer, eager Celery, a local persistent Chroma and the in-process
SmolLM2 model.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-local-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "channels",
    "curriculum",
    "verification",
    "learning",
    "tutor",
    "classrooms",
    "accounts",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Serves collected static files in production (the ASGI server serves no files itself).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before any view reads a parameter: PostgreSQL cannot hold a NUL character.
    "config.middleware.RejectNulMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The ASGI server, the embedded Celery and management commands write from several threads;
    # a busy timeout avoids spurious "database is locked" errors under that concurrency.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = VAR_DIR / "media"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
# Without it Django renders the admin's "logged out" page to students.
LOGOUT_REDIRECT_URL = "/"

# --- Redis: cache, channel layer and Celery broker; absent -> everything in-process -----------
REDIS_URL = env("REDIS_URL", default="")
# Both outlive a Redis outage (config/cache.py, config/channel_layers.py): the throttles let requests
# through (fail open), new sockets still open, and each process logs a warning, where every request
# failed with a 500 before.
REDIS_CACHE_TIMEOUT_S = 0.5  # Redis answers in well under a millisecond; a hung one costs a request this much per call
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.cache.OutageTolerantRedisCache",
            "LOCATION": REDIS_URL,
            # Without them a Redis that accepts and never answers holds a request for ever.
            "OPTIONS": {"socket_connect_timeout": REDIS_CACHE_TIMEOUT_S, "socket_timeout": REDIS_CACHE_TIMEOUT_S},
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": env("CHANNEL_LAYER_BACKEND", default="config.channel_layers.OutageTolerantPubSubChannelLayer"),
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    if CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer":
        # All sockets of one server process share one Redis list, so the default capacity (100)
        # drops frames as soon as ~100 are in flight across the whole process (bench/results/sockets.md).
        CHANNEL_LAYERS["default"]["CONFIG"]["capacity"] = 10_000
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
# Without a broker the work runs inline, so the embedded default needs no worker process.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Periodic tasks, run by `celery -A config beat` (one beat process per deployment).
# An answer cut off by a restart is failed (code "interrupted", retryable) within this many seconds
# of TUTOR_ANSWER_INTERRUPTED_AFTER_S.
TUTOR_INTERRUPTED_SWEEP_EVERY_S = env.int("TUTOR_INTERRUPTED_SWEEP_EVERY_S", default=60)
# An upload (or a batch verification) accepted while the broker was down is still pending, its task
# never sent (config/celery_enqueue.py); it is sent again once it has been pending PENDING_REQUEUE_AFTER_S.
# Every minute: a sweep is one small query when nothing is stale, and a teacher's upload then starts
# within a minute of its grace period once the broker is back.
PENDING_REQUEUE_SWEEP_EVERY_S = env.int("PENDING_REQUEUE_SWEEP_EVERY_S", default=60)
# Five minutes: a task sent normally is taken by a worker in seconds, so a row still pending that long
# after it was (last) sent was not sent, or waits behind a long queue, where one more copy is harmless
# (the tasks are idempotent) and one a grace period is all it gets.
PENDING_REQUEUE_AFTER_S = env.int("PENDING_REQUEUE_AFTER_S", default=300)
CELERY_BEAT_SCHEDULE = {
    "tutor-interrupted-answers-sweep": {
        "task": "tutor.tasks.interrupted_answers_sweep_task",
        "schedule": float(TUTOR_INTERRUPTED_SWEEP_EVERY_S),
    },
    "ingestion-jobs-requeue-sweep": {
        "task": "curriculum.tasks.ingestion_jobs_requeue_task",
        "schedule": float(PENDING_REQUEUE_SWEEP_EVERY_S),
    },
    "verification-batches-requeue-sweep": {
        "task": "verification.tasks.verification_batches_requeue_task",
        "schedule": float(PENDING_REQUEUE_SWEEP_EVERY_S),
    },
}

# --- Chroma: a server when CHROMA_HOST is set, else a persistent local store ------------------
CHROMA_HOST = env("CHROMA_HOST", default="")
CHROMA_PORT = env.int("CHROMA_PORT", default=8001)
CHROMA_PATH = Path(env("CHROMA_PATH", default=str(VAR_DIR / "chroma")))
# Collections are namespaced so that two deployments (or test runs) can share one Chroma server.
CHROMA_COLLECTION_PREFIX = env("CHROMA_COLLECTION_PREFIX", default="veritutor")

# --- Embeddings: all-MiniLM-L6-v2, offline -------------------------------------------------------
# "onnx-int8" (fast, default) or "sentence-transformers" (PyTorch float32, the reference).
EMBEDDING_BACKEND = env("EMBEDDING_BACKEND", default="onnx-int8")
# Where the int8 ONNX export is cached (built from the bundled weights on first use or `make setup`).
EMBEDDING_CACHE_DIR = Path(env("EMBEDDING_CACHE_DIR", default=str(VAR_DIR / "models")))

# --- LLM ---------------------------------------------------------------------------------------
LLM_BACKEND = env("LLM_BACKEND", default="embedded")  # "embedded" | "openai"
LLM_BASE_URL = env("LLM_BASE_URL", default="")
LLM_MODEL = env("LLM_MODEL", default="SmolLM2-135M-Instruct")
LLM_API_KEY = env("LLM_API_KEY", default="not-needed")
LLM_CONNECT_TIMEOUT_S = env.float("LLM_CONNECT_TIMEOUT_S", default=3.0)
LLM_READ_TIMEOUT_S = env.float("LLM_READ_TIMEOUT_S", default=30.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=1)
# The slowest generation still worth waiting for (tokens/s): with the two timeouts it sets each LLM
# request's whole deadline (llm.openai_backend.OpenAIBackendConfig.deadline_s). 2 is under half a
# student's reading speed and far below any healthy server (BENCHMARKS.md): only a stuck or
# trickling one is slower. Raise it to cut a trickling server sooner; must be > 0 and finite.
LLM_MIN_TOKENS_PER_S = env.float("LLM_MIN_TOKENS_PER_S", default=2.0)
LLM_STRUCTURED_OUTPUT = env("LLM_STRUCTURED_OUTPUT", default="json_schema")  # vLLM; "json_object" for llama.cpp
LLM_CONTEXT_TOKENS = env.int("LLM_CONTEXT_TOKENS", default=8192)
LLM_THREADS = env.int("LLM_THREADS", default=0)  # 0 = all cores
# The embedded model runs in a supervised child process ("child", llm/model_process.py): a crash in
# llama.cpp's native code then fails one answer instead of killing the web server. "inprocess"
# skips the process boundary (see BENCHMARKS.md for what it costs).
LLM_EMBEDDED_PROCESS = env("LLM_EMBEDDED_PROCESS", default="child")
# Start the model child with the web server, so the first question does not wait for its start-up.
LLM_PRESTART = env.bool("LLM_PRESTART", default=True)
# Threads of a second embedded model copy for verifier revisions (see llm/factory.py). 0 (default):
# no copy, revisions wait for the answer model. Measured on 2 cores (bench/results/answer.md), a
# one-thread copy beside a two-thread answer stalled both (end to end 4.0x unverified vs 1.14x
# shared); give it threads only where cores are spare.
LLM_REVISION_THREADS = env.int("LLM_REVISION_THREADS", default=0)

# --- Verification ------------------------------------------------------------------------------
# Off only for benchmarks that measure the cost of verification; a student never sees unverified text.
TUTOR_VERIFY_ANSWERS = env.bool("TUTOR_VERIFY_ANSWERS", default=True)
# Long enough for the level's sentence budget with citation markers, short enough that a rambling
# small model cannot keep the student waiting.
TUTOR_MAX_ANSWER_TOKENS = env.int("TUTOR_MAX_ANSWER_TOKENS", default=220)
# An answer still pending or streaming this long after it started lost the process generating it
# (a restart or crash mid-answer): it is shown as failed ("interrupted") and can be retried. Far
# above any real answer (a few seconds to a minute), so a slow one is never cut off.
TUTOR_ANSWER_INTERRUPTED_AFTER_S = env.int("TUTOR_ANSWER_INTERRUPTED_AFTER_S", default=600)
# How an answer is composed (tutor/graph/nodes.composition_mode): "plan" drafts the answer plan's
# syllabus sentences first, then the model's (the embedded model's own sentences rarely verify);
# "draft" has the model write the explanation (a server model). Empty: plan on the embedded model,
# draft on a server.
TUTOR_COMPOSITION = env("TUTOR_COMPOSITION", default="")
# How a failed sentence is revised (verification/revision.py): "extract" (the best-ranked syllabus
# sentence on the same subject replaces it, no LLM call), "select" (the LLM picks one of the ranked
# candidates) or "rewrite" (the LLM rewrites it from the evidence). The embedded SmolLM2-135M picked
# whichever candidate was listed first in 27 of 27 permuted trials (docs/verifier.md): its "choice"
# was the ranking plus ~0.5 s, so the embedded default extracts; a server model chooses.
VERIFIER_REVISION_MODE = env("VERIFIER_REVISION_MODE", default="extract" if LLM_BACKEND == "embedded" else "select")
if VERIFIER_REVISION_MODE not in ("extract", "select", "rewrite"):
    raise ImproperlyConfigured(
        f"VERIFIER_REVISION_MODE must be extract, select or rewrite, got {VERIFIER_REVISION_MODE!r}"
    )
# Torch threads of the verifier's cross-encoder (0 = torch's default, every core). With the embedded
# model generating in the same process, checks share the cores with llama.cpp, whose threads wait
# for each other every token: measured on 2 cores (session 8, 10 questions side by side), verified
# / unverified end to end was 1.06x with 1 thread and 1.15x with 2. verify_eval uses every core.
VERIFIER_THREADS = env.int("VERIFIER_THREADS", default=1 if LLM_BACKEND == "embedded" else 0)
VERIFIER_LLM_JUDGE = env.bool("VERIFIER_LLM_JUDGE", default=False)
VERIFIER_JUDGE_BASE_URL = env("VERIFIER_JUDGE_BASE_URL", default="")
VERIFIER_JUDGE_MODEL = env("VERIFIER_JUDGE_MODEL", default="bespokelabs/Bespoke-MiniCheck-7B")

# --- REST ---------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF answers an unauthenticated request with the first class's challenge, and a
    # mobile client needs 401 + "WWW-Authenticate: Token" (log in again), not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "config.api_schema.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "config.pagination.BoundedLimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env("THROTTLE_USER", default="600/min"),
        "anon": env("THROTTLE_ANON", default="60/min"),
        "ask": env("THROTTLE_ASK", default="20/min"),
    },
    "EXCEPTION_HANDLER": "config.api_errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Veritutor API",
    "DESCRIPTION": "Verified, syllabus-grounded tutoring. Every answer sentence is claim-checked.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Tutor delivery (websocket /ws/tutor/ and the REST ask) ---------------------------------------
# The function that answers a question; the socket benchmark swaps in a paced fake (bench/).
TUTOR_ANSWER_BACKEND = "tutor.services.tutor_answer_create"
# Questions per student across all their sockets (sliding window over the cache), same format
# as DRF rates; defaults to the REST "ask" rate so both doors let a student ask equally often.
TUTOR_SOCKET_ASK_RATE = env("TUTOR_SOCKET_ASK_RATE", default=env("THROTTLE_ASK", default="20/min"))
# How an answer's frames reach its socket: "direct" (the answer runs in the socket's own process,
# so it writes to it) or "channel_layer" (through CHANNEL_LAYERS, one hop more per frame). Direct
# is the measured choice (bench/results/sockets.md); the layer stays for cross-process messages.
TUTOR_SOCKET_DELIVERY = env("TUTOR_SOCKET_DELIVERY", default="direct")

# Uploads: a syllabus PDF or Markdown file, or a zipped OpenStax book; bigger files are refused with
# a clear error. Content is checked against the name, and what a file unpacks or extracts to is
# bounded too (curriculum/importers/uploads.py): zip bombs and PDF bombs are refused.
MAX_UPLOAD_BYTES = env.int("MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
# The XML a book archive may unpack to, and the text a PDF may extract to (Biology 2e: ~7 MB of XML).
MAX_UPLOAD_EXTRACTED_BYTES = env.int("MAX_UPLOAD_EXTRACTED_BYTES", default=100 * 1024 * 1024)
MAX_UPLOAD_ARCHIVE_ENTRIES = env.int("MAX_UPLOAD_ARCHIVE_ENTRIES", default=20_000)
# Uncompressed / compressed size of one archive entry above 1 MB: text compresses 5-20x, a bomb ~1000x.
MAX_UPLOAD_COMPRESSION_RATIO = env.int("MAX_UPLOAD_COMPRESSION_RATIO", default=100)
MAX_UPLOAD_PDF_PAGES = env.int("MAX_UPLOAD_PDF_PAGES", default=3_000)

DEMO_SYLLABUS_PATH = BASE_DIR / "data" / "syllabi" / "biology-2e"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}
