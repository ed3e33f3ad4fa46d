"""Encryption of endpoint secrets at rest (AES-256-GCM).

With ``HOOKWIRE_ENCRYPTION_KEY`` set, signing secrets are encrypted before they reach the
database, so a stolen dump or backup does not let anyone forge webhooks. The key is 32 random
bytes, base64-encoded (``hookwire key generate-encryption-key`` prints one); the endpoint's id is
bound to each ciphertext as associated data, so a ciphertext moved to another row does not
decrypt. Values written before a key was configured stay readable (they carry no prefix) and
are encrypted the next time they are written.
"""

from __future__ import annotations

import base64
import binascii
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hookwire.core.errors import StoreError, ValidationError

PREFIX = "enc:v1:"
_NONCE = 12


class UndecryptableSecret(StoreError):
    code = "undecryptable_secret"


def generate_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class SecretBox:
    """Encrypts and decrypts secrets with one key."""

    def __init__(self, key: str) -> None:
        try:
            raw = base64.b64decode(key, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValidationError("the encryption key must be base64 (32 random bytes)") from exc
        if len(raw) != 32:
            raise ValidationError("the encryption key must be 32 bytes, base64-encoded")
        self._aead = AESGCM(raw)

    def seal(self, plaintext: str, context: str) -> str:
        nonce = secrets.token_bytes(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode(), context.encode())
        return PREFIX + base64.b64encode(nonce + sealed).decode()

    def open(self, stored: str, context: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # written before encryption was turned on
        raw = base64.b64decode(stored[len(PREFIX) :])
        try:
            return self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
        except InvalidTag as exc:
            raise UndecryptableSecret(
                "a stored secret cannot be decrypted: wrong HOOKWIRE_ENCRYPTION_KEY?"
            ) from exc


def seal(box: SecretBox | None, value: str | None, context: str) -> str | None:
    return value if box is None or value is None else box.seal(value, context)


def unseal(box: SecretBox | None, value: str | None, context: str) -> str | None:
    if value is None:
        return None
    if box is None:
        if value.startswith(PREFIX):
            raise UndecryptableSecret("secrets are encrypted: set HOOKWIRE_ENCRYPTION_KEY to read them")
        return value
    return box.open(value, context)
