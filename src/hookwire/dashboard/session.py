"""Signed cookies for the dashboard: the session after sign-in, and the sign-in form's CSRF token.

A cookie holds a small JSON document and an HMAC-SHA256 of it, keyed with the server's session
secret, so it cannot be forged or altered; it is not encrypted, so it holds nothing secret: the
API key's id and scope, a fingerprint of the token (to notice an admin key taken out of the
environment), the CSRF token of the session and its expiry. The API token itself is never
stored anywhere after sign-in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson

SESSION_COOKIE = "hookwire_session"
SIGN_IN_COOKIE = "hookwire_sign_in"
SESSION_LIFETIME = timedelta(hours=12)
SIGN_IN_LIFETIME = timedelta(minutes=30)


@dataclass(frozen=True, slots=True)
class Session:
    """Who is signed in: an API key, by id, admin when ``app_id`` is ``None``."""

    key_id: str
    app_id: str | None
    fingerprint: str
    csrf: str
    expires: int  # Unix seconds

    @property
    def is_admin(self) -> bool:
        return self.app_id is None


def fingerprint(token: str) -> str:
    """A short digest of an API token: enough to recognise it, useless to sign in with."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def same_token(expected: str, given: str) -> bool:
    """Compare CSRF tokens in constant time; an empty token never matches."""
    return bool(expected) and hmac.compare_digest(expected.encode(), given.encode())


class Signer:
    """Signs and checks cookie values. Keys derive from the secret, one per purpose, so a sign-in
    cookie can never pass for a session cookie."""

    def __init__(self, secret: str | None) -> None:
        # Without a configured secret, sessions last as long as the process: fine for one server,
        # while several servers behind one address need the same HOOKWIRE_SESSION_SECRET.
        self._secret = (secret or secrets.token_urlsafe(32)).encode()

    def _key(self, purpose: str) -> bytes:
        return hmac.new(self._secret, f"hookwire-dashboard:{purpose}".encode(), hashlib.sha256).digest()

    def sign(self, purpose: str, payload: dict[str, Any]) -> str:
        body = base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=")
        mac = hmac.new(self._key(purpose), body, hashlib.sha256).digest()
        return (body + b"." + base64.urlsafe_b64encode(mac).rstrip(b"=")).decode()

    def unsign(self, purpose: str, value: str | None, now: datetime) -> dict[str, Any] | None:
        """The payload of a value this signer made for ``purpose`` and not expired, else ``None``."""
        if not value or value.count(".") != 1:
            return None
        body, _, mac = value.encode().partition(b".")
        expected = hmac.new(self._key(purpose), body, hashlib.sha256).digest()
        try:
            valid = hmac.compare_digest(expected, _unpad(mac))
            payload = orjson.loads(_unpad(body)) if valid else None
        except (binascii.Error, ValueError):
            return None
        if not isinstance(payload, dict) or not isinstance(payload.get("e"), int):
            return None
        return payload if payload["e"] > now.timestamp() else None


def _unpad(value: bytes) -> bytes:
    return base64.urlsafe_b64decode(value + b"=" * (-len(value) % 4))


class Sessions:
    """Issues and reads the two dashboard cookies."""

    def __init__(self, secret: str | None) -> None:
        self._signer = Signer(secret)

    def issue(self, key_id: str, app_id: str | None, token: str, now: datetime) -> tuple[Session, str]:
        """A new session for a key that just authenticated, and its cookie value."""
        session = Session(
            key_id=key_id,
            app_id=app_id,
            fingerprint=fingerprint(token),
            csrf=secrets.token_urlsafe(32),
            expires=int((now + SESSION_LIFETIME).timestamp()),
        )
        payload = {"k": session.key_id, "a": session.app_id, "f": session.fingerprint}
        return session, self._signer.sign("session", {**payload, "c": session.csrf, "e": session.expires})

    def read(self, value: str | None, now: datetime) -> Session | None:
        payload = self._signer.unsign("session", value, now)
        if payload is None:
            return None
        try:
            return Session(
                str(payload["k"]), payload["a"], str(payload["f"]), str(payload["c"]), payload["e"]
            )
        except KeyError:
            return None

    def sign_in_token(self, now: datetime) -> tuple[str, str]:
        """A CSRF token for the sign-in form and the cookie that carries it (double submit: a
        cross-site page can make the browser send the cookie, but cannot read it to fill the form)."""
        token = secrets.token_urlsafe(32)
        return token, self._signer.sign(
            "sign-in", {"c": token, "e": int((now + SIGN_IN_LIFETIME).timestamp())}
        )

    def sign_in_token_of(self, value: str | None, now: datetime) -> str:
        payload = self._signer.unsign("sign-in", value, now)
        return str(payload.get("c", "")) if payload else ""
