"""Every rule a faulty Number Verification implementation could get wrong, as one typed switchboard.

The reference provider consults these flags instead of hard-wiring its rules, so a
deliberately faulty variant (``--fault NAME``) is a Behaviour with one flag flipped plus,
where needed, a response-rewriting middleware. The defaults are the correct behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class Behaviour:
    # -- access tokens at the API ----------------------------------------------------
    check_signature: bool = True          # reject tokens whose signature does not verify
    check_expiry: bool = True             # reject tokens past exp
    check_lifetime: bool = True           # reject tokens living longer than the version allows (or this server issues)
    check_audience: bool = True           # reject tokens issued for another resource server
    check_scope: bool = True              # 403 PERMISSION_DENIED when the operation's scope is missing
    require_network_auth: bool = True     # 403 ...USER_NOT_AUTHENTICATED_BY_MOBILE_NETWORK for tel: tokens
    single_use: bool = True               # a token works for one successful call, where the version demands it
    www_authenticate_header: bool = True  # 401 carries WWW-Authenticate: Bearer

    # -- token policy at the authorization server ------------------------------------
    token_lifetime_seconds: int | None = None  # None: the longest the served versions' profiles allow
    issue_refresh_tokens: bool = False    # refresh tokens with Number Verification scopes
    single_use_codes: bool = True         # an authorization code can be exchanged once
    check_redirect_uri: bool = True       # redirect_uri must be registered for the client
    identify_by_source_ip: bool = True    # off-network addresses get no code (False: any IP gets subscriber 0)
    reject_reused_assertion_jti: bool = True
    max_assertion_lifetime_seconds: int = 300
    max_client_assertion_lifetime_seconds: int = 300  # private_key_jwt client assertions: exp - iat at most this
    reject_scope_parameter_with_jwt_bearer: bool = True

    # -- CIBA -------------------------------------------------------------------------
    ciba_interval_seconds: int = 1        # minimum wait between polls announced to the client
    ciba_auth_delay_seconds: float = 0.0  # how long the simulated network takes to authenticate
    ciba_slow_down_increment: int = 5     # CIBA core 7.3: interval grows by at least 5 s after slow_down
    ciba_request_lifetime_seconds: int = 120

    # -- API request handling --------------------------------------------------------
    validate_body: bool = True            # contract-driven 400 INVALID_ARGUMENT on malformed bodies
    validate_x_correlator: bool = True    # 400 for an x-correlator breaking the pattern (where the profile says so)
    echo_x_correlator: bool = True        # a non-empty request x-correlator is echoed on every response
    hashed_case_insensitive: bool = True  # hashedPhoneNumber compared case-insensitively
    max_body_bytes: int = 16 * 1024       # bodies above this are refused before they are read

    def with_changes(self, **changes: Any) -> Behaviour:
        """A copy with ``changes``; unknown names raise TypeError (a typo must not pass silently)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown behaviour flag(s): {', '.join(unknown)}")
        return replace(self, **changes)


CORRECT = Behaviour()
