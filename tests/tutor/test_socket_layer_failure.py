"""A channel layer that fails mid-answer (its Redis down) costs the student no frame of the answer."""

import pytest
from channels.layers import InMemoryChannelLayer
from channels.testing import WebsocketCommunicator

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


class LayerFailingAfterTwoFrames(InMemoryChannelLayer):
    """Carries an answer's first two frames, then raises on every send, as a dead Redis does."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames_carried = 0

    async def send(self, channel, message):
        if message.get("type") == "answer.frame":
            if self.frames_carried == 2:
                raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
            self.frames_carried += 1
        await super().send(channel, message)


async def test_the_rest_of_the_answer_goes_to_the_socket_when_the_layer_fails(settings, token, scripted_answers):
    # given frames delivered through a channel layer that fails after the first two
    settings.TUTOR_SOCKET_DELIVERY = "channel_layer"
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": f"{__name__}.LayerFailingAfterTwoFrames"}}
    scripted_answers.sentences = ["Osmosis moves water.", "Water crosses membranes.", "Cells can swell."]
    scripted_answers.pace_s = 0.05  # sentences come seconds apart in a real answer
    communicator = WebsocketCommunicator(application, "/ws/tutor/", subprotocols=["token", token])
    assert (await communicator.connect())[0] is True

    # when the student asks
    await communicator.send_json_to(
        {"type": "ask", "curriculum": "biology", "question": "What is osmosis?", "client_msg_id": "layer-1"}
    )
    frames = [await communicator.receive_json_from(timeout=5) for _ in range(5)]

    # then every frame arrives, in order: two through the layer, the rest straight to the socket
    assert [f["type"] for f in frames] == ["accepted", "sentence", "sentence", "sentence", "done"]
    assert [f["text"] for f in frames[1:4]] == scripted_answers.sentences
    await communicator.disconnect()
