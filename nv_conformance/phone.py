"""E.164 phone numbers as the Number Verification contracts define them, and their hashed form."""

from __future__ import annotations

import hashlib
import re

# The contracts' PhoneNumber pattern ^\+[1-9][0-9]{4,14}$, used with fullmatch (no trailing newline).
E164 = re.compile(r"\+[1-9][0-9]{4,14}")


def is_e164(value: object) -> bool:
    return isinstance(value, str) and E164.fullmatch(value) is not None


def sha256_hex(phone_number: str) -> str:
    """The hashedPhoneNumber of an E.164 number: SHA-256 of the number *including* the '+', lower-case hex."""
    return hashlib.sha256(phone_number.encode("utf-8")).hexdigest()
