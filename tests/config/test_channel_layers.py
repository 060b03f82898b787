"""The outage-tolerant pub/sub channel layer (config/channel_layers.py): a socket's channel is made
while Redis is down (the handshake no longer fails) and is subscribed once Redis answers."""

import asyncio
import logging
import os
import socket

import pytest
import redis
from channels_redis.pubsub import RedisPubSubChannelLayer, RedisSingleShardConnection

from config.channel_layers import OutageTolerantPubSubChannelLayer

LIVE_REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15"


def _live_redis() -> bool:
    try:
        return bool(redis.Redis.from_url(LIVE_REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def _dead_redis_url() -> str:
    """A loopback port nothing listens on: every connection is refused, as with a killed Redis."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"


async def test_channels_redis_own_layer_cannot_make_a_channel_while_redis_is_down():
    # given channels_redis' pub/sub layer on a Redis that refuses connections
    layer = RedisPubSubChannelLayer(hosts=[_dead_redis_url()])
    # when a consumer asks for its channel, as every websocket does when it connects
    # then it raises (the handshake answered 500 before this module)
    with pytest.raises(redis.ConnectionError):
        await layer.new_channel()
    await layer.flush()


async def test_a_channel_is_made_while_redis_is_down_and_the_outage_logged(caplog):
    # given the tolerant layer on a Redis that refuses connections
    layer = OutageTolerantPubSubChannelLayer(hosts=[_dead_redis_url()])
    caplog.set_level(logging.WARNING, logger="config.channel_layers")
    # when a consumer asks for its channel
    channel = await layer.new_channel()
    # then it gets one, unsubscribed in Redis, and a warning says so
    assert channel.startswith("asgispecific.")  # channels_redis' naming: prefix "asgi", no dot
    assert layer._get_layer()._unsubscribed == {channel}
    assert [(r.name, r.levelname) for r in caplog.records] == [("config.channel_layers", "WARNING")]
    assert caplog.records[0].getMessage().endswith(f"channel {channel} subscribes once it is back")
    await layer.flush()


async def test_a_consumer_leaving_before_redis_returns_leaves_nothing_behind():
    # given a channel made while Redis is down, its consumer waiting for a message
    layer = OutageTolerantPubSubChannelLayer(hosts=[_dead_redis_url()])
    channel = await layer.new_channel()
    waiting = asyncio.ensure_future(layer.receive(channel))
    await asyncio.sleep(0.1)
    # when the consumer leaves (channels cancels its receive)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # then the layer forgets the channel
    loop_layer = layer._get_layer()
    assert (loop_layer.channels, loop_layer._unsubscribed) == ({}, set())
    await layer.flush()


@pytest.mark.skipif(not _live_redis(), reason=f"no Redis at {LIVE_REDIS_URL}")
async def test_a_channel_made_during_an_outage_is_subscribed_once_redis_answers_and_receives(monkeypatch):
    # given the tolerant layer on a live Redis whose first subscription fails, as during an outage
    monkeypatch.setattr("config.channel_layers.RESUBSCRIBE_EVERY_S", 0.05)
    subscribe = RedisSingleShardConnection.subscribe
    failures = [redis.ConnectionError("Connection refused.")]

    async def subscribe_failing_first(shard: RedisSingleShardConnection, channel: str) -> None:
        if failures:
            raise failures.pop()
        await subscribe(shard, channel)

    monkeypatch.setattr(RedisSingleShardConnection, "subscribe", subscribe_failing_first)
    layer = OutageTolerantPubSubChannelLayer(hosts=[LIVE_REDIS_URL])
    channel = await layer.new_channel()
    try:
        # when its consumer waits for a message and one is sent once Redis answers
        waiting = asyncio.ensure_future(layer.receive(channel))
        probe = redis.Redis.from_url(LIVE_REDIS_URL)
        for _ in range(100):  # until Redis itself counts the subscriber (5 s at most)
            if probe.pubsub_numsub(channel) == [(channel.encode(), 1)]:
                break
            await asyncio.sleep(0.05)
        await layer.send(channel, {"type": "answer.frame", "frame": {"type": "done"}})
        # then the channel is subscribed and the message arrives
        assert await asyncio.wait_for(waiting, timeout=5) == {"type": "answer.frame", "frame": {"type": "done"}}
        assert layer._get_layer()._unsubscribed == set()
    finally:
        await layer.flush()
