"""The seeded demo world: fictional subscribers on a simulated mobile network and one demo client.

Numbers come from Ofcom's drama range +44 7700 900xxx (reserved for fiction), IMSIs from
the test network MCC/MNC 001-01, device addresses from loopback aliases 127.0.0.2.. (Linux
routes all of 127/8 to lo, so a client "is" a device by binding to that address).
Every credential here is TEST-ONLY and published on purpose.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DEMO_KEYS_DIR = Path(__file__).resolve().parent / "demo_keys"
DEMO_CLIENT_ID = "nv-demo-client"
DEMO_CLIENT_SECRET = "nv-demo-client-secret-TEST-ONLY"  # noqa: S105 - published test-only credential
DEMO_REDIRECT_PATH = "/demo-callback"
# Loopback redirect URIs match on any port (RFC 8252 section 7.3), so one registration serves every port.
DEMO_REDIRECT_URIS = ("http://127.0.0.1/demo-callback", "http://localhost/demo-callback", "http://[::1]/demo-callback")
OFF_NETWORK_IP = "127.0.0.250"  # a loopback alias the simulated network does not know (Wi-Fi, VPN)
DEFAULT_PURPOSE = "dpv:FraudPreventionAndDetection"


@dataclass(frozen=True)
class DemoSubscriber:
    phone_number: str
    device_ip: str
    imsi: str
    operator_token: str  # long-lived TS.43 operator token seeded for this SIM (TEST-ONLY)


DEMO_SUBSCRIBERS: tuple[DemoSubscriber, ...] = tuple(
    DemoSubscriber(
        phone_number=f"+44770090000{n}",
        device_ip=f"127.0.0.{n + 1}",
        imsi=f"00101000000000{n}",
        operator_token=f"demo-optok-{n}-aW5zZWN1cmUtdGVzdC1vbmx5",
    )
    for n in range(1, 6)
)


@cache
def demo_client_private_jwk() -> dict[str, Any]:
    return json.loads((DEMO_KEYS_DIR / "demo-client.private.jwk.json").read_text(encoding="utf-8"))


@cache
def demo_client_public_jwk() -> dict[str, Any]:
    return json.loads((DEMO_KEYS_DIR / "demo-client.public.jwk.json").read_text(encoding="utf-8"))
