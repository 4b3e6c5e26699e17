"""Google's Perspective API as a ``ToxicityScorer``, with the standard library only.

PaLM 2 scored its pre-training data with a fixed version of Perspective. The
public API cannot be pinned: it serves whatever model Google runs that day,
so ``version`` names the API path and attribute (``"v1alpha1:TOXICITY"``) and
two runs with the same version string may still differ; keep the date of a
run with its stats.

One request per text (the API has no batch call):

    POST {endpoint}?key=KEY
    {"comment": {"text": "..."}, "requestedAttributes": {"TOXICITY": {}},
     "languages": ["en"], "doNotStore": true}

    200 {"attributeScores": {"TOXICITY": {"summaryScore": {"value": 0.83, ...}, ...}}, ...}

``doNotStore`` asks Google to delete the text once scored: pre-training data
is not Perspective's to keep. ``languages`` is sent only when given;
otherwise Perspective detects the language and answers HTTP 400 for one its
attribute does not support, which is raised like any other refusal.

Being a good client, and failing clearly:

* ``qps`` spaces requests at least ``1/qps`` seconds apart in this process
  (the default quota is 1 request a second per project; with several
  workers, give each ``quota / workers``).
* HTTP 429 and 5xx (500, 502, 503, 504) and network errors are retried up to
  ``max_retries`` times, waiting ``backoff * 2**attempt`` seconds, or what
  the ``Retry-After`` header asks (seconds or an HTTP date), at most
  ``max_backoff``.
* A refused key (HTTP 401, 403, or Google's HTTP 400 ``API_KEY_INVALID``)
  raises ``PerspectiveAuthError``; any other error status, a body that is not
  JSON, or one without ``attributeScores.<ATTR>.summaryScore.value`` in
  [0, 1] raises ``ToxicityScorerError``. Messages are one line and never
  contain the key (the URL that carries it is never printed).
* Texts longer than the API's limit (20,480 bytes of UTF-8) are cut at a
  character boundary; empty texts score 0.0 without a request (the API
  refuses them).
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from http.client import HTTPException
from typing import Any, Mapping

from filters.toxicity import ToxicityScorerError

__all__ = [
    "DEFAULT_ENDPOINT",
    "MAX_TEXT_BYTES",
    "RETRY_STATUSES",
    "PerspectiveAuthError",
    "PerspectiveScorer",
    "truncate_utf8",
    "parse_retry_after",
]

DEFAULT_ENDPOINT = "https://commentanalyzer.googleapis.com/v1alpha1/comments:analyze"
MAX_TEXT_BYTES = 20_480
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_API_VERSION = re.compile(r"/(v\d+[a-z0-9]*)/")


class PerspectiveAuthError(ToxicityScorerError):
    """Perspective refused the API key (wrong key, API not enabled for its project, key restricted)."""


def truncate_utf8(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, never inside a character.

    Unencodable code points (lone surrogates from broken input) become ``?``
    so the request body is always valid UTF-8.
    """
    data = text.encode("utf-8", "replace")
    return data[:limit].decode("utf-8", "ignore")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: ``"2"``, ``"1.5"`` or an HTTP date.

    None when the header is absent or unreadable; a date in the past gives 0.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        current = datetime.now(timezone.utc).timestamp() if now is None else now
        return max(0.0, when.timestamp() - current)
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_detail(body: bytes) -> tuple[str, str]:
    """(kind, message) from a Google API error body, e.g. ``("API_KEY_INVALID", "API key not valid...")``."""
    try:
        error = json.loads(body.decode("utf-8"))["error"]
        message = str(error.get("message") or "")
        kinds = [str(d.get("reason") or d.get("errorType") or "") for d in error.get("details") or [] if isinstance(d, Mapping)]
        kind = next((k for k in kinds if k), str(error.get("status") or ""))
        return kind, _one_line(message)
    except (ValueError, UnicodeDecodeError, KeyError, TypeError, AttributeError):
        return "", _one_line(body.decode("utf-8", "replace")) or "(empty body)"


class PerspectiveScorer:
    """Perspective API scores, one request per text, throttled and retried.

    ``attribute`` is any Perspective attribute (``TOXICITY``,
    ``SEVERE_TOXICITY``, ...); its summary score is the result.
    ``languages``: ISO 639-1 codes sent with every request, or None to let
    Perspective detect them. ``timeout`` bounds each request in seconds.
    """

    name = "perspective"

    def __init__(
        self,
        api_key: str,
        endpoint: str = DEFAULT_ENDPOINT,
        attribute: str = "TOXICITY",
        languages: list[str] | None = None,
        qps: float = 1.0,
        max_retries: int = 5,
        timeout: float = 30.0,
        backoff: float = 1.0,
        max_backoff: float = 64.0,
    ) -> None:
        if not isinstance(api_key, str) or not api_key.strip():
            raise ToxicityScorerError("the Perspective scorer needs a non-empty API key")
        if not endpoint.startswith(("https://", "http://")):
            raise ToxicityScorerError(f"Perspective endpoint must be an http(s) URL, got {endpoint!r}")
        if not (qps > 0 and timeout > 0 and max_retries >= 0 and backoff >= 0 and max_backoff >= 0):
            raise ToxicityScorerError("Perspective scorer needs qps > 0, timeout > 0, max_retries >= 0, backoff >= 0")
        self.api_key = api_key.strip()
        self.endpoint = endpoint
        self.attribute = attribute
        self.languages = list(languages) if languages else None
        self.qps = float(qps)
        self.max_retries = int(max_retries)
        self.timeout = float(timeout)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.host = urllib.parse.urlsplit(endpoint).netloc
        self._init_runtime()

    def _init_runtime(self) -> None:
        self._lock = threading.Lock()
        self._next_slot = 0.0
        self._opener = urllib.request.build_opener()  # honours HTTPS_PROXY / NO_PROXY

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        for name in ("_lock", "_next_slot", "_opener"):
            state.pop(name)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_runtime()

    @property
    def version(self) -> str:
        """``"v1alpha1:TOXICITY"`` (plus ``":en,de"`` when languages are fixed)."""
        match = _API_VERSION.search(urllib.parse.urlsplit(self.endpoint).path + "/")
        version = f"{match.group(1) if match else 'unversioned'}:{self.attribute}"
        return version + (f":{','.join(self.languages)}" if self.languages else "")

    # -- the request and the response ------------------------------------------------

    def request_body(self, text: str) -> dict[str, Any]:
        """The JSON object sent for ``text`` (already truncated)."""
        body: dict[str, Any] = {
            "comment": {"text": text},
            "requestedAttributes": {self.attribute: {}},
            "doNotStore": True,
        }
        if self.languages:
            body["languages"] = list(self.languages)
        return body

    def parse_response(self, raw: bytes) -> float:
        """The summary score in a 200 response body; ``ToxicityScorerError`` when it has none."""
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ToxicityScorerError(
                f"malformed Perspective response from {self.host}: not JSON: {_one_line(raw.decode('utf-8', 'replace'), 80)!r}"
            ) from None
        path = f"attributeScores.{self.attribute}.summaryScore.value"
        try:
            value = payload["attributeScores"][self.attribute]["summaryScore"]["value"]
        except (KeyError, TypeError):
            keys = sorted(payload) if isinstance(payload, dict) else type(payload).__name__
            raise ToxicityScorerError(f"malformed Perspective response from {self.host}: no {path} (top-level keys: {keys})") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (math.isfinite(value) and 0.0 <= value <= 1.0):
            raise ToxicityScorerError(f"malformed Perspective response from {self.host}: {path} is {value!r}, not a number in [0, 1]")
        return float(value)

    # -- scoring ------------------------------------------------------------------------

    def score(self, texts: list[str]) -> list[float]:
        """One score per text, in order; requests are sent one after another."""
        return [self.score_text(text) for text in texts]

    def score_text(self, text: str) -> float:
        text = truncate_utf8(text)
        if not text.strip():
            return 0.0
        data = json.dumps(self.request_body(text), ensure_ascii=False).encode("utf-8")
        return self.parse_response(self._post_with_retries(data))

    def _url(self) -> str:
        separator = "&" if urllib.parse.urlsplit(self.endpoint).query else "?"
        return f"{self.endpoint}{separator}{urllib.parse.urlencode({'key': self.api_key})}"

    def _throttle(self) -> None:
        with self._lock:
            now = time.monotonic()
            wait = self._next_slot - now
            self._next_slot = max(now, self._next_slot) + 1.0 / self.qps
        if wait > 0:
            time.sleep(wait)

    def _post(self, data: bytes) -> tuple[int, Any, bytes]:
        request = urllib.request.Request(
            self._url(),
            data=data,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"},
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as err:
            with err:
                return err.code, err.headers, err.read()

    def _scrub(self, text: str) -> str:
        """``text`` with the API key masked: an error page may echo the URL that carries it."""
        return text.replace(self.api_key, "<key>")

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        asked = parse_retry_after(retry_after)
        delay = asked if asked is not None else self.backoff * 2**attempt
        return min(delay, self.max_backoff)

    def _post_with_retries(self, data: bytes) -> bytes:
        failure = ""
        for attempt in range(self.max_retries + 1):
            self._throttle()
            try:
                status, headers, body = self._post(data)
            except (urllib.error.URLError, TimeoutError, ConnectionError, HTTPException) as err:
                reason = getattr(err, "reason", None) or err
                failure = f"could not reach {self.host}: {self._scrub(_one_line(str(reason) or type(reason).__name__))}"
                delay = self._delay(attempt, None)
            else:
                if status == 200:
                    return body
                kind, message = _error_detail(body)
                message = self._scrub(message)
                what = f"HTTP {status} {kind}".rstrip()
                if status in (401, 403) or kind == "API_KEY_INVALID":
                    raise PerspectiveAuthError(
                        f"Perspective API at {self.host} refused the API key ({what}: {message}); "
                        "check the key and that the Perspective API is enabled for its project"
                    )
                if status not in RETRY_STATUSES:
                    raise ToxicityScorerError(f"Perspective API at {self.host} answered {what}: {message}")
                failure = f"{what}: {message}"
                delay = self._delay(attempt, headers.get("Retry-After") if headers is not None else None)
            if attempt < self.max_retries:
                time.sleep(delay)
        raise ToxicityScorerError(f"Perspective API at {self.host} failed {self.max_retries + 1} times, last: {failure}")
