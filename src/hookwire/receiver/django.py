"""Receive webhooks in Django.

* :func:`webhook_view` decorates a view (``def`` or ``async def``): it verifies the request and
  calls the view with the :class:`~hookwire.receiver.Webhook` after the request::

      @webhook_view(settings.WEBHOOK_SECRET)
      def receive(request: HttpRequest, webhook: Webhook) -> HttpResponse:
          ...
          return HttpResponse(status=204)

* :func:`receiver_view` serves a :class:`~hookwire.receiver.Receiver` (verify, de-duplicate,
  dispatch) as a view.

Both views are exempt from CSRF protection (webhooks carry no CSRF token; the signature is
their proof of origin), accept POST only (405 otherwise), and answer a failed check with
400/401/413 and ``{"status": "rejected", "code": ..., "detail": ...}``. Django's own
``DATA_UPLOAD_MAX_MEMORY_SIZE`` (2.5 MiB by default) bounds the body before we see it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Unpack

from asgiref.sync import iscoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]

from hookwire.core.errors import WebhookVerificationError
from hookwire.receiver.app import METHOD_NOT_ALLOWED, Outcome, Receiver
from hookwire.receiver.webhook import Verifier, VerifierOptions, Webhook, error_document, http_status

__all__ = ["receiver_view", "webhook_view"]

View = Callable[..., Any]


def webhook_view(
    secret: str | Sequence[str] | None = None, **options: Unpack[VerifierOptions]
) -> Callable[[View], View]:
    """Decorate a Django view so that it runs only for verified webhooks.

    The view is called as ``view(request, webhook, *args, **kwargs)``. There is no
    de-duplication here: use :func:`receiver_view` for that, or key your own writes on
    ``webhook.id``.

    Args:
        secret: the endpoint's ``whsec_`` secret, or a list during a rotation.
        **options: as for :class:`~hookwire.receiver.Verifier`: ``token``, ``token_header``,
            ``tolerance``, ``event_type``, ``max_body_size``.

    Raises:
        ValueError: neither a secret nor a token is given.
        InvalidSecret: a secret is invalid (at definition time, not per request).
    """
    verifier = Verifier(secret, **options)

    def decorate(view: View) -> View:
        wrap = _async_wrapper if iscoroutinefunction(view) else _sync_wrapper
        return _exempt(wrap(view, verifier))

    return decorate


def _sync_wrapper(view: View, verifier: Verifier) -> View:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        checked = _verified(verifier, request)
        if isinstance(checked, Webhook):
            return view(request, checked, *args, **kwargs)
        return checked

    return wrapper


def _async_wrapper(view: View, verifier: Verifier) -> View:
    @functools.wraps(view)
    async def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        checked = _verified(verifier, request)
        if isinstance(checked, Webhook):
            return await view(request, checked, *args, **kwargs)
        return checked

    return wrapper


def receiver_view(receiver: Receiver) -> View:
    """An async view answering POST requests with ``receiver``: verify, de-duplicate, dispatch.

    Synchronous handlers run through ``sync_to_async(thread_sensitive=True)``, on the thread
    Django runs synchronous code on, so the ORM works in them as it does in any view.

    Args:
        receiver: the receiver whose handlers run.
    """

    async def receive(request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return _response(METHOD_NOT_ALLOWED)
        try:
            receiver.verifier.check_content_length(request.META.get("CONTENT_LENGTH") or None)
        except WebhookVerificationError as exc:
            return _response(Outcome.rejection(exc))
        outcome = await receiver.handle(request.body, request.headers, run_sync=_django_sync)
        return _response(outcome)

    return _exempt(receive)


def _verified(verifier: Verifier, request: HttpRequest) -> Webhook | HttpResponse:
    if request.method != "POST":
        return _response(METHOD_NOT_ALLOWED)
    try:
        verifier.check_content_length(request.META.get("CONTENT_LENGTH") or None)
        return verifier.read(request.body, request.headers)
    except WebhookVerificationError as exc:
        return JsonResponse(error_document(exc), status=http_status(exc))


async def _django_sync(handler: Callable[[Webhook], object], webhook: Webhook) -> object:
    return await sync_to_async(handler, thread_sensitive=True)(webhook)


def _exempt(view: View) -> View:
    # What django.views.decorators.csrf.csrf_exempt does; setting the flag directly keeps an
    # async view async on Django versions whose decorator wraps it in a sync function.
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def _response(outcome: Outcome) -> HttpResponse:
    response = HttpResponse(outcome.body, status=outcome.status, content_type="application/json")
    for name, value in outcome.headers:
        response[name] = value
    return response
