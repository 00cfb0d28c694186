"""Eight-character codes in Crockford's base32, for channels without deep links.

Shown as ABCD-EFGH; typed in any case, with or without the hyphen or spaces; O, I and L read
as 0, 1 and 1 as Crockford's alphabet intends. Only a code's SHA-256 is ever stored.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U
LENGTH = 8
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def derived_code(secret: bytes, purpose: str) -> str:
    """A code computed from a secret (not stored anywhere), e.g. per unit and link generation."""
    value = int.from_bytes(hmac.new(secret, purpose.encode(), hashlib.sha256).digest()[:5])
    return "".join(ALPHABET[(value >> shift) & 31] for shift in range(35, -1, -5))


def normalize(text: str) -> str | None:
    """The code a person meant, or None when `text` cannot be one."""
    cleaned = "".join(text.split()).replace("-", "").upper().translate(_READ_AS)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def digest(code: str, secret: bytes) -> str:
    """What is stored to look a code up: an HMAC under a secret kept out of the database, so a
    copy of the database (a backup) cannot recover 40-bit codes by trying them all."""
    return hmac.new(secret, f"code:{code}".encode(), hashlib.sha256).hexdigest()
