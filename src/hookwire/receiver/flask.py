"""Receive webhooks in Flask.

* :func:`webhook_view` decorates a view: it verifies the request and calls the view with the
  :class:`~hookwire.receiver.Webhook` as its first argument::

      @app.post("/webhooks")
      @webhook_view(SECRET)
      def receive(webhook: Webhook) -> tuple[str, int]:
          ...
          return "", 204

* :func:`receiver_blueprint` serves a :class:`~hookwire.receiver.Receiver` (verify,
  de-duplicate, dispatch) as a blueprint with one POST route.

A failed check answers 400/401/413 with ``{"status": "rejected", "code": ..., "detail": ...}``.
The body is read only up to ``max_body_size`` when the request declares its length; set
Flask's ``MAX_CONTENT_LENGTH`` as well to bound chunked uploads.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Sequence
from typing import Concatenate, ParamSpec, Unpack

from flask import Blueprint, Response, request
from flask.typing import ResponseReturnValue

from hookwire.core.errors import WebhookVerificationError
from hookwire.receiver.app import Outcome, Receiver
from hookwire.receiver.webhook import Verifier, VerifierOptions, Webhook, error_document, http_status

__all__ = ["receiver_blueprint", "webhook_view"]

P = ParamSpec("P")
View = Callable[Concatenate[Webhook, P], ResponseReturnValue]


def webhook_view(
    secret: str | Sequence[str] | None = None, **options: Unpack[VerifierOptions]
) -> Callable[[View[P]], Callable[P, ResponseReturnValue]]:
    """Decorate a Flask view so that it runs only for verified webhooks.

    The view receives the :class:`~hookwire.receiver.Webhook` first, then the URL's values.
    There is no de-duplication here: use :func:`receiver_blueprint` for that, or key your own
    writes on ``webhook.id``.

    Args:
        secret: the endpoint's ``whsec_`` secret, or a list during a rotation.
        **options: as for :class:`~hookwire.receiver.Verifier`: ``token``, ``token_header``,
            ``tolerance``, ``event_type``, ``max_body_size``.

    Raises:
        ValueError: neither a secret nor a token is given.
        InvalidSecret: a secret is invalid (at definition time, not per request).
    """
    verifier = Verifier(secret, **options)

    def decorate(view: View[P]) -> Callable[P, ResponseReturnValue]:
        @functools.wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
            try:
                webhook = verifier.read(_read_body(verifier), request.headers)
            except WebhookVerificationError as exc:
                return error_document(exc), http_status(exc)
            return view(webhook, *args, **kwargs)

        return wrapper

    return decorate


def receiver_blueprint(
    receiver: Receiver, rule: str = "/", *, name: str = "hookwire_receiver", url_prefix: str | None = None
) -> Blueprint:
    """A blueprint answering POST ``rule`` with ``receiver``: verify, de-duplicate, dispatch.

    Each request runs the receiver's pipeline on an event loop of its own, in the request's
    thread; synchronous handlers run right there, so they see Flask's application and request
    context like any view. Async handlers work too.

    Args:
        receiver: the receiver whose handlers run.
        rule: the URL rule within the blueprint.
        name: the blueprint's name, unique within the app.
        url_prefix: prepended to ``rule``.
    """
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)

    @blueprint.post(rule)
    def receive() -> Response:
        try:
            body = _read_body(receiver.verifier)
        except WebhookVerificationError as exc:
            return _response(Outcome.rejection(exc))
        outcome = asyncio.run(receiver.handle(body, request.headers, run_sync=_call_here))
        return _response(outcome)

    return blueprint


def _read_body(verifier: Verifier) -> bytes:
    verifier.check_content_length(request.content_length)
    return request.get_data(cache=True)


async def _call_here(handler: Callable[[Webhook], object], webhook: Webhook) -> object:
    # The loop is this request's own, so blocking it blocks nobody else; staying in the
    # request's thread keeps thread-bound state (database sessions) working.
    return handler(webhook)


def _response(outcome: Outcome) -> Response:
    return Response(
        outcome.body, status=outcome.status, headers=list(outcome.headers), mimetype="application/json"
    )
