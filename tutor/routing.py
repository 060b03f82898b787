"""Websocket URL routes."""

from django.urls import path

from .consumers import TutorConsumer

websocket_urlpatterns: list = [
    path("ws/tutor/", TutorConsumer.as_asgi(), name="ws-tutor"),
]
