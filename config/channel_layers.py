"""The Redis pub/sub channel layer, opening sockets while Redis is down.

Every websocket consumer asks the layer for a channel of its own when it connects, and
``channels_redis``' pub/sub layer subscribes to it in Redis there and then: while Redis was down
that raised, and the handshake of every new socket failed with HTTP 500, although the default
``direct`` delivery needs no layer to answer (``TUTOR_SOCKET_DELIVERY``). Here a subscription that
fails at connect is logged and made again on the consumer's next wait for a message, every
``RESUBSCRIBE_EVERY_S``, until Redis answers; the socket works meanwhile. Nothing can be published
to a channel that no socket has subscribed yet, so nothing waits in it (as for any pub/sub
subscriber, a message published while it is unsubscribed is not delivered).
"""

import asyncio
import logging
import uuid
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer
from channels_redis.utils import _wrap_close
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# How often a socket opened during the outage tries to subscribe again: as often as channels_redis
# retries its own receive loop (1 s), so that it is subscribed about as soon as the sockets opened
# before the outage are resubscribed.
RESUBSCRIBE_EVERY_S = 1.0


class OutageTolerantPubSubLoopLayer(RedisPubSubLoopLayer):  # type: ignore[misc]
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._unsubscribed: set[str] = set()

    async def new_channel(self, prefix: str = "specific.") -> str:
        channel = f"{self.prefix}{prefix}{uuid.uuid4().hex}"
        try:
            await self._subscribe_to_channel(channel)
        except RedisError as exc:
            # The channel's queue exists (made before the subscription was tried); only Redis lacks it.
            logger.warning("Redis channel layer unreachable (%s): channel %s subscribes once it is back", exc, channel)
            self._unsubscribed.add(channel)
        return channel

    async def receive(self, channel: str) -> Any:
        try:
            while channel in self._unsubscribed:
                try:
                    await self._get_shard(channel).subscribe(channel)
                except RedisError:
                    await asyncio.sleep(RESUBSCRIBE_EVERY_S)
                else:
                    self._unsubscribed.discard(channel)
        except asyncio.CancelledError:
            # The consumer is leaving before Redis came back: forget the channel, as the parent does.
            self._unsubscribed.discard(channel)
            self.channels.pop(channel, None)
            raise
        return await super().receive(channel)


class OutageTolerantPubSubChannelLayer(RedisPubSubChannelLayer):  # type: ignore[misc]
    """``channels_redis.pubsub.RedisPubSubChannelLayer`` whose ``new_channel`` survives a Redis outage."""

    def _get_layer(self) -> OutageTolerantPubSubLoopLayer:
        # The parent's, with this module's loop layer (the parent names its class inline).
        loop = asyncio.get_running_loop()
        try:
            layer: OutageTolerantPubSubLoopLayer = self._layers[loop]
        except KeyError:
            layer = OutageTolerantPubSubLoopLayer(*self._args, **self._kwargs, channel_layer=self)
            self._layers[loop] = layer
            _wrap_close(self, loop)
        return layer
