"""Property-based fuzzing of the Python API: whatever it is handed, a call either succeeds or
raises a ``HookwireError`` subclass with its own code, and a call that fails writes nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hookwire import HookwireError, InvalidHeaders, Webhooks
from hookwire.core.validate import RESERVED_HEADERS
from hookwire.store.sqlite import sqlite_path

TABLES = ("application", "endpoint", "endpoint_event", "event_type", "message", "delivery", "attempt")
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=12,
)
oddities = st.sampled_from(
    [
        object(),
        {1, 2},
        1j,
        Decimal("1.5"),
        # A naive datetime is exactly the kind of thing a caller hands in by mistake.
        datetime(2024, 1, 1),  # noqa: DTZ001
        2**70,
        float("nan"),
        b"\xff\xfe",
        bytearray(b"{}"),
        {("tuple", "key"): 1},
        {1: "non-string key"},
        _nested(300),  # deeper than JSON encoders go
        type,
        print,
    ]
)
anything = st.one_of(
    json_like, oddities, st.binary(max_size=64), st.text(max_size=64), st.lists(st.text(max_size=8))
)
text_ish = st.one_of(st.text(max_size=300), anything)
URLS = st.one_of(
    st.text(max_size=100),
    st.builds(lambda host, path: f"https://{host}/{path}", st.text(max_size=20), st.text(max_size=20)),
    anything,
)


class Engine:
    """One engine (without a worker) on its own SQLite file, driven from synchronous tests."""

    def __init__(self, folder: Path) -> None:
        self.url = f"sqlite:///{folder / 'fuzz.db'}"
        self._runner = asyncio.Runner()
        self.hooks = self._runner.run(Webhooks(self.url, worker=False).open())
        self.run(self.hooks.add("existing.event", "https://example.com/existing"))

    def run(self, call: Awaitable[Any]) -> Any:
        return self._runner.run(_awaited(call))

    def close(self) -> None:
        self._runner.run(self.hooks.close())
        self._runner.close()

    def rows(self) -> dict[str, int]:
        with sqlite3.connect(sqlite_path(self.url)) as connection:
            return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608

    def check(self, call: Callable[[Webhooks], Awaitable[Any]]) -> None:
        """Make the call: it succeeds, or fails with a coded HookwireError and writes nothing.
        Any other exception propagates and fails the test with Hypothesis's minimal example."""
        before = self.rows()
        failure: HookwireError | None = None
        try:
            self.run(call(self.hooks))
        except HookwireError as exc:
            failure = exc
        if failure is not None:
            assert failure.code != HookwireError.code, f"{type(failure).__name__} has no code of its own"
            assert self.rows() == before, f"{failure.code}: a failed call wrote something"


async def _awaited(call: Awaitable[Any]) -> Any:
    return await call


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    running = Engine(tmp_path_factory.mktemp("fuzz"))
    yield running
    running.close()


# Each test fuzzes one argument with the others valid, so that an early check on one argument
# cannot hide a missing check on another.
any_value = st.one_of(
    text_ish,
    st.lists(st.one_of(text_ish, st.floats(), st.integers()), max_size=4),
    st.dictionaries(st.text(max_size=30), text_ish, max_size=3),
)
VALID: dict[str, dict[str, Any]] = {
    "add": {"event_type": "order.created", "url": "https://example.com/hook"},
    "trigger": {"event_type": "order.created", "payload": {"n": 1}, "headers": None},
    "endpoints.create": {
        "app": "default",
        "url": "https://example.com/hook",
        "uid": None,
        "description": "",
        "filter_types": None,
        "headers": None,
        "secret": None,
        "retry_schedule": None,
        "metadata": None,
    },
    "messages.create": {
        "app": "default",
        "event_type": "order.created",
        "payload": {"n": 1},
        "event_id": None,
        "headers": None,
    },
}
CALLS: dict[str, Callable[[Webhooks, dict[str, Any]], Awaitable[Any]]] = {
    "add": lambda hooks, a: hooks.add(a["event_type"], a["url"]),
    "trigger": lambda hooks, a: hooks.trigger(a["event_type"], a["payload"], a["headers"]),
    "endpoints.create": lambda hooks, a: hooks.endpoints.create(
        a["app"], a["url"], **{k: v for k, v in a.items() if k not in ("app", "url")}
    ),
    "messages.create": lambda hooks, a: hooks.messages.create(
        a["app"], a["event_type"], a["payload"], event_id=a["event_id"], headers=a["headers"]
    ),
}
CASES = [(call, argument) for call, arguments in VALID.items() for argument in arguments]


@pytest.mark.parametrize(("call", "argument"), CASES, ids=[f"{c}-{a}" for c, a in CASES])
@FUZZ
@given(value=any_value)
def test_any_argument_fails_cleanly_or_works(engine: Engine, call: str, argument: str, value: Any) -> None:
    arguments = {**VALID[call], argument: value}
    engine.check(lambda hooks: CALLS[call](hooks, arguments))


@FUZZ
@given(event_type=text_ish, url=URLS, payload=anything, headers=st.one_of(st.none(), any_value))
def test_every_argument_at_once(
    engine: Engine, event_type: Any, url: Any, payload: Any, headers: Any
) -> None:
    engine.check(lambda hooks: hooks.add(event_type, url))
    engine.check(lambda hooks: hooks.trigger(event_type, payload, headers))


# -- custom headers ---------------------------------------------------------------------------------

reserved_names = st.builds(
    lambda name, upper: "".join(c.upper() if u else c for c, u in zip(name, upper, strict=False)),
    st.sampled_from(sorted(RESERVED_HEADERS)),
    st.lists(st.booleans(), min_size=32, max_size=32),
)
injected_values = st.builds(
    lambda before, breaker, after: before + breaker + after,
    st.text(max_size=20),
    st.sampled_from(["\r", "\n", "\r\n", "\x00", "\r\nX-Injected: 1"]),
    st.text(max_size=20),
)


@FUZZ
@given(name=reserved_names, value=st.text(max_size=20))
def test_reserved_header_names_are_refused_in_any_case(engine: Engine, name: str, value: str) -> None:
    _refused(engine, {name: value})


@FUZZ
@given(value=injected_values)
def test_header_values_with_line_breaks_are_refused(engine: Engine, value: str) -> None:
    _refused(engine, {"X-Custom": value})


def _refused(engine: Engine, headers: dict[str, str]) -> None:
    before = engine.rows()
    calls: list[Callable[[Webhooks], Awaitable[Any]]] = [
        lambda hooks: hooks.trigger("a.b", {}, headers),
        lambda hooks: hooks.endpoints.create("default", "https://example.com/h", headers=headers),
        lambda hooks: hooks.messages.create("default", "a.b", {}, headers=headers),
    ]
    for call in calls:
        with pytest.raises(InvalidHeaders):
            engine.run(call(engine.hooks))
    assert engine.rows() == before
