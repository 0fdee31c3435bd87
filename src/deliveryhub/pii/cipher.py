"""Envelope encryption of personal data (AES-256-GCM) with per-customer data keys and a blind index.

master key (env or 0600 key file, or a KMS port)  →  wraps key-encryption keys (table data_keys, rotatable)
key-encryption key                                 →  wraps each customer's data key (customers.dek_wrapped)
customer data key                                  →  encrypts that customer's fields
Dropping a customer's data key crypto-shreds their fields. The blind-index key is derived from the
master key, so phone lookup survives key rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE = 12
FORMAT = b"\x01"


class KeyError_(Exception):
    """A key is missing, malformed or cannot unwrap what it should."""


class MasterKeyProvider(Protocol):
    """Port for the root of trust: env var, key file, or an external KMS."""

    def wrap(self, plaintext: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, blob: bytes, aad: bytes) -> bytes: ...

    def derive(self, purpose: str) -> bytes: ...


@dataclass
class LocalMasterKey:
    """A 32-byte master key held in process memory (from env or file)."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != 32:
            raise KeyError_("the master key must be 32 bytes (base64 of 32 random bytes)")

    def wrap(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt a key under the master key."""
        return seal(self.key, plaintext, aad)

    def unwrap(self, blob: bytes, aad: bytes) -> bytes:
        """Decrypt a key wrapped by `wrap`."""
        return open_(self.key, blob, aad)

    def derive(self, purpose: str) -> bytes:
        """A purpose-bound sub-key (HKDF-SHA256)."""
        return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose.encode()).derive(self.key)


def load_master_key(
    env_value: str | None, key_file: Path | None, data_dir: Path, *, create: bool
) -> LocalMasterKey:
    """The master key from DELIVERYHUB_MASTER_KEY, else a key file (created 0600 when allowed)."""
    if env_value:
        try:
            raw = base64.b64decode(env_value, validate=True)
        except ValueError as exc:
            raise KeyError_("DELIVERYHUB_MASTER_KEY is not valid base64") from exc
        return LocalMasterKey(raw)
    path = key_file or data_dir / "master.key"
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise KeyError_(f"{path} must not be readable by group or others (chmod 600)")
        return LocalMasterKey(base64.b64decode(path.read_text().strip()))
    if not create:
        raise KeyError_(f"no master key: set DELIVERYHUB_MASTER_KEY or create {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
    return LocalMasterKey(base64.b64decode(path.read_text().strip()))


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """AES-256-GCM: format byte | nonce | ciphertext+tag, bound to `aad`."""
    nonce = os.urandom(NONCE)
    return FORMAT + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def open_(key: bytes, blob: bytes, aad: bytes) -> bytes:
    """Inverse of `seal`; raises KeyError_ when the key or the binding is wrong."""
    if not blob or blob[:1] != FORMAT:
        raise KeyError_("unknown ciphertext format")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + NONCE], blob[1 + NONCE :], aad)
    except Exception as exc:  # cryptography raises InvalidTag
        raise KeyError_("ciphertext does not decrypt under this key") from exc


_DIGITS = re.compile(r"\D+")


def normalize_phone(phone: str) -> str:
    """Digits only, with +82 folded to a leading 0 (010-1234-5678 == +82 10 1234 5678)."""
    digits = _DIGITS.sub("", phone)
    if digits.startswith("82") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits


class BlindIndex:
    """Keyed hashes that let the hub find a customer by phone or email without decrypting."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def phone(self, phone: str) -> str:
        """Blind index of a phone number."""
        return hmac.new(self._key, b"phone:" + normalize_phone(phone).encode(), hashlib.sha256).hexdigest()

    def email(self, email: str) -> str:
        """Blind index of an e-mail address (case-folded)."""
        return hmac.new(self._key, b"email:" + email.strip().casefold().encode(), hashlib.sha256).hexdigest()

    def token(self, purpose: str, value: str, length: int = 20) -> str:
        """A stable keyed token for ids and pseudonyms."""
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:length]


class KeyRing:
    """Unwrapped key-encryption keys by id, plus an LRU of unwrapped customer data keys."""

    def __init__(self, master: MasterKeyProvider) -> None:
        self.master = master
        self.blind = BlindIndex(master.derive("deliveryhub blind index v1"))
        self._keks: dict[str, bytes] = {}
        self.active_kek_id: str | None = None
        self._dek_cache: OrderedDict[tuple[str, bytes], bytes] = OrderedDict()
        self._lock = threading.Lock()
        # Set by security wiring: reloads key-encryption keys from the database, so a key rotated by
        # another process (`deliveryhub crypto rotate`) is picked up here without a restart.
        self.refresher: Callable[[str | None], None] | None = None
        self.refresh_interval = 2.0
        self._last_refresh = time.monotonic()

    def maybe_refresh(self, force: bool = False, want: str | None = None) -> None:
        """Reload keys from the store when the interval passed (or when forced / a key is missing)."""
        if self.refresher is None:
            return
        now = time.monotonic()
        if force or now - self._last_refresh >= self.refresh_interval:
            self._last_refresh = now
            try:
                self.refresher(want)
            except Exception:  # noqa: BLE001 - a failed refresh keeps the keys already loaded
                self._last_refresh = now - self.refresh_interval / 2

    def loaded_kek_ids(self) -> list[str]:
        """Ids of the key-encryption keys held in memory."""
        return list(self._keks)

    def load_kek(self, key_id: str, wrapped: bytes, active: bool) -> None:
        """Register a key-encryption key read from the data_keys table."""
        self._keks[key_id] = self.master.unwrap(wrapped, b"kek:" + key_id.encode())
        if active:
            self.active_kek_id = key_id

    def new_kek(self) -> tuple[str, bytes]:
        """Create a key-encryption key; returns (key_id, wrapped) to be stored, and activates it."""
        key_id = "k" + secrets.token_hex(6)
        raw = AESGCM.generate_key(bit_length=256)
        wrapped = self.master.wrap(raw, b"kek:" + key_id.encode())
        self._keks[key_id] = raw
        self.active_kek_id = key_id
        return key_id, wrapped

    def has_kek(self, key_id: str) -> bool:
        """Whether the key ring knows this key-encryption key."""
        return key_id in self._keks

    def new_dek(self, customer_id: str) -> tuple[bytes, str, bytes]:
        """A fresh customer data key: (raw, kek_id, wrapped)."""
        self.maybe_refresh()
        if self.active_kek_id is None:
            raise KeyError_("no active key-encryption key")
        raw = AESGCM.generate_key(bit_length=256)
        kek_id = self.active_kek_id
        wrapped = seal(self._keks[kek_id], raw, b"dek:" + customer_id.encode())
        return raw, kek_id, wrapped

    def unwrap_dek(self, customer_id: str, kek_id: str, wrapped: bytes) -> bytes:
        """A customer's raw data key (cached)."""
        cache_key = (kek_id, wrapped)
        with self._lock:
            hit = self._dek_cache.get(cache_key)
            if hit is not None:
                self._dek_cache.move_to_end(cache_key)
                return hit
        kek = self._keks.get(kek_id)
        if kek is None:
            self.maybe_refresh(force=True, want=kek_id)
            kek = self._keks.get(kek_id)
        if kek is None:
            raise KeyError_(f"key-encryption key {kek_id} is not loaded")
        raw = open_(kek, wrapped, b"dek:" + customer_id.encode())
        with self._lock:
            self._dek_cache[cache_key] = raw
            if len(self._dek_cache) > 50_000:
                self._dek_cache.popitem(last=False)
        return raw

    def rewrap_dek(self, customer_id: str, kek_id: str, wrapped: bytes) -> tuple[str, bytes]:
        """Re-wrap a customer's data key under the active key-encryption key."""
        raw = self.unwrap_dek(customer_id, kek_id, wrapped)
        if self.active_kek_id is None:
            raise KeyError_("no active key-encryption key")
        return self.active_kek_id, seal(self._keks[self.active_kek_id], raw, b"dek:" + customer_id.encode())

    def forget(self, key_id: str) -> None:
        """Drop a retired key-encryption key from memory."""
        self._keks.pop(key_id, None)
        if self.active_kek_id == key_id:
            self.active_kek_id = None

    def activate(self, key_id: str) -> None:
        """Make a loaded key-encryption key the one new data keys are wrapped with."""
        if key_id not in self._keks:
            raise KeyError_(f"key-encryption key {key_id} is not loaded")
        self.active_kek_id = key_id

    def evict(self, kek_id: str | None, wrapped: bytes | None) -> None:
        """Drop a cached data key (after erasure, so it is gone from memory too)."""
        if kek_id is None or wrapped is None:
            return
        with self._lock:
            self._dek_cache.pop((kek_id, wrapped), None)


def encrypt_field(dek: bytes, customer_id: str, field: str, value: str | None) -> bytes | None:
    """Encrypt one personal field bound to its customer and field name."""
    if value is None:
        return None
    return seal(dek, value.encode(), f"{customer_id}:{field}".encode())


def decrypt_field(dek: bytes, customer_id: str, field: str, blob: bytes | None) -> str | None:
    """Decrypt one personal field."""
    if blob is None:
        return None
    return open_(dek, blob, f"{customer_id}:{field}".encode()).decode()
