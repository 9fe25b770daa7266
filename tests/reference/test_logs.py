"""The server's log filter: nothing secret survives, not even percent-encoded in an access-log query string."""

from __future__ import annotations

import logging

from reference_impl.logs import RedactingFilter, redact_logged


def _access_line(path: str) -> str:
    """A record shaped like uvicorn's access log (its path and query arrive percent-encoded), as printed."""
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5000", "GET", path, "1.1", 302), None)
    assert RedactingFilter().filter(record)
    return record.getMessage()


def test_percent_encoded_operator_tokens_are_masked_in_the_access_log():
    line = _access_line("/authorize?client_id=c&login_hint=operatortoken%3Asupersecret-optok-123&state=s")
    assert "supersecret-optok-123" not in line
    assert "/authorize?client_id=c&login_hint=operatortoken:" in line and "state=s" in line
    twice = _access_line("/authorize?login_hint=operatortoken%253Asupersecret-optok-123")
    assert "supersecret-optok-123" not in twice


def test_decoding_for_redaction_cannot_forge_log_lines():
    line = _access_line("/authorize?login_hint=operatortoken%3Asecret-123%0AINFO%20forged&x=1")
    assert "secret-123" not in line and "\n" not in line


def test_lines_without_hidden_secrets_stay_as_they_were():
    for path in ("/authorize?scope=openid%20dpv%3AFraud&state=a%2Fb", "/number-verification/vwip/verify",
                 "/authorize?login_hint=tel%3A%2B447700900001"):
        assert redact_logged(path) == redact_logged(redact_logged(path))
    assert _access_line("/authorize?scope=openid%20dpv%3AFraud&state=a%2Fb").endswith(
        '"GET /authorize?scope=openid%20dpv%3AFraud&state=a%2Fb HTTP/1.1" 302')
    assert "447700900001" not in _access_line("/authorize?login_hint=tel%3A%2B447700900001")
