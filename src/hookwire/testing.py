"""Test doubles for code that sends or receives webhooks with hookwire.

``Receiver`` is a real HTTP server on 127.0.0.1 that records every request, verifies its
signature when given the endpoint's secret, and answers from a script::

    async with Receiver() as receiver:
        receiver.respond(500, 500, 200)        # then 200 for everything after
        endpoint = await hooks.add("order.created", receiver.url)
        receiver.secret = endpoint.secret
        await hooks.trigger("order.created", {"id": 1})
        request = await receiver.wait_for(3)
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import orjson
from aiohttp import web

from hookwire.core.errors import WebhookVerificationError
from hookwire.receiver import verify


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    """One request as the receiver saw it."""

    path: str
    headers: Mapping[str, str]
    body: bytes
    received_at: float  # time.perf_counter()
    verified: bool | None  # None when the receiver had no secret
    status: int  # what the receiver answered

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def json(self) -> Any:
        return orjson.loads(self.body)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


class Receiver:
    """A scripted webhook receiver on 127.0.0.1 (port chosen by the system)."""

    def __init__(self, *, secret: str | None = None, default: Reply | int = 200) -> None:
        self.secret = secret
        self.requests: list[ReceivedRequest] = []
        self._script: deque[Reply] = deque()
        self._default = default if isinstance(default, Reply) else Reply(default)
        self._arrived = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def respond(self, *replies: Reply | int) -> None:
        """Answer the next requests with these, in order; afterwards with the default."""
        self._script.extend(r if isinstance(r, Reply) else Reply(r) for r in replies)

    async def start(self) -> Self:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def wait_for(self, count: int, *, timeout: float = 10.0) -> list[ReceivedRequest]:
        """Wait until ``count`` requests have arrived; return them all."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return list(self.requests)

    def _verified(self, body: bytes, headers: Mapping[str, str]) -> bool | None:
        if self.secret is None:
            return None
        try:
            verify(body, headers, self.secret)
        except WebhookVerificationError:
            return False
        return True

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        reply = self._script.popleft() if self._script else self._default
        received = ReceivedRequest(
            path=request.path,
            headers={k.lower(): v for k, v in request.headers.items()},
            body=body,
            received_at=time.perf_counter(),
            verified=self._verified(body, request.headers),
            status=reply.status,
        )
        async with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
        if reply.delay:
            await asyncio.sleep(reply.delay)
        return web.Response(status=reply.status, body=reply.body, headers=dict(reply.headers))
