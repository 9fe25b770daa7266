"""Logging that cannot leak: every record of the server's loggers passes through nv_conformance.redact."""

from __future__ import annotations

import logging

from nv_conformance.redact import redact


class RedactingFilter(logging.Filter):
    """Access-log lines carry query strings (login hints, codes) and errors may quote input: mask them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            if isinstance(record.args, dict):
                record.args = {k: redact(v) if isinstance(v, str) else v for k, v in record.args.items()}
            else:
                record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
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
