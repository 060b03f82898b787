"""A paced stand-in for tutor_answer_create, for the socket benchmark only (bench/sockets_settings.py).

The benchmark measures the socket layer, not the tutor: this answers every question with
BENCH_SENTENCES verified sentences, one every BENCH_PACE_MS, the way the answer graph releases
them, and writes into each sentence the wall-clock time it was due. The client's receive time
minus that is the lateness the server, the channel layer and the socket added.
"""

import asyncio
import itertools
import os
import time

from tutor.events import Accepted, Citation, Done, SentenceReleased

SENTENCES = int(os.environ.get("BENCH_SENTENCES", "8"))
PACE_S = int(os.environ.get("BENCH_PACE_MS", "250")) / 1000
_message_ids = itertools.count(1)


async def tutor_answer_create(
    *, student, curriculum_slug: str, question: str, conversation_id=None, client_msg_id: str = "", on_event=None
):
    loop = asyncio.get_running_loop()
    message_id = next(_message_ids)
    await on_event(Accepted(message_id=message_id, conversation_id=0, client_msg_id=client_msg_id))
    start_loop, start_wall = loop.time(), time.time()
    for index in range(SENTENCES):
        await asyncio.sleep(max(0.0, start_loop + (index + 1) * PACE_S - loop.time()))
        due = start_wall + (index + 1) * PACE_S
        await on_event(
            SentenceReleased(
                index=index,
                text=f"Sentence {index} of a paced answer. due={due:.6f}",
                verdict="supported",
                citations=[Citation(chunk_id=index, topic="Bench", module="m0")],
            )
        )
    await on_event(Done(message_id=message_id, status="completed", timings={"total": time.time() - start_wall}))
