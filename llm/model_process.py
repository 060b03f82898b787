"""The embedded model in a supervised child process, so that a crash in native code never takes the
web server down.

llama.cpp is C++: a segfault in it (as its AMX kernels do on recent Intel CPUs) kills whatever
process loaded it. Loaded in the ASGI process, one bad decode would end every student's socket at
once. So by default (LLM_EMBEDDED_PROCESS="child") the packaged GGUF is served by llama_cpp.server
in a child process on a loopback port, spoken to over the same OpenAI-compatible protocol as vLLM
(llm.openai_backend). When the child dies, the request in flight fails at once (its connection
closes) with LLMUnavailableError, and a watchdog thread starts a new child; the next request waits
for it to be ready instead of failing.

One ModelProcess per web process (module-level, like the client cache): it is started on first use,
or ahead of time by config.asgi, and stopped at interpreter exit. The child gets SIGTERM if its
parent dies (Linux PR_SET_PDEATHSIG), so a killed server leaves no orphan holding the port.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import ctypes
import logging
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from llm.errors import LLMUnavailableError
from llm.llama_server import LlamaServer, LlamaServerError, free_port, start_llama_server, stop_llama_server

logger = logging.getLogger(__name__)

# A crash loop (a model that dies on load) must not spin a core: waits between restarts double from
# the first to the last value below and reset once a child has stayed up for _STABLE_AFTER_S.
_RESTART_BACKOFF_S = (0.0, 1.0, 2.0, 5.0, 15.0, 30.0)
_STABLE_AFTER_S = 60.0
# How often a waiter looks again when a child has died but the watchdog has not yet marked it down.
_DEAD_CHILD_POLL_S = 0.05
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelProcessConfig:
    """What the child serves and how long callers wait for it."""

    model_path: Path
    """The GGUF file."""
    model_name: str
    """Alias the child serves the model under (the OpenAI `model` field)."""
    context_tokens: int
    """llama.cpp context window."""
    threads: int
    """CPU threads; 0 means every core this process may use."""
    ready_timeout_s: float
    """Longest a request waits for a (re)starting child before failing as unreachable."""


def _die_with_parent() -> None:
    """preexec_fn: the child gets SIGTERM when the process that started it exits (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class ModelProcess:
    """A llama_cpp.server child on a fixed loopback port, restarted whenever it dies."""

    def __init__(self, config: ModelProcessConfig) -> None:
        self.config = config
        self.port = free_port()
        """Chosen once: a restarted child listens where clients already connect."""
        self._server: LlamaServer | None = None
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._stopping = False
        self._watchdog: threading.Thread | None = None
        self.restarts = 0
        """Children started after the first (each one followed a death)."""
        self.last_exit: int | None = None
        """Return code of the last child that died (negative: the signal that killed it)."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        """The running child's pid (None before the first start or while restarting)."""
        server = self._server
        return server.process.pid if server is not None and self._ready.is_set() else None

    def start(self) -> None:
        """Start the child and its watchdog unless already started; returns at once."""
        with self._lock:
            if self._watchdog is not None or self._stopping:
                return
            self._watchdog = threading.Thread(target=self._supervise, name="llm-model-process", daemon=True)
            self._watchdog.start()

    def wait_ready(self, timeout_s: float | None = None) -> None:
        """Block until a child answers; LLMUnavailableError("unreachable") after the timeout."""
        self.start()
        timeout = self.config.ready_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        while not self._up():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not self._ready.wait(remaining):
                raise LLMUnavailableError(
                    "unreachable", f"the embedded model process is not ready after {timeout:g} s (starting or crashed)"
                )
            if not self._up():
                # Ready is still set for a child that has just died: the watchdog is about to notice,
                # clear it and restart the child. A request sent now would find the port closed.
                time.sleep(_DEAD_CHILD_POLL_S)

    async def ready(self) -> None:
        """wait_ready() without blocking the event loop (a thread waits when the child is not up)."""
        if self._up():
            return
        await asyncio.to_thread(self.wait_ready)

    def _up(self) -> bool:
        """A child is serving: started, answered once, and its process has not exited since."""
        with self._lock:
            server = self._server
        return (
            self._ready.is_set()
            and server is not None
            and server.process.poll() is None
            and process_running(server.process.pid)
        )

    def stop(self) -> None:
        """Stop the child for good (interpreter exit, tests)."""
        with self._lock:
            self._stopping = True
            server = self._server
        self._ready.clear()
        if server is not None:
            stop_llama_server(server)
        if self._watchdog is not None and self._watchdog is not threading.current_thread():
            self._watchdog.join(timeout=15)

    def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            pause = _RESTART_BACKOFF_S[min(failures, len(_RESTART_BACKOFF_S) - 1)]
            if pause:
                time.sleep(pause)
            if self._stopping:
                return
            started = time.monotonic()
            try:
                server = self._spawn()
            except LlamaServerError as exc:
                failures += 1
                logger.error("the embedded model process failed to start (attempt %d): %s", failures, exc)
                continue
            with self._lock:
                if self._stopping:
                    stop_llama_server(server)
                    return
                self._server = server
                self._ready.set()
            code = server.process.wait()
            self._ready.clear()
            if self._stopping:
                return
            self.last_exit = code
            self.restarts += 1
            failures = 0 if time.monotonic() - started > _STABLE_AFTER_S else failures + 1
            cause = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            logger.error("the embedded model process died (%s); restarting it. Log: %s", cause, server.log_path)

    def _spawn(self) -> LlamaServer:
        # Spawned from the watchdog thread, which lives until stop(): PR_SET_PDEATHSIG fires when the
        # spawning *thread* ends, so spawning from a short-lived thread would kill the child early.
        return start_llama_server(
            port=self.port,
            model_path=self.config.model_path,
            model_name=self.config.model_name,
            n_ctx=self.config.context_tokens,
            threads=self.config.threads,
            preexec_fn=_die_with_parent,
        )


_process: ModelProcess | None = None
_process_lock = threading.Lock()


def process_running(pid: int) -> bool:
    """Whether the process has not exited, read from /proc: Popen.poll() answers None for a dead
    child while the watchdog thread is inside Popen.wait() on it (they share a lock, and poll gives
    up instead of waiting), so a request right after a crash saw the child up and found the port
    closed ("All connection attempts failed"; seen under load in test_model_process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False  # exited and reaped
    except OSError:
        return True  # no /proc here: poll() is all there is
    # The state follows the command name, which is in parentheses and may hold spaces.
    return stat.rsplit(")", 1)[-1].split()[0] not in ("Z", "X")


def model_process(config: ModelProcessConfig) -> ModelProcess:
    """This web process's model child, created (not yet started) on the first call."""
    global _process
    with _process_lock:
        if _process is None:
            _process = ModelProcess(config)
            atexit.register(_process.stop)
        return _process


def reset_model_process() -> None:
    """Stop and forget this process's model child (tests)."""
    global _process
    with _process_lock:
        process, _process = _process, None
    if process is not None:
        process.stop()
