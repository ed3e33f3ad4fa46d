"""The URLs of the Django adapter tests: decorated views and a mounted receiver."""

from __future__ import annotations

import threading

from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from hookwire.receiver import Receiver, Unsubscribe, Webhook
from hookwire.receiver.django import receiver_view, webhook_view
from tests.receiver.signing import SECRET

#: (what ran, the webhook, the thread it ran on)
received: list[tuple[str, Webhook, int]] = []

receiver = Receiver(SECRET)


@receiver.on("invoice.*")
def invoice_event(webhook: Webhook) -> None:
    received.append(("receiver", webhook, threading.get_ident()))


@receiver.on("customer.deleted")
async def customer_deleted(webhook: Webhook) -> None:
    raise Unsubscribe


@webhook_view(SECRET)
def account_hook(request: HttpRequest, webhook: Webhook, account: str) -> HttpResponse:
    received.append((f"account_hook {account}", webhook, threading.get_ident()))
    return HttpResponse(status=204)


@webhook_view(token="shared-token", token_header="x-webhook-token")
async def async_hook(request: HttpRequest, webhook: Webhook) -> HttpResponse:
    received.append(("async_hook", webhook, threading.get_ident()))
    return JsonResponse({"event_type": webhook.event_type})


urlpatterns = [
    path("accounts/<str:account>/webhooks", account_hook),
    path("async/webhooks", async_hook),
    path("receiver/webhooks", receiver_view(receiver)),
]
