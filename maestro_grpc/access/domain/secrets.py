"""Token secrets: how they look, how they are made, and what the store keeps of them."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

PREFIX = "mae_"
# 32 random bytes, base64url without padding: 43 characters.
SECRET_BYTES = 32
SHOWN = len(PREFIX) + 4
_FORMAT = re.compile(r"^mae_[A-Za-z0-9_-]{43}$")


def new_secret() -> str:
    """A new token: "mae_" (so secret scanners can find leaked ones) and 32 random bytes."""
    raw = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).decode().rstrip("=")
    return PREFIX + raw


def looks_like_ours(secret: str) -> bool:
    return bool(_FORMAT.match(secret))


def digest(secret: str) -> str:
    """What the store keeps: the secret's SHA-256 (hex)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def shown_prefix(secret: str) -> str:
    """The characters lists show to tell tokens apart ("mae_AbC1")."""
    return secret[:SHOWN]
