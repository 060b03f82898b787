"""The socket's events over a real Redis channel layer (both channels_redis layers)."""

import asyncio
import os
import uuid

import pytest
import redis
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from django.utils.module_loading import import_string

from config.asgi import application
from tutor.models import Message

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"
LAYERS = ["channels_redis.pubsub.RedisPubSubChannelLayer", "channels_redis.core.RedisChannelLayer"]


def _redis_reachable() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not _redis_reachable(), reason=f"no Redis at {REDIS_URL}"),
]


@pytest.mark.parametrize("backend", LAYERS)
async def test_group_send_reaches_every_member(backend):
    # given two channels in one group on a Redis layer
    layer = import_string(backend)(hosts=[REDIS_URL])
    group = f"tutor-test-{uuid.uuid4().hex}"
    first, second = await layer.new_channel(), await layer.new_channel()
    await layer.group_add(group, first)
    await layer.group_add(group, second)
    frame = {"type": "answer.frame", "frame": {"type": "sentence", "index": 0, "text": "Osmosis moves water."}}
    try:
        # when a frame is sent to the group
        await layer.group_send(group, frame)
        received = [await asyncio.wait_for(layer.receive(channel), timeout=5) for channel in (first, second)]
        # then each member receives it intact
        assert received == [frame, frame]
    finally:
        await layer.group_discard(group, first)
        await layer.group_discard(group, second)
        await layer.flush()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", LAYERS)
async def test_an_answer_streams_through_the_redis_layer(backend, settings, token, scripted_answers):
    # given frames delivered through a channel layer on Redis
    settings.TUTOR_SOCKET_DELIVERY = "channel_layer"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": backend, "CONFIG": {"hosts": [REDIS_URL]}}}
    assert type(channel_layers["default"]).__name__ == backend.rsplit(".", 1)[1]
    communicator = WebsocketCommunicator(application, "/ws/tutor/", subprotocols=["token", token])
    assert (await communicator.connect())[0] is True
    # when the student asks
    await communicator.send_json_to(
        {"type": "ask", "curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "redis-1"}
    )
    frames = [await communicator.receive_json_from(timeout=5) for _ in range(4)]
    # then every frame arrived in order through Redis
    message = await Message.objects.aget()
    assert [f["type"] for f in frames] == ["accepted", "sentence", "sentence", "done"]
    assert (frames[0]["message_id"], frames[-1]["message_id"]) == (message.pk, message.pk)
    await communicator.disconnect()
    await channel_layers["default"].flush()
