"""The transport's HTTP/1.1 client against real servers on 127.0.0.1: connections kept alive
and dropped at the right moments, every way a response can be framed, and bytes that are not
a response."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from hookwire import AttemptError, Settings
from hookwire.delivery.transport import Response, Transport
from tests.reliability.servers import RawRequest, read_request

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
HEADERS = {"content-type": "application/json", "webhook-id": "msg_1"}

#: What the server does with the request numbered n (from 0): bytes to write, and whether to
#: close the connection afterwards.
Answer = Callable[[int, RawRequest], tuple[bytes, bool]]


@dataclass
class KeepAliveServer:
    """Serves any number of requests per connection, as ``answer`` says."""

    answer: Answer
    connections: int = 0
    requests: list[RawRequest] = field(default_factory=list)
    writers: list[asyncio.StreamWriter] = field(default_factory=list)
    url: str = ""

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        with contextlib.suppress(ConnectionError):
            while (request := await read_request(reader)) is not None:
                raw, close = self.answer(len(self.requests), request)
                self.requests.append(request)
                writer.write(raw)
                await writer.drain()
                if close:
                    break
        writer.close()


@contextlib.asynccontextmanager
async def serving(answer: Answer) -> AsyncIterator[KeepAliveServer]:
    server = KeepAliveServer(answer)
    listener = await asyncio.start_server(server.serve, "127.0.0.1", 0)
    server.url = f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}/hooks?x=1"
    try:
        yield server
    finally:
        listener.close()
        for writer in server.writers:
            writer.transport.abort()


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    sender = Transport(Settings(allow_networks=["127.0.0.0/8"], request_timeout=5))
    yield sender
    await sender.close()


def always(raw: bytes, *, close: bool = False) -> Answer:
    return lambda n, request: (raw, close)


async def post_many(transport: Transport, url: str, count: int) -> list[Response]:
    return [await transport.post(url, b'{"n": %d}' % n, HEADERS) for n in range(count)]


async def test_one_connection_carries_many_requests(transport: Transport) -> None:
    async with serving(always(OK)) as server:
        responses = await post_many(transport, server.url, 5)

    assert [(r.status_code, r.body, r.error) for r in responses] == [(200, b"ok", None)] * 5
    assert server.connections == 1
    first = server.requests[0]
    assert (first.method, first.path) == ("POST", "/hooks?x=1")
    assert first.headers["host"] == server.url.split("/")[2]
    assert first.headers["webhook-id"] == "msg_1"
    assert [r.body for r in server.requests] == [b'{"n": %d}' % n for n in range(5)]


async def test_connection_close_is_honoured(transport: Transport) -> None:
    closing = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    async with serving(always(closing, close=True)) as server:
        responses = await post_many(transport, server.url, 3)

    assert [r.status_code for r in responses] == [200] * 3
    assert server.connections == 3


async def test_a_body_that_ends_with_the_connection_is_read_whole(transport: Transport) -> None:
    unframed = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end"
    async with serving(always(unframed, close=True)) as server:
        responses = await post_many(transport, server.url, 2)

    assert [(r.status_code, r.body, r.error) for r in responses] == [(200, b"until the end", None)] * 2
    assert server.connections == 2


async def test_a_chunked_body_is_read_and_the_connection_kept(transport: Transport) -> None:
    chunked = b"HTTP/1.1 202 Accepted\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
    async with serving(always(chunked)) as server:
        responses = await post_many(transport, server.url, 3)

    assert [(r.status_code, r.body) for r in responses] == [(202, b"abcde")] * 3
    assert server.connections == 1


async def test_an_interim_response_is_skipped(transport: Transport) -> None:
    async with serving(always(b"HTTP/1.1 100 Continue\r\n\r\n" + OK)) as server:
        responses = await post_many(transport, server.url, 2)

    assert [r.status_code for r in responses] == [200, 200]
    assert server.connections == 1


async def test_retry_after_is_read(transport: Transport) -> None:
    busy = b"HTTP/1.1 503 Busy\r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n"
    async with serving(always(busy)) as server:
        [response] = await post_many(transport, server.url, 1)

    assert (response.status_code, response.retry_after) == (503, "120")


async def test_a_connection_the_server_closed_while_idle_is_not_reused(transport: Transport) -> None:
    async with serving(always(OK)) as server:
        await post_many(transport, server.url, 1)
        server.writers[0].close()
        await asyncio.sleep(0.1)  # the client sees the close while the connection is idle
        [response] = await post_many(transport, server.url, 1)

    assert (response.status_code, response.error) == (200, None)
    assert server.connections == 2


async def test_a_body_past_the_cap_drops_the_connection(transport: Transport) -> None:
    size = 100 * 1024  # past max_response_bytes (64 KiB)
    big = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size
    async with serving(always(big)) as server:
        responses = await post_many(transport, server.url, 2)

    assert [(r.status_code, len(r.body)) for r in responses] == [(200, 4096)] * 2
    assert server.connections == 2


async def test_a_second_response_to_one_request_drops_the_connection(transport: Transport) -> None:
    async with serving(always(OK + OK)) as server:
        responses = await post_many(transport, server.url, 2)

    assert [r.status_code for r in responses] == [200, 200]
    assert server.connections == 2


@pytest.mark.parametrize(
    "raw",
    [b"SSH-2.0-OpenSSH_9.6\r\n", b"HTTP/1.1 abc\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"],
)
async def test_bytes_that_are_not_a_response_are_classified(transport: Transport, raw: bytes) -> None:
    async with serving(always(raw, close=True)) as server:
        [response] = await post_many(transport, server.url, 1)

    assert response.status_code is None
    assert response.error is AttemptError.INVALID_RESPONSE


async def test_a_line_break_in_a_header_value_never_reaches_the_wire(transport: Transport) -> None:
    async with serving(always(OK)) as server:
        response = await transport.post(server.url, b"{}", {"x-custom": "a\r\nx-injected: 1"})

    assert response.error is AttemptError.INVALID_RESPONSE
    assert response.error_detail == "a header name or value holds a line break"
    assert server.requests == []


async def test_requests_in_flight_to_one_origin_each_get_a_connection(transport: Transport) -> None:
    async with serving(always(OK)) as server:
        responses = await asyncio.gather(*(transport.post(server.url, b"{}", HEADERS) for _ in range(8)))
        again = await asyncio.gather(*(transport.post(server.url, b"{}", HEADERS) for _ in range(8)))

    assert [r.status_code for r in responses + again] == [200] * 16
    assert server.connections == 8  # the second round reused the first round's connections
