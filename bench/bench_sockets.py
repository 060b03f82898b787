"""Socket delivery under load: N students streaming answers at once through a real uvicorn server.

One uvicorn process serves config.asgi with the tutor replaced by a paced fake (bench/paced_tutor.py:
each answer is BENCH_SENTENCES sentences, one every BENCH_PACE_MS). This process opens N real
websocket connections (token auth), every student asks once (the asks spread over one pace
interval), and each sentence's lateness is its receive time minus the time the fake had it due.
Lost = sentences (or the final "done") that never arrived. Delivery paths compared in one run:
straight to the socket, and through the in-memory layer, channels_redis' pub/sub layer and its
list-based core layer. Loopback only.

    nice -n 10 .venv/bin/python bench/bench_sockets.py [--streams 100 200 500]
        [--layers direct memory redis-pubsub redis-core]

Writes bench/results/sockets.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# Delivery paths: straight to the socket, or through each channel layer (TUTOR_SOCKET_DELIVERY).
VIA_LAYER = {"TUTOR_SOCKET_DELIVERY": "channel_layer"}
LAYERS = {
    "direct": {"TUTOR_SOCKET_DELIVERY": "direct"},
    "memory": VIA_LAYER,
    "redis-pubsub": {**VIA_LAYER, "CHANNEL_LAYER_BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer"},
    "redis-core": {**VIA_LAYER, "CHANNEL_LAYER_BACKEND": "channels_redis.core.RedisChannelLayer"},
}
REDIS_LAYERS = ("redis-pubsub", "redis-core")
REDIS_URL = "redis://127.0.0.1:6379/13"  # a database of its own, flushed before each Redis run
HANDSHAKES_AT_ONCE = 50  # students connect in waves; a real class does not open 500 sockets in 1 ms
STREAM_TIMEOUT_S = 60.0
_DUE = re.compile(r"due=(\d+\.\d+)")


@dataclass
class StreamResult:
    lateness_s: list[float] = field(default_factory=list)
    sentences: set[int] = field(default_factory=set)
    done: bool = False
    error: str = ""


@dataclass(frozen=True)
class RunResult:
    layer: str
    streams: int
    frames: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    lost: int
    failed_streams: int
    wall_s: float


def prepare_database(path: Path, students: int) -> list[str]:
    """A SQLite file with one curriculum, N enrolled students and their tokens; returns the tokens."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.sockets_settings"
    os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from curriculum.models import Curriculum, Enrollment

    call_command("migrate", verbosity=0)
    curriculum = Curriculum.objects.create(slug="bench", title="Bench")
    users = get_user_model().objects.bulk_create(
        [get_user_model()(username=f"bench{n}", password="!") for n in range(students)]
    )
    Enrollment.objects.bulk_create([Enrollment(student=u, curriculum=curriculum) for u in users])
    tokens = Token.objects.bulk_create([Token(user=u, key=Token.generate_key()) for u in users])
    return [t.key for t in tokens]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(*, layer: str, db_path: Path, port: int, sentences: int, pace_ms: int) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("REDIS_URL", "CHANNEL_LAYER_BACKEND", "CELERY_BROKER_URL", "TUTOR_SOCKET_DELIVERY")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="bench.sockets_settings",
        DATABASE_URL=f"sqlite:///{db_path}",
        BENCH_SENTENCES=str(sentences),
        BENCH_PACE_MS=str(pace_ms),
        **LAYERS[layer],
    )
    if layer in REDIS_LAYERS:
        import redis

        redis.Redis.from_url(REDIS_URL).flushdb()
        env["REDIS_URL"] = REDIS_URL
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "websockets",
            "--log-level",
            "warning",
            "--backlog",
            "4096",
        ],
        cwd=REPO,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("uvicorn did not start")


@dataclass
class Handshakes:
    pending: int
    all_tried: asyncio.Event = field(default_factory=asyncio.Event)

    def tried(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.all_tried.set()


async def one_student(
    url: str,
    token: str,
    handshakes: Handshakes,
    gate: asyncio.Semaphore,
    start: asyncio.Event,
    delay_s: float,
    result: StreamResult,
) -> None:
    import websockets

    try:
        try:
            async with gate:
                ws = await websockets.connect(
                    url, subprotocols=["token", token], open_timeout=60, ping_interval=None, max_queue=None
                )
        finally:
            handshakes.tried()
        async with ws:
            await start.wait()
            await asyncio.sleep(delay_s)
            await ws.send(
                json.dumps({"type": "ask", "curriculum": "bench", "question": "Q?", "client_msg_id": token[:16]})
            )
            async with asyncio.timeout(STREAM_TIMEOUT_S):
                async for raw in ws:
                    received = time.time()
                    frame = json.loads(raw)
                    if frame["type"] == "sentence":
                        result.sentences.add(frame["index"])
                        result.lateness_s.append(received - float(_DUE.search(frame["text"]).group(1)))
                    elif frame["type"] == "done":
                        result.done = True
                        return
                    elif frame["type"] == "error":
                        result.error = frame["code"]
                        return
    except Exception as exc:  # noqa: BLE001 - a stream that fails is counted, not fatal to the run
        result.error = type(exc).__name__


async def run_streams(*, port: int, tokens: list[str], pace_ms: int) -> tuple[list[StreamResult], float]:
    url = f"ws://127.0.0.1:{port}/ws/tutor/"
    gate, start, handshakes = asyncio.Semaphore(HANDSHAKES_AT_ONCE), asyncio.Event(), Handshakes(pending=len(tokens))
    results = [StreamResult() for _ in tokens]
    spread = pace_ms / 1000
    tasks = [
        asyncio.create_task(one_student(url, t, handshakes, gate, start, spread * i / len(tokens), r))
        for i, (t, r) in enumerate(zip(tokens, results, strict=True))
    ]
    # Everyone connects first, then the asks go out: the measurement is of streaming, not of handshakes.
    await handshakes.all_tried.wait()
    await asyncio.sleep(0.5)
    began = time.monotonic()
    start.set()
    await asyncio.gather(*tasks)
    return results, time.monotonic() - began


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(*, layer: str, streams: int, tokens: list[str], db_path: Path, sentences: int, pace_ms: int) -> RunResult:
    port = free_port()
    server = start_server(layer=layer, db_path=db_path, port=port, sentences=sentences, pace_ms=pace_ms)
    try:
        results, wall = asyncio.run(run_streams(port=port, tokens=tokens[:streams], pace_ms=pace_ms))
    finally:
        server.terminate()
        server.wait(timeout=30)
    lateness = [x for r in results for x in r.lateness_s]
    lost = sum(sentences - len(r.sentences) + (0 if r.done else 1) for r in results)
    return RunResult(
        layer=layer,
        streams=streams,
        frames=len(lateness),
        p50_ms=1000 * statistics.median(lateness) if lateness else float("nan"),
        p99_ms=1000 * percentile(lateness, 0.99) if lateness else float("nan"),
        max_ms=1000 * max(lateness) if lateness else float("nan"),
        lost=lost,
        failed_streams=sum(1 for r in results if r.error or not r.done),
        wall_s=wall,
    )


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores visible, Python {platform.python_version()}, {platform.system()}"


def commit() -> str:
    sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "tutor", "config", "bench"], cwd=REPO, capture_output=True, text=True
    ).stdout
    return sha.strip() + (" (with uncommitted changes)" if dirty.strip() else "")


def report(rows: list[RunResult], *, sentences: int, pace_ms: int, nice: int, load: tuple[float, float]) -> str:
    lines = [
        "## Socket delivery: concurrent answer streams",
        "",
        f"- Date: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; commit {commit()}",
        f"- Machine: {machine()}; server and clients share it (niceness {nice}), loopback only; "
        f"1-minute load average {load[0]:.1f} at the start, {load[1]:.1f} at the end",
        "- Paths: `direct` = the answer task writes to its socket (TUTOR_SOCKET_DELIVERY=direct); the others "
        "send every frame through that channel layer to the socket's channel",
        f"- Load: each student asks once over a real websocket (token auth) and receives {sentences} sentences "
        f"released every {pace_ms} ms by a paced fake tutor (bench/paced_tutor.py), asks spread over one pace interval",
        "- Lateness: client receive time minus the time the fake had the sentence due (server, channel layer, "
        "socket and client together); lost: sentences or final `done` frames that never arrived",
        "",
        "| layer | streams | sentences received | p50 lateness (ms) | p99 lateness (ms) | max (ms) | lost "
        "| failed streams |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.layer} | {r.streams} | {r.frames} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.max_ms:.1f} | {r.lost} "
            f"| {r.failed_streams} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[100, 200, 500])
    parser.add_argument("--layers", nargs="+", choices=list(LAYERS), default=list(LAYERS))
    parser.add_argument("--sentences", type=int, default=8)
    parser.add_argument("--pace-ms", type=int, default=250)
    parser.add_argument("--output", type=Path, default=REPO / "bench" / "results" / "sockets.md")
    args = parser.parse_args()

    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="veritutor-bench-sockets-") as tmp:
        db_path = Path(tmp) / "bench.sqlite3"
        tokens = prepare_database(db_path, max(args.streams))
        rows = []
        # Interleaved by size so that drifting machine load hits every layer alike.
        for streams in args.streams:
            for layer in args.layers:
                row = measure(
                    layer=layer,
                    streams=streams,
                    tokens=tokens,
                    db_path=db_path,
                    sentences=args.sentences,
                    pace_ms=args.pace_ms,
                )
                print(
                    f"{layer:>13} {streams:>4} streams: p50 {row.p50_ms:6.1f} ms  p99 {row.p99_ms:6.1f} ms  "
                    f"max {row.max_ms:6.1f} ms  lost {row.lost}  failed {row.failed_streams}  ({row.wall_s:.1f} s)",
                    flush=True,
                )
                rows.append(row)
    text = report(
        rows, sentences=args.sentences, pace_ms=args.pace_ms, nice=os.nice(0), load=(load_start, os.getloadavg()[0])
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text("# Socket benchmark\n\n" + text)
    print(text)


if __name__ == "__main__":
    main()
