"""Keeps a fuzz run polite to a live target: at most ``rate`` requests/s, and waits out 429s.

Pacing happens before each send (schemathesis' ``before_call`` hook); a 429 is retried after its ``Retry-After`` (seconds or HTTP date; exponential backoff when
absent) with a *fresh* token, because CAMARA tokens are single-use. No wait ever runs past the
run's deadline: then the 429 is returned as it is and the checks leave it unjudged.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

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


class Retry429:
    """A requests response hook (``hooks={"response": [Retry429(...)]}``) that waits out 429s.

    requests lets a response hook return a replacement response; like requests' own digest auth,
    the retry is sent on the same connection adapter with the original send arguments.
    """

    def __init__(
        self,
        pacer: Pacer,
        *,
        refresh_authorization: Callable[[Any], None],
        on_rate_limited: Callable[[float | None], None],
    ) -> None:
        self.pacer = pacer
        self.refresh_authorization = refresh_authorization
        self.on_rate_limited = on_rate_limited

    def __call__(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        backoff = FIRST_BACKOFF_S
        for _attempt in range(MAX_429_RETRIES):
            if response.status_code != 429:
                return response
            delay = retry_after_seconds(response.headers.get("retry-after"))
            self.on_rate_limited(delay)
            wait = delay if delay is not None else backoff
            backoff *= 2
            if not self.pacer.sleep_within_deadline(wait):
                return response
            retry = response.request.copy()
            if any(name.lower() == "authorization" for name in retry.headers):
                self.refresh_authorization(retry)  # tokens are single-use: never resend one
            _ = response.content  # read and release the connection before reusing the adapter
            response.close()
            self.pacer.wait()
            response = response.connection.send(retry, **kwargs)
        return response
