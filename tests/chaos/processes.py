"""Real processes for the chaos tests to break: started on free loopback ports, killed with SIGKILL.

Every process a test starts is stopped when its block exits, killed or not.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import redis

BASE_DIR = Path(__file__).resolve().parents[2]
REDIS_SERVER = "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(condition: Callable[[], object], *, timeout_s: float, what: str, every_s: float = 0.05) -> float:
    """Poll ``condition()`` until it is true; returns the seconds it took. Fails the test on timeout."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout_s:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(every_s)
    return time.monotonic() - started


def kill_hard(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL, as a crash or the OOM killer would: no handler runs, nothing is flushed."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_hard(process)


@contextlib.contextmanager
def running(
    args: list[str], *, ready: str | int | None, env: dict[str, str] | None = None, timeout_s: float = 60.0
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` (cwd: the repository) until the block exits. ``ready``: a port that must accept
    connections, or a line the process prints on stdout, before the block starts (None: no wait)."""
    process = subprocess.Popen(
        args,
        cwd=BASE_DIR,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE if isinstance(ready, str) else subprocess.DEVNULL,
    )
    try:
        if isinstance(ready, str):
            assert process.stdout is not None
            line = process.stdout.readline().decode().strip()
            assert line == ready, f"{args[:3]} printed {line!r} instead of {ready!r} (exit {process.poll()})"
        elif ready is not None:
            wait_until(
                lambda: process.poll() is not None or port_open(ready),
                timeout_s=timeout_s,
                what=f"{args[0]} on {ready}",
            )
            assert process.poll() is None, f"{args[:3]} exited with {process.returncode}"
        yield process
    finally:
        stop(process)


def llm_server(
    port: int, *, mode: str = "healthy", word_delay_s: float = 0.0
) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """The fake OpenAI-compatible server (tests/chaos/llm_server.py) as a process."""
    args = [sys.executable, "-m", "tests.chaos.llm_server", "--port", str(port), "--mode", mode]
    return running([*args, "--word-delay", str(word_delay_s)], ready="ready")


def redis_server(port: int, data_dir: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """A redis-server of the test's own (never the machine's Redis on 6379), without persistence."""
    args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    return running([*args, "--dir", str(data_dir)], ready=port)


def redis_ping(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def database_url() -> str | None:
    """The test database as another process reaches it; None for SQLite's in-memory test database."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.postgresql":
        auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
        return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return None


def django_env(*, settings_module: str = "tests.chaos.process_settings", **extra: str) -> dict[str, str]:
    """The environment of a web or worker process that shares this test's database and stores."""
    from django.conf import settings

    url = database_url()
    assert url is not None, "a process of its own needs the test database on PostgreSQL (make chaos)"
    return {
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": url,
        "REDIS_URL": "",
        "WORKER_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "WORKER_CHROMA_PATH": str(settings.CHROMA_PATH),
        "WORKER_CHROMA_COLLECTION_PREFIX": settings.CHROMA_COLLECTION_PREFIX,
        "CHROMA_HOST": settings.CHROMA_HOST,
        "CHROMA_PORT": str(settings.CHROMA_PORT),
        **extra,
    }
