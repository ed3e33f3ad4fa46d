"""``hookwire.sync.Webhooks``: the same facade for synchronous code (Django, Flask, scripts).

It runs an event loop in a background thread, where the worker delivers, and turns every
coroutine method of the facade and its resources into a blocking call::

    from hookwire.sync import Webhooks

    with Webhooks("sqlite:///hookwire.db") as hooks:
        hooks.add("order.created", "https://example.com/hooks")
        hooks.trigger("order.created", {"id": 42})
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Self, TypeVar

from hookwire.core.settings import Settings
from hookwire.service import webhooks as aio
from hookwire.store.factory import DEFAULT_DATABASE_URL

T = TypeVar("T")


class _Portal:
    """An event loop on its own thread, and a way to run coroutines on it from outside."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="hookwire-sync", daemon=True)
        self._thread.start()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        return future.result()

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join()
        self.loop.close()


class _Blocking:
    """Wraps an object so that its coroutine methods block until done."""

    def __init__(self, target: object, portal: _Portal) -> None:
        self._target = target
        self._portal = portal

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        @functools.wraps(attribute)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            return self._portal.call(attribute(*args, **kwargs))

        return blocking


class _BlockingMessages(_Blocking):
    """``messages``, where ``create(..., connection=...)`` runs in the caller's thread: the
    caller's connection and transaction belong to it."""

    def __init__(self, hooks: aio.Webhooks, portal: _Portal) -> None:
        super().__init__(hooks.messages, portal)
        self._hooks = hooks

    def create(self, app: str, event_type: str, payload: Any, **options: Any) -> Any:
        connection = options.pop("connection", None)
        if connection is None:
            return self._portal.call(self._hooks.messages.create(app, event_type, payload, **options))
        application = self._portal.call(self._hooks.apps.get(app))
        return self._hooks.messages.create_within_sync(
            application.id, event_type, payload, connection=connection, **options
        )


class Webhooks:
    """Blocking twin of ``hookwire.Webhooks``; same arguments, same methods, same resources.

    Callbacks registered with ``on_success``/``on_failure`` run on the background thread.
    """

    def __init__(
        self,
        database_url: str = DEFAULT_DATABASE_URL,
        *,
        settings: Settings | None = None,
        worker: bool = True,
    ) -> None:
        self._portal = _Portal()
        try:
            self._hooks = self._portal.call(_build(database_url, settings, worker))
        except BaseException:
            self._portal.stop()
            raise
        self._facade = _Blocking(self._hooks, self._portal)
        self.apps: Any = _Blocking(self._hooks.apps, self._portal)
        self.endpoints: Any = _Blocking(self._hooks.endpoints, self._portal)
        self.event_types: Any = _Blocking(self._hooks.event_types, self._portal)
        self.messages: Any = _BlockingMessages(self._hooks, self._portal)
        self.attempts: Any = _Blocking(self._hooks.attempts, self._portal)
        self.settings = self._hooks.settings

    def open(self) -> Self:
        self._portal.call(self._hooks.open())
        return self

    def close(self, *, grace: float = 10.0) -> None:
        try:
            self._portal.call(self._hooks.close(grace=grace))
        finally:
            self._portal.stop()

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def on_success(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self._hooks.on_success(callback)

    def on_failure(self, callback: Callable[[Any], Any]) -> Callable[[Any], Any]:
        return self._hooks.on_failure(callback)

    def __getattr__(self, name: str) -> Any:
        # add, remove, trigger, get_db, get_webhook, resend, recover, wait_until_idle
        return getattr(self._facade, name)


async def _build(database_url: str, settings: Settings | None, worker: bool) -> aio.Webhooks:
    # Built on the portal's loop, so that everything the facade creates belongs to that loop.
    return aio.Webhooks(database_url, settings=settings, worker=worker)
