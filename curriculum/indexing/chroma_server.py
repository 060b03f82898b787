"""Starting a local Chroma server (``chroma run``) as a child process: for tests and benchmarks.

Production points ``CHROMA_HOST`` at a server it runs itself; this is how the test suite and the
benchmark get a real one on a free loopback port without any set-up.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# A cold `chroma run` imports its Python stack and opens the store in 2-5 s on this machine; 60 s
# only matters when the machine is heavily loaded.
STARTUP_TIMEOUT_S = 60.0
LOOPBACK = "127.0.0.1"


class ChromaServerError(RuntimeError):
    """The server did not come up; carries the tail of its log."""


@dataclass(frozen=True, kw_only=True)
class ChromaServer:
    host: str
    port: int
    path: Path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


def chroma_executable() -> str:
    """The `chroma` CLI of this interpreter's environment (falls back to PATH)."""
    beside = Path(sys.executable).parent / "chroma"
    if beside.exists():
        return str(beside)
    found = shutil.which("chroma")
    if found is None:
        raise ChromaServerError("The `chroma` command is not installed (pip install chromadb).")
    return found


def heartbeat_ok(host: str, port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/api/v2/heartbeat", timeout=1.0) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def running_chroma_server(path: Path, *, port: int | None = None) -> Iterator[ChromaServer]:
    """Run ``chroma run --path PATH`` on a loopback port until the block exits."""
    port = port or free_port()
    path.mkdir(parents=True, exist_ok=True)
    log_path = path.parent / f"chroma-server-{port}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [chroma_executable(), "run", "--path", str(path), "--host", LOOPBACK, "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT_S
            while not heartbeat_ok(LOOPBACK, port):
                if process.poll() is not None or time.monotonic() > deadline:
                    tail = log_path.read_text(errors="replace")[-2000:]
                    raise ChromaServerError(f"chroma run did not start on port {port}:\n{tail}")
                time.sleep(0.2)
            yield ChromaServer(host=LOOPBACK, port=port, path=path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
