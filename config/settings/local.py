"""Default settings for a developer's or a school's single machine."""

from .base import *
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
