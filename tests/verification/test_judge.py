import json
import math
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from llm.types import TokenLogprob
from verification.entailment.judge import LlmJudge, yes_probability
from verification.entailment.scorer import _mix


class _FakeOpenAI(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions like vLLM: 'Yes' with P(Yes)=0.8, P(No)=0.2 in top_logprobs."""

    requests: list[dict] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeOpenAI.requests.append(body)
        top = [
            {"token": "Yes", "logprob": math.log(0.8), "bytes": None},
            {"token": "No", "logprob": math.log(0.2), "bytes": None},
        ]
        payload = {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": body["model"],
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length",
                    "message": {"role": "assistant", "content": "Yes"},
                    "logprobs": {
                        "content": [{"token": "Yes", "logprob": math.log(0.8), "bytes": None, "top_logprobs": top}]
                    },
                }
            ],
        }
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def fake_server():
    server = HTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_judge_reads_yes_probability_from_logprobs(fake_server):
    # given a judge pointed at an OpenAI-compatible server
    judge = LlmJudge(base_url=fake_server, model="bespoke-minicheck", timeout_s=5)
    # when it judges a claim
    result = judge.judge(claim="Cells divide.", evidence="Cells divide by mitosis.")
    # then P(yes) is normalised over Yes/No, and the prompt carried document, claim and model
    assert result.error is None
    assert result.probability == pytest.approx(0.8)
    sent = _FakeOpenAI.requests[-1]
    assert sent["model"] == "bespoke-minicheck"
    assert sent["max_tokens"] == 1
    assert "Document: Cells divide by mitosis.\nClaim: Cells divide." in sent["messages"][0]["content"]


def test_judge_failure_is_reported_not_raised():
    # given nothing listening on the judge's port
    judge = LlmJudge(base_url="http://127.0.0.1:9/v1", model="m", timeout_s=0.5)
    # when it judges
    result = judge.judge(claim="c", evidence="e")
    # then the failure is an error string and no probability
    assert result.probability is None
    assert result.error is not None and "unreachable" in result.error


def test_judge_without_a_yes_or_no_candidate_reports_an_error():
    # given first-token candidates that are neither Yes nor No
    candidates = [TokenLogprob(token="Maybe", logprob=-0.1), TokenLogprob(token="The", logprob=-2.0)]
    # then no probability can be read from them
    assert yes_probability(candidates) is None
    # and Yes/No are matched case- and space-insensitively, normalised over the two
    both = [TokenLogprob(token=" yes", logprob=math.log(0.3)), TokenLogprob(token="NO", logprob=math.log(0.1))]
    assert yes_probability(both) == pytest.approx(0.75)


def test_judge_requires_a_base_url():
    with pytest.raises(ValueError, match="VERIFIER_JUDGE_BASE_URL"):
        LlmJudge(base_url="", model="m")


def test_mix_weights_the_judge_more():
    # given a confident judge and an unsure local score
    # then the mix leans to the judge and stays between them
    assert 0.5 < _mix(0.5, 0.9) < 0.9
    assert _mix(0.5, 0.9) == pytest.approx(1 / (1 + math.exp(-0.75 * math.log(9))))
