"""Standard Webhooks signatures, sender side.

A secret is ``whsec_`` followed by the standard base64 encoding of 24 to 64 random bytes; the
decoded bytes are the HMAC key. Every delivery carries a ``webhook-signature`` header made of
space-separated ``v1,<base64 HMAC-SHA256>`` entries, one per active secret, computed over
``{webhook-id}.{webhook-timestamp}.{raw body}`` (Standard Webhooks spec, "Signature scheme"
and "Symmetric signatures"). While a secret is rotated the old and the new one both sign, so a
receiver holding either keeps verifying.

This module sits on the delivery hot path: keys are decoded once per :class:`Signer`, the HMAC
state after absorbing the key is precomputed and copied per message, and the body is fed to
the HMAC as is rather than concatenated into a second copy.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from secrets import token_bytes
from typing import Final

from hookwire.core.errors import ValidationError

__all__ = [
    "SECRET_PREFIX",
    "InvalidSecret",
    "Signer",
    "decode_secret",
    "generate_secret",
    "sign",
]

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 -- a format marker, not a credential
"""Prefix that marks a Standard Webhooks symmetric secret."""

# The spec asks for keys of 24 to 64 bytes ("Symmetric signatures"). We generate 32: RFC 2104
# section 3 discourages keys shorter than the hash output (32 bytes for SHA-256), and longer
# ones add nothing.
_MIN_KEY_BYTES: Final = 24
_MAX_KEY_BYTES: Final = 64
_GENERATED_KEY_BYTES: Final = 32

_SIGNATURE_VERSION: Final = "v1"


class InvalidSecret(ValidationError):
    """A webhook secret is not ``whsec_`` + base64 of 24 to 64 bytes.

    The message never contains the secret itself, so it is safe to log.
    """

    code = "invalid_secret"


def generate_secret() -> str:
    """Return a new random secret, ``whsec_`` + base64 of 32 bytes from :mod:`secrets`."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(_GENERATED_KEY_BYTES)).decode("ascii")


def decode_secret(secret: str) -> bytes:
    """Return the HMAC key held by ``secret``.

    Args:
        secret: ``whsec_`` + standard base64 (with its ``=`` padding). The prefix is optional,
            as in the reference libraries.

    Returns:
        The decoded key, 24 to 64 bytes long.

    Raises:
        InvalidSecret: ``secret`` is not a string, is not strict standard base64 (no
            whitespace, no URL-safe alphabet, correct padding), or decodes to a key of the
            wrong length.
    """
    if not isinstance(secret, str):
        raise InvalidSecret(f"a webhook secret must be a string, not {type(secret).__name__}")
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # validate=True: the lenient default silently drops characters outside the alphabet,
        # which would let a mangled secret decode to a different, shorter key.
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:  # ValueError: non-ASCII characters
        raise InvalidSecret(f"a webhook secret must be {SECRET_PREFIX} + standard base64") from exc
    if not _MIN_KEY_BYTES <= len(key) <= _MAX_KEY_BYTES:
        raise InvalidSecret(
            f"a webhook secret must hold {_MIN_KEY_BYTES} to {_MAX_KEY_BYTES} bytes, not {len(key)}"
        )
    return key


class Signer:
    """Signs messages with one or more secrets.

    Build one per endpoint (or per secret rotation) and reuse it: the keys are decoded and the
    HMAC key schedule computed once.

    Args:
        secrets: the endpoint's active secrets, newest first by convention; during a rotation
            both the new and the old one. Duplicates are signed once.

    Raises:
        InvalidSecret: ``secrets`` is empty or holds an invalid secret.
        TypeError: ``secrets`` is a single string rather than a sequence of them.
    """

    __slots__ = ("_hmacs",)

    def __init__(self, secrets: Sequence[str]) -> None:
        if isinstance(secrets, str):
            # A str is itself a Sequence[str]; signing with each character is never meant.
            raise TypeError("Signer takes a sequence of secrets, e.g. Signer([secret])")
        keys = dict.fromkeys(decode_secret(secret) for secret in secrets)
        if not keys:
            raise InvalidSecret("at least one webhook secret is required")
        self._hmacs = tuple(hmac.new(key, digestmod=hashlib.sha256) for key in keys)

    def sign(self, msg_id: str, timestamp: int, body: bytes) -> str:
        """Return the ``webhook-signature`` header value for one message.

        Args:
            msg_id: the ``webhook-id`` header value.
            timestamp: the ``webhook-timestamp`` header value, integer Unix seconds.
            body: the exact bytes sent as the request body.

        Returns:
            ``v1,<base64>`` per secret, separated by single spaces.

        Raises:
            ValueError: ``timestamp`` is not a non-negative ``int``.
        """
        if type(timestamp) is not int or timestamp < 0:
            # A bool or float here would be signed as "True" or "1.5", which no receiver accepts:
            # fail loudly instead of sending deliveries that can never verify.
            raise ValueError(f"timestamp must be a non-negative int of Unix seconds, not {timestamp!r}")
        prefix = f"{msg_id}.{timestamp}.".encode()
        signatures = []
        for base in self._hmacs:
            mac = base.copy()
            mac.update(prefix)
            mac.update(body)
            signatures.append(f"{_SIGNATURE_VERSION},{base64.b64encode(mac.digest()).decode('ascii')}")
        return " ".join(signatures)


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Sign one message with one secret; see :meth:`Signer.sign`.

    Prefer a reused :class:`Signer` when signing many messages with the same secrets.

    Raises:
        InvalidSecret: ``secret`` is invalid.
        ValueError: ``timestamp`` is not a non-negative ``int``.
    """
    return Signer((secret,)).sign(msg_id, timestamp, body)
