"""Settings: one immutable value passed in by whoever builds the engine.

The library never reads environment variables; only the CLI does (each flag's help names
its ``HOOKWIRE_*`` variable) and then builds a ``Settings``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import cast

from hookwire.core.errors import ValidationError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The schedule users know from Svix: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
DEFAULT_RETRY_SCHEDULE: tuple[float, ...] = (0, 5, 300, 1800, 7200, 18000, 36000, 36000)


def parse_networks(values: Iterable[str | Network]) -> tuple[Network, ...]:
    """Parse CIDR strings (``"127.0.0.0/8"``, ``"::1/128"``) into networks, rejecting bad ones."""
    networks: list[Network] = []
    for value in values:
        if isinstance(value, ipaddress.IPv4Network | ipaddress.IPv6Network):
            networks.append(value)
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ValidationError(f"not a network in CIDR form: {value!r}") from exc
    return tuple(networks)


def check_schedule(schedule: Iterable[float]) -> tuple[float, ...]:
    """Validate a retry schedule: delays in seconds before each attempt, the first usually 0."""
    if isinstance(schedule, str | bytes) or not isinstance(schedule, Iterable):
        raise ValidationError("a retry schedule is a list of delays in seconds")
    delays = tuple(schedule)
    if not all(isinstance(delay, int | float) and not isinstance(delay, bool) for delay in delays):
        raise ValidationError("retry delays must be numbers of seconds")
    delays = tuple(float(delay) for delay in delays)
    if not delays:
        raise ValidationError("a retry schedule needs at least one attempt")
    if len(delays) > 50:
        raise ValidationError("a retry schedule may have at most 50 attempts")
    # Written so that NaN, which compares false with everything, is refused too.
    if not all(0 <= delay <= 7 * 86400 for delay in delays):
        raise ValidationError("retry delays must be between 0 seconds and 7 days")
    return delays


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything tunable about sending webhooks.

    Attributes:
        allow_networks: networks the SSRF guard lets through although they are not publicly
            routable, e.g. ``["127.0.0.0/8"]`` for local development.
        retry_schedule: delay in seconds before each attempt; its length is the attempt count.
        retry_jitter: each delay is multiplied by a random factor in ``1 ± retry_jitter``.
        retry_after_max: the longest a ``Retry-After`` header may push an attempt back.
        disable_after: an endpoint failing continuously for this long is disabled.
        request_timeout: total seconds for one attempt (connect, send, headers, body).
        connect_timeout: seconds to establish the connection.
        max_response_bytes: the most of a response body that is ever read.
        stored_response_bytes: how much of the response body an attempt keeps.
        max_payload_bytes: the largest payload a message may carry.
        concurrency: requests in flight at once, per worker, not counting those that have waited
            ``stall_after`` seconds for their response.
        stalled_concurrency: requests that have waited ``stall_after`` seconds, or go to an
            endpoint whose last attempt timed out, in flight at once, per worker. They cost a
            socket each and no CPU; keeping them apart keeps dead receivers from taking the
            slots of healthy ones.
        stall_after: seconds after which a request still waiting for its response moves from
            the ``concurrency`` budget to the ``stalled_concurrency`` one.
        endpoint_concurrency: requests in flight at once to one endpoint, per worker.
        claim_batch: deliveries claimed per query.
        lease: how long a claimed delivery stays with its worker before another may take it.
        poll_interval: the longest an idle worker sleeps between looks at the database when
            nothing wakes it.
        secret_rotation_overlap: how long a rotated-out secret keeps signing beside the new one.
        encryption_key: base64 of 32 random bytes; when set, endpoint secrets are encrypted at
            rest (AES-256-GCM) with it. Never shown in a repr.
        ca_file: a PEM file of certificate authorities that https endpoints' certificates must
            chain to, instead of the system's (a private CA, or a test CA). Verification itself
            can never be turned off.
    """

    allow_networks: Sequence[str | Network] = ()
    retry_schedule: Sequence[float] = DEFAULT_RETRY_SCHEDULE
    retry_jitter: float = 0.2
    retry_after_max: timedelta = timedelta(hours=6)
    disable_after: timedelta = timedelta(days=5)
    request_timeout: float = 15.0
    connect_timeout: float = 5.0
    max_response_bytes: int = 64 * 1024
    stored_response_bytes: int = 4 * 1024
    max_payload_bytes: int = 1024 * 1024
    concurrency: int = 128
    stalled_concurrency: int = 1024
    stall_after: float = 0.25
    endpoint_concurrency: int = 16
    claim_batch: int = 128
    lease: timedelta = timedelta(seconds=90)
    poll_interval: float = 1.0
    secret_rotation_overlap: timedelta = timedelta(hours=24)
    encryption_key: str | None = field(default=None, repr=False)
    ca_file: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "allow_networks", parse_networks(self.allow_networks))
        object.__setattr__(self, "retry_schedule", check_schedule(self.retry_schedule))
        if not 0 <= self.retry_jitter < 1:
            raise ValidationError("retry_jitter must be in [0, 1)")
        for name in ("request_timeout", "connect_timeout", "poll_interval", "stall_after"):
            if getattr(self, name) <= 0:
                raise ValidationError(f"{name} must be positive")
        for name in (
            "concurrency",
            "stalled_concurrency",
            "endpoint_concurrency",
            "claim_batch",
            "max_payload_bytes",
        ):
            if getattr(self, name) < 1:
                raise ValidationError(f"{name} must be at least 1")
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise ValidationError(f"ca_file {self.ca_file!r} is not a file")
        if self.lease.total_seconds() < self.request_timeout * 2:
            # A delivery may wait for a free per-endpoint slot and then take a whole request
            # timeout; a shorter lease would let another worker take it while it is still ours.
            raise ValidationError("lease must be at least twice the request timeout")

    @property
    def networks(self) -> tuple[Network, ...]:
        """``allow_networks``, parsed."""
        return cast(tuple[Network, ...], self.allow_networks)

    @property
    def schedule(self) -> tuple[float, ...]:
        """``retry_schedule``, validated."""
        return cast(tuple[float, ...], self.retry_schedule)

    def with_changes(self, **changes: object) -> Settings:
        """Return a copy with some fields replaced (validated again)."""
        return replace(self, **changes)  # type: ignore[arg-type]
