"""Server settings for bench/bench_sockets.py: the app as deployed, the tutor replaced by a paced fake."""

from config.settings.local import *  # noqa: F403

DEBUG = False
TUTOR_ANSWER_BACKEND = "bench.paced_tutor.tutor_answer_create"
# Every simulated student asks once per run; the limit is not what is measured.
TUTOR_SOCKET_ASK_RATE = "1000/min"
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
