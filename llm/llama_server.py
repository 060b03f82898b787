"""Start and stop a local llama_cpp.server: the OpenAI-compatible server tests, benchmarks and the
dev stack point the openai backend at (the same protocol vLLM speaks in production).

From Python::

    with running_llama_server(port=8090) as server:
        ...  # server.base_url == "http://127.0.0.1:8090/v1"

From a shell (Makefile, .ci/run)::

    python -m llm.llama_server --port 8090                # foreground until Ctrl-C / SIGTERM ("run")
    python -m llm.llama_server start --port 8090 --pidfile var/llama-server.pid   # returns when ready
    python -m llm.llama_server stop --pidfile var/llama-server.pid
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

from llm.model_files import SMOLLM2_MODEL_NAME, smollm2_gguf_path

DEFAULT_HOST = "127.0.0.1"
# Model load (~0.3 s for SmolLM2-135M) plus the server's own imports (~3 s) on a busy 2-core box;
# a generous bound so a slow CI machine does not fail spuriously, yet a broken start fails in time.
DEFAULT_STARTUP_TIMEOUT_S = 90.0
# Enough for the tutor's prompts (syllabus passages + question + answer) at a fraction of the memory
# of SmolLM2's full 8192 window; pass n_ctx to match LLM_CONTEXT_TOKENS where it matters.
DEFAULT_N_CTX = 4096
_STOP_GRACE_S = 10.0
# What the server inherits from our environment. llama_cpp.server reads its settings from the
# environment as well as its command line, and HOST, PORT and CONFIG_FILE win over the command line:
# `make run PORT=8011` (make exports command-line variables) sent the model child onto the web
# server's own port, and a deployment's API_KEY would make it demand a key we do not send. So it
# gets only what a Python process and the native libraries need; its settings come from argv alone.
_INHERITED_NAMES = frozenset(
    {"PATH", "HOME", "USER", "LOGNAME", "LANG", "TZ", "TMPDIR", "TEMP", "TMP", "LD_LIBRARY_PATH", "VIRTUAL_ENV"}
)
_INHERITED_PREFIXES = ("LC_", "PYTHON", "OMP_", "GOMP_", "KMP_", "GGML_", "OPENBLAS_", "MKL_")


class LlamaServerError(RuntimeError):
    """The server could not be started (bad model, port taken, crashed, never became ready)."""


@dataclass(frozen=True, slots=True)
class LlamaServer:
    """A running llama_cpp.server subprocess."""

    process: subprocess.Popen[bytes]
    """The server process."""
    host: str
    """Interface it listens on."""
    port: int
    """TCP port it listens on."""
    model_name: str
    """The alias it serves the model under: use it as LLM_MODEL."""
    log_path: Path
    """Its stdout and stderr."""

    @property
    def base_url(self) -> str:
        """The OpenAI API root, for LLM_BASE_URL."""
        return f"http://{self.host}:{self.port}/v1"


def child_environment(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """The part of ``environ`` the server process may see (see _INHERITED_NAMES)."""
    return {
        name: value
        for name, value in environ.items()
        if name in _INHERITED_NAMES or name.startswith(_INHERITED_PREFIXES)
    }


def free_port(host: str = DEFAULT_HOST) -> int:
    """A TCP port nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def start_llama_server(
    *,
    port: int | None = None,
    host: str = DEFAULT_HOST,
    model_path: Path | None = None,
    model_name: str = SMOLLM2_MODEL_NAME,
    n_ctx: int = DEFAULT_N_CTX,
    threads: int = 0,
    log_path: Path | None = None,
    startup_timeout_s: float = DEFAULT_STARTUP_TIMEOUT_S,
    detach: bool = False,
    preexec_fn: Callable[[], None] | None = None,
) -> LlamaServer:
    """Start llama_cpp.server on the GGUF (default: packaged SmolLM2) and wait until it answers.

    threads=0 uses every core this process may use. detach=True puts the server in its own session
    so that it outlives this process and the terminal's Ctrl-C (for `start`); preexec_fn runs in the
    child before it executes (llm.model_process ties the child's life to ours). Raises
    LlamaServerError with the tail of the server's log if it exits or is not ready within
    startup_timeout_s.
    """
    model_path = model_path or smollm2_gguf_path()
    port = port or free_port(host)
    threads = threads or len(os.sched_getaffinity(0))
    if log_path is None:
        log_path = Path(tempfile.gettempdir()) / f"llama-server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model", str(model_path),
        "--model_alias", model_name,
        "--host", host,
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--n_threads", str(threads),
        "--n_threads_batch", str(threads),
        # By default a new request cuts the one streaming ("[DONE]" mid-answer): with two students
        # asking at once, the first would get a truncated answer. Requests queue instead.
        "--interrupt_requests", "False",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=detach,
            preexec_fn=preexec_fn,
            env=child_environment(os.environ),
        )
    server = LlamaServer(process=process, host=host, port=port, model_name=model_name, log_path=log_path)
    try:
        _wait_until_ready(server, startup_timeout_s)
    except BaseException:
        stop_llama_server(server)
        raise
    return server


def _wait_until_ready(server: LlamaServer, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    url = f"{server.base_url}/models"
    while True:
        if server.process.poll() is not None:
            raise LlamaServerError(
                f"llama_cpp.server exited with code {server.process.returncode}:\n{_log_tail(server.log_path)}"
            )
        try:
            response = httpx.get(url, timeout=1.0)
            if response.status_code == 200 and server.model_name in response.text:
                return
        except httpx.TransportError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise LlamaServerError(
                f"llama_cpp.server not ready at {url} after {timeout_s:g} s:\n{_log_tail(server.log_path)}"
            )
        time.sleep(0.2)


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop_llama_server(server: LlamaServer) -> None:
    """Terminate the server, killing it if it ignores SIGTERM for 10 s."""
    _terminate(server.process.pid, server.process.wait)


def _terminate(pid: int, wait: Callable[..., object] | None = None) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + _STOP_GRACE_S
    while time.monotonic() < deadline:
        if not _alive(pid, wait):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    _alive(pid, wait)


def _alive(pid: int, wait: Callable[..., object] | None) -> bool:
    if wait is not None:  # our child: reap it so it does not linger as a zombie
        try:
            wait(timeout=0)
        except subprocess.TimeoutExpired:
            return True
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextlib.contextmanager
def running_llama_server(**kwargs: object) -> Iterator[LlamaServer]:
    """start_llama_server(**kwargs) for the duration of a with-block."""
    server = start_llama_server(**kwargs)  # type: ignore[arg-type]
    try:
        yield server
    finally:
        stop_llama_server(server)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm.llama_server", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("run", "run in the foreground until interrupted"),
        ("start", "start in the background, return once ready, write --pidfile"),
    ):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("--port", type=int, default=8090)
        cmd.add_argument("--host", default=DEFAULT_HOST)
        cmd.add_argument("--model", type=Path, default=None, help="GGUF file (default: packaged SmolLM2)")
        cmd.add_argument("--model-name", default=SMOLLM2_MODEL_NAME, help="alias to serve it under (LLM_MODEL)")
        cmd.add_argument("--n-ctx", type=int, default=DEFAULT_N_CTX)
        cmd.add_argument("--threads", type=int, default=0, help="0 = all cores")
        cmd.add_argument("--log", type=Path, default=None)
        if name == "start":
            cmd.add_argument("--pidfile", type=Path, required=True)
    stop = sub.add_parser("stop", help="stop a server started with `start`")
    stop.add_argument("--pidfile", type=Path, required=True)
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", *argv]  # `python -m llm.llama_server --port 8090` means run
    args = parser.parse_args(argv)

    if args.command == "stop":
        if not args.pidfile.exists():
            print(f"no pidfile at {args.pidfile}; nothing to stop")
            return 0
        pid = int(args.pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline")
        # A stale pidfile may name a pid the OS has since given to another program: leave that alone.
        if cmdline.exists() and b"llama_cpp.server" not in cmdline.read_bytes():
            print(f"pid {pid} from {args.pidfile} is not a llama_cpp.server; not stopping it")
        else:
            _terminate(pid)
        args.pidfile.unlink()
        return 0

    server = start_llama_server(
        port=args.port,
        host=args.host,
        model_path=args.model,
        model_name=args.model_name,
        n_ctx=args.n_ctx,
        threads=args.threads,
        log_path=args.log,
        detach=args.command == "start",
    )
    print(f"llama_cpp.server ready: LLM_BASE_URL={server.base_url} LLM_MODEL={server.model_name} "
          f"(pid {server.process.pid}, log {server.log_path})", flush=True)  # fmt: skip
    if args.command == "start":
        args.pidfile.parent.mkdir(parents=True, exist_ok=True)
        args.pidfile.write_text(f"{server.process.pid}\n")
        return 0

    def forward(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, forward)
    try:
        return server.process.wait()
    except KeyboardInterrupt:
        stop_llama_server(server)
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
