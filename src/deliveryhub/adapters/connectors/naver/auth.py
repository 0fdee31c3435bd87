"""Naver Commerce API authentication: the bcrypt-signed client secret and a cached OAuth token.

client_secret_sign = base64(bcrypt(client_id + "_" + timestamp_ms, salt=client_secret)), as published
(raws/auth.md). The token request is ``POST /external/v1/oauth2/token`` (form: client_id, timestamp,
client_secret_sign, grant_type=client_credentials, type=SELF); the token is reused until shortly before
``expires_in`` runs out, and dropped on a 401 ``GW.AUTHN``.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

TOKEN_PATH = "/external/v1/oauth2/token"
_BCRYPT_ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
EXPIRY_MARGIN_S = 60.0


def _canonical_salt(secret: str) -> bytes:
    """The client secret as a bcrypt salt with the unused low bits of its last salt character cleared.

    Naver's secrets look like ``$2a$10$`` + 22 characters; jBCrypt/PHP ignore the 4 bits the 22nd character
    carries beyond the 128-bit salt, newer bcrypt libraries refuse them, so clear them as jBCrypt does."""
    parts = secret.split("$")
    if len(parts) == 4 and len(parts[3]) >= 22:
        salt = parts[3][:22]
        last = _BCRYPT_ALPHABET.find(salt[21])
        if last >= 0:
            salt = salt[:21] + _BCRYPT_ALPHABET[last & 0x30]
            return f"${parts[1]}${parts[2]}${salt}".encode()
    return secret.encode()


def client_secret_sign(client_id: str, client_secret: str, timestamp_ms: int) -> str:
    """The published signature: base64(bcrypt(client_id_timestamp, client_secret))."""
    import bcrypt  # dependency of this connector only

    hashed = bcrypt.hashpw(f"{client_id}_{timestamp_ms}".encode(), _canonical_salt(client_secret))
    return base64.b64encode(hashed).decode()


def verify_sign(client_id: str, client_secret: str, timestamp_ms: int, sign: str) -> bool:
    """Whether ``sign`` is the signature of (client_id, timestamp) under the secret (for test servers)."""
    return client_secret_sign(client_id, client_secret, timestamp_ms) == sign


@dataclass
class _Token:
    value: str
    expires_at: float


class TokenCache:
    """One access token per (base_url, client_id), reused until shortly before it expires."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._tokens: dict[tuple[str, str], _Token] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> str | None:
        """The cached token of ``key`` when it is still valid."""
        with self._lock:
            token = self._tokens.get(key)
            if token is None or token.expires_at <= self._clock():
                return None
            return token.value

    def put(self, key: tuple[str, str], value: str, expires_in: float) -> None:
        """Remember a token that expires in ``expires_in`` seconds."""
        with self._lock:
            ttl = max(expires_in - EXPIRY_MARGIN_S, min(expires_in, EXPIRY_MARGIN_S) / 2)
            self._tokens[key] = _Token(value, self._clock() + ttl)

    def drop(self, key: tuple[str, str]) -> None:
        """Forget the token of ``key`` (after a 401 GW.AUTHN)."""
        with self._lock:
            self._tokens.pop(key, None)


TOKENS = TokenCache()
