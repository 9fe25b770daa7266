"""Hand-built RunResults for the report tests, some deliberately full of secrets."""

from __future__ import annotations

from nv_conformance.results import CheckRecord, ExchangeRecord, Outcome, RunResult, ScenarioResult

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ0ZWw6KzQ0NzcwMDkwMDEyMyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
PHONE = "+447700900123"
OTHER_PHONE = "+34600111222"
OPERATOR_TOKEN = "opTok-9f8e7d6c5b4a"
PEM = (
    "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETSECRETSECRET\n"
    "-----END PRIVATE KEY-----"
)
OPAQUE_TOKEN = "opaque-access-token-Zx81"
CLIENT_SECRET = "client-secret-Qw12Er34"
HASHED = "a" * 6 + "0123456789abcdef" * 3 + "0123456789"  # 64 hex characters

# What must never appear in any report file.
FORBIDDEN = [
    JWT, JWT.split(".")[1], PHONE, PHONE[1:], "447700900123", "34600111222", OPERATOR_TOKEN, "SECRETSECRET",
    OPAQUE_TOKEN, CLIENT_SECRET, HASHED,
]


def leaky_exchange() -> ExchangeRecord:
    """An exchange whose record was NOT redacted by its producer: the writers must still catch everything."""
    return ExchangeRecord(
        method="POST",
        url=f"https://api.example.com/number-verification/vwip/verify?debug=tel:{PHONE}",
        request_headers={"Authorization": f"Bearer {OPAQUE_TOKEN}", "Content-Type": "application/json",
                         "x-correlator": "abc-123", "X-Debug": f"Bearer {JWT}"},
        request_body=f'{{"phoneNumber": "{PHONE}", "hashedPhoneNumber": "{HASHED}"}}',
        status=200,
        response_headers={"Content-Type": "application/json", "Set-Cookie": f"session={OPAQUE_TOKEN}"},
        response_body=(
            f'{{"devicePhoneNumberVerified": true, "echo": "{OTHER_PHONE}", "access_token": "{OPAQUE_TOKEN}", '
            f'"sub": "operatortoken:{OPERATOR_TOKEN}", "key": "{PEM}", "ctl": "\x07\x1b"}}'
        ),
        elapsed_ms=12.5,
        reproduce=(
            f"curl -X POST https://api.example.com/number-verification/vwip/verify -H 'Authorization: Bearer {JWT}' "
            f"-d '{{\"phoneNumber\": \"{PHONE}\"}}' -d client_secret={CLIENT_SECRET}"
        ),
    )


def scenario(name: str, outcome: Outcome, *, feature: str = "Number verification: verify", mandatory: bool = True,
             reason: str = "", exchanges: list[ExchangeRecord] | None = None, tag: str | None = None) -> ScenarioResult:
    return ScenarioResult(
        feature=feature,
        name=name,
        tags=[tag or f"phone_number_verify_{name.split()[0]}", "mandatory" if mandatory else "optional"],
        outcome=outcome,
        clauses=["vwip POST /verify 200 response schema", "Commonalities 0.6 x-correlator echo"],
        reason=reason,
        mandatory=mandatory,
        duration_s=0.031,
        checks=[
            CheckRecord("status is 200", "vwip POST /verify responses", True),
            CheckRecord("body matches schema", "vwip VerifyResponse", outcome != Outcome.FAILED,
                        f"unexpected property echo={OTHER_PHONE}"),
        ],
        exchanges=exchanges or [],
        location="features/verify.feature:12",
    )


def leaky_run() -> RunResult:
    """A failing run whose reasons, exchanges and options carry every kind of secret."""
    return RunResult(
        target="https://api.example.com/number-verification/vwip",
        api_version="vwip",
        kit_version="0.1.0",
        git_commit="0123456789abcdef0123456789abcdef01234567",
        started_at="2026-11-26T12:00:00+00:00",
        finished_at="2026-11-26T12:00:04+00:00",
        options={"config": "/etc/nv/target.yaml", "api_version": "vwip", "tags": ["not @slow"],
                 "test_data.phone_number": PHONE, "tokens": {"valid": "jwt-bearer"}, "client_secret": CLIENT_SECRET},
        scenarios=[
            scenario("01 verify a matching number", Outcome.PASSED),
            scenario("02 schema of the answer <script>alert(1)</script>", Outcome.FAILED,
                     reason=f"response body breaks the schema for {PHONE} with token {JWT} and {PEM}",
                     exchanges=[leaky_exchange(), leaky_exchange()]),
            scenario("03 token of another subscriber", Outcome.SKIPPED, reason=f"no other_phone_number ({OTHER_PHONE})"),
            scenario("04 optional lifetime", Outcome.SKIPPED, mandatory=False, reason="tokens.expired not configured"),
            scenario("05 broken definition", Outcome.DEFECTIVE, feature="Device phone number",
                     reason="pointer /components/schemas/Nope names nothing in the contract"),
        ],
        undefined_steps=[f'Given the phone number "{PHONE}" is used'],
    )


def clean_run(*, skipped_mandatory: bool = False) -> RunResult:
    scenarios = [scenario("01 verify a matching number", Outcome.PASSED),
                 scenario("02 optional one", Outcome.SKIPPED, mandatory=False, reason="not configured")]
    if skipped_mandatory:
        scenarios.append(scenario("03 needs other number", Outcome.SKIPPED, reason="test_data.other_phone_number not given"))
    return RunResult(target="http://127.0.0.1:8080/number-verification/v2", api_version="v2.1.0", kit_version="0.1.0",
                     git_commit="", started_at="2026-11-26T12:00:00+00:00", finished_at="2026-11-26T12:00:01+00:00",
                     scenarios=scenarios)
