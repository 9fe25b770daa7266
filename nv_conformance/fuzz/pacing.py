"""Keeps a fuzz run polite to a live target: at most ``rate`` requests/s, and waits out 429s.

A 429 is retried after its ``Retry-After`` (seconds or HTTP date; exponential backoff when
absent) with a *fresh* token, because CAMARA tokens are single-use. No wait ever runs past the
run's deadline: then the 429 is returned as it is and the checks leave it unjudged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from requests.adapters import HTTPAdapter

MAX_429_RETRIES = 4
FIRST_BACKOFF_S = 1.0


class Pacer:
    """Hands out send slots at most ``rate`` per second across threads; never sleeps past ``deadline``."""

    def __init__(self, rate: float | None, deadline: float) -> None:
        self.interval = 1.0 / rate if rate else 0.0
        self.deadline = deadline  # time.monotonic() value
        self._next_slot = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot)
            self._next_slot = slot + self.interval
        delay = min(slot, self.deadline) - time.monotonic()
        if delay > 0:
            time.sleep(delay)

    def sleep_within_deadline(self, seconds: float) -> bool:
        """Sleep ``seconds`` unless that would cross the deadline (then return False at once)."""
        if time.monotonic() + seconds > self.deadline:
            return False
        time.sleep(seconds)
        return True


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds from now; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class PacedAdapter(HTTPAdapter):
    """A requests adapter that paces sends and retries 429s with a fresh Authorization header."""

    def __init__(
        self,
        pacer: Pacer,
        *,
        refresh_authorization: Callable[[object], None],
        on_rate_limited: Callable[[float | None], None],
    ) -> None:
        super().__init__()
        self.pacer = pacer
        self.refresh_authorization = refresh_authorization
        self.on_rate_limited = on_rate_limited

    def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]  # requests' own signature
        backoff = FIRST_BACKOFF_S
        for attempt in range(MAX_429_RETRIES + 1):
            self.pacer.wait()
            response = super().send(request, *args, **kwargs)
            if response.status_code != 429:
                return response
            delay = retry_after_seconds(response.headers.get("retry-after"))
            self.on_rate_limited(delay)
            wait = delay if delay is not None else backoff
            backoff *= 2
            if attempt == MAX_429_RETRIES or not self.pacer.sleep_within_deadline(wait):
                return response
            response.close()
            if "authorization" in {name.lower() for name in request.headers}:
                self.refresh_authorization(request)
        return response  # pragma: no cover - the loop always returns
