"""Logging that cannot leak: every record of the server's loggers passes through nv_conformance.redact."""

from __future__ import annotations

import logging
from urllib.parse import quote, unquote

from nv_conformance.redact import redact

_MAX_DECODING_ROUNDS = 3
_KEEP_IN_URLS = "/?&=:;,+@!$'()*~[]"


def redact_logged(text: str) -> str:
    """``redact(text)``, also for secrets hidden by percent-encoding (``operatortoken%3A...`` in a query string).

    The access log shows paths and query strings still percent-encoded. When a decoded form holds
    something ``redact`` masks, the line shows that form masked and encoded again (so a ``%0A`` stays
    encoded and cannot forge a log line).
    """
    out = redact(text)
    decoded = out
    for _ in range(_MAX_DECODING_ROUNDS):
        if "%" not in decoded:
            break
        decoded = unquote(decoded)
        masked = redact(decoded)
        if masked != decoded:
            return quote(masked, safe=_KEEP_IN_URLS)
    return out


class RedactingFilter(logging.Filter):
    """Access-log lines carry query strings (login hints, codes) and errors may quote input: mask them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            if isinstance(record.args, dict):
                record.args = {k: redact_logged(v) if isinstance(v, str) else v for k, v in record.args.items()}
            else:
                record.args = tuple(redact_logged(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact_logged(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            # keep the traceback's shape, drop the exception's message (it may quote client input)
            exc_type = record.exc_info[0]
            record.exc_text = f"{exc_type.__name__ if exc_type else 'Exception'} (message redacted)"
            record.exc_info = None
        return True


def install(*logger_names: str) -> None:
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
