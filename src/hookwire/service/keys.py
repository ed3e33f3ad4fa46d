"""API keys: bearer tokens for the HTTP API, stored only as hashes.

A token is 32 random bytes, so a plain SHA-256 of it is enough (there is nothing to brute
force, unlike a password) and lets a request be authenticated with one indexed lookup.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

from hookwire.core import ids
from hookwire.core.types import ApiKey
from hookwire.core.validate import check_text
from hookwire.service.context import Context

TOKEN_PREFIX = "hwk_"  # noqa: S105 - a prefix that marks tokens, not a secret


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiKeys:
    def __init__(self, context: Context) -> None:
        self._context = context

    async def create(self, *, app: str | None = None, name: str = "") -> tuple[ApiKey, str]:
        """Make a key; returns it with its token, which is shown this once and never stored.

        Args:
            app: an application's id or uid for a key that sees only that application;
                ``None`` for an admin key.
            name: what the key is for.
        """
        app_id = None if app is None else (await self._context.application(app)).id
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(
            id=ids.new_id(ids.API_KEY),
            app_id=app_id,
            name=check_text(name, "name", limit=256),
            prefix=token[: len(TOKEN_PREFIX) + 6],
            created_at=self._context.clock(),
        )
        await self._context.store.create_api_key(key, key_hash=hash_token(token))
        return key, token

    async def authenticate(self, token: str, *, admin_tokens: Iterable[str] = ()) -> ApiKey | None:
        """The key a bearer token belongs to, or ``None``.

        ``admin_tokens`` are accepted as admin keys without being stored (for automation that
        sets ``HOOKWIRE_ADMIN_KEY``); they are compared in constant time.
        """
        for admin_token in admin_tokens:
            if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
                return ApiKey(
                    "key_environment", None, "HOOKWIRE_ADMIN_KEY", admin_token[:10], self._context.clock()
                )
        if not token.startswith(TOKEN_PREFIX):
            return None
        return await self._context.store.find_api_key(hash_token(token))

    async def list(self) -> list[ApiKey]:
        return await self._context.store.list_api_keys()

    async def delete(self, key_id: str) -> None:
        await self._context.store.delete_api_key(key_id)
