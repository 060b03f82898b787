"""python manage.py build_embedding_model: build (or find) the cached int8 ONNX embedding model."""

from typing import Any

from django.core.management.base import BaseCommand

from curriculum.indexing.embeddings import ensure_onnx_model, onnx_model_path


class Command(BaseCommand):
    help = "Export the bundled MiniLM to int8 ONNX under EMBEDDING_CACHE_DIR (offline; a no-op when it is there)."

    def handle(self, *args: Any, **options: Any) -> None:
        existed = onnx_model_path().exists()
        path = ensure_onnx_model()
        self.stdout.write(f"{'Found' if existed else 'Built'} {path}")
