"""Receive webhooks in FastAPI or Starlette.

Two ways, which mix freely:

* The whole kit: a :class:`~hookwire.receiver.Receiver` is an ASGI app. Route it with
  :func:`receiver_route`, ``FastAPI(routes=[receiver_route(receiver, "/webhooks")])`` or
  ``app.router.routes.append(receiver_route(receiver, "/webhooks"))``, or mount it,
  ``app.mount("/webhooks", receiver)``. A mount answers ``/webhooks/`` and redirects
  ``/webhooks`` there; webhook senders do not follow redirects, so register the URL with the
  slash, or prefer the route.
* Verification only, inside your own route, with the :func:`verified_webhook` dependency::

      @app.post("/webhooks", status_code=204)
      async def receive(webhook: Annotated[Webhook, Depends(verified_webhook(SECRET))]) -> None:
          ...

  A failed check answers with ``HTTPException``: 400/401/413 and
  ``{"detail": {"status": "rejected", "code": ..., "detail": ...}}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Unpack

from fastapi import HTTPException, Request
from starlette.routing import Route

from hookwire.core.errors import WebhookVerificationError
from hookwire.receiver.app import Receiver
from hookwire.receiver.webhook import Verifier, VerifierOptions, Webhook, error_document, http_status

__all__ = ["receiver_route", "verified_webhook"]


def verified_webhook(
    secret: str | Sequence[str] | None = None, **options: Unpack[VerifierOptions]
) -> Callable[[Request], Awaitable[Webhook]]:
    """A FastAPI dependency that verifies the request and returns its :class:`Webhook`.

    It reads the body itself (capped at ``max_body_size``), so the route should not declare a
    body parameter too. There is no de-duplication here: use a ``Receiver`` for that, or key
    your own writes on ``webhook.id``.

    Args:
        secret: the endpoint's ``whsec_`` secret, or a list during a rotation.
        **options: as for :class:`~hookwire.receiver.Verifier`: ``token``, ``token_header``,
            ``tolerance``, ``event_type``, ``max_body_size``.

    Returns:
        ``async (request) -> Webhook``, for ``Depends``.

    Raises:
        ValueError: neither a secret nor a token is given.
        InvalidSecret: a secret is invalid (at definition time, not per request).
    """
    verifier = Verifier(secret, **options)

    async def webhook(request: Request) -> Webhook:
        try:
            verifier.check_content_length(request.headers.get("content-length"))
            body = await verifier.read_body(request.stream())
            return verifier.read(body, request.headers)
        except WebhookVerificationError as exc:
            raise HTTPException(http_status(exc), detail=error_document(exc)) from exc

    return webhook


def receiver_route(receiver: Receiver, path: str = "/webhooks", *, name: str | None = None) -> Route:
    """A Starlette/FastAPI route answering POST ``path`` (exactly, no redirect) with ``receiver``.

    Args:
        receiver: the receiver whose handlers run.
        path: the URL path.
        name: the route's name, for ``url_for``.
    """
    return Route(path, receiver, methods=["POST"], name=name or "hookwire_receiver")
