"""Generate the typed mobile client from ``/api/schema/`` and type-check the mobile app against it.

``make mobile-client`` (a step of ``make test``) runs ``python -m tests.mobile.generate_client --typecheck``:

1. the schema is fetched from ``/api/schema/`` (Django's test client, no server needed) and written to
   ``var/mobile_client/schema.json``;
2. ``openapi-python-client`` (PyPI, pinned in requirements.txt) generates the package
   ``var/mobile_client/veritutor_client`` from it: attrs models and one module per operation, typed;
   skipped when the schema is the one the package was generated from;
3. with ``--typecheck``, mypy (strict, ``tests/mobile/mypy.ini``) checks ``tests/mobile/mobile_app.py``,
   the mobile session written against the generated package: a schema change that renames, removes
   or retypes anything the app uses fails here, before any test runs.

The test (``tests/mobile/test_mobile_session.py``) calls :func:`ensure_client` too, so a pytest run
alone never drives a client generated from an older schema.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "var" / "mobile_client"
PACKAGE = "veritutor_client"
SCHEMA_FILE = OUT / "schema.json"
CLIENT_SCHEMA_FILE = OUT / "client-schema.json"
STAMP = OUT / "generated-from.sha256"
CONFIG = Path(__file__).with_name("openapi-python-client.yml")
MYPY_CONFIG = Path(__file__).with_name("mypy.ini")
APP = Path(__file__).with_name("mobile_app.py")


class GenerationError(RuntimeError):
    pass


def _venv_tool(name: str) -> str:
    """The tool installed beside this interpreter (the venv's), else one on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise GenerationError(f"{name} is not installed: run `make setup` (requirements.txt pins it)")
    return found


def fetch_schema() -> str:
    """The OpenAPI document the server serves at /api/schema/, as stable JSON text."""
    import django
    from django.conf import settings

    if not settings.configured:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
        django.setup()
    from django.test import Client

    with warnings.catch_warnings():
        # WhiteNoise warns that static files were not collected: the schema has none.
        warnings.filterwarnings("ignore", message="No directory at")
        response = Client(HTTP_HOST=settings.ALLOWED_HOSTS[0]).get(
            "/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json"
        )
    if response.status_code != 200:
        raise GenerationError(f"/api/schema/ answered {response.status_code}")
    return json.dumps(json.loads(response.content), indent=2, sort_keys=True) + "\n"


def for_the_generator(schema: str) -> str:
    """The served schema as the mobile client reads it; two things, both where the generator reads
    OpenAPI differently from its meaning:

    - a body offered as JSON, form and multipart (DRF's default parsers) is sent as JSON only: the
      generator sends one model in the last type listed (multipart), not what a mobile app sends;
    - an operation open to anonymous callers (``{}`` among its security requirements, e.g. register)
      takes a client without a token: the generator requires a token for any non-empty list.
    """
    document = json.loads(schema)
    for operations in document["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                operation["requestBody"]["content"] = {"application/json": content["application/json"]}
            if {} in operation.get("security", []):
                operation["security"] = []
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def generate(schema: str) -> bool:
    """Generate the package from ``schema`` unless it already was; True when it (re)generated."""
    # The stamp covers what the package is made from: the schema, the generator's version, its config.
    from importlib.metadata import version

    made_from = f"{schema}\n{version('openapi-python-client')}\n{CONFIG.read_text()}"
    digest = hashlib.sha256(made_from.encode()).hexdigest()
    package_dir = OUT / PACKAGE
    if package_dir.is_dir() and STAMP.exists() and STAMP.read_text().strip() == digest:
        return False
    OUT.mkdir(parents=True, exist_ok=True)
    SCHEMA_FILE.write_text(schema)
    CLIENT_SCHEMA_FILE.write_text(for_the_generator(schema))
    STAMP.unlink(missing_ok=True)
    command = [
        _venv_tool("openapi-python-client"),
        "generate",
        "--path",
        str(CLIENT_SCHEMA_FILE),
        "--output-path",
        str(package_dir),
        "--meta",
        "none",
        "--overwrite",
        "--config",
        str(CONFIG),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=OUT)
    output = done.stdout + done.stderr
    # The generator skips what it cannot model and says so with a warning: a skipped endpoint would
    # vanish from the client unnoticed, so any warning fails the build.
    if done.returncode != 0 or "Warning" in output or not (package_dir / "__init__.py").exists():
        raise GenerationError(f"openapi-python-client failed (exit {done.returncode}):\n{output}")
    STAMP.write_text(digest + "\n")
    return True


def ensure_client() -> Path:
    """The folder to put on ``sys.path`` for ``import veritutor_client``, generated from the current schema."""
    generate(fetch_schema())
    return OUT


def typecheck() -> None:
    """Strict mypy over the mobile app, with the generated package's types."""
    command = [
        _venv_tool("mypy"),
        "--config-file",
        str(MYPY_CONFIG),
        "--cache-dir",
        str(OUT / ".mypy_cache"),
        str(APP.relative_to(REPO)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=REPO)
    if done.returncode != 0:
        raise GenerationError(
            "the mobile app does not type-check against the client generated from /api/schema/ "
            f"(a schema change broke the client?):\n{done.stdout}{done.stderr}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--typecheck", action="store_true", help="then run strict mypy over tests/mobile/mobile_app.py")
    args = parser.parse_args()
    try:
        regenerated = generate(fetch_schema())
        print(f"mobile client {'generated' if regenerated else 'up to date'}: {OUT / PACKAGE}")
        if args.typecheck:
            typecheck()
            print("mobile app type-checks against the generated client")
    except GenerationError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
