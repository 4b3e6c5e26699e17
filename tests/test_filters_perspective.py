"""filters.perspective against a local HTTP server that speaks Perspective's JSON.

Nothing here leaves the machine: the server listens on 127.0.0.1 on an
ephemeral port, every test sends a bounded number of requests (the client's
``max_retries`` bounds them), and proxy variables are cleared so loopback
requests go straight to it.
"""

import json
import pickle
import re
import socket
import threading
import time
import urllib.parse
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from filters import toxicity as tox
from filters.perspective import (
    DEFAULT_ENDPOINT,
    MAX_TEXT_BYTES,
    PerspectiveAuthError,
    PerspectiveScorer,
    parse_retry_after,
    truncate_utf8,
)
from filters.toxicity import ToxicityScorerError

KEY = "test-key-123"
PATH = "/v1alpha1/comments:analyze"


def summary(value, attribute="TOXICITY"):
    """A 200 body as Perspective sends it (span scores and detected languages included)."""
    return {
        "attributeScores": {
            attribute: {
                "spanScores": [{"begin": 0, "end": 10, "score": {"value": value, "type": "PROBABILITY"}}],
                "summaryScore": {"value": value, "type": "PROBABILITY"},
            }
        },
        "languages": ["en"],
        "detectedLanguages": ["en"],
    }


def google_error(code, status, message, **detail):
    error = {"code": code, "message": message, "status": status}
    if detail:
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", **detail}]
    return {"error": error}


class PerspectiveServer:
    """A Perspective stand-in: replays scripted replies, then scores by keyword; records every request."""

    def __init__(self):
        self.replies = []  # (status, headers, body: dict | bytes, delay_s), consumed in order
        self.requests = []  # (path, query, headers, body)
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                parsed = urllib.parse.urlsplit(self.path)
                with server.lock:
                    server.requests.append(
                        (parsed.path, urllib.parse.parse_qs(parsed.query), dict(self.headers), json.loads(raw))
                    )
                    reply = server.replies.pop(0) if server.replies else None
                if reply is None:
                    text = json.loads(raw)["comment"]["text"]
                    reply = (200, {}, summary(0.92 if "idiot" in text else 0.03), 0)
                status, headers, body, delay = reply
                if delay:
                    time.sleep(delay)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json; charset=UTF-8")
                    self.send_header("Content-Length", str(len(data)))
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.httpd.server_address[1]}{PATH}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def bodies(self):
        return [r[3] for r in self.requests]


@pytest.fixture
def server(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    srv = PerspectiveServer()
    yield srv
    srv.close()


def client(server, **kwargs):
    kwargs.setdefault("qps", 1000)
    kwargs.setdefault("backoff", 0.01)
    kwargs.setdefault("max_retries", 3)
    kwargs.setdefault("timeout", 5)
    return PerspectiveScorer(KEY, endpoint=server.endpoint, **kwargs)


# --- success ------------------------------------------------------------------------------


def test_scores_a_batch_in_order_with_the_documented_request(server):
    scorer = client(server, languages=["en"])
    texts = ["What a lovely garden.", "You absolute idiot.", "The meeting is on Tuesday."]
    assert scorer.score(texts) == [0.03, 0.92, 0.03]
    assert len(server.requests) == 3
    path, query, headers, body = server.requests[1]
    assert path == PATH and query == {"key": [KEY]}
    assert headers["Content-Type"].startswith("application/json")
    assert body == {
        "comment": {"text": "You absolute idiot."},
        "requestedAttributes": {"TOXICITY": {}},
        "languages": ["en"],
        "doNotStore": True,
    }


def test_languages_left_to_perspective_and_other_attributes(server):
    scorer = client(server, attribute="SEVERE_TOXICITY")
    server.replies.append((200, {}, summary(0.41, "SEVERE_TOXICITY"), 0))
    assert scorer.score(["hm"]) == [0.41]
    assert server.bodies[0] == {"comment": {"text": "hm"}, "requestedAttributes": {"SEVERE_TOXICITY": {}}, "doNotStore": True}
    assert scorer.version == "v1alpha1:SEVERE_TOXICITY"


def test_empty_text_needs_no_request_and_long_text_is_cut_to_the_api_limit(server):
    scorer = client(server)
    assert scorer.score(["", "  \n "]) == [0.0, 0.0]
    assert server.requests == []
    scorer.score(["é" * 30_000])  # 60,000 bytes
    sent = server.bodies[0]["comment"]["text"]
    assert sent == "é" * (MAX_TEXT_BYTES // 2)
    assert truncate_utf8("aé", 2) == "a"  # never half a character
    assert truncate_utf8("a\ud800b") == "a?b"  # a lone surrogate cannot break the body


def test_identity_pickling_and_the_default_endpoint(server):
    scorer = client(server)
    assert tox.scorer_info(scorer) == {"name": "perspective", "version": "v1alpha1:TOXICITY"}
    assert PerspectiveScorer(KEY, languages=["en", "de"]).version == "v1alpha1:TOXICITY:en,de"
    assert DEFAULT_ENDPOINT == tox.ToxicityTagConfig().perspective_endpoint
    assert isinstance(scorer, tox.ToxicityScorer)
    clone = pickle.loads(pickle.dumps(scorer))
    assert clone.score(["idiot"]) == [0.92]


def test_built_from_config_with_the_key_from_the_environment(server, monkeypatch):
    monkeypatch.setenv("PALMKIT_TEST_PERSPECTIVE_KEY", KEY)
    cfg = tox.ToxicityTagConfig(
        scorer="perspective",
        perspective_api_key_env="PALMKIT_TEST_PERSPECTIVE_KEY",
        perspective_endpoint=server.endpoint,
        perspective_languages=("en",),
        perspective_qps=1000,
        max_chunks=1,
        chunk_chars=20_000,
    )
    scorer = tox.scorer_from_config(cfg.scorer, cfg)
    assert isinstance(scorer, PerspectiveScorer)
    text = "A calm paragraph.\n\nAnd then: you idiot."
    assert tox.score_document(scorer, text, cfg) == 0.92
    assert server.requests[0][1] == {"key": [KEY]}
    assert server.bodies[0]["comment"]["text"] == text and server.bodies[0]["languages"] == ["en"]


def test_qps_spaces_requests(server):
    scorer = client(server, qps=10)
    start = time.monotonic()
    scorer.score(["a", "b", "c"])
    assert time.monotonic() - start >= 0.19  # two gaps of 0.1 s


# --- rate limiting and transient failures -----------------------------------------------------


def test_429_is_retried_after_the_time_retry_after_asks(server):
    server.replies.append((429, {"Retry-After": "1"}, google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"), 0))
    scorer = client(server, backoff=0.001)
    start = time.monotonic()
    assert scorer.score(["idiot"]) == [0.92]
    assert 1.0 <= time.monotonic() - start < 3.0
    assert len(server.requests) == 2


def test_503_is_retried_with_exponential_backoff(server):
    for _ in range(2):
        server.replies.append((503, {}, google_error(503, "UNAVAILABLE", "The service is currently unavailable."), 0))
    scorer = client(server, backoff=0.1)
    start = time.monotonic()
    assert scorer.score(["fine"]) == [0.03]
    assert time.monotonic() - start >= 0.3  # 0.1 + 0.2
    assert len(server.requests) == 3


def test_retry_after_is_capped_by_max_backoff(server):
    server.replies.append((429, {"Retry-After": "3600"}, b"", 0))
    start = time.monotonic()
    assert client(server, max_backoff=0.05).score(["ok"]) == [0.03]
    assert time.monotonic() - start < 1.0


def test_rate_limited_until_retries_run_out_is_a_clear_error(server):
    server.replies.extend([(429, {}, google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric"), 0)] * 5)
    with pytest.raises(ToxicityScorerError) as info:
        client(server, max_retries=2).score(["text"])
    message = str(info.value)
    assert len(server.requests) == 3
    assert "failed 3 times" in message and "HTTP 429 RESOURCE_EXHAUSTED: Quota exceeded" in message
    assert "\n" not in message and KEY not in message


def test_timeouts_and_refused_connections_are_retried_then_reported(server):
    server.replies.extend([(200, {}, summary(0.5), 1.0)] * 2)
    start = time.monotonic()
    with pytest.raises(ToxicityScorerError, match=r"failed 2 times, last: could not reach 127\.0\.0\.1:\d+: .*timed out"):
        client(server, timeout=0.2, max_retries=1).score(["slow"])
    assert time.monotonic() - start < 1.5

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = PerspectiveScorer(KEY, endpoint=f"http://127.0.0.1:{port}{PATH}", max_retries=1, backoff=0.01, qps=1000)
    with pytest.raises(ToxicityScorerError, match="could not reach 127.0.0.1"):
        refused.score(["hello"])


@pytest.mark.parametrize(
    "value, seconds",
    [("2", 2.0), (" 1.5 ", 1.5), ("-3", 0.0), ("soon", None), (None, None), ("nan", None)],
)
def test_parse_retry_after(value, seconds):
    assert parse_retry_after(value) == seconds


def test_parse_retry_after_http_date():
    now = 1_800_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0


# --- malformed responses --------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, message",
    [
        (b"<html><body>502 Bad Gateway</body></html>", "not JSON: '<html><body>502 Bad Gateway</body></html>'"),
        ({"attributeScores": {}}, "no attributeScores.TOXICITY.summaryScore.value (top-level keys: ['attributeScores'])"),
        ({"attributeScores": {"TOXICITY": {"summaryScore": {}}}}, "no attributeScores.TOXICITY.summaryScore.value"),
        ([1, 2], "no attributeScores.TOXICITY.summaryScore.value (top-level keys: list)"),
        (summary("0.5"), "summaryScore.value is '0.5', not a number in [0, 1]"),
        (summary(1.7), "summaryScore.value is 1.7, not a number in [0, 1]"),
        (summary(True), "summaryScore.value is True"),
    ],
)
def test_malformed_response_is_a_clear_error(server, body, message):
    server.replies.append((200, {}, body, 0))
    with pytest.raises(ToxicityScorerError) as info:
        client(server).score(["text"])
    assert "malformed Perspective response from 127.0.0.1:" in str(info.value)
    assert message in str(info.value)
    assert len(server.requests) == 1  # a malformed answer is not retried


# --- refusals ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, body, shown",
    [
        (400, google_error(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", reason="API_KEY_INVALID"),
         "HTTP 400 API_KEY_INVALID: API key not valid."),
        (403, google_error(403, "PERMISSION_DENIED", "Comment Analyzer API has not been used in project 12345 before or it is disabled."),
         "HTTP 403 PERMISSION_DENIED: Comment Analyzer API has not been used"),
        (401, b"", "HTTP 401: (empty body)"),
    ],
)
def test_auth_errors_are_clear_and_never_show_the_key(server, status, body, shown):
    server.replies.append((status, {}, body, 0))
    with pytest.raises(PerspectiveAuthError) as info:
        client(server).score(["text"])
    message = str(info.value)
    assert "refused the API key" in message and shown in message
    assert "check the key" in message
    assert KEY not in message and "\n" not in message
    assert len(server.requests) == 1  # a refused key is not retried


def test_a_key_echoed_by_the_server_is_masked(server):
    server.replies.append((404, {}, f"<html>Not found: {PATH}?key={KEY}</html>".encode(), 0))
    with pytest.raises(ToxicityScorerError) as info:
        client(server).score(["text"])
    assert KEY not in str(info.value) and "key=<key>" in str(info.value)


def test_other_refusals_are_reported_without_retrying(server):
    error = google_error(400, "INVALID_ARGUMENT", "Attribute TOXICITY does not support request languages: xx")
    error["error"]["details"] = [{"errorType": "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"}]
    server.replies.append((400, {}, error, 0))
    with pytest.raises(ToxicityScorerError) as info:
        client(server, languages=["xx"]).score(["text"])
    assert not isinstance(info.value, PerspectiveAuthError)
    assert re.search(r"answered HTTP 400 LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE: Attribute TOXICITY does not support", str(info.value))
    assert len(server.requests) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"api_key": " "}, "non-empty API key"),
        ({"endpoint": "ftp://example.invalid/x"}, "http(s) URL"),
        ({"qps": 0}, "qps > 0"),
    ],
)
def test_bad_construction_is_refused(kwargs, message):
    args = {"api_key": KEY, **kwargs}
    with pytest.raises(ToxicityScorerError, match=re.escape(message)):
        PerspectiveScorer(**args)
