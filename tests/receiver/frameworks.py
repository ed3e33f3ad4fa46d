"""Framework set-up shared by the adapter and docs tests."""

from __future__ import annotations

import warnings

import django  # type: ignore[import-untyped]
from django.conf import settings  # type: ignore[import-untyped]
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette now prefers the httpx2 package under its TestClient and warns once, at import,
    # when it finds only httpx. The client works the same either way.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

__all__ = ["TestClient", "configure_django"]


def configure_django() -> None:
    """The least Django needs to serve views: no database, no apps, CSRF checks on.

    Settings can be configured once per process, so every test module shares these; a test
    that needs other URLs overrides ROOT_URLCONF.
    """
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="receiver-tests-only",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF="tests.receiver.django_urls",
        MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"],
        INSTALLED_APPS=[],
        DATABASES={},
    )
    django.setup()
